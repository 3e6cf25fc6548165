"""A student's answer to ∂L/∂w → correct, incorrect (with a diagnosis and feedback), or invalid.

Equivalence never accepts a wrong answer nor rejects a right one, and its effort is bounded:

1. symbolically, the answer is the derivative as SymPy evaluates it — never an unbounded
   ``simplify``;
2. otherwise as functions, at seeded points inside the domain of both, on both sides of every
   kink (``sampling.py``), with values certified in ball arithmetic: equal when they differ by
   at most 2^−100 of the larger — relative to their own size, so 3x² + 0.0001 is not 3x²,
   2x/10¹³ is not 0, and (x − a)⁶⁰⁰⁰ is not w(x − a)⁵⁹⁹⁹ even where both are 10⁻⁵⁰⁰;
3. an answer defined at too few of those points is right when its difference from the
   derivative is 0 as SymPy evaluates it, or (small) once expanded: where the values differ
   at a point, no identity could make it 0.

A symbolic answer is always judged as a function: of the variables ``at`` does not fix, and
of those it names itself; values the program declares (``param w = 1``) fix nothing, and the
answer must then also be right at that declared point. A question whose every variable has a
value also asks for a number: a numeric answer is compared with the exact value there — two
exact rationals exactly, closed forms to 200 bits — a decimal with at least three significant
digits counting as rounded (``answers.py``).

An incorrect answer is compared with the derivatives the usual mistakes give
(``mistakes.py``), with its negative (``sign``), with constant multiples (``constant_factor``),
and side by side at each point (``partial_domain``: right on one side of a kink only), in
``diagnosis.py``. An answer the parser refuses, that asks for the derivative (``diff(…)``),
uses a name the question does not have, takes longer than ``TIME_LIMIT`` seconds to check, or
fails in any other way is ``invalid``, with the reason: one answer never stops a batch.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import mpmath
import sympy
from sympy import Expr, Symbol

from .answers import (is_off_in_its_last_digit, is_rounded_too_far, read_expression, rounding_allowance,
                      same_number)
from ..arith import Refused, settle, short_expression
from ..deadline import TimeLimit, time_limit
from .diagnosis import diagnose
from ..errors import WorksheetError
from ..forms import evaluate
from ..limits import MAX_CHECKED_OPERATIONS
from .mistakes import Chain, mistakes
from .sampling import COMPARE_BITS, both_sides, close, guards, numeric, sample_points
from .verdict import CORRECT, INCORRECT, INVALID, Verdict
from ..engine.trace import defined_somewhere

SCHEMA = "worksheet.check/1"
TIME_LIMIT = 2.0  # seconds per answer
MIN_POINTS = 4  # a symbolic answer must be defined at this many points of the question's
EXPAND_OPS = 40  # a difference this small is also expanded in the symbolic test


@dataclass(frozen=True)
class Samples:
    """The points a set of free variables is judged at, with the derivative's and each
    mistake's certified values there."""

    free: tuple[Symbol, ...]
    fixed: Mapping[Symbol, Fraction]
    points: list
    correct: list  # ∂L/∂w at each point (None where undefined)
    mistaken: list  # per mistake, its value at each point


class Question:
    """∂target/∂wrt of a formula or program, ready to judge any number of answers.

    Values given with ``at`` fix their variables (the answer is a function of the rest);
    values declared in the program (``param w = 1``) fix nothing for a symbolic answer, which is
    judged as a function of every variable it may depend on, and then also at the declared point.
    Where every variable has a value the question is also numeric: a number is compared with
    the exact value there."""

    def __init__(self, formula: str, wrt: str, at: str | Mapping | None = None, *,
                 filename: str | None = None, target: str | None = None, graph=None):
        from ..lang.options import given_values, parse_names, parse_point, program_graph, wrt_names
        from ..engine.tensor_trace import is_tensor_program

        graph = graph or program_graph(formula, filename=filename, target=target)  # (built once by question)
        _check_size(graph)
        names = parse_names(wrt, "--wrt")
        if len(names) != 1:
            raise WorksheetError("check one derivative at a time: give one variable", where="--wrt")
        self.wrt = wrt_names(graph, names)[0]
        explicit = parse_point(at) if at is not None else {}
        given = given_values(graph, explicit)
        if is_tensor_program(graph, given):
            raise WorksheetError("answers are checked for scalar formulas (no vectors or matrices)")
        self.graph, self.target = graph, graph.target
        self.variables = [n.name for n in graph.inputs]
        self.inputs = [n.symbol for n in graph.inputs]
        self.named = {n.symbol for n in graph.operations if n.named and n.name != graph.target}  # y_pred, not L
        self.explicit = {Symbol(k, real=True): v for k, v in explicit.items()}
        self.given = {Symbol(k, real=True): v for k, v in given.items()}  # declared and given values
        self.point = self.given if len(self.given) == len(self.inputs) else None  # the numeric question
        self.free = [s for s in self.inputs if s not in self.explicit]
        self.chain = Chain(graph)
        defined_somewhere(graph, self.chain.written)  # sinh(w/0) is no question
        self.correct = self.chain.derivative(self.wrt)
        self.exact = self._exact_value() if self.point is not None else None
        self.seed = f"{zlib.crc32(formula.encode())}:{self.wrt}"
        self.mistakes = mistakes(self.chain, self.wrt, self.correct)
        self.kinks = set(guards([self.correct]))  # the derivative's own: its sample points reach both sides
        self._samples: dict[tuple[Symbol, ...], Samples] = {}
        if self.free:
            self.samples(tuple(self.free))  # an undefined question is refused now, not per answer
        self._verdicts: dict[object, Verdict] = {}

    def _exact_value(self) -> Expr:
        for node in self.graph.operations:  # the question itself must be defined there (log(1 − x) at 20 is not)
            if numeric(self.chain.written[node.symbol], self.point) is None:
                raise WorksheetError(f"{node.name} = {short_expression(node.expr)} is undefined at the "
                                     f"given values ({self.where(self.point, self.inputs)})", where="--at")
        if numeric(self.correct, self.point) is None:
            raise WorksheetError(f"∂{self.target}/∂{self.wrt} is undefined at the given values", where="--at")
        try:
            return settle(evaluate(self.correct, self.point))
        except Refused as error:
            raise WorksheetError(f"∂{self.target}/∂{self.wrt} is undefined at the given values ({error})",
                                 where="--at") from None

    def samples(self, free: tuple[Symbol, ...]) -> Samples:
        """Points with ``free`` drawn and the other variables at their ``at`` values, and the
        derivative's and the mistakes' values there (computed once per set of variables)."""
        if free not in self._samples:
            fixed = {s: v for s, v in self.explicit.items() if s not in free}
            points = sample_points(list(free), fixed, self.chain.domain(self.correct),
                                   f"{self.seed}:{','.join(s.name for s in free)}")
            if not points:
                raise WorksheetError(f"∂{self.target}/∂{self.wrt} is undefined at every point tried", where="--at")
            self._samples[free] = Samples(free, fixed, points, [numeric(self.correct, p) for p in points],
                                          [[numeric(m.expr, p) for p in points] for m in self.mistakes])
        return self._samples[free]

    # ── judging ──────────────────────────────────────────────────────────────────────────

    def judge(self, answer: str) -> Verdict:
        """The verdict on one answer (the same text or the same expression is judged once).
        Whatever the answer does, the verdict comes back: a failure of any kind, or more than
        TIME_LIMIT seconds of work, is the verdict ``invalid`` with the reason."""
        text = answer.strip()
        if text not in self._verdicts:
            self._verdicts[text] = self._judge_text(text)
        return self._verdicts[text]

    def _judge_text(self, text: str) -> Verdict:
        try:
            with time_limit(TIME_LIMIT):
                expr = read_expression(text, self.variables + [s.name for s in self.named])
                if self.named and expr.free_symbols & self.named:
                    expr = expr.xreplace({s: self.chain.written[s] for s in self.named})
            key = (expr, text) if not expr.free_symbols else expr  # a number's digits matter
            if key not in self._verdicts:
                free = self._free(expr)
                if free is not None:
                    self.samples(free)  # the question's points, once per set of variables: not the answer's time
                with time_limit(TIME_LIMIT):
                    self._verdicts[key] = self._judge(expr, text)
            return self._verdicts[key]
        except WorksheetError as error:
            return Verdict(INVALID, (), str(error))
        except TimeLimit:
            return Verdict(INVALID, (), f"answer: checking it took longer than {TIME_LIMIT:g} s: write it more simply")
        except RecursionError:
            return Verdict(INVALID, (), "answer: it is nested too deeply to check: write it more simply")
        except (MemoryError, OverflowError):
            return Verdict(INVALID, (), "answer: its numbers grow too large to check: write it more simply")
        except Exception as error:  # noqa: BLE001 — one answer never stops a batch
            return Verdict(INVALID, (), f"answer: it could not be checked ({type(error).__name__}): "
                                        f"write it more simply, or report this answer")

    def _free(self, expr: Expr) -> tuple[Symbol, ...] | None:
        """The variables ``expr`` is judged as a function of (None: it is judged as a number)."""
        symbols = expr.free_symbols
        free = tuple(s for s in self.inputs if s not in self.explicit or s in symbols)
        return None if not free or (not symbols and self.point is not None) else free

    def _judge(self, expr: Expr, text: str) -> Verdict:
        free = self._free(expr)
        if free is None:
            return self._judge_number(expr, text)
        verdict = self._judge_function(expr, free)
        if verdict.verdict == CORRECT and self.point is not None and self.explicit.keys() != self.point.keys():
            return self._at_the_point(expr) or verdict
        return verdict

    def _judge_function(self, expr: Expr, free: tuple[Symbol, ...]) -> Verdict:
        """Correct when it is the derivative as SymPy writes it, or the values agree at the
        sample points; else the diagnosis. The symbolic test of the difference (``_proved_equal``)
        is left for an answer defined at too few points: where the certified values differ at a
        point, no identity can make the two equal, and where they all agree the answer is right."""
        correct_verdict = Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt}.")
        if expr == self.correct:
            return correct_verdict
        samples = self.samples(free)
        points, correct, mistaken = self._points_for(expr, samples)
        with mpmath.workprec(COMPARE_BITS + 16):
            answers = [numeric(expr, p) for p in points]
            compared = [i for i, (a, c) in enumerate(zip(answers, correct)) if a is not None and c is not None]
            if len(compared) < min(MIN_POINTS, len(points)):
                if _proved_equal(expr, self.correct):
                    return correct_verdict
                return Verdict(INCORRECT, (), f"Your answer is undefined almost everywhere ∂{self.target}/∂{self.wrt} "
                                              f"is defined (a logarithm or root of a negative number, a division by 0).")
            if all(close(answers[i], correct[i]) for i in compared):
                return correct_verdict
            return diagnose(self, [points[i] for i in compared], [answers[i] for i in compared],
                            [correct[i] for i in compared], [[m[i] for i in compared] for m in mistaken], expr,
                            single=False)

    def _at_the_point(self, expr: Expr) -> Verdict | None:
        """A symbolic answer right as a function, at the point the program declares: None when
        it is right there too (it may not be, at a kink: the frameworks' convention there)."""
        try:
            value = settle(evaluate(expr, self.point)) if numeric(expr, self.point) is not None else None
        except Refused:
            value = None
        if value is not None and same_number(value, self.exact):
            return None
        return Verdict(INCORRECT, ("partial_domain",),
                       f"Your answer is right as a function but not at the given point "
                       f"({self.where(self.point, self.inputs)}), where ∂{self.target}/∂{self.wrt} takes the "
                       f"value of the frameworks' convention at a kink: look at the derivative there.")

    def _judge_number(self, expr: Expr, text: str) -> Verdict:
        point = self.point if self.point is not None else self.explicit
        answer = numeric(expr, point)
        try:
            if answer is None:  # real arithmetic only: abs(3/log(1 − 20)) is undefined
                raise Refused("undefined")
            value = settle(evaluate(expr, point))
        except Refused:
            return Verdict(INCORRECT, (), f"Your answer is undefined at {self.where(point, self.inputs)}.")
        if same_number(value, self.exact, text):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt} at the given point.")
        if is_rounded_too_far(value, self.exact, text):
            return Verdict(INCORRECT, ("rounding",),
                           "Your value is rounded too far: give at least 3 significant digits, or the exact value.")
        if is_off_in_its_last_digit(value, self.exact, text):
            return Verdict(INCORRECT, ("rounding",),
                           "Your value is off in its last digit: round to the nearest digit (not down or up), "
                           "or give the exact value.")
        correct, mistaken = self._at_point
        with mpmath.workprec(COMPARE_BITS + 16):
            allowance = rounding_allowance(text)
            return diagnose(self, [point], [answer], correct, mistaken, expr,
                            None if allowance is None else mpmath.mpf(allowance.p) / allowance.q, single=True)

    @cached_property
    def _at_point(self) -> tuple[list, list]:
        """The derivative's and each mistake's certified values where a number is judged
        (computed once, as the sample points' are)."""
        point = self.point if self.point is not None else self.explicit
        return [numeric(self.correct, point)], [[numeric(m.expr, point)] for m in self.mistakes]

    def _points_for(self, expr: Expr, samples: Samples):
        """The sample points, and points on the unreached side of the answer's own kinks."""
        import random

        kinks = [z for z in guards([expr]) if z not in self.kinks]
        extra = both_sides(samples.points, list(samples.free), samples.fixed, [self.correct, expr], kinks,
                           random.Random(f"{self.seed}:{sympy.srepr(expr)[:200]}")) if kinks else []
        points = samples.points + extra
        correct = samples.correct + [numeric(self.correct, p) for p in extra]
        mistaken = [values + [numeric(m.expr, p) for p in extra] for m, values in zip(self.mistakes, samples.mistaken)]
        return points, correct, mistaken

    def where(self, point, names=None) -> str:
        """``w = 1.37, x = −0.62``: the variables of a point that ``at`` does not fix (``names``:
        these instead); a value given with --at as a decimal where it ends (x = 1.35, not 27/20)."""
        from ..notation import TextNotation

        notation = TextNotation(numbers="terminating")
        names = names or [s for s in point if s not in self.explicit] or list(point)
        return ", ".join(f"{s.name} = {_decimal(point[s]) if isinstance(point[s], Fraction) else notation.doprint(point[s])}"
                         for s in names)


def question(formula: str, wrt: str, at: str | Mapping | None = None, *, filename: str | None = None,
             target: str | None = None):
    """The question answers are judged against: a formula's ``Question``, or for a model (a
    program with vectors or matrices) a ``tensor_check.TensorQuestion``, whose answers are too."""
    from ..lang.options import program_graph
    from .tensor_check import TensorQuestion, is_model

    graph = program_graph(formula, filename=filename, target=target)
    if is_model(graph, at):
        return TensorQuestion(formula, wrt, at, filename=filename, target=target, graph=graph)
    return Question(formula, wrt, at, filename=filename, target=target, graph=graph)


def check(question_text: str, answer: str, *, wrt: str, at: str | Mapping | None = None,
          filename: str | None = None) -> Verdict:
    """The verdict on ``answer`` as ∂L/∂wrt of ``question_text`` (a formula or a program's text).

    A bad question raises ``WorksheetError``; a bad answer is the verdict ``invalid``."""
    return question(question_text, wrt, at, filename=filename).judge(answer)


def _check_size(graph) -> None:
    """Refuse a question too large to check (MAX_CHECKED_OPERATIONS), where its graph passes it."""
    operations = graph.operations
    if len(operations) > MAX_CHECKED_OPERATIONS:
        line, column = operations[MAX_CHECKED_OPERATIONS].pos or (None, None)
        raise WorksheetError(f"the question has {len(operations):,} operations: answers are checked for "
                             f"questions of at most {MAX_CHECKED_OPERATIONS:,}", line=line, column=column)


def _decimal(value: Fraction) -> str:
    """A coordinate (thousandths) as a decimal, with a true minus sign."""
    text = f"{float(value):g}" if 1000 % value.denominator == 0 else str(value)
    return text.replace("-", "−")


def _proved_equal(answer: Expr, correct: Expr) -> bool:
    """The difference is 0 as SymPy evaluates it, or once expanded where it is small enough."""
    difference = answer - correct
    if difference == 0:
        return True
    if sympy.count_ops(difference) > EXPAND_OPS or any(
        p.exp.is_Integer and abs(p.exp) > 8 for p in difference.atoms(sympy.Pow)
    ):
        return False
    return sympy.expand(difference) == 0


__all__ = ["CORRECT", "INCORRECT", "INVALID", "SCHEMA", "Question", "Verdict", "check"]
