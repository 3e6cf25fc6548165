"""Certified numbers: a ball as narrow as the digits asked for (Ziv's strategy), and ``Real``.

``certify(expr, bits)`` evaluates a SymPy number expression at increasing precision —
``START`` bits, doubled up to ``MAX_PRECISION`` — until its ball is exactly 0 or narrower
than 2^−bits of its magnitude: every digit printed from it is then right. Undefined values
raise ``OutsideDomain``, magnitudes beyond 10^±MAX_DIGITS ``TooLarge``, and a value no
precision up to the bound settles (a cancellation to within 2^−MAX_PRECISION, or an exact 0
that no proof at hand finds) ``Undecidable``.

A ``Real`` stands for a number too long to keep as a closed form (the 5,000th sine of a
chain): a SymPy atom that knows how it was computed — its ``recipe``, an expression in
rationals and earlier ``Real``s — and its ball at the precision last asked for. Asked for
more bits, it recomputes its recipe and those of its ancestors at the higher precision, oldest
first (iteratively: a chain may be 100,000 long), so a value carried through any number of
operations is never a fixed-precision float that cancelled. Reals are interned by recipe, so
the same computation done twice is one atom and ``a − a`` is exactly 0.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Mapping

import sympy
from flint import arb
from mpmath.libmp import to_str
from sympy import Expr, Float
from sympy.core.assumptions import StdFactKB
from sympy.core.expr import AtomicExpr

from ..deadline import TimeLimit, expired, time_limit
from ..limits import MAX_DIGITS, PRECISION
from .balls import BELOW, BEYOND, walk
from .errors import Imprecise, OutsideDomain, TooLarge, TooSmall, Undecidable

START = 128
"""The first working precision (bits): 30 digits and a margin, enough for ordinary values."""

MAX_PRECISION = 16_384
"""The last working precision tried (about 4,900 digits): enough for 1 − tanh(1000) (10^−869)
and every cancellation of values up to |x| ≈ 5,000; beyond it a value is Undecidable."""

CARRIED_BITS = math.ceil(PRECISION * math.log2(10)) + 4
"""Relative accuracy of every value the trace carries: PRECISION digits, and a margin."""

MAX_BINARY_EXPONENT = int(MAX_DIGITS * math.log2(10))

_counter = itertools.count()


class Real(AtomicExpr):
    """A real number known by its ``recipe``; printed as a decimal whose digits are certified."""

    is_number = True
    is_real = True
    is_finite = True
    is_commutative = True

    __slots__ = ("recipe", "index", "parents", "ball", "prec", "__weakref__")

    _interned: weakref.WeakValueDictionary = weakref.WeakValueDictionary()

    @classmethod
    def of(cls, recipe: Expr, ball: arb, prec: int, parents: tuple | None = None) -> Real:
        """The Real computed by ``recipe`` (the same atom for the same recipe); ``ball``: its
        value at ``prec`` bits; ``parents``: the Reals in the recipe, when the caller knows them."""
        known = cls._interned.get(recipe)
        if known is not None:
            return known
        real = AtomicExpr.__new__(cls)
        real.recipe, real.index, real.ball, real.prec = recipe, next(_counter), ball, prec
        real.parents = tuple(recipe.atoms(Real)) if parents is None else parents
        sign = 1 if ball > 0 else -1 if ball < 0 else None
        if sign is not None:  # its sign is known: SymPy need not deduce its facts on every query
            real._assumptions = _facts(sign)
        cls._interned[recipe] = real
        return real

    def _hashable_content(self):
        return (self.index,)

    def ball_at(self, prec: int) -> arb:
        """The ball at ``prec`` bits: recomputed, with every ancestor below it, oldest first."""
        if self.prec >= prec:
            return self.ball
        stale, stack, seen = [], [self], set()
        while stack:
            real = stack.pop()
            if real.index in seen or real.prec >= prec:
                continue
            seen.add(real.index)
            stale.append(real)
            stack.extend(real.parents)
        for real in sorted(stale, key=lambda r: r.index):
            real.ball, real.prec = walk(real.recipe, prec), prec
        return self.ball

    # ── what SymPy asks of a number ──
    def _sign(self) -> int | None:
        try:
            return sign(self)
        except Undecidable:
            return None

    def _eval_is_extended_positive(self):
        s = self._sign()
        return None if s is None else s > 0

    def _eval_is_extended_negative(self):
        s = self._sign()
        return None if s is None else s < 0

    def _eval_is_zero(self):
        s = self._sign()
        return None if s is None else s == 0

    def _eval_evalf(self, prec):
        return Float._new(certify(self, prec + 8)._mpf_, prec)

    def _sympystr(self, printer):
        return decimal_text(self)

    def _latex(self, printer):
        return decimal_text(self)


_SIGN_FACTS = {sign: StdFactKB({"real": True, "finite": True, "commutative": True,
                                 "positive" if sign > 0 else "negative": True}) for sign in (1, -1)}
"""What SymPy knows of a positive or a negative Real, deduced once."""


def _facts(sign: int) -> StdFactKB:
    """A copy of ``_SIGN_FACTS[sign]`` (``StdFactKB.copy`` would deduce them all again)."""
    known = _SIGN_FACTS[sign]
    facts = StdFactKB.__new__(StdFactKB)
    dict.update(facts, known)
    facts.rules, facts._generator = known.rules, known._generator
    return facts


def certify(expr: Expr, bits: int = CARRIED_BITS, env: Mapping | None = None) -> arb:
    """``expr``'s ball, exactly 0 or relatively narrower than 2^−bits (see the module)."""
    return certified(expr, bits, env)[0]


def certified(expr: Expr, bits: int = CARRIED_BITS, env: Mapping | None = None) -> tuple[arb, int]:
    """``certify``, and the working precision that gave the ball."""
    if env:
        return _ziv(expr, bits, env)
    if isinstance(expr, Real) and (prec := max(START, bits + 32)) <= expr.prec and (
            expr.ball.is_zero() or expr.ball.rel_accuracy_bits() >= bits):
        return expr.ball, prec  # as _ziv gives it (its magnitude was checked when it was made): no place here
    known = _CERTIFIED.get(expr)
    if known is None or not (known[0].is_zero() or known[0].rel_accuracy_bits() >= bits):
        if len(_CERTIFIED) >= CACHED:
            _CERTIFIED.clear()
        known = _CERTIFIED[expr] = _ziv(expr, bits, None)
    return known


_CERTIFIED: dict[Expr, tuple[arb, int]] = {}
"""Each number's narrowest ball so far: a request for fewer bits is answered from it."""

CACHED = 8192


def _ziv(expr: Expr, bits: int, env) -> tuple[arb, int]:
    prec = max(START, bits + 32)
    tried_proof = False
    while True:
        try:
            ball = walk(expr, prec, env)
            if ball.is_zero() or ball.rel_accuracy_bits() >= bits:
                check_magnitude(ball)
                return ball, prec
            if 0 in ball and ball.rad() < SMALLEST:
                raise TooSmall(f"{BELOW}, or 0")
            if 0 in ball and prec >= PROOF_PRECISION and not tried_proof:  # an exact 0 SymPy missed?
                tried_proof = True
                if proved_zero(expr, env):
                    return arb(0), prec
        except Imprecise:
            pass
        if prec >= MAX_PRECISION:
            raise Undecidable(
                f"a number whose digits do not settle at {MAX_PRECISION:,} bits of precision "
                f"(it cancels to within 10^−{int(MAX_PRECISION * 0.30103):,} of its terms, is 0, or is a "
                f"periodic function of a number too large to reduce by its period)"
            )
        prec = min(2 * prec, MAX_PRECISION)


def certify_once(expr: Expr, bits: int, env: Mapping) -> arb | None:
    """``expr``'s ball at the first working precision of ``certify``, where ``env`` may hold
    balls (values already certified): the ball when it is as narrow as ``certify``'s, None
    when it is not, or the value is undefined or beyond the magnitudes (``certify`` decides)."""
    try:
        ball = walk(expr, max(START, bits + 32), env)
        check_magnitude(ball)
    except (Imprecise, ValueError, ZeroDivisionError):
        return None
    return ball if ball.is_zero() or ball.rel_accuracy_bits() >= bits else None


SMALLEST = arb(2) ** -MAX_BINARY_EXPONENT

PROOF_PRECISION = 512
"""A ball still holding 0 at this many bits may be an exact 0: algebra is asked once (before
that, a wide ball is only imprecise: cos(10^39) at 128 bits is [± 1])."""


def check_magnitude(ball: arb) -> None:
    """Refuse a magnitude beyond 10^±MAX_DIGITS (its decimal would not fit the limit)."""
    if ball.is_zero():
        return
    mantissa, exponent = ball.mid().man_exp()
    size = int(exponent) + int(mantissa).bit_length()
    if size > MAX_BINARY_EXPONENT:
        raise TooLarge(BEYOND)
    if size < -MAX_BINARY_EXPONENT:
        raise TooSmall(BELOW)


def sign(expr: Expr, env: Mapping | None = None) -> int:
    """The sign of a real number (1, 0 or −1): certified, or Undecidable."""
    if expr.is_Rational or expr.is_Float:
        return 1 if expr.is_positive else -1 if expr.is_negative else 0
    ball = certify(expr, 1, env)
    return 0 if ball.is_zero() else 1 if ball > 0 else -1


PROOFS = (sympy.expand, lambda e: sympy.logcombine(e, force=True).doit(), sympy.trigsimp)
"""Rewritings that keep the value (every logarithm here has a positive argument: the ball
walk refuses the others), tried for a proof of 0: never ``simplify``, whose heuristics can
round (it calls −sin(ln σ(803)), which is 1.8·10⁻³⁴⁹, 0)."""

PROOF_SECONDS = 0.5
"""The algebra of one proof of 0 stops after this long (then the number is Undecidable)."""

UNFOLD_OPS = 400
"""Reals are written out in their recipes for a proof of 0 only up to this size."""


def proved_zero(expr: Expr, env: Mapping | None = None) -> bool:
    """Is a number that a ball cannot tell from 0 provably 0? Its Reals written out in their
    recipes (and ``env``'s values put in), SymPy's own evaluation and the ``PROOFS`` may show
    it (ln 6 − ln 2 − ln 3, sin²a + cos²a − 1, r₁ − r₂ with equal recipes)."""
    written = unfold(expr)
    if written is None:
        return False
    if env:
        written = written.xreplace({s: (v if isinstance(v, sympy.Basic) else sympy.Rational(v.numerator, v.denominator))
                                    for s, v in env.items() if s in written.free_symbols})
    if written == 0:
        return True
    if written.free_symbols or written.has(Float) or not _tame(written):
        return False
    try:
        with time_limit(PROOF_SECONDS):
            return any(rewrite(written) == 0 for rewrite in PROOFS)
    except TimeLimit:
        if expired():
            raise  # an enclosing limit ran out: it is not ours to swallow
        return False
    except (TypeError, ValueError, RecursionError, ZeroDivisionError, MemoryError):
        return False


def _tame(expr: Expr) -> bool:
    """Algebra on it stays small: every power has a small rational exponent, every number is
    short (expanding (1/2)^(3^57.8) or (x + 1)^99999 would fill the memory)."""
    for e in sympy.preorder_traversal(expr):
        if e.is_Pow and not (e.exp.is_Rational and abs(e.exp.p) <= 64 and e.exp.q <= 64):
            return False
        if e.is_Rational and max(e.p.bit_length(), e.q.bit_length()) > LONG_BITS:
            return False
    return True


LONG_BITS = 256


def unfold(expr: Expr) -> Expr | None:
    """``expr`` with every Real replaced by its recipe, recursively; None past UNFOLD_OPS."""
    reals = expr.atoms(Real)
    if not reals:
        return expr
    order, stack, seen = [], list(reals), set()
    while stack:
        real = stack.pop()
        if real.index in seen:
            continue
        seen.add(real.index)
        order.append(real)
        stack.extend(real.parents)
        if len(order) > UNFOLD_OPS:
            return None
    written: dict[Real, Expr] = {}
    for real in sorted(order, key=lambda r: r.index):
        recipe = real.recipe.xreplace(written)
        if sympy.count_ops(recipe) > UNFOLD_OPS:
            return None
        written[real] = recipe
    return expr.xreplace(written)


def decimal_text(expr: Expr, digits: int = PRECISION, strip_zeros: bool = False, **fixed) -> str:
    """``expr`` to ``digits`` significant digits, every one certified (SymPy's Float style:
    ``7.66067838685602278007935911462e-174``). ``fixed``: mpmath's min_fixed/max_fixed."""
    ball = certify(expr, math.ceil(digits * math.log2(10)) + 4)
    if ball.is_zero():
        return "0"
    return to_str(ball.mid()._mpf_, digits, strip_zeros=strip_zeros, **fixed)


def to_float(expr: Expr) -> float | None:
    """The nearest double: 0.0 below the doubles' range, None beyond it (or undefined)."""
    try:
        ball = certify(expr, 60)
    except TooSmall:
        return 0.0
    except (OutsideDomain, TooLarge, Undecidable):
        return None
    value = float(ball.mid())
    return (value or 0.0) if math.isfinite(value) else None  # −0.0 (an underflow) is 0.0


__all__ = ["Real", "certify", "certified", "sign", "decimal_text", "to_float", "proved_zero",
           "CARRIED_BITS", "MAX_PRECISION", "Imprecise"]
