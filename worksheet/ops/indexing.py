"""Indexing and slicing of vectors and matrices, as NumPy and PyTorch read them: ``x[0]``,
``x[-1]``, ``W[0, 1]``, ``W[0]`` (a row), ``W[:, 0]`` (a column), ``x[1:3]``, ``x[::2]`` —
constant integers and slices with constant bounds and a positive step.

A node's shape depends on its index, and a rule's ``shape`` sees only its arguments' shapes, so
the index travels in the op's name: ``index[1:3]``, ``index[:, 0]`` (the parser writes it, from
the tokens it checked; ``index_rule`` reads it back, or nothing). The rule of such a name is
made when ``RULES`` is asked for it.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import sympy

from ..tensors import is_array, ShapeError, as_array, describe_shape, full, scalar
from ..terms import Form, Scatter, Subscript
from .tensor import TensorRule

BOUND = r"-?\d{1,15}"
AXIS = re.compile(rf"(?P<at>{BOUND})|(?P<start>{BOUND})?:(?P<stop>{BOUND})?(?::(?P<step>{BOUND})?)?")
"""One axis of an index as the parser writes it: an integer, or start:stop[:step], each optional."""


@lru_cache(maxsize=256)
def index_rule(op) -> Index | None:
    """The rule of an indexing op (``index[0]``, ``index[:, 0]``), or None for any other name."""
    if not (isinstance(op, str) and op.startswith("index[") and op.endswith("]")):
        return None
    text = op[len("index["):-1]
    key = []
    for part in text.split(", "):
        match = AXIS.fullmatch(part)
        if match is None:
            return None
        if match["at"] is not None:
            key.append(int(match["at"]))
        else:
            start, stop, step = (None if match[k] is None else int(match[k]) for k in ("start", "stop", "step"))
            if step is not None and step <= 0:
                return None
            key.append(slice(start, stop, step))
    return Index(text, tuple(key))


class Index(TensorRule):
    """v = x[k]: the elements of x at the index k (integers pick, slices keep an axis);
    ∂J/∂x = zeros of x's shape with ∂J/∂v placed at x[k] (a scatter, the transpose of the
    selection). Two nodes that read the same element both send their gradient there: the
    fan-out sum adds them.

    x[0] of a vector: ∂J/∂x = (∂J/∂v) e₀;  W[0, 1]: ∂J/∂W = (∂J/∂v) e₀ e₁ᵀ;  W[:, 0]: the
    column ∂J/∂v in column 0;  x[1:3]: ∂J/∂v in positions 1 and 2; zeros elsewhere."""

    title = "index"
    callable = False
    rule_name = "indexing rule: the gradient placed back where the elements were read"

    def __init__(self, text: str, key: tuple):
        self.text = text  # the index as written: "0", "-1", "0, 1", ":, 0", "1:3", "::2"
        self.key = key  # the same as a NumPy index: integers and slices
        self.op = f"index[{text}]"
        self.symbol = f"[{text}]"
        self.title = "index" if all(isinstance(k, int) for k in key) else "slice"
        self.torch = "{0}[" + text + "]"  # PyTorch indexes as NumPy does

    def shape(self, x):
        if not x:
            raise ShapeError(f"a scalar has no elements to pick: [{self.text}] indexes a vector or a matrix")
        if len(self.key) > len(x):
            raise ShapeError(
                f"[{self.text}] has {len(self.key)} indices but {describe_shape(x)} has only "
                f"{len(x)} {'axis' if len(x) == 1 else 'axes'}"
            )
        out = []
        for k, n in zip(self.key, x):
            if isinstance(k, int):
                if not -n <= k < n:
                    raise ShapeError(
                        f"the index {k} is out of range for {describe_shape(x)} "
                        f"(an axis of {n}: from {-n} to {n - 1})"
                    )
            else:
                out.append(len(range(*k.indices(n))))
        shape = (*out, *x[len(self.key):])
        if math.prod(shape) == 0:
            raise ShapeError(f"[{self.text}] of {describe_shape(x)} selects no elements")
        return shape

    def forward(self, x):
        picked = x[self.key]
        return as_array(picked.copy()) if is_array(picked) else scalar(picked)

    def vjp(self, i, g, out, x):
        gradient = full(x.shape, 0)
        gradient[self.key] = g[()] if g.ndim == 0 else g
        return as_array(gradient)

    def vjp_form(self, i, g, out, args, shapes):
        return Scatter(g if g is not None else Form(sympy.S.One), Subscript(Form(args[0]), self.text))

    def form(self, *args):
        """x[0]: the node's definition as SymPy's printers write it (JSON's ``expr``)."""
        return sympy.Function(self.op, index=self.text, _sympystr=_written, _latex=_written_latex)(*args)

    def definition(self, args, shapes):
        return Subscript(Form(args[0]), self.text)

    def work(self, x):
        return math.prod(x) or 1



def _written(expr, printer) -> str:
    return f"{printer._print(expr.args[0])}[{expr.index}]"


def _written_latex(expr, printer) -> str:
    return f"{printer._print(expr.args[0])}[{expr.index.replace(':', '{:}')}]"
