"""Rounded decimals: a value that cannot be exact (σ(1), e^−2, ln 3) written to a number of
decimal places, and a student's answer judged against it.

    rounded(σ(1), 4)  = "0.7311"      the nearest decimal with 4 places, half away from zero
    alike(0.7311, σ(1), 4)            an answer that rounds to the same (or, DRIFT, one unit off)

Every rounding is certified: the value's ball (``arith.certify``) is narrowed until both of its
ends round to the same decimal, so every printed digit is right; a value no precision up to
the bound decides is refused (None), never guessed. Rationals are rounded exactly.
"""

from __future__ import annotations

from sympy import Expr, Integer

from ..arith import Refused, certify, sign
from ..errors import WorksheetError
from ..arith.balls import working

MIN_PLACES, MAX_PLACES = 1, 8
"""How many decimal places a problem may ask for: 1 (0.7) up to 8 (0.73105858)."""

DRIFT = 1
"""Units in the last place an answer may be off and still be right: a student who works with
the rounded values the sheet and their own earlier blanks show lands one unit away now and
then (0.2384 · 0.1050 is 0.02503, the product of the true values 0.02502)."""

START_BITS, MAX_BITS = 64, 4096
"""Relative precision of the first ball, and the last one tried before a rounding is refused
(a value within 2^−4096 of a tie between two decimals)."""


def checked_places(value, where: str) -> int:
    """``decimals = 4`` as a problem set or a manifest gives it: a whole number of places,
    MIN_PLACES to MAX_PLACES (a one-line error naming ``where`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PLACES <= value <= MAX_PLACES:
        raise WorksheetError(f"expected a whole number of decimal places from {MIN_PLACES} to {MAX_PLACES}",
                             where=where)
    return value


def units(value: Expr, places: int) -> int | None:
    """``value`` × 10^places rounded to the nearest integer, half away from zero (certified);
    None when the value is undefined, not a real number, or no precision settles it."""
    if value.is_Rational:
        scaled = abs(value) * 10**places
        n = int((scaled + Integer(1) / 2).floor())
        return -n if value.is_negative else n
    try:
        direction = sign(value)
        if direction == 0:
            return 0
        bits = START_BITS
        while bits <= MAX_BITS:
            ball = certify(direction * value * 10**places, bits)  # |value| · 10^places
            with working(2 * bits + 64):  # exact for + 1/2 and floor at any magnitude we keep
                n = (ball + 0.5).floor().unique_fmpz()
            if n is not None:
                return direction * int(n)
            bits *= 2
    except (Refused, ArithmeticError, ValueError, TypeError):
        return None
    return None


def rounded(value: Expr, places: int) -> str | None:
    """The decimal nearest ``value`` with exactly ``places`` places (−0.2384, 12.0000); None as
    for ``units``."""
    n = units(value, places)
    if n is None:
        return None
    digits = str(abs(n)).rjust(places + 1, "0")
    return ("-" if n < 0 else "") + digits[:-places] + "." + digits[-places:]


def significant(text: str) -> int:
    """How many significant digits a decimal shows: 0.0250 has 3, 12.0000 has 6."""
    return len(text.lstrip("-").replace(".", "").lstrip("0"))


def alike(answer: Expr, value: Expr, places: int, text: str | None = None) -> bool:
    """Is ``answer`` (typed as ``text``) ``value`` written to ``places`` decimals: equal, or
    rounding to the same decimal, or within DRIFT units of it when written to all ``places``
    (0.7311, 0.73106 and 0.7310 for σ(1) at 4 places; not 0.731, rounded too far)?"""
    if answer == value:
        return True
    a, b = units(answer, places), units(value, places)
    if a is None or b is None:
        return False
    written = places_written(text) if text is not None else None
    return a == b or (abs(a - b) <= DRIFT and (written is None or written >= places))


def places_written(text: str) -> int | None:
    """The decimal places of an answer written as a decimal (``0.731`` → 3); None otherwise."""
    body = text.strip().lstrip("-−+").strip()
    whole, dot, fraction = body.partition(".")
    if not dot or not fraction.isdigit() or (whole and not whole.isdigit()):
        return None
    return len(fraction)


__all__ = ["DRIFT", "MAX_PLACES", "MIN_PLACES", "alike", "checked_places", "places_written", "rounded", "significant", "units"]
