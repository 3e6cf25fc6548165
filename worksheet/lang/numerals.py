"""Number literals, read exactly: ``0.01`` is 1/100 (a Fraction, never a float), and a literal
that is not a finite double, or is longer than any written by hand, is refused where it stands."""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import WorksheetError
from .tokens import Token

MAX_LITERAL_DIGITS = 300


def exact_number(token: Token) -> Fraction:
    """The exact value of a decimal literal; refused when it is not a finite double."""
    mantissa = token.text.lower().split("e")[0]
    if len(mantissa) > MAX_LITERAL_DIGITS:
        raise WorksheetError(
            f"the number {_short(token.text)} has more than {MAX_LITERAL_DIGITS} digits",
            line=token.pos[0], column=token.pos[1],
        )
    if not math.isfinite(float(token.text)):
        raise WorksheetError(
            f"the number {_short(token.text)} is not finite (at most about 1.8e308)",
            line=token.pos[0], column=token.pos[1],
        )
    if mantissa.strip("0.") == "":
        return Fraction(0)  # 0e999999999 is 0 (Fraction would first compute 10**999999999)
    if float(token.text) == 0.0:
        raise WorksheetError(
            f"the number {_short(token.text)} is too small (at least about 1e-308)",
            line=token.pos[0], column=token.pos[1],
        )
    return Fraction(token.text)


def _short(text: str) -> str:
    """A long literal as a message quotes it: its first 12 characters … its last 8."""
    return text if len(text) <= 24 else text[:12] + "…" + text[-8:]

