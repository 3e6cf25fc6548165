"""Where two expressions are compared: seeded points inside the domain, on both sides of every kink.

``numeric(expr, point)`` is ``expr``'s value at ``point``, certified to ``COMPARE_BITS`` bits
(``arith``: ball arithmetic at whatever precision that takes), as an mpmath number of any
magnitude; None where it is undefined or beyond 10^±1,000,000. Nothing is compiled or
``eval``-ed; the expression tree is walked. Two values are one number (``close``) when they
differ by at most 2^−EQUAL_BITS of the larger — relative to their own magnitudes, never an
absolute floor: 2x/10¹³ is not 0, and 5.1e-435 is not 5.2e-435. Each point is an
``arith.balls.Point``: what an expression shares with those walked there before (the
derivative, the mistakes, a class's earlier answers) is not walked again.

``sample_points`` draws points with short decimal coordinates (``w = 1.37``), never 0 or ±1
(where a missing factor x or a dropped term could hide), at least ``MARGIN`` away from every
kink (the argument of relu, abs, sign, step, the difference of max and min) and every pole,
and then looks for points on each side of every kink that no point has reached yet, so an
answer that is right for w·x > 0 only cannot pass unseen. Points whose values are within
10^±NEAR of 1 are preferred; others (10^4668, or 10^−500) fill in only where too few are.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from fractions import Fraction

import mpmath
import sympy
from flint import arb
from sympy import Expr, Symbol

from ..arith import Refused, certify, certify_once
from ..arith.balls import Point
from ..functions import Defined, relu

COMPARE_BITS = 128
"""Every value at a sample point is certified to this relative accuracy (about 38 digits)."""

EQUAL_BITS = 100
"""Two certified values are one number when they differ by at most 2^−100 of the larger."""

MARGIN = mpmath.mpf("1e-3")  # how far a point keeps from a kink or a pole
NEAR_BITS = 100  # values within 2^±100 (about 10^±30) of 1 make a preferred point
FAR_SEARCH = 4  # when few points are near, the search stops after this many times POINTS usable ones
POINTS = 12
ATTEMPTS = 400
SCALES = (3, 10, 1, 30, 300)  # coordinates are drawn from [−scale, scale], wider when the domain is hard


# ── evaluation ───────────────────────────────────────────────────────────────────────────

def numeric(expr: Expr, point: Mapping[Symbol, Fraction]) -> mpmath.mpf | None:
    """``expr`` at ``point``, certified to COMPARE_BITS bits, or None where it is undefined."""
    ball = _ball(expr, point)
    return None if ball is None else _number(ball)


def _ball(expr: Expr, point: Mapping) -> arb | None:
    try:
        return certify(expr, COMPARE_BITS, point)
    except (Refused, ValueError, ZeroDivisionError):
        return None


def _number(ball: arb) -> mpmath.mpf:
    """The ball's midpoint, rounded to COMPARE_BITS + 16 bits (0 for the exact 0)."""
    if ball.is_zero():
        return mpmath.mpf(0)
    return mpmath.mpf(ball._mpf_, prec=COMPARE_BITS + 16)  # (mpmath's own form of the midpoint)


class Domain:
    """Where a question is defined: where each of ``exprs`` is, and each step of ``chain``
    (symbol, its definition in the inputs and the earlier symbols, the same written out in the
    inputs). A step's value is computed from the earlier steps' balls — a graph of n nodes
    costs n operations at a point, where its written-out values, each holding all before it,
    cost n² — and from its written-out form where that ball is not narrow enough."""

    def __init__(self, exprs: Iterable[Expr] = (), chain: Iterable[tuple[Symbol, Expr, Expr]] = ()):
        self.exprs = list(exprs)
        self.chain = list(chain)

    def guards(self) -> list[Expr]:
        return guards(self.exprs + [written for _, _, written in self.chain])

    def values(self, point: Mapping[Symbol, Fraction]) -> Iterator[mpmath.mpf | None]:
        """Each value in turn, up to the first undefined one (None)."""
        for expr in self.exprs:
            value = numeric(expr, point)
            yield value
            if value is None:
                return
        balls: dict = dict(point)
        for symbol, definition, written in self.chain:
            ball = certify_once(definition, COMPARE_BITS, balls)
            if ball is None:
                ball = _ball(written, point)
            if ball is None:
                yield None
                return
            balls[symbol] = ball
            yield _number(ball)


def close(answer: mpmath.mpf, correct: mpmath.mpf) -> bool:
    """The same number, to EQUAL_BITS bits of the larger magnitude (0 only equals 0). Most
    pairs compared differ in their first digits: ``_apart`` tells those in doubles."""
    if answer == correct:
        return True
    if _apart(_double(answer), _double(correct)):
        return False
    return abs(answer - correct) <= mpmath.ldexp(max(abs(answer), abs(correct)), -EQUAL_BITS)


def _apart(a: float, b: float) -> bool:
    """Whether two numbers whose nearest doubles are ``a`` and ``b`` certainly differ by more
    than 2^−EQUAL_BITS of the larger: the doubles differ by more than 10^−9 of the larger, which
    is well inside the doubles' range, and rounding to a double moves a number by at most 2^−52
    of itself (10^−307, below that range)."""
    larger = max(abs(a), abs(b))
    return DOUBLES[0] < larger < DOUBLES[1] and abs(a - b) > 1e-9 * larger


DOUBLES = (1e-290, 1e290)
"""Magnitudes whose doubles ``_apart`` trusts (beyond, the numbers are compared as they are)."""


def _double(x: mpmath.mpf) -> float:
    """The double nearest ``x`` (inf beyond the doubles), from mpmath's own (sign, mantissa,
    exponent, bits) form: float(x) takes three times as long."""
    sign, mantissa, exponent, _ = x._mpf_
    try:
        return math.ldexp(-mantissa if sign else mantissa, exponent)
    except OverflowError:
        return math.inf


# ── kinks and poles ──────────────────────────────────────────────────────────────────────

def guards(exprs: Iterable[Expr]) -> list[Expr]:
    """The expressions whose sign switches a branch (kinks) or that divide (poles)."""
    found: dict[Expr, None] = {}
    seen: set[Expr] = set()  # a subexpression met again (each value holds the ones before it) is not walked again
    for expr in exprs:
        unseen = [expr]
        while unseen:
            e = unseen.pop()
            if e in seen:
                continue
            seen.add(e)
            for z in _guarded(e):
                if not z.is_number:
                    found.setdefault(z)
            unseen.extend(reversed(e.args))
    return list(found)


def _guarded(e: Expr) -> list[Expr]:
    if isinstance(e, (sympy.Abs, sympy.sign, relu, sympy.Heaviside)) or (
            isinstance(e, Defined) and e.operation.kinked):
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
    free: Sequence[Symbol], fixed: Mapping[Symbol, Fraction], exprs: Domain | Sequence[Expr], seed: str,
    count: int = POINTS,
) -> list[Point]:
    """``count`` points where every one of ``exprs`` is defined (fixed values kept), then a
    point on each side of each kink not yet reached on that side, where one can be found."""
    rng = random.Random(seed)
    exprs = _domain(exprs)
    if not free:
        point = Point(fixed)
        return [point] if _size(point, exprs) is not None else []
    kinks = exprs.guards()
    near: list[Point] = []
    far: list[tuple[int, Point]] = []
    for attempt in range(ATTEMPTS):
        if len(near) >= count or len(near) + len(far) >= FAR_SEARCH * count:
            break
        point = _draw(rng, free, fixed, SCALES[attempt * len(SCALES) // ATTEMPTS])
        size = _usable(point, exprs, kinks)
        if size is not None:
            (near.append(point) if size <= NEAR_BITS else far.append((size, point)))
    points = near + [p for _, p in sorted(far, key=lambda item: item[0])][: max(0, count - len(near))]
    return points + both_sides(points, free, fixed, exprs, kinks, rng)


def both_sides(points: list[Point], free, fixed, exprs, kinks, rng) -> list[Point]:
    """For each kink a point on a side no point of ``points`` is on, where the search finds one."""
    extra: list[Point] = []
    exprs = _domain(exprs)
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


def _domain(exprs: Domain | Sequence[Expr]) -> Domain:
    return exprs if isinstance(exprs, Domain) else Domain(exprs)


def _usable(point: Point, exprs: Domain, kinks: Sequence[Expr]) -> int | None:
    """None where ``point`` is too near a kink or a pole, or an expression is undefined; else
    how far the values are from 1 (the largest |log₂ |v||, 0 for values near 1)."""
    for z in kinks:
        value = numeric(z, point)
        if value is not None and abs(value) < MARGIN:
            return None
    return _size(point, exprs)


def _size(point: Point, exprs: Domain) -> int | None:
    size = 0
    for value in exprs.values(point):
        if value is None:
            return None
        if value:
            size = max(size, abs(int(mpmath.mag(value))))
    return size


def _draw(rng: random.Random, free: Sequence[Symbol], fixed: Mapping[Symbol, Fraction], scale: int) -> Point:
    point = Point(fixed)
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


__all__ = ["COMPARE_BITS", "EQUAL_BITS", "Domain", "close", "guards", "numeric", "sample_points", "both_sides"]
