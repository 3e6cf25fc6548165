"""Where two expressions are compared: seeded points inside the domain, on both sides of every kink.

``numeric(expr, point)`` evaluates an (evaluated) SymPy expression with mpmath to ``DIGITS``
significant digits, and gives None where it is undefined: the log or square root of a
negative number, a division by zero, a value beyond any float. Nothing is compiled or
``eval``-ed; the expression tree is walked.

``sample_points`` draws points with short decimal coordinates (``w = 1.37``), never 0 or ±1
(where a missing factor x or a dropped term could hide), at least ``MARGIN`` away from every
kink (the argument of relu, abs, sign, step, the difference of max and min) and every pole,
and then looks for points on each side of every kink that no point has reached yet, so an
answer that is right for w·x > 0 only cannot pass unseen.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

import mpmath
import sympy
from sympy import Expr, Symbol

from .functions import relu, sigmoid, softplus, stop_gradient

DIGITS = 30
MARGIN = mpmath.mpf("1e-3")  # how far a point keeps from a kink or a pole
LARGEST = mpmath.mpf("1e100")  # the question's values stay below this at a sample point (else: a pole)
EXP_LIMIT = 10_000  # exp, sinh, cosh of more than this are not computed (beyond 1e4000)
POINTS = 12
ATTEMPTS = 400
SCALES = (3, 10, 1, 30, 300)  # coordinates are drawn from [−scale, scale], wider when the domain is hard

Point = dict[Symbol, Fraction]


class Undefined(ArithmeticError):
    """The expression has no real value here."""


# ── evaluation ───────────────────────────────────────────────────────────────────────────

def numeric(expr: Expr, point: Mapping[Symbol, Fraction]) -> mpmath.mpf | None:
    """``expr`` at ``point`` to ``DIGITS`` digits, or None where it is undefined."""
    with mpmath.workdps(DIGITS):
        values = {s: _coordinate_value(v) for s, v in point.items()}
        try:
            value = _walk(expr, values, {})
        except (Undefined, ZeroDivisionError, OverflowError, ValueError):
            return None
    return value


def _coordinate_value(v) -> mpmath.mpf:
    """A coordinate (a Fraction, or an exact SymPy number such as π/4) to DIGITS digits."""
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return mpmath.mpmathify(sympy.N(v, DIGITS))


def _walk(e: Expr, values: Mapping[Symbol, mpmath.mpf], memo: dict) -> mpmath.mpf:
    if e in memo:
        return memo[e]
    if e.is_Symbol:
        result = values[e]
    elif e.is_Rational:
        result = mpmath.mpf(e.p) / e.q
    elif e.is_number and not e.args:  # a Float, π, e
        result = _real(mpmath.mpmathify(e.evalf(DIGITS)))
    else:
        args = [_walk(a, values, memo) for a in e.args]
        result = _real(_apply(e, args))
    memo[e] = result
    return result


def _real(value) -> mpmath.mpf:
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
        raise Undefined
    return value


def _apply(e: Expr, args: list) -> mpmath.mpf:
    if e.is_Add:
        return mpmath.fsum(args)
    if e.is_Mul:
        return mpmath.fprod(args)
    if e.is_Pow:
        return _power(*args)
    function = FUNCTIONS.get(type(e))
    if function is None:
        raise ValueError(f"no numeric rule for {type(e).__name__}")
    return function(*args)


def _power(base, exponent):
    if base == 0:
        if exponent <= 0:
            raise Undefined
        return mpmath.mpf(0)
    if base < 0 and exponent != int(exponent):
        raise Undefined
    if abs(exponent) > 1000:  # x^(10^100000): by its logarithm, not by repeated squaring
        size = exponent * mpmath.log(abs(base))
        if size > EXP_LIMIT * 100:
            raise Undefined
        sign = -1 if base < 0 and int(exponent) % 2 else 1
        return sign * mpmath.exp(max(size, mpmath.mpf(-EXP_LIMIT * 100)))
    return mpmath.power(base, exponent)


def _growing(function):
    """exp, sinh, cosh: past |u| = EXP_LIMIT the value has more digits than any comparison
    needs, and computing it would take ever more precision (exp(exp(exp(exp(3)))))."""
    def bounded(u):
        if abs(u) > EXP_LIMIT:
            raise Undefined
        return function(u)
    return bounded


def _log(u):
    if u <= 0:
        raise Undefined
    return mpmath.log(u)


def _tan(u):
    if abs(mpmath.cos(u)) < mpmath.mpf(10) ** (-DIGITS + 5):
        raise Undefined
    return mpmath.tan(u)


def _sign(u):
    return mpmath.mpf((u > 0) - (u < 0))


def _heaviside(u, at_zero=mpmath.mpf("0.5")):
    return mpmath.mpf(1) if u > 0 else mpmath.mpf(0) if u < 0 else at_zero


FUNCTIONS = {
    sympy.exp: _growing(mpmath.exp), sympy.log: _log, sympy.sin: mpmath.sin, sympy.cos: mpmath.cos,
    sympy.tan: _tan, sympy.sinh: _growing(mpmath.sinh), sympy.cosh: _growing(mpmath.cosh),
    sympy.tanh: mpmath.tanh, sigmoid: lambda u: 1 / (1 + mpmath.exp(-u)),
    softplus: lambda u: mpmath.log1p(mpmath.exp(u)) if u < EXP_LIMIT else u,
    relu: lambda u: max(u, mpmath.mpf(0)), stop_gradient: lambda u: u,
    sympy.Abs: abs, sympy.sign: _sign, sympy.Heaviside: _heaviside,
    sympy.Max: lambda *xs: max(xs), sympy.Min: lambda *xs: min(xs),
}


# ── kinks and poles ──────────────────────────────────────────────────────────────────────

def guards(exprs: Iterable[Expr]) -> list[Expr]:
    """The expressions whose sign switches a branch (kinks) or that divide (poles)."""
    found: dict[Expr, None] = {}
    for expr in exprs:
        for e in sympy.preorder_traversal(expr):
            for z in _guarded(e):
                if not z.is_number:
                    found.setdefault(z)
    return list(found)


def _guarded(e: Expr) -> list[Expr]:
    if isinstance(e, (sympy.Abs, sympy.sign, relu, sympy.Heaviside)):
        return [e.args[0]]
    if isinstance(e, (sympy.Max, sympy.Min)):
        return [a - b for i, a in enumerate(e.args) for b in e.args[i + 1:]]
    if e.is_Pow and e.exp.is_negative:
        return [e.base]
    if isinstance(e, sympy.log):
        return [e.args[0]]
    return []


# ── points ───────────────────────────────────────────────────────────────────────────────

def sample_points(
    free: Sequence[Symbol], fixed: Mapping[Symbol, Fraction], exprs: Sequence[Expr], seed: str,
    count: int = POINTS,
) -> list[Point]:
    """``count`` points where every one of ``exprs`` is defined (fixed values kept), then a
    point on each side of each kink not yet reached on that side, where one can be found."""
    rng = random.Random(seed)
    if not free:
        point = dict(fixed)
        return [point] if all(_moderate(numeric(e, point)) for e in exprs) else []
    kinks = guards(exprs)
    points: list[Point] = []
    for attempt in range(ATTEMPTS):
        if len(points) >= count:
            break
        point = _draw(rng, free, fixed, SCALES[attempt * len(SCALES) // ATTEMPTS])
        if _usable(point, exprs, kinks):
            points.append(point)
    return points + both_sides(points, free, fixed, exprs, kinks, rng)


def both_sides(points: list[Point], free, fixed, exprs, kinks, rng) -> list[Point]:
    """For each kink a point on a side no point of ``points`` is on, where the search finds one."""
    extra: list[Point] = []
    for z in kinks:
        seen = {_side(z, p) for p in points + extra}
        for side in (1, -1):
            if side in seen:
                continue
            found = _search(rng, free, fixed, exprs, kinks, lambda p: _side(z, p) == side)
            if found is not None:
                extra.append(found)
    return extra


def _search(rng, free, fixed, exprs, kinks, wanted) -> Point | None:
    for scale in SCALES:
        for _ in range(40):
            point = _draw(rng, free, fixed, scale)
            if wanted(point) and _usable(point, exprs, kinks):
                return point
    return None


def _side(z: Expr, point: Point) -> int:
    value = numeric(z, point)
    return 0 if value is None else (value > 0) - (value < 0)


def _usable(point: Point, exprs: Sequence[Expr], kinks: Sequence[Expr]) -> bool:
    for z in kinks:
        value = numeric(z, point)
        if value is not None and abs(value) < MARGIN:
            return False
    return all(_moderate(numeric(e, point)) for e in exprs)


def _moderate(value) -> bool:
    return value is not None and abs(value) < LARGEST


def _draw(rng: random.Random, free: Sequence[Symbol], fixed: Mapping[Symbol, Fraction], scale: int) -> Point:
    point = dict(fixed)
    for s in free:
        point[s] = _coordinate(rng, scale)
    return point


def _coordinate(rng: random.Random, scale: int) -> Fraction:
    """A decimal of three places in [−scale, scale], never 0, ±1 or within 0.05 of 0 (three
    places, so that a linear expression is rarely 0 at a point by coincidence)."""
    while True:
        value = Fraction(rng.randint(-1000 * scale, 1000 * scale), 1000)
        if abs(value) >= Fraction(1, 20) and abs(value) != 1:
            return value


def close(answer: mpmath.mpf, correct: mpmath.mpf, relative=mpmath.mpf("1e-9"), zero=mpmath.mpf("1e-12")) -> bool:
    """Equal up to a relative tolerance; near zero, up to an absolute one (WeBWorK's zero level)."""
    if abs(correct) < zero:
        return abs(answer) < zero
    return abs(answer - correct) <= relative * abs(correct)


__all__ = ["DIGITS", "close", "guards", "numeric", "sample_points", "both_sides"]
