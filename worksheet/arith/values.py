"""Numbers at a point: exact while they stay rational or short closed forms, else ``Real``.

``settle`` is applied to every value the tracer computes. It keeps ``3/10`` and ``sin(2)``
exact, carries anything longer as a ``Real`` (its recipe and a certified ball, so a chain of
5,000 sines never builds a 5,000-deep expression and never loses a digit to cancellation),
and refuses what is not a finite real number or is too large (or too small) to write down.
"""

from __future__ import annotations

import gmpy2
import sympy
from flint import arb
from sympy import Expr, Float
from sympy.printing.str import StrPrinter

from ..limits import MAX_DIGITS, MAX_EXACT_OPS
from .errors import TooLarge

from .balls import exact_ball, working
from .real import CARRIED_BITS, Real, check_magnitude, certified, decimal_text, to_float

LONG_BITS = 200  # about 60 digits


def settle(value: Expr) -> Expr:
    """``value`` as the worksheet carries it: exact if rational or short, else a ``Real``."""
    if value.is_Rational:
        if max(value.p.bit_length(), value.q.bit_length()) * 0.30103 > MAX_DIGITS:
            raise TooLarge(f"a number of more than {MAX_DIGITS:,} digits (the limit)")
        return value
    if isinstance(value, Real):
        return value
    ball, prec = certified(value)  # the walk refuses zoo, nan, ∞ and I: not a finite real number
    if ball.is_zero():
        return sympy.S.Zero  # proved 0 (a closed form SymPy left as it was, ln 6 − ln 2 − ln 3)
    if value.is_Float:
        return value
    if value.has(Real, Float):
        return value if _scaled(value) else Real.of(value, ball, prec)
    if _too_long(value):
        return Real.of(value, ball, prec)
    return value


def _too_long(value: Expr) -> bool:
    """Is a closed form too long to carry exactly? (Also where SymPy cannot count its operations:
    ``count_ops`` asks the assumptions, which fail on some values, as −ln σ(200) < 0.)"""
    try:
        return sympy.count_ops(value) > MAX_EXACT_OPS or _has_long_number(value)
    except (ArithmeticError, TypeError):
        return True


def times(a: Expr, b: Expr) -> Expr:
    """a·b; of carried numbers, a Real straight from the balls (SymPy's Mul would flatten it);
    by 1, the other (SymPy's answer, without a place in its cache for each carried number)."""
    if a is sympy.S.One or b is sympy.S.One:
        return b if a is sympy.S.One else a
    return _carried(a, b, sympy.Mul, arb.__mul__) or a * b


def plus(a: Expr, b: Expr) -> Expr:
    """a + b; of carried numbers, a Real straight from the balls while nothing cancels; plus 0,
    the other."""
    if a is sympy.S.Zero or b is sympy.S.Zero:
        return b if a is sympy.S.Zero else a
    return _carried(a, b, sympy.Add, arb.__add__) or a + b


def _carried(a: Expr, b: Expr, kind, operation) -> Real | None:
    """The Real ``kind(a, b)``, when one of them is a Real and the other a Real or a rational
    (not 0 or ±1, which SymPy handles best), with its ball computed directly and certified to
    CARRIED_BITS; None otherwise (SymPy's own operation then, and ``settle``)."""
    if not (isinstance(a, Real) or isinstance(b, Real)):
        return None
    if not all(isinstance(x, Real) or (x.is_Rational and x not in (0, 1, -1)) for x in (a, b)):
        return None
    prec = min(x.prec for x in (a, b) if isinstance(x, Real))
    with working(prec):
        ball = operation(*(x.ball if isinstance(x, Real) else exact_ball(x) for x in (a, b)))
    if not (ball > 0 or ball < 0) or ball.rel_accuracy_bits() < CARRIED_BITS:
        return None  # it may cancel: SymPy's sum and the precision it needs
    check_magnitude(ball)
    recipe = kind._from_args((a, b), is_commutative=True)  # as kind(a, b, evaluate=False) is, without its cache
    return Real.of(recipe, ball, prec, parents=tuple(x for x in (a, b) if isinstance(x, Real)))


def _scaled(value: Expr) -> bool:
    """−r or 2r for a Real r: kept as it is, so that r + (−r) is exactly 0."""
    return value.is_Mul and len(value.args) == 2 and value.args[0].is_Rational and isinstance(value.args[1], Real)


def _has_long_number(value: Expr) -> bool:
    """A closed form around a long rational (log(2)/2**1000000) is shown as a decimal."""
    return any(
        max(r.p.bit_length(), r.q.bit_length()) > LONG_BITS for r in value.atoms(sympy.Rational)
    )


def is_exact(value: Expr) -> bool:
    if isinstance(value, (Real, Float)):
        return False
    return value.is_Rational or not value.has(Real, Float)


def as_float(value: Expr) -> float | None:
    """The nearest double: 0.0 below the doubles' range, None where none is finite."""
    if value.is_Rational:
        try:
            return float(value.p / value.q) if value.q != 1 else float(value.p)
        except OverflowError:
            return None
    return to_float(value)


SHORT = 24  # characters: a longer value is named by its first digits in a message


def short_text(value: Expr) -> str:
    """The value for a message: exact when short (``-8``, ``3/10``, ``tanh(200)``), else ≈ its
    first six digits (a number of 5,000 digits is not written into a one-line error)."""
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > 4 * SHORT:
        return "≈ " + decimal_text(value, 6, strip_zeros=True)
    text = exact_text(value) if value.is_Rational or not is_exact(value) else short_expression(value, None)
    if len(text) <= SHORT:
        return text
    try:
        return "≈ " + decimal_text(value, 6, strip_zeros=True)
    except ValueError:
        return text[:SHORT] + "…"


class _Written(StrPrinter):
    """SymPy's string form, terms in the order written, with every integer written by gmpy2
    (exactly, and fast: Python refuses str() of more than 4,300 digits); ``short``: a long
    number as ≈ its first six digits instead, for a message."""

    def __init__(self, short: bool, order: str | None):
        super().__init__({"order": order})
        self.short = short

    def _print(self, expr, **kwargs) -> str:
        """SymPy's dispatch, but a node's name at once: names are most of what a form holds."""
        if type(expr) is sympy.Symbol:
            return expr.name
        return super()._print(expr, **kwargs)

    def _print_Integer(self, expr) -> str:
        return self._print_Rational(expr)

    def _print_Rational(self, expr) -> str:
        if self.short and max(expr.p.bit_length(), expr.q.bit_length()) > 4 * SHORT:
            return f"(≈ {decimal_text(expr, 6, strip_zeros=True)})"
        return str(gmpy2.mpz(expr.p)) + ("" if expr.q == 1 else f"/{gmpy2.mpz(expr.q)}")


def expression_text(expr: Expr, order: str | None = None) -> str:
    """``expr`` as ``sympy.sstr`` writes it (``order="none"``: terms as written), exact however
    long its numbers (for JSON). SymPy's canonical order of terms compares them by their values
    at double precision, which fails where a term is beyond a double (1/(1 − σ(51))) or not
    known to be real: such an expression is written with its terms as they stand."""
    try:
        return _Written(False, order).doprint(expr)
    except (ArithmeticError, TypeError):
        if order == "none":
            raise
        return _Written(False, "none").doprint(expr)


def short_expression(expr: Expr, order: str | None = "none") -> str:
    """``expr`` as a SymPy string for a one-line message: a long number ≈ its first digits."""
    return _Written(True, order).doprint(expr)


def exact_text(value: Expr) -> str:
    """The value as a SymPy string: ``-8``, ``3/10``, ``sin(2)``, or its certified decimal."""
    if value.is_Integer:
        return str(gmpy2.mpz(value.p))  # fast, and unbounded: settle bounds the digits
    if value.is_Rational:
        return f"{gmpy2.mpz(value.p)}/{gmpy2.mpz(value.q)}"
    if not is_exact(value):
        return decimal_text(value)
    return expression_text(value)
