"""Grading a handout's blanks one by one, as a human grader does: with error carried forward.

Each blank of a sheet holds one quantity of the problem's trace (the manifest's
``quantities`` say which): a forward value, a local derivative ∂v/∂u, an upstream gradient
∂L/∂v written in a step of v, a product ∂L/∂v · ∂v/∂u, a fan-out sum ∂L/∂v = Σ paths, or a
gradient ∂L/∂w. Grading keeps a table of *the student's values*: for a blank the student
answered validly, their value (the true value if it is correct, perhaps rounded); for
everything else the true value (what the sheet shows, or what they left out). A blank's
*ECF expectation* is its quantity recomputed from the student's values of what it is
computed from:

    forward v       rule_v(student's values of v's inputs)
    local ∂v/∂u     ∂v/∂u evaluated at the student's forward values of v's arguments
    upstream ∂L/∂v  the student's ∂L/∂v: 1 for the output; the sum blank of v where the sheet
                    writes one; the product of the single path into v; else Σ of its paths
    product         the student's upstream × the student's local, of the same step
    sum ∂L/∂v       Σ the student's products of the paths into v
    gradient ∂L/∂w  the student's ∂L/∂w, as for upstream

An answer equal to the key is ``correct``; else equal to the ECF expectation, which differs
from the key because an earlier value of the student's is wrong, ``consistent`` (credit: the
policy's share); else ``incorrect``. A manifest without ``source``/``wrt``/``quantities``
(an older one) is graded against the key alone.

The manifest is untrusted input: its size is capped, every key and type is checked (one-line
errors naming the key path), and every number goes through the formula parser, never eval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from .answers import MIN_DIGITS, is_rounded_too_far, read_number, same_number
from ..deadline import TimeLimit, time_limit
from ..errors import WorksheetError
from .manifest import Manifest, Policy, Variant, _kind, check_problem, load_manifest, parse_manifest

VERDICTS = ("correct", "consistent", "incorrect", "invalid", "unanswered")


@dataclass(frozen=True)
class Mark:
    verdict: str  # "correct" | "consistent" | "incorrect" | "invalid" | "unanswered"
    credit: Fraction  # share of the blank's points earned: 1, the policy's consistent share, or 0
    feedback: str  # one sentence for the student; never reveals the key's value
    expected: str  # the key's exact value (for the instructor's report)


# ── grading ──────────────────────────────────────────────────────────────────────────────

def grade_blanks(problem: Mapping, answers: Mapping[str, str], policy: Policy = Policy()) -> dict[str, Mark]:
    """Each blank of ``problem`` (a manifest's problem entry) marked, by blank number, in order.

    ``answers`` maps a blank number ("7") to the student's text; a missing or empty one is
    ``unanswered``. Without the grading keys (an older manifest) blanks are compared with
    the key alone.
    """
    where = f"problem {problem.get('problem', '?')}" if isinstance(problem, Mapping) else "problem"
    entry = check_problem(dict(problem) if isinstance(problem, Mapping) else problem, where)
    numbers = sorted(entry["blanks"], key=int)
    keys = {n: _key_value(entry["blanks"][n], f"{where}.blanks.{n}") for n in numbers}
    given = {n: _isolated(lambda n=n: _answer(n, answers.get(n) if isinstance(answers, Mapping) else None),
                          lambda reason, n=n: _Answer("", problem=f"blank ({n}): {reason}")) for n in numbers}
    carried = _isolated(lambda: _Carried.of(entry, keys, given, where), lambda reason: None, key=True)
    marks = {}
    for n in numbers:
        marks[n] = _isolated(lambda n=n: _mark(n, entry["blanks"][n], keys[n], given[n], carried, policy),
                             lambda reason, n=n: Mark("invalid", Fraction(0), f"blank ({n}): {reason}",
                                                      entry["blanks"][n]))
    return marks


def _isolated(work, failed, key: bool = False):
    """``work()`` under the limits an answer is checked with (``check.TIME_LIMIT``); whatever it
    does — too slow, too deep, too large, or any error — ``failed(reason)`` instead. With
    ``key``, a WorksheetError (the manifest itself is wrong) is raised, not failed."""
    from .check import TIME_LIMIT

    try:
        with time_limit(TIME_LIMIT):
            return work()
    except TimeLimit:
        return failed(f"checking it took longer than {TIME_LIMIT:g} s: write it more simply")
    except RecursionError:
        return failed("it is nested too deeply to check: write it more simply")
    except (MemoryError, OverflowError):
        return failed("its numbers grow too large to check: write it more simply")
    except WorksheetError as error:
        if key:
            raise
        return failed(error.message)
    except Exception as error:  # noqa: BLE001 — one blank never stops a batch
        return failed(f"it could not be checked ({type(error).__name__})")


def score(marks: Mapping[str, Mark], policy: Policy = Policy()) -> tuple[Fraction, Fraction]:
    """(points earned, points possible) of a set of marks."""
    return sum((m.credit for m in marks.values()), Fraction(0)) * policy.points, len(marks) * policy.points


def _key_value(text: str, where: str):
    try:
        value = read_number(text, where)
    except WorksheetError as error:
        raise WorksheetError(f"the key's value is not a number ({error.message})", where=where) from None
    if not (getattr(value, "is_number", False) or getattr(value, "shape", ())):
        raise WorksheetError("the key's value is not a number, a vector or a matrix", where=where)
    return value


@dataclass(frozen=True)
class _Answer:
    text: str | None
    value: object = None  # the number, when the text is one
    problem: str = ""  # why it is not a number


def _answer(number: str, text) -> _Answer:
    """The student's text for one blank, read through the formula parser (never eval)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return _Answer(None)
    if not isinstance(text, str):
        return _Answer("", problem=f"blank ({number}): expected text, found {_kind(text)}")
    try:
        value = read_number(text, f"blank ({number})")
    except WorksheetError as error:
        return _Answer(text, problem=" ".join(str(error).split()))
    except (RecursionError, MemoryError, ArithmeticError, ValueError):
        return _Answer(text, problem=f"blank ({number}): not a number this grader can read")
    if getattr(value, "shape", ()):  # a model's blank: a vector or matrix, [1, 2] or [[1, 2], [3, 4]]
        return _Answer(text, value)
    if not getattr(value, "is_number", False) or not getattr(value, "is_real", False):
        return _Answer(text, problem=f"blank ({number}): expected a single real number")
    return _Answer(text, value)


def _mark(n: str, expected: str, key, answer: _Answer, carried: _Carried | None, policy: Policy) -> Mark:
    """The verdict of one blank: correct, consistent (error carried forward), or incorrect."""
    if answer.text is None:
        return Mark("unanswered", Fraction(0), f"blank ({n}) is empty.", expected)
    if answer.value is None:
        return Mark("invalid", Fraction(0), answer.problem, expected)
    if getattr(key, "shape", ()) or getattr(answer.value, "shape", ()):
        return _mark_tensor(n, expected, key, answer)
    if _same(answer.value, key, answer.text):
        return Mark("correct", Fraction(1), f"blank ({n}) is correct.", expected)
    ecf, sources = carried.expectation(n) if carried else (None, ())
    if ecf is not None and sources and not _same(ecf, key) and _same(answer.value, ecf, answer.text):
        sources = sorted(set(sources), key=int)
        listed = " and ".join(f"({s})" for s in sources)
        your = (f"your value in blank {listed}, which is" if len(sources) == 1
                else f"your values in blanks {listed}, which are")
        return Mark("consistent", policy.consistent,
                    f"blank ({n}) follows correctly from {your} wrong.", expected)
    what = carried.describe(n) if carried else ""
    if is_rounded_too_far(answer.value, key, answer.text) or (
            ecf is not None and is_rounded_too_far(answer.value, ecf, answer.text)):
        return Mark("incorrect", Fraction(0),
                    f"blank ({n}){what} is rounded too far: give at least {MIN_DIGITS} significant digits.", expected)
    return Mark("incorrect", Fraction(0), f"blank ({n}){what} is not right: check it.", expected)


def _mark_tensor(n: str, expected: str, key, answer: _Answer) -> Mark:
    """A model's blank: a vector or matrix, each element judged as ``worksheet check`` does."""
    from .tensor_check import same_tensor

    if not getattr(key, "shape", ()) or not getattr(answer.value, "shape", ()):
        what = "a vector or a matrix, as a list ([1, 2], or [[1, 2], [3, 4]])" if getattr(key, "shape", ()) \
            else "a single real number"
        return Mark("invalid", Fraction(0), f"blank ({n}): expected {what}", expected)
    if answer.value.shape != key.shape:
        from .tensor_check import shape_text

        return Mark("incorrect", Fraction(0), f"blank ({n}) is {shape_text(key)}; your answer is "
                                              f"{shape_text(answer.value)}.", expected)
    if same_tensor(answer.text, key):
        return Mark("correct", Fraction(1), f"blank ({n}) is correct.", expected)
    return Mark("incorrect", Fraction(0), f"blank ({n}) is not right: check it element by element.", expected)


def _same(value, expected, text: str | None = None) -> bool:
    try:
        return same_number(value, expected, text)
    except (TypeError, ValueError, ArithmeticError):
        return False


# ── error carried forward ────────────────────────────────────────────────────────────────

@lru_cache(maxsize=64)
def _rebuild(source: str, wrt: tuple[str, ...], inputs: tuple[tuple[str, str], ...]):
    from ..engine.derive import derive

    return derive(source, wrt=list(wrt), at=dict(inputs), filename="manifest")


class _Carried:
    """The problem's trace, the student's values, and each blank's ECF expectation."""

    def __init__(self, trace, quantities: dict, keys: dict, given: dict):
        self.trace, self.quantities = trace, quantities
        self.target = trace.target
        self.steps = {(s.node, s.input, s.position): s for s in trace.steps}
        self.paths = {name: [trace.steps[i] for i in a.steps] for name, a in trace.adjoints.items()}
        self.blank_of = {_identity(q): n for n, q in quantities.items()}
        self.mine: dict[str, object] = {}  # blank → the student's value (the true one when it is correct)
        for n, q in quantities.items():
            if given[n].value is not None and not _same(given[n].value, keys[n], given[n].text):
                self.mine[n] = given[n].value

    @classmethod
    def of(cls, entry: dict, keys: dict, given: dict, where: str) -> _Carried | None:
        """None for an entry without the grading keys (no ECF)."""
        if not all(k in entry for k in ("source", "wrt", "quantities")):
            return None
        try:
            trace = _rebuild(entry["source"], tuple(entry["wrt"]), tuple(entry["inputs"].items()))
        except WorksheetError as error:
            raise WorksheetError(f"its source does not rebuild ({error})", where=f"{where}.source") from None
        if trace.tensor or trace.values is None:
            raise WorksheetError("expected a scalar formula at a point", where=f"{where}.source")
        carried = cls(trace, entry["quantities"], keys, given)
        for n, q in entry["quantities"].items():
            carried.check(n, q, keys[n], f"{where}.quantities.{n}")
        return carried

    def check(self, n: str, q: dict, key, where: str) -> None:
        """The quantity names a part of the trace, and its value there is the key's."""
        try:
            true = self.true(q)
        except KeyError:
            raise WorksheetError(f"no such {q['kind']} quantity in the problem", where=where) from None
        if true is None or not _same(true, key):
            raise WorksheetError(f"the key of blank ({n}) is not the value of its quantity", where=where)

    def true(self, q: dict):
        """The true value of a quantity, from the trace."""
        kind = q["kind"]
        if kind == "forward":
            self.trace.graph.node(q["node"])
            return self.trace.values[q["node"]]
        if kind == "sum":
            return self.trace.adjoints[q["node"]].value
        if kind == "gradient":
            for gradient in self.trace.gradients:
                if gradient.wrt == q["wrt"]:
                    return gradient.value
            raise KeyError(q["wrt"])
        step = self.steps[(q["node"], q["input"], q["position"])]
        return {"local": step.local_value, "upstream": step.upstream_value, "product": step.product_value}[kind]

    # the student's values: (value, the blanks it came from that are wrong)

    def value(self, q: dict) -> tuple[object, tuple[str, ...]]:
        """The student's value of a quantity: their answer where it is a wrong number, else the true one."""
        n = self.blank_of.get(_identity(q))
        if n is not None and n in self.mine:
            return self.mine[n], (n,)
        return self.true(q), ()

    def adjoint(self, name: str) -> tuple[object, tuple[str, ...]]:
        """The student's ∂L/∂name: 1 for the output, their sum blank, the single path's product,
        or Σ of their products of the paths."""
        if name == self.target:
            return _settle(1), ()
        paths = self.paths.get(name)
        if not paths:
            return self.trace.adjoints[name].value if name in self.trace.adjoints else 0, ()
        if len(paths) > 1 and not self.trace.graph.node(name).is_input:
            return self.value({"kind": "sum", "node": name})
        return _total([self.product(s) for s in paths])

    def product(self, step) -> tuple[object, tuple[str, ...]]:
        """The student's ∂L/∂v · ∂v/∂u of a step (the local blank itself where v is the output)."""
        at = {"node": step.node, "input": step.input, "position": step.position}
        if step.node == self.target:
            return self.value({"kind": "local", **at})
        return self.value({"kind": "product", **at})

    def expectation(self, n: str) -> tuple[object, tuple[str, ...]]:
        """The ECF expectation of blank n and the wrong blanks it carries forward; None if undefined."""
        from ..arith import Refused

        if n not in self.quantities:
            return None, ()
        try:
            return self._expect(self.quantities[n])
        except (Refused, WorksheetError, ArithmeticError, ValueError, TypeError):
            return None, ()

    def _expect(self, q: dict) -> tuple[object, tuple[str, ...]]:
        kind = q["kind"]
        if kind == "forward":
            return self._forward(q["node"])
        if kind == "gradient":
            return self.adjoint(q["wrt"]) if q["wrt"] in self.trace.adjoints else (self.true(q), ())
        if kind == "sum":
            return _total([self.product(s) for s in self.paths[q["node"]]])
        at = {"node": q["node"], "input": q["input"], "position": q["position"]}
        if kind == "local":
            return self._local(self.steps[(q["node"], q["input"], q["position"])])
        if kind == "upstream":
            return self.adjoint(q["node"])
        upstream, local = self.value({"kind": "upstream", **at}), self.value({"kind": "local", **at})
        return _settle(upstream[0] * local[0]), upstream[1] + local[1]

    def _arguments(self, node) -> tuple[dict, tuple[str, ...]]:
        """The student's forward values of a node's inputs, by symbol."""
        from ..lang.graph import symbol

        symbols, sources = {}, ()
        for name in dict.fromkeys(node.inputs):
            value, came = self.value({"kind": "forward", "node": name})
            symbols[symbol(name)] = value
            sources += came
        return symbols, sources

    def _forward(self, name: str):
        """v = rule_v(inputs), at the student's values of the inputs."""
        from ..forms import evaluate

        node = self.trace.graph.node(name)
        symbols, sources = self._arguments(node)
        return _settle(evaluate(node.expr, symbols)), sources

    def _local(self, step):
        """∂v/∂u, evaluated at the student's forward values of v's arguments."""
        from ..forms import evaluate
        from ..ops import RULES

        node = self.trace.graph.node(step.node)
        symbols, sources = self._arguments(node)
        values = [evaluate(a, symbols) for a in node.args]
        local = RULES[node.op].local_value(step.position, *values)
        return _settle(local if local is not None else evaluate(step.local, symbols)), sources

    def describe(self, n: str) -> str:
        """What blank n is, in words (" is the local derivative ∂v3/∂v2"), never its value."""
        if n not in self.quantities:
            return ""
        q, L = self.quantities[n], self.target
        words = {
            "forward": lambda: f"the forward value of {q['node']}",
            "local": lambda: f"the local derivative ∂{q['node']}/∂{q['input']}",
            "upstream": lambda: f"the upstream gradient ∂{L}/∂{q['node']}",
            "product": lambda: f"the product ∂{L}/∂{q['node']} · ∂{q['node']}/∂{q['input']}",
            "sum": lambda: f"the sum of the paths into ∂{L}/∂{q['node']}",
            "gradient": lambda: f"the gradient ∂{L}/∂{q['wrt']}",
        }[q["kind"]]()
        return f", {words},"


def _identity(q: dict) -> tuple:
    return tuple(q.get(k) for k in ("kind", "node", "input", "position", "wrt"))


def _total(parts: list[tuple[object, tuple[str, ...]]]) -> tuple[object, tuple[str, ...]]:
    value, sources = 0, ()
    for part, came in parts:
        value, sources = value + part, sources + came
    return _settle(value), sources


def _settle(value):
    from sympy import Integer

    from ..arith import settle

    return settle(Integer(value) if isinstance(value, int) else value)


__all__ = ["Manifest", "Mark", "Policy", "Variant", "check_problem", "grade_blanks", "load_manifest",
           "parse_manifest", "score"]
