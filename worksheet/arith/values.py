"""Numbers at a point: exact while they stay rational or short closed forms, else ``Real``.

``settle`` is applied to every value the tracer computes. It keeps ``3/10`` and ``sin(2)``
exact, carries anything longer as a ``Real`` (its recipe and a certified ball, so a chain of
5,000 sines never builds a 5,000-deep expression and never loses a digit to cancellation),
and refuses what is not a finite real number or is too large (or too small) to write down.
"""

from __future__ import annotations

import gmpy2
import sympy
from sympy import Expr, Float

from ..limits import MAX_DIGITS, MAX_EXACT_OPS
from .errors import OutsideDomain, TooLarge
from .real import Real, certified, decimal_text, to_float

LONG_BITS = 200  # about 60 digits
UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I)


def settle(value: Expr) -> Expr:
    """``value`` as the worksheet carries it: exact if rational or short, else a ``Real``."""
    if value.is_Rational:
        if max(value.p.bit_length(), value.q.bit_length()) * 0.30103 > MAX_DIGITS:
            raise TooLarge(f"a number of more than {MAX_DIGITS:,} digits (the limit)")
        return value
    if isinstance(value, Real):
        return value
    if value.has(*UNDEFINED):
        raise OutsideDomain("not a finite real number")
    ball, prec = certified(value)
    if value.is_Float:
        return value
    if value.has(Real, Float):
        return value if _scaled(value) else Real.of(value, ball, prec)
    if sympy.count_ops(value) > MAX_EXACT_OPS or _has_long_number(value):
        return Real.of(value, ball, prec)
    return value


def _scaled(value: Expr) -> bool:
    """−r or 2r for a Real r: kept as it is, so that r + (−r) is exactly 0."""
    return value.is_Mul and len(value.args) == 2 and value.args[0].is_Rational and isinstance(value.args[1], Real)


def _has_long_number(value: Expr) -> bool:
    """A closed form around a long rational (log(2)/2**1000000) is shown as a decimal."""
    return any(
        max(r.p.bit_length(), r.q.bit_length()) > LONG_BITS for r in value.atoms(sympy.Rational)
    )


def is_exact(value: Expr) -> bool:
    return not value.has(Real, Float)


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
    text = exact_text(value) if value.is_Rational or not is_exact(value) else sympy.sstr(value)
    if len(text) <= SHORT:
        return text
    try:
        return "≈ " + decimal_text(value, 6, strip_zeros=True)
    except ValueError:
        return text[:SHORT] + "…"


def exact_text(value: Expr) -> str:
    """The value as a SymPy string: ``-8``, ``3/10``, ``sin(2)``, or its certified decimal."""
    if value.is_Integer:
        return str(gmpy2.mpz(value.p))  # fast, and unbounded: settle bounds the digits
    if value.is_Rational:
        return f"{gmpy2.mpz(value.p)}/{gmpy2.mpz(value.q)}"
    if not is_exact(value):
        return decimal_text(value)
    return sympy.sstr(value)
