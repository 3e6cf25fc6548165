"""The piecewise operations, each with a kink where its branch changes: |·|, sgn, the unit step,
max and min. Conventions follow PyTorch: |·|′(0) = 0, and max/min split the gradient evenly
between two equal arguments."""

from __future__ import annotations

from fractions import Fraction

import sympy
from sympy import Heaviside, Max, Min, Rational, S, sign

from ..forms import call, difference
from . import Rule, rule


@rule
class Abs(Rule):
    """v = |u|;   ∂v/∂u = sgn u   (0 at u = 0, as in PyTorch)."""

    op, title = "abs", "absolute value"
    symbol = "|·|"
    torch = "torch.abs({0})"
    rule_name = "chain rule, abs′(u) = sgn u"

    def form(self, u):
        return call(sympy.Abs, u)

    def local(self, i, u):
        return call(sign, u)

    def value(self, u):
        return abs(u)

    def slope(self, i, u):
        return (u > 0) - (u < 0)


@rule
class Sign(Rule):
    """v = sgn u ∈ {−1, 0, 1};   ∂v/∂u = 0   (flat on each side of 0; PyTorch's sign′ = 0).
    Written in answers: ∂|u|/∂u = sgn u."""

    op, title = "sign", "sign"
    symbol = "sgn"
    torch = "torch.sign({0})"
    rule_name = "constant rule: sgn is constant on each side of 0"

    def form(self, u):
        return call(sign, u)

    def local(self, i, u):
        return S.Zero

    def value(self, u):
        return (u > 0) - (u < 0)

    def slope(self, i, u):
        return 0


@rule
class Step(Rule):
    """v = step(u) = [u > 0]   (0 at u = 0: relu′(u));   ∂v/∂u = 0   (flat on each side of 0).
    Written in answers: ∂relu(u)/∂u = step(u)."""

    op, title = "step", "unit step"
    symbol = "step"
    torch = "({0} > 0).to(torch.float64)"
    rule_name = "constant rule: the step is constant on each side of 0"

    def form(self, u):
        return Heaviside(u, 0, evaluate=False)

    def local(self, i, u):
        return S.Zero

    def value(self, u):
        return 1 if u > 0 else 0

    def slope(self, i, u):
        return 0


@rule
class Maximum(Rule):
    """v = max(u, w);   ∂v/∂u = H(u − w),   ∂v/∂w = H(w − u),
    H the unit step with H(0) = ½: the larger argument takes the gradient, a tie splits it."""

    op, title, arity = "max", "maximum", 2
    symbol = "max"
    torch = "torch.maximum({0}, {1})"
    torch_tensors = (0, 1)
    rule_name = "max rule: the larger argument takes the gradient"

    def form(self, u, w):
        return Max(u, w, evaluate=False)

    def local(self, i, u, w):
        ahead = difference(u, w) if i == 0 else difference(w, u)
        return Heaviside(ahead, Rational(1, 2), evaluate=False)

    def value(self, u, w):
        return max(u, w)

    def slope(self, i, u, w):
        ahead = u - w if i == 0 else w - u
        return 1 if ahead > 0 else 0 if ahead < 0 else Fraction(1, 2)


@rule
class Minimum(Rule):
    """v = min(u, w);   ∂v/∂u = H(w − u),   ∂v/∂w = H(u − w),
    H the unit step with H(0) = ½: the smaller argument takes the gradient, a tie splits it."""

    op, title, arity = "min", "minimum", 2
    symbol = "min"
    torch = "torch.minimum({0}, {1})"
    torch_tensors = (0, 1)
    rule_name = "min rule: the smaller argument takes the gradient"

    def form(self, u, w):
        return Min(u, w, evaluate=False)

    def local(self, i, u, w):
        behind = difference(w, u) if i == 0 else difference(u, w)
        return Heaviside(behind, Rational(1, 2), evaluate=False)

    def value(self, u, w):
        return min(u, w)

    def slope(self, i, u, w):
        behind = w - u if i == 0 else u - w
        return 1 if behind > 0 else 0 if behind < 0 else Fraction(1, 2)
