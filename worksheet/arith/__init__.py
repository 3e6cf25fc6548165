"""The number policy: exact values, certified decimals, and why a number is refused.

* exact: rationals, and closed forms while they are short (``sin(2)``, ``1 − tanh(200)²``);
* carried: a ``Real``, a number known by how it was computed, evaluated in ball arithmetic
  (Arb, through python-flint) at whatever precision its digits need (``real.py``);
* refused: undefined (``OutsideDomain``), beyond 10^±MAX_DIGITS (``TooLarge``, ``TooSmall``),
  or not settled by any precision up to the bound (``Undecidable``).

Every decimal printed anywhere comes from ``certify``: its digits are right, or it is refused.
"""

from .errors import Imprecise, OutsideDomain, Refused, TooLarge, TooSmall, Undecidable
from .real import CARRIED_BITS, MAX_PRECISION, Real, certify, certify_once, decimal_text, proved_zero, sign, to_float
from .values import (as_float, exact_text, expression_text, is_exact, plus, settle, short_expression, short_text,
                     times)

__all__ = [
    "CARRIED_BITS", "MAX_PRECISION", "Imprecise", "OutsideDomain", "Real", "Refused", "TooLarge", "TooSmall",
    "Undecidable", "as_float", "certify", "certify_once", "decimal_text", "exact_text", "expression_text", "is_exact", "proved_zero",
    "plus", "settle", "short_expression", "short_text", "sign", "times", "to_float",
]
