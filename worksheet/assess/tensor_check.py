"""A student's answer to a model's ∂J/∂W → correct, incorrect (with a diagnosis), or invalid.

The answer is a vector or matrix of numbers, ``[0.0659, -0.0304, -0.0473]`` (nested lists for
a matrix), or a formula in the program's names, ``(sigmoid(z) - y)/3``, which is computed at
the program's values like one more line of it, through the same parser and the same exact
and certified arithmetic. It is judged element by element against the gradient of the trace:

- two exact values exactly, others to 2^−100 of the larger, decided on balls (``python-flint``);
- a decimal with at least three significant digits within half a unit of its last digit, as
  for a scalar answer (``answers.rounding_allowance``).

An incorrect answer is compared with the negative of the gradient (``sign``), a constant multiple
(``constant_factor``), its transpose (``transpose``), and a cut-off decimal (``rounding``). As for
scalars, an answer that cannot be read, names what the program does not define, or takes longer
than ``check.TIME_LIMIT`` is ``invalid``, with the reason.
"""

from __future__ import annotations

from fractions import Fraction

from flint import arb

from .answers import rounding_allowance
from ..arith.balls import working
from ..arith.elements import Ball, to_arb
from .check import CORRECT, INCORRECT, INVALID, TIME_LIMIT, Verdict
from ..deadline import TimeLimit, time_limit
from ..errors import WorksheetError
from ..lang.parse import ListLit, Num, parse_expression
from ..lazy import lazy

np = lazy("numpy")

ANSWER = "answer__"  # the name the answer's value gets, as one more line of the program
PRECISION = 256  # bits of the balls an answer is computed and compared with
EQUAL_BITS = 100  # two values this close, relative to the larger, are equal
SHOWN = 4  # elements named in feedback


class TensorQuestion:
    """∂target/∂wrt of a model program at its values (declared, or given with ``at``): the
    gradient is a vector or a matrix, and so is the answer."""

    def __init__(self, formula: str, wrt: str, at=None, *, filename: str | None = None,
                 target: str | None = None, graph=None):
        from ..engine.derive import derive
        from ..lang.options import parse_names

        names = parse_names(wrt, "--wrt")
        if len(names) != 1:
            raise WorksheetError("check one derivative at a time: give one variable", where="--wrt")
        self.formula, self.filename, self.at = formula, filename, at
        self.trace = derive(formula, names, at, target=target, filename=filename, graph=graph)
        self.wrt, self.target = names[0], self.trace.target
        self.expected = np.asarray(self.trace.gradients[0].value, dtype=object)
        self.given: dict = {}  # (the values are tensors: JSON names none)
        self._verdicts: dict[str, Verdict] = {}

    def judge(self, answer: str) -> Verdict:
        if answer not in self._verdicts:
            self._verdicts[answer] = self._judged(answer)
        return self._verdicts[answer]

    def _judged(self, answer: str) -> Verdict:
        try:
            with time_limit(TIME_LIMIT), working(PRECISION):
                return self._judge(answer)
        except TimeLimit:
            return Verdict(INVALID, (), f"Could not check this answer: it took longer than {TIME_LIMIT:g} s.")
        except WorksheetError as error:
            return Verdict(INVALID, (), f"This answer cannot be read: {error}")
        except (RecursionError, MemoryError, ArithmeticError, ValueError, OverflowError) as error:
            return Verdict(INVALID, (), f"This answer cannot be checked ({type(error).__name__}).")

    def _judge(self, text: str) -> Verdict:
        if not text.strip():
            raise WorksheetError("the answer is empty")
        if "\n" in text or ";" in text or "#" in text:
            raise WorksheetError("an answer is one formula or one list, on one line")
        try:
            ast = parse_expression(text)
        except WorksheetError as error:
            raise error.located(source=text, where="answer") from None
        if isinstance(ast, ListLit):
            value, texts = _numbers(ast)
        else:
            value, texts = self._computed(text), None
        return self._compared(value, texts)

    def _computed(self, text: str) -> np.ndarray:
        """The answer's value at the program's values: the program with ``answer__ = …`` as its
        last line, computed forward (no name outside the program, no value but the program's)."""
        from ..lang.options import program_graph
        from ..engine.numbers import ELEMENTS
        from ..engine.trace import forward

        graph = program_graph(self.formula + f"\n{ANSWER} = {text}", filename=self.filename or "answer",
                              target=ANSWER)
        unknown = [n.name for n in graph.inputs if n.name not in self.trace.point]
        if unknown:
            names = [n.name for n in self.trace.graph.nodes if n.is_input or n.named]
            raise WorksheetError(f"{unknown[0]} is not a name of the program (its names: {', '.join(names)})")
        values = forward(graph, {n.name: self.trace.point[n.name] for n in graph.inputs}, ELEMENTS)
        return np.asarray(values[ANSWER], dtype=object)

    def _compared(self, value: np.ndarray, texts) -> Verdict:
        what = f"∂{self.target}/∂{self.wrt}"
        if value.shape != self.expected.shape:
            if value.shape == self.expected.T.shape and _all(value.T, self.expected, None if texts is None else texts.T):
                return Verdict(INCORRECT, ("transpose",), f"This is the transpose of {what}: {what} has the "
                                                          f"shape of {self.wrt}, {shape_text(self.expected)}.")
            return Verdict(INCORRECT, ("shape",), f"{what} is {shape_text(self.expected)}; your answer is "
                                                  f"{shape_text(value)}.")
        decided = [_agree(a, e, t) for a, e, t in _elements(value, self.expected, texts)]
        if all(decided):
            return Verdict(CORRECT, (), f"Correct: this is {what}.")
        if any(d is None for d in decided):
            return Verdict(INVALID, (), "This answer is too close to the gradient to decide at "
                                        f"{PRECISION} bits.")
        return self._diagnosed(value, texts, decided, what)

    def _diagnosed(self, value, texts, decided, what) -> Verdict:
        if _all(-value, self.expected, texts):
            return Verdict(INCORRECT, ("sign",), f"Every element has the wrong sign: check the signs along "
                                                 f"the chain to {self.wrt}.")
        factor = _common_factor(value, self.expected, texts)
        if factor is not None:
            return Verdict(INCORRECT, ("constant_factor",),
                           f"Your answer is {factor} times {what}: check the constant factors — the 2 of a "
                           f"square, the 1/N of a mean, each constant along the chain.")
        wrong = [i for i, d in zip(np.ndindex(value.shape), decided) if not d]
        places = ", ".join(_index(i) for i in wrong[:SHOWN]) + (" …" if len(wrong) > SHOWN else "")
        several = len(wrong) > 1
        if texts is not None and all(_agree(a, e, t, loose=True) for a, e, t in _elements(value, self.expected, texts)):
            return Verdict(INCORRECT, ("rounding",), f"Element{'s' if several else ''} {places} "
                                                     f"{'are' if several else 'is'} within one unit of the last "
                                                     "digit but not rounded to nearest: round, do not cut off.")
        return Verdict(INCORRECT, (), f"This is not {what}: element{'s' if several else ''} {places} "
                                      f"differ{'' if several else 's'}. Work through the vector-Jacobian "
                                      f"products one node at a time (worksheet derive shows every one).")


def same_tensor(text: str, expected: np.ndarray) -> bool:
    """Is the list ``text`` (``[1.5, -2]``, nested for a matrix) the vector or matrix
    ``expected``, every element judged as a number answer is (a handout's blanks)?"""
    ast = parse_expression(text)
    if not isinstance(ast, ListLit):
        return False
    with working(PRECISION):
        value, texts = _numbers(ast)
        return value.shape == expected.shape and all(
            _agree(a, e, t) for a, e, t in _elements(value, np.asarray(expected, dtype=object), texts))


def _numbers(ast: ListLit) -> tuple[np.ndarray, np.ndarray]:
    """A list answer's exact values and, for each element, its text (None: not a plain decimal)."""
    from ..lang.graph import constant

    value = np.asarray(constant(ast), dtype=object)
    texts = np.asarray(_texts(ast), dtype=object)
    if texts.shape != value.shape:
        texts = np.full(value.shape, None, dtype=object)
    return value, texts


def _texts(ast):
    if isinstance(ast, ListLit):
        return [_texts(item) for item in ast.items]
    return ast.text if isinstance(ast, Num) and isinstance(ast.value, Fraction) else None


def _elements(value, expected, texts):
    flat_texts = [None] * value.size if texts is None else list(np.asarray(texts, dtype=object).flat)
    return zip(value.flat, expected.flat, flat_texts)


def _agree(a, e, text: str | None, loose: bool = False) -> bool | None:
    """Is the answer's element ``a`` (typed as ``text``) the gradient's ``e``? None: undecided."""
    if isinstance(a, Fraction | int) and isinstance(e, Fraction | int) and a == e:
        return True
    allowance = rounding_allowance(text) if text else None
    difference = abs(to_arb(a) - to_arb(e))
    if allowance is not None:
        tolerance = arb(allowance.p) / allowance.q * (2 if loose else 1)
    elif loose:
        return False
    elif isinstance(a, Fraction | int) and isinstance(e, Fraction | int):
        return False
    else:
        tolerance = (abs(to_arb(a)) + abs(to_arb(e))) * arb(2) ** -(EQUAL_BITS + 1)  # of their mean size
    if difference.upper() <= tolerance.lower():
        return True
    if difference.lower() > tolerance.upper():
        return False
    return None


def _all(value, expected, texts) -> bool:
    return all(_agree(a, e, t) for a, e, t in _elements(np.asarray(value, dtype=object), expected, texts))


def _common_factor(value, expected, texts) -> Fraction | None:
    """k where the answer is k times the gradient (k a small fraction other than 1)."""
    first = next(((a, e) for a, e in zip(value.flat, expected.flat)
                  if to_arb(e).lower() > 0 or to_arb(e).upper() < 0), None)  # an element surely not 0
    if first is None:
        return None
    ratio = to_arb(first[0]) / to_arb(first[1])
    k = Fraction(float(ratio.mid())).limit_denominator(12)
    if k in (0, 1, -1):
        return None
    scaled = np.asarray([k * _exact(e) for e in expected.flat], dtype=object).reshape(expected.shape)
    return k if _all(value, scaled, texts) else None


def _exact(e):
    return e if isinstance(e, Fraction | int | Ball) else Fraction(e)


def shape_text(value: np.ndarray) -> str:
    if value.shape == ():
        return "a number"
    if len(value.shape) == 1:
        return f"a vector of {value.shape[0]}"
    return "a " + "×".join(str(d) for d in value.shape) + " matrix"


def _index(i: tuple) -> str:
    return "[" + ", ".join(str(k) for k in i) + "]"


def is_model(graph, at=None) -> bool:
    """Is the question of ``graph`` about a model (a program with vectors or matrices)?"""
    from ..lang.options import given_values, parse_point
    from ..engine.tensor_trace import is_tensor_program

    return is_tensor_program(graph, given_values(graph, parse_point(at) if at is not None else {}))
