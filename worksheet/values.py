"""Numbers at a point: exact while they stay rational or short closed forms, else decimals.

``settle`` is applied to every value the tracer computes. It keeps ``3/10`` and ``sin(2)``
exact, carries anything longer as a decimal of PRECISION digits (so a chain of 5,000 sines
never builds a 5,000-deep expression), and refuses what is not a finite real number or
is too large to write down.
"""

from __future__ import annotations

import gmpy2
import sympy
from mpmath.libmp import finf as mpmath_inf, fnan as mpmath_nan, fninf as mpmath_ninf
from sympy import Expr, Float

from .forms import TooLarge
from .limits import MAX_DIGITS, MAX_EXACT_OPS, PRECISION


LONG_BITS = 200  # about 60 digits


class OutsideDomain(ValueError):
    """A value that is not a finite real number (log(−1), 1/0, √−2)."""


def settle(value: Expr) -> Expr:
    """``value`` as the worksheet carries it: exact if rational or short, else a decimal."""
    if value.is_Rational:
        if max(value.p.bit_length(), value.q.bit_length()) * 0.30103 > MAX_DIGITS:
            raise TooLarge(f"more than {MAX_DIGITS:,} digits (the limit)")
        return value
    if value.is_Float:  # the common case in long chains: no tree walks, no cache lookups
        return _checked(value)
    if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise OutsideDomain("not a finite real number")
    approximation = value.evalf(PRECISION)
    if not (approximation.is_Float or approximation.is_Rational):
        raise OutsideDomain("not a finite real number")
    approximation = _checked(Float(approximation, PRECISION))
    if value.has(Float) or sympy.count_ops(value) > MAX_EXACT_OPS or _has_long_number(value):
        return approximation
    return value


def _checked(x: Float) -> Float:
    """A decimal, refused when it is infinite, not a number, or too large to write down."""
    if x._mpf_ in (mpmath_inf, mpmath_ninf, mpmath_nan):
        raise OutsideDomain("not a finite real number")
    if _decimal_exponent(x) > MAX_DIGITS:
        raise TooLarge(f"more than {MAX_DIGITS:,} digits (the limit)")
    return x


def _has_long_number(value: Expr) -> bool:
    """A closed form around a long rational (log(2)/2**1000000) is shown as a decimal."""
    return any(
        max(r.p.bit_length(), r.q.bit_length()) > LONG_BITS for r in value.atoms(sympy.Rational)
    )


def _decimal_exponent(x: Float) -> float:
    sign, mantissa, exponent, bits = x._mpf_
    return abs(exponent + bits) * 0.30103 if mantissa else 0.0


def is_exact(value: Expr) -> bool:
    return not value.has(Float)


def as_float(value: Expr) -> float | None:
    """The nearest double, or None where none is finite."""
    try:
        result = float(value)
    except (OverflowError, TypeError):
        return None
    return result if result == result and abs(result) != float("inf") else None


def exact_text(value: Expr) -> str:
    """The value as a SymPy string: ``-8``, ``3/10``, ``sin(2)``, or the carried decimal."""
    if value.is_Integer:
        return str(gmpy2.mpz(value.p))  # fast, and unbounded: settle bounds the digits
    if value.is_Rational:
        return f"{gmpy2.mpz(value.p)}/{gmpy2.mpz(value.q)}"
    return sympy.sstr(value)
