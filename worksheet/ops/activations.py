"""The activation functions, one class each: σ, relu, softplus, silu, elu, leaky_relu and gelu.

A class holds everything about its operation: the definition (in SymPy's own functions, which
the oracles differentiate), the local derivative in textbook form, the exact values, certified
values (``ball``, in Arb), the values and slopes on plain numbers (fractions, balls, or float64
in training), the kink where its branch changes, the rule's name, its symbol in the graph and
its PyTorch code. ``Activation`` makes the SymPy function from it (``functions.defined``): exact
where it can be, certified decimals, LaTeX, and a derivative SymPy's own ``diff`` uses.

Conventions follow PyTorch: at a kink the derivative is the one of the side ``u ≤ 0``
(``F.leaky_relu``′(0) = a), as PyTorch's backward takes it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy
from flint import arb
from sympy import Expr, Heaviside, Min, S, exp, pi, sqrt

from ..arith import balls, elements
from ..forms import call, difference, product, total
from ..functions import defined, relu, sigmoid, softplus
from . import RULES, Rule, rule


class Activation(Rule):
    """A callable operation that is a SymPy function of its own (``functions.defined`` makes it):
    ``exact(*z)`` is its exact value where there is one (None: left as it is), ``local(i, *u)``
    its partial derivative in the i-th argument in textbook form (also SymPy's ``diff`` of it),
    ``definition(*z)`` the same function in SymPy's own functions, ``ball(*u)`` its value on Arb
    balls; a ``kinked`` function's branch is taken from the sign of its first argument:
    ``branch(s, *z)``."""

    kinked: bool = False
    latex: str = ""  # its name in LaTeX: \operatorname{silu}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "op" not in cls.__dict__:
            return
        cls.latex = cls.__dict__.get("latex") or r"\operatorname{%s}" % cls.op.replace("_", r"\_")
        cls.function = defined(cls.op, cls())

    def form(self, *u: Expr) -> Expr:
        return call(self.function, *u)

    def exact(self, *z: Expr) -> Expr | None:
        return None

    def definition(self, *z: Expr) -> Expr:
        raise NotImplementedError

    def ball(self, *u: arb) -> arb:
        raise NotImplementedError

    def branch(self, s: int, *z: Expr) -> Expr:
        raise NotImplementedError


# ── the standard normal distribution (gelu's parts; Φ(z) and φ(z) in formulas and answers) ─

SQRT2, SQRT_2PI = math.sqrt(2), math.sqrt(2 * math.pi)


@rule
class NormalCdf(Activation):
    """v = Φ(u) = (1 + erf(u/√2))/2, the standard normal distribution function (``normal_cdf``,
    or ``Φ(u)``, ``Phi(u)`` as gelu′ is printed);   ∂v/∂u = φ(u).
    Computed as erfc(−u/√2)/2, which keeps its digits for u ≪ 0."""

    op, title, latex = "normal_cdf", "standard normal distribution function", r"\Phi"
    symbol = "Φ"
    torch = "torch.special.ndtr({0})"
    rule_name = "chain rule, Φ′ = φ"

    def exact(self, z):
        return S.Half if z.is_zero else None

    def local(self, i, z):
        return call(NormalPdf.function, z)

    def definition(self, z):
        return (1 + sympy.erf(z / sqrt(2))) / 2

    def ball(self, u):
        return (-u / arb(2).sqrt()).erfc() / 2

    def value(self, u):
        if isinstance(u, float):
            return math.erfc(-u / SQRT2) / 2
        return Fraction(1, 2) if u == 0 else elements._ball(self.ball, u, self.function)

    def slope(self, i, u):
        return DENSITY.value(u)


@rule
class NormalPdf(Activation):
    """v = φ(u) = e^(−u²/2)/√(2π), the standard normal density (``normal_pdf``, or ``φ(u)``,
    ``phi(u)``);   ∂v/∂u = −u·φ(u)."""

    op, title, latex = "normal_pdf", "standard normal density", r"\varphi"
    symbol = "φ"
    torch = "torch.exp(-({0}) ** 2 / 2) / (2 * torch.pi) ** 0.5"
    rule_name = "chain rule, φ′(u) = −u·φ(u)"

    def exact(self, z):
        return 1 / sqrt(2 * pi) if z.is_zero else None

    def local(self, i, z):
        return product(-1, z, call(NormalPdf.function, z))

    def definition(self, z):
        return exp(-z**2 / 2) / sqrt(2 * pi)

    def ball(self, u):
        return (-u * u / 2).exp() / (2 * arb.pi()).sqrt()

    def value(self, u):
        if isinstance(u, float):
            return elements.finite(lambda x: math.exp(-x * x / 2), u) / SQRT_2PI
        return elements._ball(self.ball, u, self.function)

    def slope(self, i, u):
        return -u * self.value(u)


PHI, DENSITY = RULES["normal_cdf"], RULES["normal_pdf"]


# ── the activations ──────────────────────────────────────────────────────────────────────

@rule
class Sigmoid(Rule):
    """v = σ(u) = 1/(1 + e^(−u));   ∂v/∂u = σ(u)(1 − σ(u))."""

    op, title = "sigmoid", "sigmoid"
    symbol = "σ"
    torch = "torch.sigmoid({0})"
    rule_name = "chain rule, σ′(u) = σ(u)(1 − σ(u))"

    def form(self, u):
        return call(sigmoid, u)

    def local(self, i, u):
        return product(call(sigmoid, u), difference(1, call(sigmoid, u)))

    def value(self, u):
        return Fraction(1, 2) if u == 0 else elements.sigmoid(u)

    def slope(self, i, u):
        return self.value(u) * self.value(-u)  # σ(u)(1 − σ(u)), with no cancellation


@rule
class Relu(Rule):
    """v = relu(u) = max(u, 0);   ∂v/∂u = [u > 0]   (0 at u = 0, as in PyTorch)."""

    op, title = "relu", "ReLU"
    symbol = "relu"
    torch = "torch.relu({0})"
    rule_name = "chain rule, relu′(u) = 1 for u > 0, else 0"

    def form(self, u):
        return call(relu, u)

    def local(self, i, u):
        return Heaviside(u, 0, evaluate=False)

    def value(self, u):
        return u if u > 0 else 0

    def slope(self, i, u):
        return 1 if u > 0 else 0


@rule
class Softplus(Rule):
    """v = softplus(u) = ln(1 + e^u);   ∂v/∂u = σ(u)."""

    op, title = "softplus", "softplus"
    symbol = "softplus"
    torch = "F.softplus({0})"
    rule_name = "chain rule, softplus′ = σ"

    def form(self, u):
        return call(softplus, u)

    def local(self, i, u):
        return call(sigmoid, u)

    def value(self, u):
        return elements.softplus(u)

    def slope(self, i, u):
        return RULES["sigmoid"].value(u)


class Gated(Activation):
    """v = u·g(u), the input scaled by a gate g with values in (0, 1) (σ for silu, Φ for gelu):
    0 at 0, exactly; ``gate`` is g on plain numbers, ``gate_ball`` on balls."""

    def exact(self, z):
        return S.Zero if z.is_zero else None

    def ball(self, u):
        return u * self.gate_ball(u)

    def value(self, u):
        return 0 if u == 0 else u * self.gate(u)


@rule
class Silu(Gated):
    """v = silu(u) = u·σ(u) (the swish, PyTorch's ``F.silu``);   ∂v/∂u = σ(u)(1 + u(1 − σ(u)))."""

    op, title = "silu", "SiLU"
    symbol = "silu"
    torch = "F.silu({0})"
    rule_name = "chain rule, silu′(u) = σ(u)(1 + u(1 − σ(u)))"

    def local(self, i, u):
        s = call(sigmoid, u)
        return product(s, total(1, product(u, difference(1, s))))

    def definition(self, z):
        return z / (1 + exp(-z))

    def gate(self, u):
        return RULES["sigmoid"].value(u)

    def gate_ball(self, u):
        return balls.sigmoid(u)

    def slope(self, i, u):
        return self.gate(u) * (1 + u * self.gate(-u))  # 1 − σ(u) = σ(−u): no cancellation


@rule
class Elu(Activation):
    """v = elu(u) = u for u > 0, e^u − 1 otherwise (α = 1, PyTorch's ``F.elu``);
    ∂v/∂u = e^min(u, 0)   (1 for u > 0, e^u otherwise: 1 on both sides of 0)."""

    op, title = "elu", "ELU"
    symbol = "elu"
    torch = "F.elu({0})"
    rule_name = "chain rule, elu′(u) = 1 for u > 0, else e^u"
    kinked = True

    def exact(self, z):
        return z if z.is_extended_nonnegative else None

    def branch(self, s, z):
        return z if s >= 0 else call(self.function, z)  # e^z − 1 is left for the balls

    def local(self, i, u):
        return call(exp, Min(u, 0, evaluate=False))

    def definition(self, z):
        return sympy.Piecewise((z, z > 0), (exp(z) - 1, True))

    def ball(self, u):
        return u if balls.sign_of(u) >= 0 else u.expm1()

    def value(self, u):
        if u >= 0:
            return u
        if isinstance(u, float):
            return math.expm1(u)
        return elements._ball(arb.expm1, u, self.function)

    def slope(self, i, u):
        return 1 if u > 0 else RULES["exp"].value(u)


@rule
class LeakyRelu(Activation):
    """v = leaky_relu(u, a) = u for u > 0, a·u otherwise (PyTorch's ``F.leaky_relu(u, a)``,
    a the negative slope);   ∂v/∂u = a + (1 − a)[u > 0]   (a at u = 0, as in PyTorch),
    ∂v/∂a = min(u, 0)."""

    op, title, arity = "leaky_relu", "leaky ReLU", 2
    symbol = "lrelu"
    rule_name = "chain rule, leaky_relu′(u) = 1 for u > 0, else a"
    kinked = True

    def torch_code(self, code, numbers, shapes):
        u, a = code
        if numbers[1]:  # PyTorch's own, with a number for the slope
            return f"F.leaky_relu({f'torch.tensor({u})' if numbers[0] else u}, {a})"
        return f"torch.where({u} > 0, {u}, {a} * {u})"  # a slope with a gradient of its own

    def exact(self, z, a):
        if z.is_extended_nonnegative:
            return z
        if z.is_extended_negative:
            return a * z
        return None

    def branch(self, s, z, a):
        return z if s >= 0 else a * z

    def local(self, i, u, a):
        if i == 1:
            return Min(u, 0, evaluate=False)
        return total(a, product(difference(1, a), Heaviside(u, 0, evaluate=False)))

    def definition(self, z, a):
        return sympy.Piecewise((z, z > 0), (a * z, True))

    def ball(self, u, a):
        return u if balls.sign_of(u) > 0 else a * u

    def value(self, u, a):
        return u if u > 0 else a * u

    def slope(self, i, u, a):
        if i == 1:
            return 0 if u > 0 else u
        return 1 if u > 0 else a


@rule
class Gelu(Gated):
    """v = gelu(u) = u·Φ(u), Φ the standard normal distribution function (the exact erf form,
    PyTorch's ``F.gelu``);   ∂v/∂u = Φ(u) + u·φ(u), φ = Φ′ the standard normal density."""

    op, title = "gelu", "GELU"
    symbol = "gelu"
    torch = "F.gelu({0})"
    rule_name = "product rule, gelu′(u) = Φ(u) + u·φ(u)"

    def local(self, i, u):
        return total(call(PHI.function, u), product(u, call(DENSITY.function, u)))

    def definition(self, z):
        return z * (1 + sympy.erf(z / sqrt(2))) / 2

    def gate(self, u):
        return PHI.value(u)

    def gate_ball(self, u):
        return PHI.ball(u)

    def slope(self, i, u):
        if u == 0:
            return 0.5 if isinstance(u, float) else Fraction(1, 2)
        return PHI.value(u) + u * DENSITY.value(u)
