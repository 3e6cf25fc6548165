"""A student's answer to ∂L/∂w → correct, incorrect (with a diagnosis and feedback), or invalid.

Equivalence never accepts a wrong answer nor rejects a right one, and its effort is bounded:

1. symbolically, the difference of the answer and the derivative as SymPy evaluates it is
   0 (expanded too, when it is small) — never an unbounded ``simplify``;
2. otherwise as functions, at seeded points inside the domain of both, on both sides of every
   kink (``sampling.py``), with values certified in ball arithmetic: equal when they differ by
   at most 2^−100 of the larger — relative to their own size, so 3x² + 0.0001 is not 3x²,
   2x/10¹³ is not 0, and (x − a)⁶⁰⁰⁰ is not w(x − a)⁵⁹⁹⁹ even where both are 10⁻⁵⁰⁰.

A symbolic answer is always judged as a function: of the variables ``at`` does not fix, and
of those it names itself; values the program declares (``param w = 1``) fix nothing, and the
answer must then also be right at that declared point. A question whose every variable has a
value also asks for a number: a numeric answer is compared with the exact value there — two
exact rationals exactly, closed forms to 200 bits — a decimal with at least three significant
digits counting as rounded (``answers.py``).

An incorrect answer is compared with the derivatives the usual mistakes give
(``mistakes.py``), with its negative (``sign``), with constant multiples (``constant_factor``),
and side by side at each point (``partial_domain``: right on one side of a kink only). An
answer the parser refuses, that asks for the derivative (``diff(…)``), uses a name the
question does not have, takes longer than ``TIME_LIMIT`` seconds to check, or fails in any
other way is ``invalid``, with the reason: one answer never stops a batch.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy
from sympy import Expr, Symbol

from .answers import (is_off_in_its_last_digit, is_rounded_too_far, read_expression, rounding_allowance,
                      same_number)
from ..arith import Refused, settle, short_expression
from ..deadline import TimeLimit, time_limit
from ..errors import WorksheetError
from ..forms import evaluate
from ..limits import MAX_CHECKED_OPERATIONS
from .mistakes import Chain, mistakes
from .sampling import COMPARE_BITS, both_sides, close, guards, numeric, sample_points
from ..engine.trace import defined_somewhere

SCHEMA = "worksheet.check/1"
TIME_LIMIT = 2.0  # seconds per answer
MIN_POINTS = 4  # a symbolic answer must be defined at this many points of the question's
EXPAND_OPS = 40  # a difference this small is also expanded in the symbolic test
CORRECT, INCORRECT, INVALID = "correct", "incorrect", "invalid"


@dataclass(frozen=True)
class Verdict:
    verdict: str  # correct, incorrect or invalid
    diagnosis: tuple[str, ...] = ()  # sign, constant_factor, missing_chain_factor, …
    feedback: str = ""  # one sentence for the student


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
        self._samples: dict[tuple[Symbol, ...], Samples] = {}
        if self.free:
            self.samples(tuple(self.free))  # an undefined question is refused now, not per answer
        self._verdicts: dict[object, Verdict] = {}

    def _exact_value(self) -> Expr:
        for node in self.graph.operations:  # the question itself must be defined there (log(1 − x) at 20 is not)
            if numeric(self.chain.written[node.symbol], self.point) is None:
                raise WorksheetError(f"{node.name} = {short_expression(node.expr)} is undefined at the "
                                     f"given values ({self._where(self.point, self.inputs)})", where="--at")
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
                if expr.free_symbols & self.named:
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
        if _proved_equal(expr, self.correct):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt}.")
        samples = self.samples(free)
        points, correct, mistaken = self._points_for(expr, samples)
        with mpmath.workprec(COMPARE_BITS + 16):
            answers = [numeric(expr, p) for p in points]
            compared = [i for i, (a, c) in enumerate(zip(answers, correct)) if a is not None and c is not None]
            if len(compared) < min(MIN_POINTS, len(points)):
                return Verdict(INCORRECT, (), f"Your answer is undefined almost everywhere ∂{self.target}/∂{self.wrt} "
                                              f"is defined (a logarithm or root of a negative number, a division by 0).")
            if all(close(answers[i], correct[i]) for i in compared):
                return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt}.")
            return self._diagnose([points[i] for i in compared], [answers[i] for i in compared],
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
                       f"({self._where(self.point, self.inputs)}), where ∂{self.target}/∂{self.wrt} takes the "
                       f"value of the frameworks' convention at a kink: look at the derivative there.")

    def _judge_number(self, expr: Expr, text: str) -> Verdict:
        point = self.point if self.point is not None else self.explicit
        try:
            if numeric(expr, point) is None:  # real arithmetic only: abs(3/log(1 − 20)) is undefined
                raise Refused("undefined")
            value = settle(evaluate(expr, point))
        except Refused:
            return Verdict(INCORRECT, (), f"Your answer is undefined at {self._where(point, self.inputs)}.")
        if same_number(value, self.exact, text):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt} at the given point.")
        if is_rounded_too_far(value, self.exact, text):
            return Verdict(INCORRECT, ("rounding",),
                           "Your value is rounded too far: give at least 3 significant digits, or the exact value.")
        if is_off_in_its_last_digit(value, self.exact, text):
            return Verdict(INCORRECT, ("rounding",),
                           "Your value is off in its last digit: round to the nearest digit (not down or up), "
                           "or give the exact value.")
        with mpmath.workprec(COMPARE_BITS + 16):
            answer = numeric(expr, point)
            correct = [numeric(self.correct, point)]
            mistaken = [[numeric(m.expr, point)] for m in self.mistakes]
            allowance = rounding_allowance(text)
            return self._diagnose([point], [answer], correct, mistaken, expr,
                                  None if allowance is None else mpmath.mpf(allowance.p) / allowance.q, single=True)

    def _points_for(self, expr: Expr, samples: Samples):
        """The sample points, and points on the unreached side of the answer's own kinks."""
        import random

        known = set(guards([self.correct]))
        kinks = [z for z in guards([expr]) if z not in known]
        extra = both_sides(samples.points, list(samples.free), samples.fixed, [self.correct, expr], kinks,
                           random.Random(f"{self.seed}:{sympy.srepr(expr)[:200]}")) if kinks else []
        points = samples.points + extra
        correct = samples.correct + [numeric(self.correct, p) for p in extra]
        mistaken = [values + [numeric(m.expr, p) for p in extra] for m, values in zip(self.mistakes, samples.mistaken)]
        return points, correct, mistaken

    # ── diagnosis ────────────────────────────────────────────────────────────────────────

    def _diagnose(self, points, answers, correct, mistaken, expr, allowance=None, *, single: bool) -> Verdict:
        """The codes of an incorrect answer: a mistake's derivative (each ``mistakes.py`` finds),
        its negative or a constant multiple of it, or right on one side of a kink only.
        ``allowance``: how far a rounded number may be from the value it rounds; ``single``: a
        number at the question's point (not a function at sample points)."""

        def same(values) -> bool:
            pairs = [(a, v) for a, v in zip(answers, values) if a is not None and v is not None]
            return bool(pairs) and all(close(a, v) or (allowance is not None and abs(a - v) <= allowance)
                                       for a, v in pairs)

        if same([-c for c in correct]):
            return Verdict(INCORRECT, ("sign",),
                           "The sign is wrong: follow each minus sign along the chain (the − of a subtraction, "
                           "of a derivative such as cos′ = −sin) and count them.")
        k = _factor(answers, correct, single)
        scaled = ("constant_factor",) if k is not None else ()
        partial = self._partial(points, answers, correct, expr)
        spread = (("partial_domain",), partial) if partial else ((), "")
        matched = [m for m, values in zip(self.mistakes, mistaken) if same(values)]
        if matched:
            codes = tuple(dict.fromkeys(m.code for m in matched)) + scaled + spread[0]
            return Verdict(INCORRECT, codes, _sentences(matched[0].feedback, spread[1]))
        if k is not None:
            return Verdict(INCORRECT, ("constant_factor",), _scaled(k, self.target, self.wrt))
        for mistake, values in zip(self.mistakes, mistaken):
            km = _factor(answers, values, single)
            if km is not None:
                also = "sign" if close(km, mpmath.mpf(-1)) else "constant_factor"
                return Verdict(INCORRECT, (mistake.code, also),
                               f"{mistake.feedback} {'The sign is wrong too.' if also == 'sign' else 'A constant factor is off too.'}")
        if partial:
            return Verdict(INCORRECT, *spread)
        shown = _shown(answers[0])
        return Verdict(INCORRECT, (), f"This is not ∂{self.target}/∂{self.wrt}: at {self._where(points[0])} your answer "
                                      f"gives {shown}, which is not the derivative there. Work through the chain "
                                      f"rule one step at a time (worksheet derive shows every step).")

    def _partial(self, points, answers, correct, expr) -> str:
        """Feedback for an answer right on part of the domain only ("" when it is not): where
        it agrees with a derivative that is not 0 there, or on one side of a kink."""
        from ..render.notation import TextNotation

        agree = [close(a, c) for a, c in zip(answers, correct)]
        if all(agree) or not any(agree):
            return ""
        for z in guards([self.correct, expr]):
            sides = [numeric(z, p) for p in points]
            right = {s > 0 for s, ok in zip(sides, agree) if ok and s is not None}
            wrong = {s > 0 for s, ok in zip(sides, agree) if not ok and s is not None}
            if len(right) == 1 and len(wrong) == 1 and right != wrong:
                shown = TextNotation().doprint(_numbers_last(z))
                good, bad = (">", "<") if right == {True} else ("<", ">")
                return (f"Your answer is right where {shown} {good} 0 but not where {shown} {bad} 0: "
                        f"look at the derivative on each side of the kink.")
        if not any(ok and c != 0 for ok, c in zip(agree, correct)):
            return ""  # it agrees only where the derivative happens to be 0
        return (f"Your answer agrees with ∂{self.target}/∂{self.wrt} at some points but not at others, "
                f"e.g. at {self._where(points[agree.index(False)])}.")

    def _where(self, point, names=None) -> str:
        """``w = 1.37, x = −0.62``: the variables of a point that ``at`` does not fix (``names``:
        these instead); a value given with --at as a decimal where it ends (x = 1.35, not 27/20)."""
        from ..render.notation import TextNotation

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
        return TensorQuestion(formula, wrt, at, filename=filename, target=target)
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


def _sentences(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _decimal(value: Fraction) -> str:
    """A coordinate (thousandths) as a decimal, with a true minus sign."""
    text = f"{float(value):g}" if 1000 % value.denominator == 0 else str(value)
    return text.replace("-", "−")


def _numbers_last(z: Expr) -> Expr:
    """w − 10 rather than SymPy's −10 + w."""
    if not z.is_Add:
        return z
    return sympy.Add(*sorted(z.args, key=lambda t: t.is_number), evaluate=False)


def _proved_equal(answer: Expr, correct: Expr) -> bool:
    difference = answer - correct
    if difference == 0:
        return True
    if sympy.count_ops(difference) > EXPAND_OPS or any(
        p.exp.is_Integer and abs(p.exp) > 8 for p in difference.atoms(sympy.Pow)
    ):
        return False
    return sympy.expand(difference) == 0


def _factor(answers, values, single: bool):
    """k with answer = k·value at every point (k ≠ 0), or None; at a single point only a simple
    fraction (p/q, both at most 12) counts, since any number is a multiple of any other."""
    pairs = [(a, v) for a, v in zip(answers, values) if a is not None and v is not None]
    if not pairs or any(v == 0 and a != 0 for a, v in pairs):
        return None
    ratios = [a / v for a, v in pairs if v != 0]
    if not ratios or ratios[0] == 0 or not all(close(r, ratios[0]) for r in ratios):
        return None
    if single:
        simple = _simple(ratios[0], 12)
        if simple is None or abs(simple.numerator) > 12:
            return None
    return ratios[0]


def _simple(k, limit: int) -> Fraction | None:
    """The fraction p/q (q ≤ ``limit``) that k is exactly (to EQUAL_BITS), or None."""
    if not mpmath.mpf("1e-9") < abs(k) < mpmath.mpf("1e9"):
        return None
    simple = Fraction(float(k)).limit_denominator(limit)
    return simple if close(k, mpmath.mpf(simple.numerator) / simple.denominator) else None


def _shown(x) -> str:
    """A certified value for feedback: six digits, 0 as 0."""
    return "0" if x == 0 else mpmath.nstr(x, 6).replace("-", "−")


def _scaled(k, target: str, wrt: str) -> str:
    if abs(k - 1) < mpmath.mpf("1e-3"):
        return (f"Your answer is almost ∂{target}/∂{wrt} but not exactly: it is "
                f"{mpmath.nstr(k, 20).replace('-', '−')} times it. "
                f"A number in it is rounded: write numbers exactly in a formula (1/3, not 0.333).")
    simple = _simple(k, 100)
    shown = (str(simple) if simple is not None else mpmath.nstr(k, 4)).replace("-", "−")  # a true minus, as elsewhere
    size = "too large" if abs(k) > 1 else "too small"
    return (f"Your answer is {shown} times ∂{target}/∂{wrt} ({size}{', and the sign is wrong' if k < 0 else ''}): "
            f"check the constant factors — the exponent the power rule brings down, the 1/N of a mean, "
            f"each constant along the chain.")


__all__ = ["CORRECT", "INCORRECT", "INVALID", "SCHEMA", "Question", "Verdict", "check"]
