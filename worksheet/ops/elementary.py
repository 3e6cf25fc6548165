"""The elementary functions: exp, ln, √, the trigonometric and the hyperbolic functions."""

from __future__ import annotations

from sympy import Pow, S, cos, cosh, exp, log, sin, sinh, tan, tanh

from ..arith import OutsideDomain, elements
from ..forms import call, difference, negate, power, product, total
from . import Rule, rule


@rule
class Exp(Rule):
    """v = e^u;   ∂v/∂u = e^u."""

    op, title = "exp", "exponential"
    symbol = "exp"
    torch = "torch.exp({0})"
    rule_name = "chain rule, exp′ = exp"

    def form(self, u):
        return call(exp, u)

    def local(self, i, u):
        return call(exp, u)

    def value(self, u):
        return 1 if u == 0 else elements.exp(u)

    def slope(self, i, u):
        return self.value(u)


@rule
class Log(Rule):
    """v = ln u;   ∂v/∂u = 1/u.   Defined for u > 0."""

    op, title = "log", "natural logarithm"
    symbol = "ln"
    torch = "torch.log({0})"
    rule_name = "chain rule, ln′(u) = 1/u"
    domain = "log needs a positive argument"

    def form(self, u):
        return call(log, u)

    def local(self, i, u):
        return power(u, -1)

    def value(self, u):
        if u <= 0:
            raise OutsideDomain(self.domain)
        return 0 if u == 1 else elements.log(u)

    def slope(self, i, u):
        if u <= 0:
            raise OutsideDomain(self.domain)
        return 1 / u


@rule
class Sqrt(Rule):
    """v = √u;   ∂v/∂u = 1/(2√u).   Defined for u ≥ 0; differentiable for u > 0."""

    op, title = "sqrt", "square root"
    symbol = "√"
    torch = "torch.sqrt({0})"
    rule_name = "chain rule, √′(u) = 1/(2√u)"
    domain = "sqrt needs a non-negative argument"

    def form(self, u):
        return Pow(u, S.Half, evaluate=False)

    def local(self, i, u):
        return power(product(2, Pow(u, S.Half, evaluate=False)), -1)

    def value(self, u):
        if u < 0:
            raise OutsideDomain(self.domain)
        return elements.sqrt(u)

    def slope(self, i, u):
        if u <= 0:
            raise OutsideDomain("the square root has no derivative at 0")
        return 1 / (2 * elements.sqrt(u))


@rule
class Sin(Rule):
    """v = sin u;   ∂v/∂u = cos u."""

    op, title = "sin", "sine"
    symbol = "sin"
    torch = "torch.sin({0})"
    rule_name = "chain rule, sin′ = cos"

    def form(self, u):
        return call(sin, u)

    def local(self, i, u):
        return call(cos, u)

    def value(self, u):
        return 0 if u == 0 else elements.sin(u)

    def slope(self, i, u):
        return 1 if u == 0 else elements.cos(u)


@rule
class Cos(Rule):
    """v = cos u;   ∂v/∂u = −sin u."""

    op, title = "cos", "cosine"
    symbol = "cos"
    torch = "torch.cos({0})"
    rule_name = "chain rule, cos′ = −sin"

    def form(self, u):
        return call(cos, u)

    def local(self, i, u):
        return negate(call(sin, u))

    def value(self, u):
        return 1 if u == 0 else elements.cos(u)

    def slope(self, i, u):
        return 0 if u == 0 else -elements.sin(u)


@rule
class Tan(Rule):
    """v = tan u;   ∂v/∂u = 1 + tan²u   (= sec²u)."""

    op, title = "tan", "tangent"
    symbol = "tan"
    torch = "torch.tan({0})"
    rule_name = "chain rule, tan′ = 1 + tan²"

    def form(self, u):
        return call(tan, u)

    def local(self, i, u):
        return total(1, power(call(tan, u), 2))

    def value(self, u):
        return 0 if u == 0 else elements.tan(u)

    def slope(self, i, u):
        return 1 + self.value(u) ** 2


@rule
class Sinh(Rule):
    """v = sinh u;   ∂v/∂u = cosh u."""

    op, title = "sinh", "hyperbolic sine"
    symbol = "sinh"
    torch = "torch.sinh({0})"
    rule_name = "chain rule, sinh′ = cosh"

    def form(self, u):
        return call(sinh, u)

    def local(self, i, u):
        return call(cosh, u)

    def value(self, u):
        return 0 if u == 0 else elements.sinh(u)

    def slope(self, i, u):
        return 1 if u == 0 else elements.cosh(u)


@rule
class Cosh(Rule):
    """v = cosh u;   ∂v/∂u = sinh u."""

    op, title = "cosh", "hyperbolic cosine"
    symbol = "cosh"
    torch = "torch.cosh({0})"
    rule_name = "chain rule, cosh′ = sinh"

    def form(self, u):
        return call(cosh, u)

    def local(self, i, u):
        return call(sinh, u)

    def value(self, u):
        return 1 if u == 0 else elements.cosh(u)

    def slope(self, i, u):
        return 0 if u == 0 else elements.sinh(u)


@rule
class Tanh(Rule):
    """v = tanh u;   ∂v/∂u = 1 − tanh²u."""

    op, title = "tanh", "hyperbolic tangent"
    symbol = "tanh"
    torch = "torch.tanh({0})"
    rule_name = "chain rule, tanh′ = 1 − tanh²"

    def form(self, u):
        return call(tanh, u)

    def local(self, i, u):
        return difference(1, power(call(tanh, u), 2))

    def value(self, u):
        return 0 if u == 0 else elements.tanh(u)

    def slope(self, i, u):
        return 1 - self.value(u) ** 2
