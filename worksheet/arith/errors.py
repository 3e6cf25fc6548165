"""Why a number is refused: undefined, too large (or small) to write, or not settled in the bounds.

Each message is a phrase that completes "… would be ___" (or, for OutsideDomain, says why).
"""

from __future__ import annotations


class Refused(ValueError):
    """A number that cannot be given (one of the kinds below)."""


class OutsideDomain(Refused):
    """A value that is not a finite real number (log(−1), 1/0, √−2)."""


class TooLarge(Refused):
    """A number with more than MAX_DIGITS digits, or a magnitude beyond 10^MAX_DIGITS."""


class TooSmall(TooLarge):
    """A nonzero magnitude below 10^−MAX_DIGITS (its double is 0.0)."""


class Undecidable(Refused):
    """A value whose digits (or whose sign, at a kink) no precision up to MAX_PRECISION bits
    settles: it cancels to within 2^−MAX_PRECISION of its terms, or it may be exactly 0."""


class Imprecise(ArithmeticError):
    """At this working precision a ball cannot decide a branch, a domain or a pole; the
    evaluation is tried again at a higher precision (never seen outside ``arith``)."""
