"""One rule per tensor operation: its shape, its value, and its vector-Jacobian product —
both the numbers and the matrix form a textbook writes (``(∂J/∂o) hᵀ``, ``W₂ᵀ (∂J/∂o)``,
``∂J/∂h ⊙ φ′(z)``), never element-by-element scalar derivatives.

``g`` is the upstream gradient ∂J/∂v of the node v, of v's shape; ``vjp(i, g, out, *xs)`` is
the contribution to ∂J/∂xs[i], of xs[i]'s shape. In ``vjp_form`` the upstream is a term
(``None`` when v is the output, whose ∂J/∂v = 1 needs no writing) and the arguments are
SymPy symbols of the input nodes, or numbers.

The elementwise operations (``+ − * / ^``, σ, relu, exp, …) are the scalar rules of
``ops`` (arithmetic, elementary, activations, piecewise) applied to each element, with NumPy broadcasting; their vector-Jacobian
product is ``g ⊙ local`` summed back over the broadcast axes.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy
from sympy import Expr, Rational

from ..arith import elements
from ..forms import product
from . import RULES, Rule, rule
from ..tensors import ShapeError, as_array, broadcast_axes, describe_shape, elementwise, scalar, shape_text, unbroadcast
from ..terms import Call, Chain, Form, Hadamard, MatProduct, Number, Ones, Sum, SumOver, Transpose
from ..lazy import lazy

np = lazy("numpy")

Shape = tuple[int, ...]


def scaled(g, term, shape: Shape):
    """g times ``term``: a plain product for scalars, ⊙ for tensors; just ``term`` when g = 1."""
    if g is None:
        return term
    if term == Form(sympy.S.One):
        return g
    return Chain((g, term)) if not shape else Hadamard((g, term))


def negated(term):
    return Chain((Number(sympy.S.NegativeOne), term))


class TensorRule(Rule):
    """An operation that exists only for tensors (``@``, ``.T``, ``sum``, losses)."""

    tensor = True

    def form(self, *args: Expr) -> Expr:
        """A placeholder definition for the graph; tensor worksheets print ``definition``."""
        return sympy.Function(self.op)(*args)

    def local(self, i, *args):
        raise NotImplementedError(f"{self.op} has no scalar derivative; it is a tensor operation")

    def shape(self, *shapes: Shape) -> Shape:
        raise NotImplementedError

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def vjp(self, i: int, g: np.ndarray, out: np.ndarray, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def vjp_form(self, i: int, g, out: Expr, args: tuple, shapes: tuple[Shape, ...]):
        raise NotImplementedError

    def definition(self, args: tuple, shapes: tuple[Shape, ...]):
        return Call(self.op, tuple(Form(a) for a in args))

    def work(self, *shapes: Shape) -> int:
        """Element operations the forward pass needs (for the work limit)."""
        return max([math.prod(s) for s in shapes] + [1])


# ── elementwise: a scalar rule on each element ───────────────────────────────────────────

class Elementwise:
    """A scalar rule applied element by element, with broadcasting:
    v = f(u, w);   ∂J/∂u = Σ_broadcast (∂J/∂v ⊙ ∂f/∂u)."""

    tensor = False

    def __init__(self, scalar_rule: Rule):
        self.rule = scalar_rule
        self.op, self.title = scalar_rule.op, scalar_rule.title
        self.stops_gradient = scalar_rule.stops_gradient  # stop_gradient: no step at all

    def rule_of(self, i: int, *args) -> str:
        return self.rule.rule_of(i, *args)

    def differentiable(self, i: int) -> bool:
        return True

    def shape(self, *shapes: Shape) -> Shape:
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            raise ShapeError(
                "the shapes " + " and ".join(shape_text(s) for s in shapes) + " do not broadcast "
                "(sizes must be equal or 1, counted from the last axis)"
            ) from None

    def forward(self, *xs):
        return elementwise(self.rule.value, *xs)

    def vjp(self, i, g, out, *xs):
        local = elementwise(lambda *x: self.rule.slope(i, *x), *xs)
        return unbroadcast(as_array(g * local), xs[i].shape)

    def vjp_form(self, i, g, out, args, shapes):
        out_shape = self.shape(*shapes)
        local = self.rule.local(i, *args)
        if local == -1:
            term = negated(g) if g is not None else Form(sympy.S.NegativeOne)
        else:
            term = scaled(g, Form(local), out_shape)
        label = broadcast_axes(shapes[i], out_shape)
        return SumOver(term, label) if label else term

    def definition(self, args, shapes):
        return Form(self.rule.form(*args))

    def work(self, *shapes):
        return ELEMENTWISE_WORK * (math.prod(self.shape(*shapes)) or 1)


ELEMENTWISE_WORK = 10
"""What an element of an elementwise operation counts toward the work limit: a certified
function and its derivative cost about ten multiply-adds of a matrix product (measured)."""


def tensor_rule(op: str):
    """The tensor rule of ``op``: its own, or the scalar rule applied elementwise."""
    if op in FOR_TENSORS:
        return FOR_TENSORS[op]
    found = RULES[op]
    return found if getattr(found, "tensor", False) else Elementwise(found)


class SumOfOutputs:
    """L_total = L + sum(z) + …, the sum of several outputs (``--target L,z``), a tensor output
    reduced by summing its elements;   ∂L_total/∂L = 1,   ∂L_total/∂z = 𝟏 (ones of z's shape).
    The scalar rule ``outputs`` is its form for scalar programs."""

    tensor = False  # the scalar path of ``rule`` holds for its scalar outputs (local 1)
    stops_gradient = False

    def __init__(self):
        self.rule = RULES["outputs"]
        self.op, self.title = self.rule.op, self.rule.title

    def rule_of(self, i: int, *args) -> str:
        return self.rule.rule_of(i, *args)

    def differentiable(self, i: int) -> bool:
        return True

    def shape(self, *shapes: Shape) -> Shape:
        return ()

    def forward(self, *xs):
        return scalar(sum((x.sum() if x.size else 0 for x in xs[1:]), xs[0].sum()))

    def vjp(self, i, g, out, *xs):
        return as_array(np.full(xs[i].shape, g[()], dtype=object))

    def vjp_form(self, i, g, out, args, shapes):
        seed = Ones(shapes[i]) if shapes[i] else Form(sympy.S.One)
        return scaled(g, seed, ())

    def definition(self, args, shapes):
        return Sum(tuple(Call("sum", (Form(a),)) if s else Form(a) for a, s in zip(args, shapes)))

    def work(self, *shapes):
        return sum(math.prod(s) for s in shapes) or 1


FOR_TENSORS = {"outputs": SumOfOutputs()}


# ── matrix product and transpose ─────────────────────────────────────────────────────────

@rule
class MatMul(TensorRule):
    """v = A B (``A @ B``), NumPy's matmul for vectors and matrices:
    ∂J/∂A = (∂J/∂v) Bᵀ,   ∂J/∂B = Aᵀ (∂J/∂v);
    with a vector x: v = W x gives ∂J/∂W = (∂J/∂v) xᵀ (an outer product), ∂J/∂x = Wᵀ (∂J/∂v);
    v = x W gives ∂J/∂x = W (∂J/∂v), ∂J/∂W = x (∂J/∂v)ᵀ; v = a·b (two vectors) gives
    ∂J/∂a = (∂J/∂v) b."""

    op, title, arity, callable = "matmul", "matrix product", 2, False
    symbol = "@"
    torch = "{0} @ {1}"
    rule_name = "matrix product rule"

    def shape(self, a, b):
        if not a or not b:
            raise ShapeError(
                f"@ multiplies vectors and matrices, not {describe_shape(a if not a else b)} "
                "(write * to scale)"
            )
        inner_a, inner_b = a[-1], b[0]
        if inner_a != inner_b:
            raise ShapeError(
                f"the shapes {shape_text(a)} and {shape_text(b)} do not fit: "
                f"{describe_shape(a)} @ {describe_shape(b)} needs the inner sizes to agree "
                f"({inner_a} ≠ {inner_b})"
            )
        return a[:-1] + b[1:]

    def forward(self, a, b):
        return as_array(elements.matmul(a, b))

    def vjp(self, i, g, out, a, b):
        if a.ndim == 1 and b.ndim == 1:
            return as_array(g * (b if i == 0 else a))
        if a.ndim == 2 and b.ndim == 1:
            return as_array(elements.outer(g, b)) if i == 0 else as_array(elements.matmul(a.T, g))
        if a.ndim == 1 and b.ndim == 2:
            return as_array(elements.matmul(b, g)) if i == 0 else as_array(elements.outer(a, g))
        return as_array(elements.matmul(g, b.T)) if i == 0 else as_array(elements.matmul(a.T, g))

    def vjp_form(self, i, g, out, args, shapes):
        a, b = (Form(x) for x in args)
        upstream = g if g is not None else Form(sympy.S.One)
        rank = (len(shapes[0]), len(shapes[1]))
        if rank == (1, 1):
            return scaled(g, b if i == 0 else a, ())
        if rank == (1, 2):
            return MatProduct((b, upstream)) if i == 0 else MatProduct((a, Transpose(upstream)))
        return MatProduct((upstream, Transpose(b))) if i == 0 else MatProduct((Transpose(a), upstream))

    def definition(self, args, shapes):
        return MatProduct(tuple(Form(a) for a in args))

    def work(self, a, b):
        """Three multiply-adds for each of the forward pass's: the backward pass makes two products."""
        return 3 * math.prod(a) * (b[1] if len(b) == 2 else 1)


@rule
class Outer(TensorRule):
    """v = outer(a, b) = a bᵀ of two vectors (``torch.outer``, ``np.outer``), a matrix:
    ∂J/∂a = G b,   ∂J/∂b = Gᵀ a,   G = ∂J/∂v."""

    op, title, arity = "outer", "outer product", 2
    symbol = "outer"
    torch = "torch.outer({0}, {1})"
    rule_name = "outer product rule"

    def shape(self, a, b):
        if len(a) != 1 or len(b) != 1:
            raise ShapeError(f"outer multiplies two vectors, not {describe_shape(a)} and {describe_shape(b)}")
        return a + b

    def forward(self, a, b):
        return as_array(elements.outer(a, b))

    def vjp(self, i, g, out, a, b):
        return as_array(elements.matmul(g, b)) if i == 0 else as_array(elements.matmul(g.T, a))

    def vjp_form(self, i, g, out, args, shapes):
        a, b = (Form(x) for x in args)
        upstream = g if g is not None else Form(sympy.S.One)
        return MatProduct((upstream, b)) if i == 0 else MatProduct((Transpose(upstream), a))

    def definition(self, args, shapes):
        a, b = (Form(x) for x in args)
        return MatProduct((a, Transpose(b)))

    def work(self, a, b):
        return 3 * math.prod(a + b)


@rule
class TransposeRule(TensorRule):
    """v = Aᵀ (``A.T``);   ∂J/∂A = (∂J/∂v)ᵀ.   A vector or a scalar is its own transpose."""

    op, title, callable = "transpose", "transpose", False
    symbol = "ᵀ"
    torch = "{0}.t()"
    rule_name = "transpose rule: the gradient transposed back"

    def shape(self, a):
        return tuple(reversed(a))

    def forward(self, a):
        return as_array(a.T)

    def vjp(self, i, g, out, a):
        return as_array(g.T)

    def vjp_form(self, i, g, out, args, shapes):
        if g is None:
            return Form(sympy.S.One)
        return Transpose(g) if len(shapes[0]) == 2 else g

    def definition(self, args, shapes):
        return Transpose(Form(args[0]))


# ── reductions ───────────────────────────────────────────────────────────────────────────

@rule
class Total(TensorRule):
    """v = sum(A) = Σᵢ Aᵢ (over all elements);   ∂J/∂A = (∂J/∂v) 𝟏."""

    op, title = "sum", "sum of elements"
    symbol = "Σ"
    torch = "torch.sum({0})"
    rule_name = "sum rule: 𝟏 for every element"

    def shape(self, a):
        return ()

    def forward(self, a):
        return scalar(a.sum() if a.size else 0)

    def vjp(self, i, g, out, a):
        return as_array(np.full(a.shape, g[()], dtype=object))

    def vjp_form(self, i, g, out, args, shapes):
        return scaled(g, Ones(shapes[0]), ()) if shapes[0] else (g or Form(sympy.S.One))


@rule
class Mean(TensorRule):
    """v = mean(A) = (1/N) Σᵢ Aᵢ over all N elements;   ∂J/∂A = (∂J/∂v)·(1/N)·𝟏."""

    op, title = "mean", "mean of elements"
    symbol = "mean"
    torch = "torch.mean({0})"
    rule_name = "mean rule: 𝟏/N for every element"

    def shape(self, a):
        if math.prod(a) == 0:
            raise ShapeError("the mean of no elements is undefined")
        return ()

    def forward(self, a):
        return scalar(a.sum() / Fraction(a.size))

    def vjp(self, i, g, out, a):
        return as_array(np.full(a.shape, g[()] / Fraction(a.size), dtype=object))

    def vjp_form(self, i, g, out, args, shapes):
        n = math.prod(shapes[0])
        share = Chain((Number(Rational(1, n)), Ones(shapes[0]))) if shapes[0] else Form(sympy.S.One)
        return scaled(g, share, ())


@rule
class SumOfSquares(TensorRule):
    """v = sumsq(A) = ‖A‖²_F = Σᵢ Aᵢ²;   ∂J/∂A = (∂J/∂v)·2A."""

    op, title = "sumsq", "squared norm"
    symbol = "‖·‖²"
    torch = "torch.sum({0} ** 2)"
    rule_name = "power rule, elementwise: 2A"

    def shape(self, a):
        return ()

    def forward(self, a):
        return scalar(as_array(a * a).sum())

    def vjp(self, i, g, out, a):
        return as_array(a * (2 * g[()]))  # a 0-d product is a bare number: as_array restores the array

    def vjp_form(self, i, g, out, args, shapes):
        return scaled(g, Form(product(2, args[0])), ())
