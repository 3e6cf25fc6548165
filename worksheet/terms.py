"""The terms of a worksheet's equations: a form, a number, ∂L/∂v, products and sums of terms,
and for tensors a matrix product, a transpose, a Hadamard product and a numeric matrix.

Terms are plain data. Rules build the matrix-form ones (a vector-Jacobian product is a
term in node names), documents arrange them, renderers print them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import AtomicExpr, Expr, Float

from .forms import substitute

@dataclass(frozen=True)
class Form:
    """An expression in node names or inputs, printed as it was built."""

    expr: Expr


@dataclass(frozen=True)
class Number:
    """A value: exact when rational, otherwise shown as a rounded decimal (with ≈)."""

    value: Expr


@dataclass(frozen=True)
class Partial:
    """∂of/∂wrt. ``of`` is a node's name, or an expression: the output's local derivative is
    written on its definition, ∂(v₁ + a)/∂a, as ∂L/∂a names the whole gradient. Where ``of``
    uses ``wrt`` more than once (w·w), ``use`` says which use this is, counted from the left
    in its definition (1, 2, …: ∂v₂/∂w (first use)); None where it uses it once."""

    of: str | Expr
    wrt: str
    use: int | None = None


@dataclass(frozen=True)
class Chain:
    """A product of terms written out, factor by factor: ∂L/∂v · ∂v/∂u, (−4) · 2."""

    factors: tuple


@dataclass(frozen=True)
class Sum:
    """A sum of terms written out: the paths of a fan-out."""

    terms: tuple


@dataclass(frozen=True)
class Blank:
    """A numbered gap for a student to fill in: (3) ______. With ``value`` (an answer key), the
    value is written in the gap, still numbered; for a model, a vector or matrix is one blank."""

    number: int
    value: Expr | None = None


Term = Form | Number | Partial | Chain | Sum | Blank


class Shown(AtomicExpr):
    """A value written in place of a symbol, to show a substitution: 2v₃ = 2·(−2)."""

    is_commutative = True

    def __new__(cls, value: Expr):
        obj = AtomicExpr.__new__(cls)
        obj.value = value
        return obj

    def _hashable_content(self):
        return (self.value,)


class Rounded(Float):
    """A value written rounded to its decimals, trailing zeros kept (0.8800, −12.0500), with ≈
    before it: a handout's number that cannot be exact. It is the rounded decimal itself
    (``assess.rounding.rounded``, certified), not the value it rounds."""

    __slots__ = ("text",)

    def __new__(cls, text: str):
        obj = Float.__new__(cls, text, max(15, len(text) + 2))
        obj.text = text
        return obj


def plugged(form: Expr, values) -> Form:
    """``form`` with each node's value written in place of its name."""
    mapping = {s: Shown(values[s.name]) for s in form.free_symbols if s.name in values}
    return Form(substitute(form, mapping))


@dataclass(frozen=True)
class Equation:
    """sides[0] = sides[1] = …  (≈ before a rounded number)."""

    sides: tuple




# ── matrix-form terms (tensor worksheets) ────────────────────────────────────────────────


@dataclass(frozen=True)
class Transpose:
    """argᵀ."""

    arg: object


@dataclass(frozen=True)
class MatProduct:
    """A matrix product written by juxtaposition: (∂J/∂o) hᵀ, W₂ᵀ (∂J/∂o)."""

    factors: tuple


@dataclass(frozen=True)
class Hadamard:
    """An elementwise product: ∂J/∂h ⊙ σ(z)(1 − σ(z))."""

    factors: tuple


@dataclass(frozen=True)
class Difference:
    """left − right."""

    left: object
    right: object


@dataclass(frozen=True)
class Ones:
    """𝟏, the all-ones tensor of ``shape`` (what a sum sends back to each element)."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class SumOver:
    """Σ over the axes a broadcast copied along: Σ_rows ∂J/∂v for a bias added to each row."""

    arg: object
    label: str  # "rows", "columns", "all"


@dataclass(frozen=True)
class Call:
    """A named function of terms, applied as a whole: softmax(o), onehot(c)."""

    name: str
    args: tuple


@dataclass(frozen=True, eq=False)
class Tensor:
    """A numeric vector or matrix (a NumPy array of exact fractions or floats)."""

    value: object


@dataclass(frozen=True)
class Space:
    """ℝ, ℝ⁴ or ℝ^{4×3}: where a node's value lives."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class Subscript:
    """x[0], W[:, 0], x[1:3]: elements of a tensor picked by a constant index, as written."""

    of: object  # the tensor (a Form of its name)
    index: str  # the index as written: "0", "0, 1", ":, 0", "1:3", "::2"


@dataclass(frozen=True)
class Scatter:
    """``arg`` placed at ``at`` in a tensor of zeros of that tensor's shape: what indexing sends
    back, (∂J/∂v at x[0], 0 elsewhere)."""

    arg: object
    at: Subscript
