"""An incorrect answer → what is wrong with it: the codes (a usual mistake's, ``mistakes.py``;
``sign``; ``constant_factor``; ``partial_domain``, right on part of the domain only) and one
sentence of feedback for the student, decided on the certified values of the answer, the
derivative and each mistake at the same points."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy
from sympy import Expr

from .sampling import close, guards, numeric
from .verdict import INCORRECT, Verdict


def diagnose(question, points, answers, correct, mistaken, expr, allowance=None, *, single: bool) -> Verdict:
    """The codes of an incorrect answer to ``question`` (a ``check.Question``): a mistake's
    derivative (each ``mistakes.py`` finds), its negative or a constant multiple of it, or right
    on one side of a kink only.
    ``allowance``: how far a rounded number may be from the value it rounds; ``single``: a
    number at the question's point (not a function at sample points)."""

    def same(values) -> bool:
        pairs = list(_defined(answers, values))
        return bool(pairs) and all(close(a, v) or (allowance is not None and abs(a - v) <= allowance)
                                   for a, v in pairs)

    if same([-c for c in correct]):
        return Verdict(INCORRECT, ("sign",),
                       "The sign is wrong: follow each minus sign along the chain (the − of a subtraction, "
                       "of a derivative such as cos′ = −sin) and count them.")
    k = _factor(answers, correct, single)
    matched = [m for m, values in zip(question.mistakes, mistaken) if same(values)]
    if matched:
        partial = _partial(question, points, answers, correct, expr)
        codes = (tuple(dict.fromkeys(m.code for m in matched)) + (("constant_factor",) if k is not None else ())
                 + (("partial_domain",) if partial else ()))
        return Verdict(INCORRECT, codes, _sentences(matched[0].feedback, partial))
    if k is not None:
        return Verdict(INCORRECT, ("constant_factor",), _scaled(k, question.target, question.wrt))
    for mistake, values in zip(question.mistakes, mistaken):
        km = _factor(answers, values, single)
        if km is not None:
            also = "sign" if close(km, mpmath.mpf(-1)) else "constant_factor"
            return Verdict(INCORRECT, (mistake.code, also), f"{mistake.feedback} "
                           f"{'The sign is wrong too.' if also == 'sign' else 'A constant factor is off too.'}")
    partial = _partial(question, points, answers, correct, expr)  # (only where nothing above decided)
    if partial:
        return Verdict(INCORRECT, ("partial_domain",), partial)
    shown = _shown(answers[0])
    return Verdict(INCORRECT, (), f"This is not ∂{question.target}/∂{question.wrt}: at {question.where(points[0])} "
                                  f"your answer gives {shown}, which is not the derivative there. Work through the "
                                  f"chain rule one step at a time (worksheet derive shows every step).")


def _partial(question, points, answers, correct, expr) -> str:
    """Feedback for an answer right on part of the domain only ("" when it is not): where
    it agrees with a derivative that is not 0 there, or on one side of a kink."""
    from ..notation import TextNotation

    agree = [close(a, c) for a, c in zip(answers, correct)]
    if all(agree) or not any(agree):
        return ""
    for z in guards([question.correct, expr]):
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
    return (f"Your answer agrees with ∂{question.target}/∂{question.wrt} at some points but not at others, "
            f"e.g. at {question.where(points[agree.index(False)])}.")


def _sentences(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _numbers_last(z: Expr) -> Expr:
    """w − 10 rather than SymPy's −10 + w."""
    if not z.is_Add:
        return z
    return sympy.Add(*sorted(z.args, key=lambda t: t.is_number), evaluate=False)


def _factor(answers, values, single: bool):
    """k with answer = k·value at every point (k ≠ 0), or None; at a single point only a simple
    fraction (p/q, both at most 12) counts, since any number is a multiple of any other."""
    ratios = (a / v for a, v in _defined(answers, values) if v != 0)  # divided only while they agree
    k = next(ratios, None)
    if k is None or k == 0 or not all(close(r, k) for r in ratios) or any(
            v == 0 and a != 0 for a, v in _defined(answers, values)):
        return None
    if single:
        simple = _simple(k, 12)
        if simple is None or abs(simple.numerator) > 12:
            return None
    return k


def _defined(answers, values):
    """The (answer, value) pairs of the points where both are defined."""
    return ((a, v) for a, v in zip(answers, values) if a is not None and v is not None)


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
