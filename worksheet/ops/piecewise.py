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


class Extremum(Rule):
    """The larger (max) or the smaller (min) of two values: the winner takes the gradient,
    ∂v/∂u = H(±(u − w)), and a tie splits it (H the unit step with H(0) = ½)."""

    arity, torch_tensors = 2, (0, 1)
    larger: bool  # max, not min
    function: type  # SymPy's Max or Min

    def form(self, u, w):
        return self.function(u, w, evaluate=False)

    def _lead(self, i, u, w):
        """How far the i-th argument is ahead of the other, in the direction that wins."""
        return (u, w) if (i == 0) == self.larger else (w, u)

    def local(self, i, u, w):
        return Heaviside(difference(*self._lead(i, u, w)), Rational(1, 2), evaluate=False)

    def value(self, u, w):
        return max(u, w) if self.larger else min(u, w)

    def slope(self, i, u, w):
        first, second = self._lead(i, u, w)
        ahead = first - second
        return 1 if ahead > 0 else 0 if ahead < 0 else Fraction(1, 2)


@rule
class Maximum(Extremum):
    """v = max(u, w);   ∂v/∂u = H(u − w),   ∂v/∂w = H(w − u),
    H the unit step with H(0) = ½: the larger argument takes the gradient, a tie splits it."""

    op, title, larger, function = "max", "maximum", True, Max
    symbol = "max"
    torch = "torch.maximum({0}, {1})"
    rule_name = "max rule: the larger argument takes the gradient"


@rule
class Minimum(Extremum):
    """v = min(u, w);   ∂v/∂u = H(w − u),   ∂v/∂w = H(u − w),
    H the unit step with H(0) = ½: the smaller argument takes the gradient, a tie splits it."""

    op, title, larger, function = "min", "minimum", False, Min
    symbol = "min"
    torch = "torch.minimum({0}, {1})"
    rule_name = "min rule: the smaller argument takes the gradient"
