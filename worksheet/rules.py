"""One rule per operation: what the node computes and its local derivatives.

A rule never evaluates or prints. ``form(*args)`` is the node's definition and
``local(i, *args)`` is ∂node/∂args[i] in textbook form (σ(z)(1 − σ(z)), 1 − tanh²z), both
built from the node's arguments: symbols of earlier nodes, or numbers. The tracer turns
these forms into values; the renderers print them.

Conventions follow PyTorch: relu′(0) = 0, |·|′(0) = 0, and max/min split the gradient
evenly between two equal arguments.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from sympy import Expr, Heaviside, Max, Min, Rational, S, cos, cosh, exp, log, sign, sin, sinh, tan, tanh
from sympy import Add, Mul, Pow

from .forms import call, difference, negate, power, product, total
from .functions import relu, sigmoid, softplus, stop_gradient
from .arith import OutsideDomain, elements


class Rule:
    """An operation of the formula language.

    ``value(*xs)`` and ``slope(i, *xs)`` are the same operation and derivative on plain
    numbers (exact ``Fraction``s, certified ``Ball``s once a transcendental function is
    involved, or floats in training: ``arith.elements``), for tensors, where each element is
    computed on its own.
    """

    op: str  # the node's op in JSON and in the graph ("mul", "sigmoid", …)
    title: str  # what a reader calls it ("multiply")
    arity: int = 1
    callable: bool = True  # written f(x) in formulas (operators are not)
    domain: str = "not a real number"  # why a value can be undefined, for error messages
    stops_gradient: bool = False  # no gradient flows back through it (stop_gradient)
    tensor: bool = False  # a tensor operation (@, sum, a loss): tensor_rules.py
    rule_name: str = ""  # the differentiation rule behind ``local`` (--detail full): "quotient rule"
    symbol: str = ""  # drawn in the graph's circle (figure.py): "×", "σ", "@"
    torch: str = ""  # the PyTorch code, over its arguments' code (--format torch): "torch.exp({0})"
    torch_tensors: tuple[int, ...] = ()  # arguments PyTorch needs as tensors even when they are numbers

    def rule_of(self, i: int, *args: Expr) -> str:
        """The rule that gives ∂node/∂args[i], as a calculus textbook names it ("" for none)."""
        return self.rule_name

    def torch_code(self, code: list[str], numbers: list[bool], shapes: list[tuple]) -> str:
        """The PyTorch expression of the node from its arguments' ``code`` (``numbers``: which
        are number literals; ``shapes``: the arguments' shapes)."""
        code = [f"torch.tensor({c})" if is_number and i in self.torch_tensors else c
                for i, (c, is_number) in enumerate(zip(code, numbers))]
        return self.torch.format(*code)

    def form(self, *args: Expr) -> Expr:
        raise NotImplementedError

    def local(self, i: int, *args: Expr) -> Expr:
        raise NotImplementedError

    def value(self, *xs):
        raise NotImplementedError

    def slope(self, i: int, *xs):
        raise NotImplementedError

    def local_value(self, i: int, *values: Expr) -> Expr | None:
        """The value of ∂node/∂args[i] where evaluating ``local`` would not give the limit."""
        return None


RULES: dict[str, Rule] = {}


def rule(cls: type[Rule]) -> type[Rule]:
    RULES[cls.op] = cls()
    return cls


# ── numbers: the helpers of value() and slope() ──────────────────────────────────────────

def nonzero(w):
    if w == 0:
        raise OutsideDomain("division by zero")
    return w


# ── operators ──────────────────────────────────────────────────────────────────────────

@rule
class Add_(Rule):
    """v = u + w;   ∂v/∂u = 1,   ∂v/∂w = 1."""

    op, title, arity, callable = "add", "add", 2, False
    symbol = "+"
    torch = "{0} + {1}"
    rule_name = "sum rule"

    def form(self, u, w):
        return Add(u, w, evaluate=False)

    def local(self, i, u, w):
        return S.One

    def value(self, u, w):
        return u + w

    def slope(self, i, u, w):
        return 1


@rule
class Sub(Rule):
    """v = u − w;   ∂v/∂u = 1,   ∂v/∂w = −1."""

    op, title, arity, callable = "sub", "subtract", 2, False
    symbol = "−"
    torch = "{0} - {1}"
    rule_name = "difference rule"

    def form(self, u, w):
        return Add(u, negate(w), evaluate=False)

    def local(self, i, u, w):
        return S.One if i == 0 else S.NegativeOne

    def value(self, u, w):
        return u - w

    def slope(self, i, u, w):
        return 1 if i == 0 else -1


@rule
class Mul_(Rule):
    """v = u·w;   ∂v/∂u = w,   ∂v/∂w = u   (constant multiple rule: in a partial derivative the
    other factor is held fixed; the product rule appears where one value feeds both factors, as
    the sum of the two paths)."""

    op, title, arity, callable = "mul", "multiply", 2, False
    symbol = "×"
    torch = "{0} * {1}"

    def form(self, u, w):
        return Mul(u, w, evaluate=False)

    def local(self, i, u, w):
        return w if i == 0 else u

    rule_name = "constant multiple rule"

    def value(self, u, w):
        return u * w

    def slope(self, i, u, w):
        return w if i == 0 else u


@rule
class Div(Rule):
    """v = u / w;   ∂v/∂u = 1/w   (constant multiple rule: w is held fixed),
    ∂v/∂w = −u/w²   (quotient rule)."""

    op, title, arity, callable = "div", "divide", 2, False
    symbol = "÷"
    torch = "{0} / {1}"
    domain = "division by zero"

    def form(self, u, w):
        return Mul(u, Pow(w, -1, evaluate=False), evaluate=False)

    def local(self, i, u, w):
        return power(w, -1) if i == 0 else product(-1, u, power(w, -2))

    def rule_of(self, i, u, w):
        return "constant multiple rule" if i == 0 else "quotient rule"

    def value(self, u, w):
        return u / nonzero(w)

    def slope(self, i, u, w):
        return 1 / nonzero(w) if i == 0 else -u / nonzero(w) ** 2


@rule
class Pow_(Rule):
    """v = u^w;   ∂v/∂u = w·u^(w−1)   (power rule),   ∂v/∂w = u^w·ln u   (exponential rule).

    At u = 0 with w > 0, ∂v/∂w is the limit 0 (as PyTorch has it), not 0·ln 0.
    """

    op, title, arity, callable = "pow", "power", 2, False
    symbol = "^"
    torch = "{0} ** {1}"
    torch_tensors = (0,)
    domain = "a negative base needs an integer exponent, and 0 a non-negative one"

    def form(self, u, w):
        return Pow(u, w, evaluate=False)

    def local(self, i, u, w):
        if i == 0:
            return product(w, power(u, total(w, -1)))
        ln_u = log(u) if u.is_number else call(log, u)
        return product(power(u, w), ln_u)

    def rule_of(self, i, u, w):
        return "power rule" if i == 0 else "exponential rule"

    def local_value(self, i, u, w):
        if i == 1 and u.is_zero and w.is_positive:
            return S.Zero
        return None

    def value(self, u, w):
        return elements.power(u, w)

    def slope(self, i, u, w):
        if i == 0:
            return w * self.value(u, w - 1)
        if u == 0 and w > 0:
            return 0
        if u <= 0:
            raise OutsideDomain("∂(u^w)/∂w needs a positive base u")
        return self.value(u, w) * elements.log(u)


@rule
class Neg(Rule):
    """v = −u;   ∂v/∂u = −1."""

    op, title, callable = "neg", "negate", False
    symbol = "−"
    torch = "-({0})"
    rule_name = "constant multiple rule"

    def form(self, u):
        return Mul(S.NegativeOne, u, evaluate=False)

    def local(self, i, u):
        return S.NegativeOne

    def value(self, u):
        return -u

    def slope(self, i, u):
        return -1


@rule
class Identity(Rule):
    """v = u   (a new name for a value);   ∂v/∂u = 1."""

    op, title, callable = "id", "copy", False
    symbol = "="
    torch = "{0} * 1"
    rule_name = "identity"

    def form(self, u):
        return u

    def local(self, i, u):
        return S.One

    def value(self, u):
        return u

    def slope(self, i, u):
        return 1


@rule
class StopGradient(Rule):
    """v = stop_gradient(u) = u   (alias ``detach``; PyTorch's ``u.detach()``, MindSpore's
    ``stop_gradient``);   ∂v/∂u is taken to be 0: the value passes forward unchanged and no
    gradient passes back, so ∂L/∂u gets nothing through v.

    The sweep records no step through it (a product with 0 says nothing); the worksheet says
    at the node that the gradient stops there.
    """

    op, title = "stop_gradient", "stop gradient"
    symbol = "sg"
    torch = "{0}.detach()"
    stops_gradient = True

    def form(self, u):
        return call(stop_gradient, u)

    def local(self, i, u):
        return S.Zero

    def value(self, u):
        return u

    def slope(self, i, u):
        return 0


@rule
class Outputs(Rule):
    """L_total = L + z + …, the sum of several outputs of a program (``--target L,z``), each
    reduced by summing its elements when it is a tensor: L_total = L + Σᵢ zᵢ.
    ∂L_total/∂L = 1 and ∂L_total/∂z = 𝟏 (ones of z's shape): every output is seeded with ones,
    and the gradients of the outputs add (MindSpore's ``grad`` of a function returning
    ``(loss, z)``). The graph adds this node itself; a formula cannot call it.
    """

    op, title, arity, callable = "outputs", "sum of the outputs", 2, False
    symbol = "+"
    rule_name = "sum rule"

    def torch_code(self, code, numbers, shapes):
        return " + ".join(f"torch.sum({c})" if shape else c for c, shape in zip(code, shapes))

    def form(self, *args):
        return Add(*args, evaluate=False)

    def local(self, i, *args):
        return S.One

    def value(self, *xs):
        return sum(xs[1:], xs[0])

    def slope(self, i, *xs):
        return 1


# ── functions ──────────────────────────────────────────────────────────────────────────

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


from . import tensor_rules  # noqa: E402,F401  (registers @, .T, sum, mean, the losses)
from . import activations  # noqa: E402,F401  (registers silu, elu, leaky_relu, gelu)
from .vocabulary import ALIASES, FUNCTIONS  # noqa: E402,F401  (the parser's, read without SymPy)

if {r.op: r.arity for r in RULES.values() if r.callable} != FUNCTIONS:  # one list of functions, kept true
    raise ImportError("vocabulary.FUNCTIONS must list exactly the callable rules, with their arities")
