"""The losses, one class each: the mean squared error and the binary cross-entropy with logits
(``cross_entropy`` of logits lives with the softmax it is built on, in ``softmax``). Each
reduces a prediction and a target of the same (or broadcast) shape to a scalar, the mean as
PyTorch takes it, and sends back the textbook gradient: 2(P − T)/N and (σ(Z) − Y)/N."""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from ..arith import elements
from ..forms import call, difference, product, quotient
from ..functions import sigmoid
from . import RULES, rule
from ..tensors import ShapeError, as_array, elementwise, scalar, shape_text, unbroadcast
from ..terms import Form
from .tensor import Shape, TensorRule, negated, scaled
from ..lazy import lazy

np = lazy("numpy")


def _same_or_broadcast(p: Shape, t: Shape) -> Shape:
    try:
        return tuple(np.broadcast_shapes(p, t))
    except ValueError:
        raise ShapeError(
            f"the prediction ({shape_text(p)}) and the target ({shape_text(t)}) have shapes that do not broadcast"
        ) from None


class Loss(TensorRule):
    """A prediction and a target of the same (or broadcast) shape, reduced to a scalar, the
    mean over the N elements; the second term of each gradient is written over N."""

    arity = 2

    def shape(self, prediction, target):
        _same_or_broadcast(prediction, target)
        return ()

    def vjp_form(self, i, g, out, args, shapes):
        term = scaled(g, Form(self.local_form(i, args, math.prod(_same_or_broadcast(*shapes)))), ())
        return term if i == 0 else negated(term)


@rule
class MSE(Loss):
    """v = mse(P, T) = (1/N) Σᵢ (Pᵢ − Tᵢ)²  (the mean, as PyTorch's MSELoss);
    ∂J/∂P = (∂J/∂v)·2(P − T)/N,   ∂J/∂T = −(∂J/∂v)·2(P − T)/N."""

    op, title = "mse", "mean squared error"
    symbol = "mse"
    torch = "F.mse_loss(*torch.broadcast_tensors({0}, {1}))"
    rule_name = "power rule and mean: 2(P − T)/N"

    def forward(self, p, t):
        d = as_array(p - t)
        return scalar(np.sum(d * d) / Fraction(d.size))

    def vjp(self, i, g, out, p, t):
        d = as_array(p - t)
        share = as_array(d * (2 * g[()] / Fraction(d.size)))
        return unbroadcast(share if i == 0 else as_array(-share), (p if i == 0 else t).shape)

    def local_form(self, i, args, n):
        """2(P − T)/N, with N written, not cancelled against the 2."""
        if n <= 1:
            return product(2, difference(*args))
        return sympy.Mul(2, difference(*args), sympy.Pow(sympy.Integer(n), -1, evaluate=False), evaluate=False)


@rule
class BCEWithLogits(Loss):
    """v = bce_with_logits(Z, Y) = (1/N) Σᵢ [max(Zᵢ, 0) − Zᵢ Yᵢ + ln(1 + e^(−|Zᵢ|))]
    = −(1/N) Σᵢ [Yᵢ ln σ(Zᵢ) + (1 − Yᵢ) ln(1 − σ(Zᵢ))]  (the mean, as PyTorch's);
    ∂J/∂Z = (∂J/∂v)·(σ(Z) − Y)/N,   ∂J/∂Y = −(∂J/∂v)·Z/N."""

    op, title = "bce_with_logits", "binary cross-entropy with logits"
    symbol = "bce"
    torch = "F.binary_cross_entropy_with_logits(*torch.broadcast_tensors({0}, {1}))"
    rule_name = "derivative of the logistic loss: (σ(Z) − Y)/N"

    def forward(self, z, y):
        each = elementwise(_bce, *np.broadcast_arrays(z, y))
        return scalar(each.sum() / Fraction(each.size))

    def vjp(self, i, g, out, z, y):
        z_b, y_b = np.broadcast_arrays(z, y)
        n = Fraction(z_b.size)
        if i == 0:
            local = elementwise(lambda a, b: RULES["sigmoid"].value(a) - b, z_b, y_b)
        else:
            local = as_array(-as_array(z_b))
        return unbroadcast(as_array(local * (g[()] / n)), (z if i == 0 else y).shape)

    def local_form(self, i, args, n):
        """(σ(Z) − Y)/N, and Z/N (its sign is the negation's)."""
        z, y = args
        top = difference(call(sigmoid, z), y) if i == 0 else z
        return quotient(top, sympy.Integer(n)) if n > 1 else top


def _bce(z, y):
    """max(z, 0) − z·y + ln(1 + e^(−|z|)) (z = 0 gives ln 2, a ball)."""
    return max(z, 0) - z * y + elements.log1p_exp_minus_abs(z)
