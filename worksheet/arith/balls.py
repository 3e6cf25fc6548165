"""SymPy number expression → ball: the value as an interval that is guaranteed to hold it.

A ball ``[m ± r]`` (Arb, through python-flint) is a midpoint and a radius; every operation
returns a ball that contains every result of its arguments' balls, so the digits a ball's
width allows are right, whatever cancelled on the way. ``walk(expr, prec, env)`` evaluates an
expression tree (rationals, π, e, carried ``Real`` numbers, the symbols of ``env``, and the
formula language's operations) at ``prec`` bits of working precision.

Where a ball cannot decide — the sign at a kink (relu, |·|, max), a domain (log of a ball
holding 0), a pole — it raises ``Imprecise``, and ``certify`` tries again with more bits.
Where the answer is certainly no real number it raises ``OutsideDomain``; a magnitude beyond
10^±MAX_DIGITS raises ``TooLarge``.

Cancellation the rules themselves write is avoided by identities, so the textbook forms cost
no precision: 1 − σ(z) = σ(−z), 1 − tanh²z = 1/cosh²z, 1 ∓ tanh z = 2σ(∓2z).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import contextmanager
from fractions import Fraction

import sympy
from flint import arb, ctx, fmpq, fmpz
from sympy import Expr

from .. import functions
from ..limits import MAX_DIGITS
from .errors import Imprecise, OutsideDomain, TooLarge, TooSmall

LN10 = math.log(10)
HUGE = MAX_DIGITS * LN10
"""|u| beyond which e^u (or e^−u) is a number beyond 10^±MAX_DIGITS: refused, never computed
(exp(exp(exp(20))) would otherwise ask for a number of 10^(10^8) digits)."""

BEYOND = f"a number beyond 10^{MAX_DIGITS:,} (the limit)"
BELOW = f"a number below 10^−{MAX_DIGITS:,} in size (the limit)"

TINY = arb(f"0 +/- 1e-{MAX_DIGITS}")
"""e^−u for u beyond HUGE: a ball around 0 that holds it (absorbed in 1 + e^−u, as in σ)."""


@contextmanager
def working(prec: int):
    """Arb's working precision (bits) inside the block."""
    before = ctx.prec
    ctx.prec = prec
    try:
        yield
    finally:
        ctx.prec = before


def walk(expr: Expr, prec: int, env: Mapping | None = None) -> arb:
    """The ball of ``expr`` at ``prec`` bits (``env``: values of free symbols, exact; a
    ``Point`` also gives the balls of what was walked at it before)."""
    with working(prec):
        return _walk(expr, env or {}, env.walked(prec) if isinstance(env, Point) else {}, prec)


class Point(dict):
    """Exact values of free symbols that keep, per working precision, the balls of the
    expressions walked at them (up to WALKED_KEPT): many expressions walked at one point (the
    answers of a class at a sample point) share their parts, each part's ball computed once.
    Its values must not change once it is walked at."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.memos: dict[int, dict] = {}  # precision → expression → its ball

    def walked(self, prec: int) -> dict:
        """The balls walked at ``prec`` bits so far: a new record once it holds more than
        WALKED_KEPT (never emptied, as a walk on another thread may be reading it)."""
        memo = self.memos.get(prec)
        if memo is None or len(memo) > WALKED_KEPT:
            memo = self.memos[prec] = {}
        return memo


WALKED_KEPT = 1024


def exact_ball(value) -> arb:
    """A rational (SymPy, Fraction or int) or a SymPy Float as a ball at the working precision."""
    if isinstance(value, Fraction):
        return arb(fmpq(value.numerator, value.denominator))
    if isinstance(value, int):
        return arb(fmpz(value))
    if value.is_Integer:
        return arb(fmpz(int(value.p)))
    if value.is_Rational:
        return arb(fmpq(int(value.p), int(value.q)))
    if value.is_Float:
        sign, mantissa, exponent, _ = value._mpf_
        if not mantissa:
            return arb(0)
        return arb(fmpz(-int(mantissa) if sign else int(mantissa))) * arb(2) ** int(exponent)
    raise TypeError(f"not an exact number: {value!r}")


def _walk(e: Expr, env: Mapping, memo: dict, prec: int) -> arb:
    if e in memo:
        return memo[e]
    if e.is_Rational or e.is_Float:
        result = exact_ball(e)
    elif e.is_Symbol:
        if e not in env:
            raise ValueError(f"no value for {e}")
        value = env[e]
        result = value if isinstance(value, arb) else _walk(value, {}, {}, prec) if isinstance(value, sympy.Basic) else exact_ball(value)
    elif isinstance(e, real.Real):
        result = e.ball_at(prec)
    elif e is sympy.pi:
        result = arb.pi()
    elif e is sympy.E:
        result = arb.const_e()
    elif e.is_Add:
        result = _add(e, env, memo, prec)
    elif e.is_Mul:
        result = arb(1)
        for a in e.args:
            result = result * _walk(a, env, memo, prec)
    elif e.is_Pow:
        result = _power(e.base, e.exp, env, memo, prec)
    else:
        function = e.operation.ball if isinstance(e, functions.Defined) else FUNCTIONS.get(type(e))
        if function is None:
            if e.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
                raise OutsideDomain("not a real number")
            raise ValueError(f"no numeric rule for {type(e).__name__}")
        result = function(*[_walk(a, env, memo, prec) for a in e.args])
    if not result.is_finite():
        raise Imprecise  # a pole or a domain edge inside the ball: more bits decide
    memo[e] = result
    return result


# ── sums: identities for the cancellations the rules write ──────────────────────────────

def _add(e: Expr, env, memo, prec) -> arb:
    if len(e.args) == 2:
        stable = _one_minus(e, env, memo, prec)
        if stable is not None:
            return stable
    result = arb(0)
    for a in e.args:
        result = result + _walk(a, env, memo, prec)
    return result


def _one_minus(e: Expr, env, memo, prec) -> arb | None:
    """c + k·t with rationals k = ±c is c·(1 + s·t), s = k/c; for t = σ(z), tanh z or tanh²z that
    is c·σ(−z), 2c·σ(2sz) or c·sech²z, with no cancellation (None: not of these forms)."""
    c, other = e.args if e.args[0].is_Rational else e.args[::-1]
    if not c.is_Rational or c == 0:
        return None
    k, term = other.as_coeff_Mul()
    if k not in (c, -c):
        return None
    s = 1 if k == c else -1
    if isinstance(term, functions.sigmoid) and s < 0:  # 1 − σ(z) = σ(−z)
        stable = sigmoid(-_walk(term.args[0], env, memo, prec))
    elif isinstance(term, sympy.tanh):  # 1 ± tanh z = 2σ(±2z)
        stable = 2 * sigmoid(2 * s * _walk(term.args[0], env, memo, prec))
    elif s < 0 and term.is_Pow and term.exp == 2 and isinstance(term.base, sympy.tanh):
        stable = sech(_walk(term.base.args[0], env, memo, prec)) ** 2  # 1 − tanh²z = sech²z
    else:
        return None
    return exact_ball(c) * stable


# ── powers ───────────────────────────────────────────────────────────────────────────────

def _power(base: Expr, exponent: Expr, env, memo, prec) -> arb:
    b = _walk(base, env, memo, prec)
    if exponent.is_Integer:
        n = int(exponent)
        if n < 0:
            nonzero(b)
        bounded_power(b, n)
        return b ** n
    if exponent.is_Rational:
        if b.is_zero():
            if exponent > 0:
                return arb(0)
            raise OutsideDomain("division by zero")
        if b < 0:
            raise OutsideDomain("a negative base needs an integer exponent")
        if not b > 0:
            raise Imprecise
        if exponent == sympy.S.Half:
            return b.sqrt()
        return exp(exact_ball(exponent) * b.log())
    x = _walk(exponent, env, memo, prec)
    if b.is_zero():
        if x > 0:
            return arb(0)
        if x <= 0:
            raise OutsideDomain("0 to a power that is not positive")
        raise Imprecise
    if b < 0:
        raise OutsideDomain("a negative base needs an integer exponent")
    if not b > 0:
        raise Imprecise
    return exp(x * b.log())


def bounded_power(b: arb, n: int) -> None:
    """b^n is refused before it is computed when its magnitude is beyond 10^±MAX_DIGITS."""
    if abs(n) <= 1 or b.is_zero():
        return
    m = abs(b.mid())
    if m.is_zero():
        return
    size = float(m.log())
    if size and abs(n) > HUGE / abs(size):
        if (size > 0) == (n > 0):
            raise TooLarge(BEYOND)
        raise TooSmall(BELOW)


def nonzero(b: arb) -> None:
    if b.is_zero():
        raise OutsideDomain("division by zero")
    if not (b > 0 or b < 0):
        raise Imprecise


# ── functions ────────────────────────────────────────────────────────────────────────────

def exp(u: arb) -> arb:
    if u > HUGE:
        raise TooLarge(BEYOND)
    if u < -HUGE:
        return TINY
    if not (abs(u) < 2 * HUGE):
        raise Imprecise
    return u.exp()


def log(u: arb) -> arb:
    if u > 0:
        return u.log()
    if u <= 0:
        raise OutsideDomain("log needs a positive argument")
    raise Imprecise


def sigmoid(u: arb) -> arb:
    """σ(u) = e^u/(1 + e^u) for u < 0, 1/(1 + e^−u) otherwise: no e^u ever overflows."""
    if u < 0:
        t = exp(u)
        if t is TINY:
            raise TooSmall(BELOW)
        return t / (1 + t)
    return 1 / (1 + exp(-u))


def sech(u: arb) -> arb:
    if abs(u) > HUGE:
        raise TooSmall(BELOW)
    return u.sech()


def softplus(u: arb) -> arb:
    """ln(1 + e^u) = max(u, 0) + ln(1 + e^−|u|), for a ball on one side of 0 (log1p keeps
    the digits of a tiny e^−|u|)."""
    if u >= 0:
        t = exp(-u)
        return u if t is TINY else u + t.log1p()
    if u < 0:
        t = exp(u)
        if t is TINY:
            raise TooSmall(BELOW)
        return t.log1p()
    return u.exp().log1p()  # a ball around 0: no cancellation there


def hyperbolic(method: str):
    def apply(u: arb) -> arb:
        if abs(u) > HUGE:
            raise TooLarge(BEYOND)
        if not abs(u) < 2 * HUGE:
            raise Imprecise
        return getattr(u, method)()
    return apply


def tanh(u: arb) -> arb:
    if u > HUGE:
        return 1 - 2 * TINY
    if u < -HUGE:
        return 2 * TINY - 1
    return u.tanh()


def sign_of(u: arb) -> int:
    """The sign of a ball: exactly 0 for an exact zero; Imprecise when it holds 0 and more."""
    if u.is_zero():
        return 0
    if u > 0:
        return 1
    if u < 0:
        return -1
    raise Imprecise


def _heaviside(u: arb, at_zero: arb | None = None) -> arb:
    s = sign_of(u)
    return arb(1) if s > 0 else arb(0) if s < 0 else (at_zero if at_zero is not None else arb(0.5))


def _largest(*xs: arb) -> arb:
    best = xs[0]
    for x in xs[1:]:
        if sign_of(x - best) > 0:
            best = x
    return best


def _smallest(*xs: arb) -> arb:
    best = xs[0]
    for x in xs[1:]:
        if sign_of(x - best) < 0:
            best = x
    return best


def tan(u: arb) -> arb:
    if not (u.cos() > 0 or u.cos() < 0):
        raise Imprecise
    return u.tan()


FUNCTIONS = {
    sympy.exp: exp, sympy.log: log, sympy.sin: arb.sin, sympy.cos: arb.cos, sympy.tan: tan,
    sympy.sinh: hyperbolic("sinh"), sympy.cosh: hyperbolic("cosh"), sympy.tanh: tanh,
    functions.sigmoid: sigmoid, functions.softplus: softplus, functions.stop_gradient: lambda u: u,
    functions.relu: lambda u: u if sign_of(u) > 0 else arb(0),
    sympy.Abs: lambda u: u if sign_of(u) >= 0 else -u,
    sympy.sign: lambda u: arb(sign_of(u)),
    sympy.Heaviside: _heaviside,
    sympy.Max: _largest, sympy.Min: _smallest,
}


from . import real  # noqa: E402  (Real evaluates its recipe with walk: imported last)
