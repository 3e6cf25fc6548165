"""Tensor values: NumPy arrays (``dtype=object``) of exact fractions, or of certified balls
once a transcendental function is involved (``arith.elements``; floats in training) — exact by
default, as scalar worksheets are.

Shapes follow NumPy: ``()`` a scalar, ``(n,)`` a vector, ``(m, n)`` a matrix; elementwise
operations broadcast. This module makes values (lists, ``ones``, ``zeros``, ``randn``),
converts them, and sums a gradient back over the axes a broadcast copied along.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction

import sympy

from .limits import MAX_TENSOR_ELEMENTS
from .arith import OutsideDomain, TooLarge, certify, elements
from .arith.elements import Ball
from .lazy import lazy, loaded

np = lazy("numpy")

MAX_EXACT_BITS = 256  # a fraction with a larger numerator or denominator is carried as a float
RANDN_DECIMALS = 2  # randn draws are rounded to hundredths, so a worksheet can be worked by hand


class ShapeError(ValueError):
    """Shapes that do not fit an operation; the message names both."""


def shape_text(shape: tuple[int, ...]) -> str:
    """``(4, 3)`` → ``4×3``; ``(3,)`` → ``3``; ``()`` → ``scalar``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def describe_shape(shape: tuple[int, ...]) -> str:
    """A reader's name for a shape: a scalar, a vector of 3, a 3×2 matrix."""
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    return f"a {shape_text(shape)} matrix"


# ── numbers ──────────────────────────────────────────────────────────────────────────────

def number(value) -> Fraction | float | Ball:
    """A plain number from a SymPy value (a closed form such as π/4 becomes a certified ball),
    an int, a Fraction, a float or a ball."""
    if isinstance(value, bool):
        raise TypeError("a truth value is not a number")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, (float, Ball)):
        return value
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sympy.Basic) and value.is_number:
        return Ball(certify(value))
    raise TypeError(f"not a number: {value!r}")


def tidy(x):
    """Keep fractions small: one with a huge numerator or denominator becomes a ball (its
    digits certified, as a scalar worksheet's decimals are); refuse an infinite float."""
    if isinstance(x, Fraction):
        if x.denominator.bit_length() > MAX_EXACT_BITS or x.numerator.bit_length() > MAX_EXACT_BITS:
            return Ball(elements.to_arb(x))
        return x
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float) and not math.isfinite(x):
        raise TooLarge(elements.DOUBLE_OVERFLOW)
    return x  # a ball's size is checked with its digits, once the trace is done


def is_exact(x) -> bool:
    return isinstance(x, Fraction)


# ── arrays ───────────────────────────────────────────────────────────────────────────────

def is_array(value) -> bool:
    """Whether ``value`` is a NumPy array; never asks NumPy before it is loaded (no array exists)."""
    return loaded("numpy") and isinstance(value, np.ndarray)


def scalar(x) -> np.ndarray:
    """A 0-d array holding ``x``."""
    out = np.empty((), dtype=object)
    out[()] = tidy(x)
    return out


def elementwise(function: Callable, *arrays: np.ndarray) -> np.ndarray:
    """``function`` applied element by element, with NumPy broadcasting; results tidied."""
    result = np.frompyfunc(lambda *xs: tidy(function(*xs)), len(arrays), 1)(*arrays)
    return as_array(result)


def as_array(value) -> np.ndarray:
    """An object array, also from a NumPy scalar result (0-d operations return bare objects)."""
    if is_array(value):
        return value.astype(object, copy=False)
    return scalar(value)


def tidy_all(array: np.ndarray) -> np.ndarray:
    return elementwise(lambda x: x, array)


def full(shape: tuple[int, ...], value) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    out.fill(Fraction(value))
    return out


def eye(shape: tuple[int, int]) -> np.ndarray:
    """The identity matrix (``torch.eye``): ones on the diagonal, zeros elsewhere."""
    out = full(shape, 0)
    for i in range(min(shape)):
        out[i, i] = Fraction(1)
    return out


def arange(*bounds) -> np.ndarray:
    """arange(n), arange(a, b), arange(a, b, step), as ``torch.arange``: a, a + step, … while
    below b (above b for a negative step); exact numbers, at least one and at most the limit."""
    start, stop, step = (Fraction(0), bounds[0], Fraction(1)) if len(bounds) == 1 else (*bounds, Fraction(1))[:3]
    shown = f"arange({', '.join(map(str, bounds))})"
    if step == 0:
        raise ShapeError(f"{shown}: the step must not be 0")
    count = max(0, math.ceil((stop - start) / step))
    if count == 0:
        raise ShapeError(f"{shown} has no elements")
    check_size((count,), shown)
    out = np.empty((count,), dtype=object)
    for k in range(count):
        out[k] = tidy(start + k * step)
    return out


def randn(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Standard normal draws (Python's ``random.gauss`` seeded with ``seed``), rounded to
    hundredths and kept exact: the same seed gives the same numbers on every machine."""
    generator = random.Random(seed)
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = Fraction(round(generator.gauss(0.0, 1.0) * 10**RANDN_DECIMALS), 10**RANDN_DECIMALS)
    return out


def from_nested(items) -> np.ndarray:
    """A tensor from nested lists of plain numbers (rectangularity checked by the caller)."""
    array = np.empty(_nested_shape(items), dtype=object)
    for index in np.ndindex(*array.shape):
        item = items
        for i in index:
            item = item[i]
        array[index] = tidy(number(item))
    return array


def _nested_shape(items) -> tuple[int, ...]:
    shape = []
    while isinstance(items, (list, tuple)):
        shape.append(len(items))
        items = items[0]
    return tuple(shape)


def to_float(array: np.ndarray) -> np.ndarray:
    return np.asarray(array, dtype=object).astype(float)


def nested_floats(array: np.ndarray):
    """A float, or nested lists of floats of the tensor's shape (None where not finite)."""
    def one(x):
        value = float(x)
        return value if math.isfinite(value) else None

    return np.vectorize(one, otypes=[object])(array).tolist() if array.shape else one(array[()])


def unbroadcast(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``gradient`` over the axes a broadcast from ``shape`` copied along."""
    extra = gradient.ndim - len(shape)
    if extra:
        gradient = gradient.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and gradient.shape[i] != 1)
    if axes:
        gradient = gradient.sum(axis=axes, keepdims=True)
    return as_array(gradient)


def broadcast_axes(shape: tuple[int, ...], out: tuple[int, ...]) -> str | None:
    """What a reader calls the axes ``shape`` was copied along to reach ``out``, or None."""
    if shape == out:
        return None
    if not shape:
        return "all"
    if len(out) == 2 and (shape == (out[1],) or shape == (1, out[1])):
        return "rows"
    if len(out) == 2 and shape == (out[0], 1):
        return "columns"
    return "broadcast axes"


def check_size(shape: tuple[int, ...], what: str) -> None:
    if math.prod(shape) > MAX_TENSOR_ELEMENTS:
        raise ShapeError(
            f"{what} would have {math.prod(shape):,} elements (the limit is {MAX_TENSOR_ELEMENTS:,})"
        )


__all__ = [
    "OutsideDomain", "ShapeError", "TooLarge", "arange", "as_array", "broadcast_axes", "check_size",
    "describe_shape", "elementwise", "eye", "from_nested", "full", "is_exact", "nested_floats",
    "number", "randn", "scalar", "shape_text", "tidy", "to_float", "unbroadcast",
]
