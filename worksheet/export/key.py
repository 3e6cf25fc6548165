"""What every format says beside the sheet: how to type a number, and the key's value of a blank.

An LMS reads a typed decimal as a number (no fraction, no formula), so the instructions say how
to write one; the key writes a blank's value as the paper key does (−9/2, ≈ 0.7311, [−3, −7])
with its decimal beside a fraction (−9/2 = −4.5; 1/3 ≈ 0.333333).
"""

from __future__ import annotations

from ..notation import TextNotation
from ..terms import Rounded
from .accepted import decimal

INSTRUCTIONS = ("Type each numbered blank's value as a decimal: exactly where it ends (0.375 for 3/8), "
                "else to at least 3 significant digits (0.333 for 1/3). Vectors and matrices: one box per element.")
ROUNDED = ("Where the problem says so, round to its decimal places (one unit off in the last place is accepted).")


def written(blank) -> str:
    """A blank's value as the key writes it (a ``questions.Blank``)."""
    notation = TextNotation()
    value = blank.written
    if blank.shape:
        return notation.filled_tensor(value)
    if isinstance(value, Rounded):
        return "≈ " + notation.number(value)
    text = notation.number(value)
    if value.is_Rational and not value.is_Integer:
        entry = blank.entries[0]
        near = decimal(entry.right.value)
        return f"{text} = {near}" if entry.right.tolerance == 0 else f"{text} ≈ {notation.rounded(value)}"
    return text


__all__ = ["INSTRUCTIONS", "ROUNDED", "written"]
