"""A student's answer to ∂L/∂w → correct, incorrect (with a diagnosis and feedback), or invalid.

Equivalence never accepts a wrong answer nor rejects a right one, and its effort is bounded:

1. symbolically, the difference of the answer and the derivative as SymPy evaluates it is
   0 (expanded too, when it is small) — never an unbounded ``simplify``;
2. otherwise numerically, at seeded points inside the domain of both, on both sides of
   every kink (``sampling.py``), to 30 digits: equal within a relative 1e-9, or below 1e-12
   where the derivative is 0 (WeBWorK's zero level; 3x² + 0.0001 is not 3x²).

A question whose every variable has a value (``at``) asks for a number: the answer (a number,
or an expression, evaluated there) is compared with the exact value, a decimal with at
least three significant digits counting as rounded (``answers.py``).

An incorrect answer is compared with the derivatives the usual mistakes give
(``mistakes.py``), with its negative (``sign``), with constant multiples (``constant_factor``),
and side by side at each point (``partial_domain``: right on one side of a kink only). An
answer the parser refuses, that asks for the derivative (``diff(…)``), uses a name the
question does not have, or takes longer than ``TIME_LIMIT`` seconds to check is ``invalid``.
"""

from __future__ import annotations

import signal
import threading
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy
from sympy import Expr, Symbol

from .answers import is_rounded_too_far, read_expression, rounding_allowance, same_number
from .errors import WorksheetError
from .forms import evaluate
from .mistakes import Chain, Mistake, mistakes
from .sampling import close, guards, both_sides, numeric, sample_points
from .values import OutsideDomain, TooLarge, settle

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


class TimeLimit(BaseException):
    """The answer took longer than TIME_LIMIT to check (a BaseException: SymPy's own
    ``except Exception`` clauses must not swallow it)."""


class Question:
    """∂target/∂wrt of a formula or program, ready to judge any number of answers."""

    def __init__(self, formula: str, wrt: str, at: str | Mapping | None = None, *,
                 filename: str | None = None, target: str | None = None):
        from .api import given_values, parse_names, parse_point, program_graph, _wrt
        from .tensor_trace import is_tensor_program

        graph = program_graph(formula, filename=filename, target=target)
        names = parse_names(wrt, "--wrt")
        if len(names) != 1:
            raise WorksheetError("check one derivative at a time: give one variable", where="--wrt")
        self.wrt = _wrt(graph, names)[0]
        fixed = given_values(graph, parse_point(at) if at is not None else {})
        if is_tensor_program(graph, fixed):
            raise WorksheetError("answers are checked for scalar formulas (no vectors or matrices)")
        self.graph, self.target = graph, graph.target
        self.variables = [n.name for n in graph.inputs]
        self.named = {n.symbol for n in graph.operations if n.named}  # an answer may use y_pred
        self.fixed = {Symbol(k, real=True): v for k, v in fixed.items()}
        self.free = [n.symbol for n in graph.inputs if n.name not in fixed]
        self.chain = Chain(graph)
        self.correct = self.chain.derivative(self.wrt)
        self.exact = self._exact_value() if not self.free else None
        self.seed = f"{zlib.crc32(formula.encode())}:{self.wrt}"
        self.points = sample_points(self.free, self.fixed, [self.correct, *self.chain.values()], self.seed)
        if not self.points:
            raise WorksheetError(f"∂{self.target}/∂{self.wrt} is undefined at every point tried", where="--at")
        self.correct_values = [numeric(self.correct, p) for p in self.points]
        self.mistakes = mistakes(self.chain, self.wrt, self.correct)
        self.mistake_values: list[list] = [[numeric(m.expr, p) for p in self.points] for m in self.mistakes]
        self._verdicts: dict[object, Verdict] = {}

    def _exact_value(self) -> Expr:
        try:
            return settle(evaluate(self.correct, self.fixed))
        except (OutsideDomain, TooLarge) as error:
            raise WorksheetError(f"∂{self.target}/∂{self.wrt} is undefined at the given values ({error})",
                                 where="--at") from None

    # ── judging ──────────────────────────────────────────────────────────────────────────

    def judge(self, answer: str) -> Verdict:
        """The verdict on one answer (the same text or the same expression is judged once)."""
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
                key = (expr, text) if not self.free else expr  # a number's digits matter
                if key not in self._verdicts:
                    self._verdicts[key] = self._judge(expr, text)
                return self._verdicts[key]
        except WorksheetError as error:
            return Verdict(INVALID, (), str(error))
        except TimeLimit:
            return Verdict(INVALID, (), f"answer: checking it took longer than {TIME_LIMIT:g} s: write it more simply")

    def _judge(self, expr: Expr, text: str) -> Verdict:
        if not self.free:
            return self._judge_number(expr, text)
        if _proved_equal(expr, self.correct):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt}.")
        points, correct, mistaken = self._points_for(expr)
        answers = [numeric(expr, p) for p in points]
        compared = [i for i, (a, c) in enumerate(zip(answers, correct)) if a is not None and c is not None]
        if len(compared) < min(MIN_POINTS, len(points)):
            return Verdict(INCORRECT, (), f"Your answer is undefined almost everywhere ∂{self.target}/∂{self.wrt} "
                                          f"is defined (a logarithm or root of a negative number, a division by 0).")
        if all(close(answers[i], correct[i]) for i in compared):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt}.")
        return self._diagnose([points[i] for i in compared], [answers[i] for i in compared],
                              [correct[i] for i in compared], [[m[i] for i in compared] for m in mistaken], expr)

    def _judge_number(self, expr: Expr, text: str) -> Verdict:
        try:
            value = settle(evaluate(expr, self.fixed))
        except (OutsideDomain, TooLarge):
            return Verdict(INCORRECT, (), f"Your answer is undefined at {self._where(self.points[0])}.")
        if same_number(value, self.exact, text):
            return Verdict(CORRECT, (), f"Correct: this is ∂{self.target}/∂{self.wrt} at the given point.")
        if is_rounded_too_far(value, self.exact, text):
            return Verdict(INCORRECT, ("rounding",),
                           "Your value is rounded too far: give at least 3 significant digits, or the exact value.")
        answer = numeric(expr, self.points[0])
        allowance = rounding_allowance(text)
        return self._diagnose(self.points, [answer], self.correct_values, self.mistake_values, expr,
                              None if allowance is None else mpmath.mpf(allowance.p) / allowance.q)

    def _points_for(self, expr: Expr):
        """The question's points, and points on the unreached side of the answer's own kinks."""
        import random

        known = set(guards([self.correct]))
        kinks = [z for z in guards([expr]) if z not in known]
        extra = both_sides(self.points, self.free, self.fixed, [self.correct, expr], kinks,
                           random.Random(f"{self.seed}:{sympy.srepr(expr)[:200]}")) if kinks else []
        points = self.points + extra
        correct = self.correct_values + [numeric(self.correct, p) for p in extra]
        mistaken = [values + [numeric(m.expr, p) for p in extra] for m, values in zip(self.mistakes, self.mistake_values)]
        return points, correct, mistaken

    # ── diagnosis ────────────────────────────────────────────────────────────────────────

    def _diagnose(self, points, answers, correct, mistaken, expr, allowance=None) -> Verdict:
        """The codes of an incorrect answer: a mistake's derivative (each ``mistakes.py`` finds),
        its negative or a constant multiple of it, or right on one side of a kink only.
        ``allowance``: how far a rounded number may be from the value it rounds."""
        single = not self.free

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
        shown = mpmath.nstr(answers[0], 6)
        return Verdict(INCORRECT, (), f"This is not ∂{self.target}/∂{self.wrt}: at {self._where(points[0])} your answer "
                                      f"gives {shown}, which is not the derivative there. Work through the chain "
                                      f"rule one step at a time (worksheet derive shows every step).")

    def _partial(self, points, answers, correct, expr) -> str:
        """Feedback for an answer right on part of the domain only ("" when it is not): where
        it agrees with a derivative that is not 0 there, or on one side of a kink."""
        from .render.notation import TextNotation

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
        if not any(ok and not close(c, mpmath.mpf(0)) for ok, c in zip(agree, correct)):
            return ""  # it agrees only where the derivative happens to be 0
        return (f"Your answer agrees with ∂{self.target}/∂{self.wrt} at some points but not at others, "
                f"e.g. at {self._where(points[agree.index(False)])}.")

    def _where(self, point) -> str:
        """``w = 1.37, x = −0.62``: the free variables of a point (all of them, at a given point)."""
        from .render.notation import TextNotation

        notation = TextNotation()
        return ", ".join(f"{s.name} = {_decimal(point[s]) if isinstance(point[s], Fraction) else notation.doprint(point[s])}"
                         for s in self.free or list(point))


def check(question: str, answer: str, *, wrt: str, at: str | Mapping | None = None,
          filename: str | None = None) -> Verdict:
    """The verdict on ``answer`` as ∂L/∂wrt of ``question`` (a formula or a program's text).

    A bad question raises ``WorksheetError``; a bad answer is the verdict ``invalid``."""
    return Question(question, wrt, at, filename=filename).judge(answer)


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
    if not pairs or any(close(v, mpmath.mpf(0)) and not close(a, mpmath.mpf(0)) for a, v in pairs):
        return None
    ratios = [a / v for a, v in pairs if not close(v, mpmath.mpf(0))]
    if not ratios or close(ratios[0], mpmath.mpf(0)) or not all(close(r, ratios[0]) for r in ratios):
        return None
    if single:
        simple = Fraction(float(ratios[0])).limit_denominator(12)
        if abs(simple.numerator) > 12 or not close(ratios[0], mpmath.mpf(simple.numerator) / simple.denominator):
            return None
    return ratios[0]


def _scaled(k, target: str, wrt: str) -> str:
    simple = Fraction(float(k)).limit_denominator(100)
    shown = str(simple) if close(k, mpmath.mpf(simple.numerator) / simple.denominator) else mpmath.nstr(k, 4)
    size = "too large" if abs(k) > 1 else "too small"
    return (f"Your answer is {shown} times ∂{target}/∂{wrt} ({size}{', and the sign is wrong' if k < 0 else ''}): "
            f"check the constant factors — the exponent the power rule brings down, the 1/N of a mean, "
            f"each constant along the chain.")


@contextmanager
def time_limit(seconds: float):
    """Raise TimeLimit in the block after ``seconds`` (on the main thread, where signals work)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


__all__ = ["CORRECT", "INCORRECT", "INVALID", "SCHEMA", "Question", "Verdict", "check"]
