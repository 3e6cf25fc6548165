"""The entries of a vector or matrix as a reader sees them: exact where short (3, −0.25, 1/6),
rounded to ``digits`` significant digits otherwise (a ball's certified digits), and a large tensor elided in the middle
(⋯, ⋮) the way NumPy and PyTorch print one. A vector is written as a column.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath

from ..arith.elements import Ball
from ..lazy import lazy

np = lazy("numpy")

SHOWN = 8  # rows or columns beyond this are elided: the first HEAD, ⋯, the last TAIL
HEAD, TAIL = 5, 2
MAX_DENOMINATOR = 1000  # 1/6 and 5/12 are shown as fractions; 1/1024 as a decimal


def entries(value: np.ndarray, digits: int, latex: bool) -> list[list[str]]:
    """Rows of entry strings (a vector is one column), elided to at most SHOWN + 1 each way."""
    grid = value.reshape(-1, 1) if value.ndim == 1 else value.reshape(1, 1) if value.ndim == 0 else value
    rows = _kept(grid.shape[0])
    cols = _kept(grid.shape[1])
    vdots, cdots, ddots = (r"\vdots", r"\cdots", r"\ddots") if latex else ("⋮", "⋯", "⋱")
    out = []
    for i in rows:
        if i is None:
            out.append([ddots if j is None else vdots for j in cols])
            continue
        out.append([cdots if j is None else entry(grid[i, j], digits, latex) for j in cols])
    return out


def _kept(n: int) -> list[int | None]:
    if n <= SHOWN:
        return list(range(n))
    return list(range(HEAD)) + [None] + list(range(n - TAIL, n))


def entry(x, digits: int, latex: bool) -> str:
    minus = "-" if latex else "−"
    if isinstance(x, Fraction):
        text = _exact(x, digits, latex)
        if text is not None:
            return text.replace("-", minus)
    if isinstance(x, Ball):
        text = x.text(digits, min_fixed=-4, max_fixed=7)
    elif float(x) == int(float(x)) and abs(float(x)) < 10**digits:
        return str(int(float(x))).replace("-", minus)
    else:
        text = mpmath.nstr(mpmath.mpf(float(x)), digits, min_fixed=-4, max_fixed=7)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}" if latex else f"{mantissa}e{int(exponent):+d}"
    return text.replace("-", minus)


def _exact(x: Fraction, digits: int, latex: bool) -> str | None:
    """An integer, a terminating decimal of at most ``digits`` digits, or a small fraction."""
    if x.denominator == 1:
        return str(x.numerator) if len(str(abs(x.numerator))) <= max(digits, 7) else None
    decimal = terminating(x.numerator, x.denominator, digits)
    if decimal is not None:
        return decimal
    if x.denominator <= MAX_DENOMINATOR and abs(x.numerator) < MAX_DENOMINATOR:
        sign = "-" if x < 0 else ""
        p, q = abs(x.numerator), x.denominator
        return rf"{sign}\tfrac{{{p}}}{{{q}}}" if latex else f"{sign}{p}/{q}"
    return None


def terminating(p: int, q: int, digits: int) -> str | None:
    """p/q as its exact decimal, 24599/2500 → 9.8396, when it ends within ``digits``
    significant digits; None for 1/3 (which never ends) or 1/1024 at 6 digits (0.0009765625)."""
    rest, twos, fives = q, 0, 0
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    places = max(twos, fives)
    if rest != 1 or places > 2 * digits + 4:
        return None
    scaled = str(abs(p) * 10**places // q).rjust(places + 1, "0")
    if len(scaled.lstrip("0")) > digits:
        return None
    whole, tail = scaled[:len(scaled) - places], scaled[len(scaled) - places:]
    return ("-" if p < 0 else "") + whole + ("." + tail if places else "")


def is_rounded(x, digits: int = 6) -> bool:
    """Is this entry shown rounded (so ≈, not =, comes before its matrix)?"""
    if isinstance(x, Fraction):
        return _exact(x, digits, False) is None
    if isinstance(x, Ball):
        return not x.arb.is_exact()
    return float(mpmath.nstr(mpmath.mpf(float(x)), digits, min_fixed=-4, max_fixed=7)) != float(x)


def is_rounded_tensor(value: np.ndarray, digits: int = 6) -> bool:
    return any(is_rounded(x, digits) for x in value.flat)
