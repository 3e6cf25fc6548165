"""The operators: + − × ÷ ^, negation, a copy, stop_gradient, and the sum of several outputs."""

from __future__ import annotations

from sympy import Add, Mul, Pow, S, log

from ..arith import OutsideDomain, elements
from ..forms import call, negate, power, product, total
from ..functions import stop_gradient
from . import Rule, nonzero, rule


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
