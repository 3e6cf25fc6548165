"""The softmax family, one class per operation: softmax, log_softmax, logsumexp and the softmax
cross-entropy, each of a vector or of a matrix row by row (``dim=-1``, as PyTorch).

Every one is computed from e^(zᵢ − max z), so that no exponential overflows, and its
vector-Jacobian product is written in matrix form, as a textbook writes it.
"""

from __future__ import annotations

from fractions import Fraction

from sympy import Rational

from ..arith import elements
from . import rule
from .tensor import TensorRule, scaled
from ..tensors import ShapeError, as_array, describe_shape, scalar
from ..terms import Call, Chain, Difference, Form, Hadamard, MatProduct, Number, Ones, Transpose
from ..lazy import lazy

np = lazy("numpy")


@rule
class CrossEntropy(TensorRule):
    """v = cross_entropy(o, c) = −ln softmax(o)_c = ln Σⱼ e^(oⱼ) − o_c for logits o ∈ ℝᴷ and a
    class index c ∈ {0, …, K−1} (counted from 0, as PyTorch); for a batch of logits (N×K) and
    N class indices, the mean over the batch.
    ∂J/∂o = (∂J/∂v)·(softmax(o) − onehot(c))  (divided by N for a batch). The class index has
    no gradient."""

    op, title, arity = "cross_entropy", "softmax cross-entropy", 2
    symbol = "CE"
    torch = "F.cross_entropy({0}, {1})"
    rule_name = "derivative of the softmax cross-entropy: softmax(o) − onehot(c)"

    def differentiable(self, i):
        return i == 0

    def shape(self, o, c):
        if len(o) == 1 and c == ():
            return ()
        if len(o) == 2 and c == (o[0],):
            return ()
        raise ShapeError(
            f"cross_entropy takes logits of K classes and a class index (or N×K logits and "
            f"N indices), not {describe_shape(o)} and {describe_shape(c)}"
        )

    def forward(self, o, c):
        rows, classes = _rows(o), _classes(c, o.shape[-1])
        losses = [_logsumexp(row) - row[k] for row, k in zip(rows, classes)]
        return scalar(sum(losses) / Fraction(len(losses)) if len(losses) > 1 else losses[0])

    def vjp(self, i, g, out, o, c):
        rows, classes = _rows(o), _classes(c, o.shape[-1])
        grads = []
        for row, k in zip(rows, classes):
            p = _softmax(row)
            p[k] = p[k] - 1
            grads.append(p)
        scale = g[()] / Fraction(len(rows))
        return _shaped([[x * scale for x in row] for row in grads], o.shape)

    def vjp_form(self, i, g, out, args, shapes):
        o, c = (Form(a) for a in args)
        local = Difference(Call("softmax", (o,)), Call("onehot", (c,)))
        if len(shapes[0]) == 2:
            local = Chain((Number(Rational(1, shapes[0][0])), local))
        return scaled(g, local, ())


class RowWise(TensorRule):
    """An operation on a vector, or on each row of a matrix (``dim=-1``, as PyTorch)."""

    def shape(self, z):
        if not 1 <= len(z) <= 2:
            raise ShapeError(f"{self.op} takes a vector or a matrix (row by row), not {describe_shape(z)}")
        return z


@rule
class Softmax(RowWise):
    """s = softmax(z), sᵢ = e^(zᵢ) / Σⱼ e^(zⱼ) (of each row, for a matrix);
    ∂J/∂z = s ⊙ (∂J/∂s − (∂J/∂s)ᵀ s)  (row by row)."""

    op, title = "softmax", "softmax"
    symbol = "softmax"
    torch = "torch.softmax({0}, dim=-1)"
    rule_name = "softmax Jacobian, row by row"

    def forward(self, z):
        return _shaped([_softmax(row) for row in _rows(z)], z.shape)

    def vjp(self, i, g, out, z):
        s_rows, g_rows = _rows(out), _rows(g)
        return _shaped([[s * (gj - sum(a * b for a, b in zip(g_row, s_row))) for s, gj in zip(s_row, g_row)]
                        for s_row, g_row in zip(s_rows, g_rows)], z.shape)

    def vjp_form(self, i, g, out, args, shapes):
        s = Form(out)
        upstream = g if g is not None else Ones(shapes[0])
        return Hadamard((s, Difference(upstream, MatProduct((Transpose(upstream), s)))))


@rule
class LogSoftmax(RowWise):
    """y = log_softmax(z), yᵢ = zᵢ − ln Σⱼ e^(zⱼ) (of each row, for a matrix);
    ∂J/∂z = ∂J/∂y − softmax(z)·(𝟏ᵀ ∂J/∂y), and for a matrix G = ∂J/∂Y,
    ∂J/∂Z = G − softmax(Z) ⊙ (G𝟏)𝟏ᵀ: each row's sum of the upstream gradient, given back in the
    proportions of the row's softmax."""

    op, title = "log_softmax", "log-softmax"
    symbol = "log σ"
    torch = "torch.log_softmax({0}, dim=-1)"
    rule_name = "log-softmax Jacobian, row by row: 1 − softmax"

    def forward(self, z):
        return _shaped([_log_softmax(row) for row in _rows(z)], z.shape)

    def vjp(self, i, g, out, z):
        return _shaped([[gj - s * sum(g_row) for s, gj in zip(_softmax(z_row), g_row)]
                        for z_row, g_row in zip(_rows(z), _rows(g))], z.shape)

    def vjp_form(self, i, g, out, args, shapes):
        upstream, s = g if g is not None else Ones(shapes[0]), Call("softmax", (Form(args[0]),))
        ones = Ones(shapes[0][-1:])
        if len(shapes[0]) == 1:
            return Difference(upstream, Chain((s, MatProduct((Transpose(ones), upstream)))))
        return Difference(upstream, Hadamard((s, MatProduct((upstream, ones, Transpose(ones))))))


@rule
class LogSumExp(RowWise):
    """v = logsumexp(z) = ln Σⱼ e^(zⱼ) of a vector (a number), or of each row of a matrix (a
    vector);   ∂J/∂z = (∂J/∂v)·softmax(z)   (each row by its own ∂J/∂vₙ)."""

    op, title = "logsumexp", "log-sum-exp"
    symbol = "lse"
    torch = "torch.logsumexp({0}, dim=-1)"
    rule_name = "derivative of log-sum-exp: softmax"

    def shape(self, z):
        return super().shape(z)[:-1]
        return z[:-1]

    def forward(self, z):
        values = [_logsumexp(row) for row in _rows(z)]
        return scalar(values[0]) if z.ndim == 1 else as_array(np.array(values, dtype=object))

    def vjp(self, i, g, out, z):
        weights = np.atleast_1d(g).tolist()
        return _shaped([[w * s for s in _softmax(row)] for row, w in zip(_rows(z), weights)], z.shape)

    def vjp_form(self, i, g, out, args, shapes):
        s = Call("softmax", (Form(args[0]),))
        if len(shapes[0]) == 1:
            return scaled(g, s, ())
        upstream = g if g is not None else Ones(shapes[0][:1])
        return Hadamard((s, MatProduct((upstream, Transpose(Ones(shapes[0][1:]))))))


def _shaped(rows: list[list], shape) -> np.ndarray:
    return as_array(np.array(rows, dtype=object).reshape(shape))


def _rows(a: np.ndarray) -> list[list]:
    return [list(a)] if a.ndim == 1 else [list(row) for row in a]


def _classes(c: np.ndarray, k: int) -> list[int]:
    out = []
    for x in np.atleast_1d(c).tolist():
        if x != int(x) or not 0 <= int(x) < k:
            raise ShapeError(f"a class index must be a whole number from 0 to {k - 1}, not {x}")
        out.append(int(x))
    return out


def _softmax(row: list) -> list:
    if all(x is row[0] or x == row[0] for x in row):  # equal logits: exactly 1/K each
        return [Fraction(1, len(row))] * len(row)
    top = max(row, key=float)  # any element near the largest keeps every e^(x − top) ≤ about 1
    e = [elements.exp(x - top) for x in row]
    total = sum(e)
    return [x / total for x in e]


def _log_softmax(row: list) -> list:
    total = _logsumexp(row)  # once for the row
    return [x - total for x in row]


def _logsumexp(row: list):
    top = max(row, key=float)
    if len(row) == 1:
        return top
    return top + elements.log(sum(elements.exp(x - top) for x in row))
