"""The numbers an LMS accepts for a blank: one decimal and an absolute tolerance, chosen so that
the interval ``value ± tolerance`` holds every answer ``worksheet grade`` accepts, and as few
others as one interval can.

What grade accepts (``assess.answers.same_number``, ``assess.rounding.alike``):

    a rounded blank (decimals d)   the value rounded to d places, give or take DRIFT units in the
                                   last place: an LMS gets rounded(v, d) ± DRIFT·10^−d
    any other value v              v itself, or a decimal with at least MIN_DIGITS significant
                                   digits and k ≥ 1 places within half a unit of its last place:
                                   the largest such distance over k is the tolerance

    −9/2       "-4.5" ± 0            (a decimal of 3 digits or more is −4.5 itself, or too far)
    1/64       "0.015625" ± 0.000025 (0.0156, 0.01562 and 0.01563 are accepted by grade too)
    1/3        "0.3333333" ± 0.000334   (0.333 is the farthest accepted rounding)

Every bound is an exact decimal (``Fraction``); the value of an irrational blank is certified
(``rounding.units``). A student's digits are not seen by an LMS, so it cannot refuse 0.731 for a
value asked to 4 places as grade does (rounded too far): the interval is the only rule it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sympy import Expr, Rational

from ..assess.answers import MIN_DIGITS
from ..assess.rounding import DRIFT, units
from ..errors import WorksheetError

TOLERANCE_DIGITS = 3
"""Significant digits of a tolerance that is not exact: rounded up, so no accepted answer is lost."""

MAX_PLACES = 40
"""The most decimal places looked at for the roundings grade accepts (past it the widest is found)."""

GUARD_PLACES = 3
"""Places written beyond the last rounding that matters, so the value's own rounding is a
thousandth of the tolerance."""


@dataclass(frozen=True)
class Accepted:
    """The interval an LMS accepts: ``value`` ± ``tolerance``, both exact decimals."""

    value: Fraction
    tolerance: Fraction

    @property
    def low(self) -> Fraction:
        return self.value - self.tolerance

    @property
    def high(self) -> Fraction:
        return self.value + self.tolerance

    def holds(self, x: Fraction) -> bool:
        return self.low <= x <= self.high

    def meets(self, other: Accepted) -> bool:
        """Do the two intervals share a number?"""
        return self.low <= other.high and other.low <= self.high


def accepted(value: Expr, places: int | None) -> Accepted:
    """The interval of ``value`` (an exact SymPy number), written rounded to ``places`` decimals
    or (None) exactly, as its blank on the sheet."""
    if places is not None:
        n = _units(value, places)
        return Accepted(Fraction(n, 10**places), Fraction(DRIFT, 10**places))
    if value.is_Rational:
        return _exact(Fraction(int(value.p), int(value.q)))
    return _certified(value)


def decimal(x: Fraction) -> str:
    """An exact decimal as text, no exponent and no trailing zeros (``-4.5``, ``0.000025``)."""
    places = 0
    while (x * 10**places).denominator != 1:
        places += 1
        if places > 4 * MAX_PLACES:
            raise ValueError(f"{x} is not a short decimal")
    n = int(x * 10**places)
    digits = str(abs(n)).rjust(places + 1, "0")
    text = digits[:len(digits) - places] + ("." + digits[len(digits) - places:] if places else "")
    return ("-" if n < 0 else "") + text


def _exact(v: Fraction) -> Accepted:
    """A rational value: itself, and the farthest decimal grade takes for it."""
    if v == 0:
        return Accepted(v, Fraction(0))
    first = _first_places(v)
    last = _terminating_places(v)
    if last is not None:  # past its own places every accepted decimal is v itself
        widest = max((_error(v, k) for k in range(first, last)), default=Fraction(0))
        return Accepted(v, _round_up(widest) if widest else widest)
    widest, k = _widest(v, first)
    written = _rounded(v, k + GUARD_PLACES)
    return Accepted(written, _round_up(widest + abs(written - v)))


def _certified(value: Expr) -> Accepted:
    """A value that is not rational: the same rule, on its certified decimal to MAX_PLACES + more
    places (whose own error, half a unit there, widens the tolerance)."""
    fine_places = 2 * MAX_PLACES
    fine = Fraction(_units(value, fine_places), 10**fine_places)
    slack = Fraction(1, 2 * 10**fine_places)
    if fine == 0:
        raise WorksheetError("a value too close to 0 to round", where="blanks")
    widest, k = _widest(fine, _first_places(fine))
    written = _rounded(fine, k + GUARD_PLACES)
    return Accepted(written, _round_up(widest + abs(written - fine) + 2 * slack))


def _widest(v: Fraction, first: int) -> tuple[Fraction, int]:
    """The largest distance from v of a decimal grade accepts, and the places it was looked to:
    until half a unit there is less than the largest yet (no later rounding can be farther)."""
    widest, k = Fraction(0), first
    while k < first + MAX_PLACES:
        widest = max(widest, _error(v, k))
        if Fraction(1, 2 * 10**k) < widest:
            break
        k += 1
    return widest, k


def _first_places(v: Fraction) -> int:
    """The fewest places of a decimal grade reads as rounded: MIN_DIGITS significant digits, and
    a decimal point with a digit after it (123 is an integer, 123.5 a rounding)."""
    return max(1, MIN_DIGITS - 1 - _exponent(abs(v)))


def _terminating_places(v: Fraction) -> int | None:
    """The places of v's decimal where it ends (3/8 → 3), None where it does not end (1/3)."""
    q, places = v.denominator, 0
    while q % 10 == 0:
        q //= 10
        places += 1
    while q % 2 == 0 or q % 5 == 0:
        q //= 2 if q % 2 == 0 else 5
        places += 1
    return places if q == 1 else None


def _error(v: Fraction, k: int) -> Fraction:
    """How far v is from the nearest decimal of k places (a tie: half a unit)."""
    scaled = v * 10**k
    part = scaled - (scaled.numerator // scaled.denominator)
    return min(part, 1 - part) / 10**k


def _rounded(v: Fraction, k: int) -> Fraction:
    """v rounded to k places, half away from zero (exactly)."""
    n = (abs(v) * 10**k + Fraction(1, 2)).__floor__()
    return Fraction(-n if v < 0 else n, 10**k)


def _round_up(x: Fraction) -> Fraction:
    """x > 0 rounded up to TOLERANCE_DIGITS significant digits."""
    scale = Fraction(10) ** (TOLERANCE_DIGITS - 1 - _exponent(x))
    return Fraction(-((-x * scale).__floor__())) / scale


def _exponent(x: Fraction) -> int:
    """⌊log10 x⌋ for x > 0, exactly."""
    e = len(str(x.numerator)) - len(str(x.denominator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def _units(value: Expr, places: int) -> int:
    n = units(value if isinstance(value, Expr) else Rational(value), places)
    if n is None:
        raise WorksheetError(f"the value {value} cannot be rounded to {places} places", where="blanks")
    return n


__all__ = ["Accepted", "accepted", "decimal"]
