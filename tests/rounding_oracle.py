"""An independent oracle for a handout's numbers: sympy's own evaluation at 60 digits, and
rounding half away from zero with Python's decimal module (not the worksheet's rounding)."""

from decimal import ROUND_HALF_UP, Decimal

import mpmath
import sympy

from worksheet.arith import certify
from worksheet.assess.answers import read_number


def digits(value, places=60):
    """An oracle value (sympy) as a decimal string of ``places`` significant digits."""
    return sympy.N(value, places).__format__("")


def manifest_value(text):
    """A manifest's exact value, read by the worksheet's parser (never sympify), to 70 digits."""
    return certify(read_number(text), 260).mid().str(70, radius=False)


def same_value(text, expected):
    """Is a manifest's exact text the oracle's value: equal rationals, else 55 digits alike."""
    if expected.is_Rational:
        return sympy.Rational(text) == expected
    with mpmath.workdps(80):
        got, want = mpmath.mpf(manifest_value(text)), mpmath.mpf(digits(expected))
        return abs(got - want) <= abs(want) * mpmath.mpf(10) ** -55


def rounded_oracle(value, places):
    """``value`` (sympy) rounded half away from zero to ``places`` decimals, from 60 digits."""
    result = Decimal(digits(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return str(abs(result) if result.is_zero() else result)  # 0.0, not -0.0
