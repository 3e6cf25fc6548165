"""The numbers in a tensor: exact ``Fraction``s, certified ``Ball``s, or float64 (training).

A model's worksheet computes its elements exactly while they stay fractions, and as balls
(python-flint's Arb at the working precision ``balls.working`` sets) once a transcendental
function is involved: each element then carries a guaranteed enclosure, and the tensor trace
is computed again with more bits until every element it prints is certified (``tensor_trace``).
``worksheet train`` computes in float64, as the frameworks do: a float in gives a float out.

The functions here (``exp``, ``log``, ``sigmoid``, …) take any of the three and return the same
kind (a fraction gives a ball, unless the value is exact: exp(0) = 1 is for the rules to say).
A ball's comparison is certain or raises ``Imprecise`` (a kink the precision cannot decide).
"""

from __future__ import annotations

import math
import operator
from fractions import Fraction

import sympy
from flint import arb, arb_mat, fmpq, fmpz
from mpmath.libmp import to_str

from .. import functions
from ..limits import MAX_EXACT_OPS
from . import balls
from .errors import Imprecise, OutsideDomain, TooLarge
from ..lazy import lazy

np = lazy("numpy")

DOUBLE_OVERFLOW = "a value beyond the largest double (about 1.8e308)"


class Ball:
    """A real number known to lie in ``arb``'s interval; arithmetic with ints, fractions,
    floats and balls, each result a ball that holds every possible result.

    While a ball comes from exact numbers by at most MAX_EXACT_OPS operations it also keeps its
    closed form (``exact``: ``tanh(1/2)``, a SymPy expression), so that what is exactly 0 or a
    fraction becomes one again (``z − mean(z)`` of one element, ``log(softmax(z))`` of one class):
    a ball alone could only say that it lies within 10^−4,932 of 0."""

    __slots__ = ("arb", "exact", "ops")  # exact: None, a SymPy expression, or a recipe (see closed_form)

    def __init__(self, value: arb, exact=None, ops: int = 0):
        if not value.is_finite():
            raise Imprecise
        self.arb, self.exact, self.ops = value, exact, ops

    # ── arithmetic ──
    def __add__(self, other):
        return _combined(operator.add, self, other, self.arb + to_arb(other))

    def __radd__(self, other):
        return _combined(operator.add, other, self, to_arb(other) + self.arb)

    def __sub__(self, other):
        return _combined(operator.sub, self, other, self.arb - to_arb(other))

    def __rsub__(self, other):
        return _combined(operator.sub, other, self, to_arb(other) - self.arb)

    def __mul__(self, other):
        return _combined(operator.mul, self, other, self.arb * to_arb(other))

    def __rmul__(self, other):
        return _combined(operator.mul, other, self, to_arb(other) * self.arb)

    def __truediv__(self, other):
        divisor = to_arb(other)
        balls.nonzero(divisor)
        return _combined(operator.truediv, self, other, self.arb / divisor)

    def __rtruediv__(self, other):
        balls.nonzero(self.arb)
        return _combined(operator.truediv, other, self, to_arb(other) / self.arb)

    def __pow__(self, exponent):
        return power(self, exponent)

    def __rpow__(self, base):
        return power(base, self)

    def __neg__(self):
        return Ball(-self.arb, None if self.exact is None else (operator.neg, self), self.ops)

    def __pos__(self):
        return self

    def __abs__(self):
        return Ball(abs(self.arb), None if self.exact is None else (abs, self), self.ops + 1)

    # ── comparisons: certain, or Imprecise ──
    def _sign_of_difference(self, other) -> int:
        return balls.sign_of(self.arb - to_arb(other))

    def __gt__(self, other):
        return self._sign_of_difference(other) > 0

    def __lt__(self, other):
        return self._sign_of_difference(other) < 0

    def __ge__(self, other):
        return self._sign_of_difference(other) >= 0

    def __le__(self, other):
        return self._sign_of_difference(other) <= 0

    def __eq__(self, other):
        """Equal for certain (the same closed form, or an exact difference of 0): otherwise
        False, never an undecided True."""
        if other is self:
            return True
        if not isinstance(other, (Ball, int, Fraction, float)):
            return NotImplemented
        difference = self.arb - to_arb(other)
        if 0 not in difference:
            return False  # certainly apart: no closed form is asked for (u == 0 in every rule)
        mine, theirs = closed_form(self), closed_form(other)
        if mine is not None and theirs is not None and mine == theirs:
            return True
        return difference.is_zero()

    __hash__ = None

    def __bool__(self):
        return balls.sign_of(self.arb) != 0

    def __float__(self):
        if self.cancelled:
            return 0.0
        value = float(self.arb.mid())
        return value if math.isfinite(value) else math.copysign(math.inf, value)

    @property
    def cancelled(self) -> bool:
        """A ball around 0 that is not certified: a cancellation to 0 (``tensor_trace`` counts it as
        0 once it is narrow enough), printed 0."""
        return 0 in self.arb and not self.accurate(8)

    def __repr__(self):
        return f"Ball({self.text(17)})"

    # ── what is printed ──
    def accurate(self, bits: int) -> bool:
        return self.arb.is_zero() or self.arb.rel_accuracy_bits() >= bits

    def text(self, digits: int, **fixed) -> str:
        """The midpoint to ``digits`` significant digits (certified once ``accurate``)."""
        if self.arb.is_zero() or self.cancelled:
            return "0"
        if not fixed:
            return self.arb.str(digits, radius=False)  # Arb's own printing: the same digits, 3× faster
        return to_str(self.arb.mid()._mpf_, digits, **fixed)


def closed_form(x):
    """The exact value of a fraction, an int or a ball that keeps one (None: a float, or a
    ball past MAX_EXACT_OPS). A ball keeps it as a recipe, (operation, arguments), until it is
    asked for: SymPy's cost is paid only where an exact 0 or an equality is in question."""
    if isinstance(x, Ball):
        if isinstance(x.exact, tuple):
            operation, *args = x.exact
            x.exact = operation(*(closed_form(a) for a in args))
        return x.exact
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    if isinstance(x, int):
        return sympy.Integer(x)
    return None


def _has_form(x) -> bool:
    return isinstance(x, (Fraction, int)) or (isinstance(x, Ball) and x.exact is not None)


def _operations(x) -> int:
    return x.ops if isinstance(x, Ball) else 0


def _combined(op, a, b, value: arb):
    """The ball of ``op(a, b)`` (``value``), with its closed form while it is short; a closed
    form that SymPy finds rational is the fraction itself."""
    if (isinstance(a, Ball) and a.exact is None) or (isinstance(b, Ball) and b.exact is None):
        return Ball(value)  # the common case, past the first layer: no closed form to keep
    ops = _operations(a) + _operations(b) + 1
    if ops > MAX_EXACT_OPS or not (_has_form(a) and _has_form(b)):
        return Ball(value)
    if 0 in value:  # it may be exactly 0 (or a fraction): the closed forms decide
        return _exactly(op(closed_form(a), closed_form(b)), value, ops)
    return Ball(value, (op, a, b), ops)


def _exactly(exact, value: arb, ops: int):
    if exact.is_Rational:
        return Fraction(int(exact.p), int(exact.q))
    if exact.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
        return Ball(value)
    return Ball(value, exact, ops)


def to_arb(x) -> arb:
    if isinstance(x, Ball):
        return x.arb
    if isinstance(x, Fraction):
        return arb(fmpq(x.numerator, x.denominator))
    if isinstance(x, int):
        return arb(fmpz(x))
    if isinstance(x, float):
        return arb(x)
    raise TypeError(f"not a number: {x!r}")


def _ball(function, u, symbolic=None) -> Ball:
    """``function`` of a fraction or a ball, as a ball (with ``symbolic`` of the closed form)."""
    value = function(to_arb(u))
    ops = _operations(u) + 1
    if symbolic is None or ops > MAX_EXACT_OPS or not _has_form(u):
        return Ball(value)
    if 0 in value:
        return _exactly(symbolic(closed_form(u)), value, ops)
    return Ball(value, (symbolic, u), ops)


def finite(function, u: float) -> float:
    try:
        return function(u)
    except OverflowError:
        raise TooLarge(DOUBLE_OVERFLOW) from None


# ── functions: a float gives a float (math), anything else a ball ───────────────────────

def exp(u):
    return finite(math.exp, u) if isinstance(u, float) else _ball(balls.exp, u, sympy.exp)


def log(u):
    if u <= 0:
        raise OutsideDomain("log needs a positive argument")
    return math.log(u) if isinstance(u, float) else _ball(balls.log, u, sympy.log)


def sqrt(u):
    """√u: exact when u is the square of a fraction."""
    if u < 0:
        raise OutsideDomain("sqrt needs a non-negative argument")
    if isinstance(u, float):
        return math.sqrt(u)
    if isinstance(u, (int, Fraction)):
        u = Fraction(u)
        p, q = math.isqrt(u.numerator), math.isqrt(u.denominator)
        if p * p == u.numerator and q * q == u.denominator:
            return Fraction(p, q)
    return _ball(arb.sqrt, u, sympy.sqrt)


def sin(u):
    return math.sin(u) if isinstance(u, float) else _ball(arb.sin, u, sympy.sin)


def cos(u):
    return math.cos(u) if isinstance(u, float) else _ball(arb.cos, u, sympy.cos)


def tan(u):
    return math.tan(u) if isinstance(u, float) else _ball(balls.tan, u, sympy.tan)


def sinh(u):
    return finite(math.sinh, u) if isinstance(u, float) else _ball(balls.hyperbolic("sinh"), u, sympy.sinh)


def cosh(u):
    return finite(math.cosh, u) if isinstance(u, float) else _ball(balls.hyperbolic("cosh"), u, sympy.cosh)


def tanh(u):
    return math.tanh(u) if isinstance(u, float) else _ball(balls.tanh, u, sympy.tanh)


def sigmoid(u):
    if isinstance(u, float):
        if u >= 0:
            return 1 / (1 + math.exp(-u))
        return math.exp(u) / (1 + math.exp(u))
    return _ball(balls.sigmoid, u, functions.sigmoid)


def softplus(u):
    """ln(1 + e^u), without overflow or a lost tiny e^u."""
    if isinstance(u, float):
        return max(u, 0) + math.log1p(math.exp(-abs(u)))
    return _ball(balls.softplus, u, functions.softplus)


def log1p_exp_minus_abs(z):
    """ln(1 + e^(−|z|)) (the tail of a cross-entropy with logits)."""
    if isinstance(z, float):
        return math.log1p(math.exp(-abs(z)))
    return _ball(lambda b: balls.softplus(-abs(b)), z, lambda e: functions.softplus(-abs(e)))


def power(u, w):
    """u^w: exact for a fraction to an integer power of at most 64 (or a base 0, ±1); a ball or
    a float otherwise; a negative base needs an integer exponent, and 0 a positive one."""
    if u == 0 and w < 0 or u < 0 and not is_integer(w):
        raise OutsideDomain("a negative base needs an integer exponent, and 0 a non-negative one")
    if is_integer(w) and not isinstance(u, Ball) and (abs(w) <= 64 or u in (0, 1, -1)):
        return u ** int(w)  # exact for fractions, a float for floats
    if isinstance(u, float) or isinstance(w, float):
        return finite(lambda b: math.pow(b, float(w)), float(u))
    if is_integer(w):
        balls.bounded_power(to_arb(u), int(w))
        return _combined(operator.pow, u, int(w), to_arb(u) ** int(w))
    if u == 0:
        return Fraction(0)
    return _combined(operator.pow, u, w, balls.exp(to_arb(w) * balls.log(to_arb(u))))


def is_integer(w) -> bool:
    if isinstance(w, Ball):
        return False  # a computed exponent: an integer only by coincidence, and never certainly
    return w == int(w)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NumPy's matmul of object arrays (vectors or matrices); a product of balls whose inner
    size is past what a closed form could keep (2k − 1 operations per sum) is Arb's own matrix
    product, in C: the same enclosures, without a Python call per product and sum."""
    inner = a.shape[-1]
    kinds = _kinds(a, b)
    if inner <= MAX_EXACT_OPS // 2 or Ball not in kinds or float in kinds:
        return np.matmul(a, b)
    return _arb_product(a.reshape(-1, inner), b.reshape(inner, -1), a.shape[:-1] + b.shape[1:])


def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """NumPy's outer product; when one side is balls without closed forms (so no product keeps
    one), Arb's matrix product of a column and a row."""
    if not (_formless(a) or _formless(b)) or float in _kinds(a, b):
        return np.outer(a, b)
    return _arb_product(a.reshape(-1, 1), b.reshape(1, -1), (a.size, b.size))


def _arb_product(rows: np.ndarray, columns: np.ndarray, shape: tuple) -> np.ndarray:
    product = arb_mat(*rows.shape, [to_arb(x) for x in rows.flat]) * arb_mat(
        *columns.shape, [to_arb(x) for x in columns.flat])
    out = np.empty(product.nrows() * product.ncols(), dtype=object)
    out[:] = [Ball(x) for x in product.entries()]
    return out.reshape(shape)


def _kinds(*arrays: np.ndarray) -> set[type]:
    return {type(x) for a in arrays for x in a.flat}


def _formless(a: np.ndarray) -> bool:
    return all(type(x) is Ball and x.exact is None for x in a.flat)


def magnitude_checked(x):
    """A ball whose size is beyond 10^±MAX_DIGITS is refused (as a scalar value is). Within a
    double's range (nearly always) there is nothing to test."""
    if isinstance(x, Ball) and not 1e-300 < abs(float(x.arb)) < 1e300:
        from .real import check_magnitude

        check_magnitude(x.arb)
    return x


__all__ = ["Ball", "cos", "cosh", "exp", "finite", "is_integer", "log", "log1p_exp_minus_abs", "matmul", "outer", "power",
           "sigmoid", "sin", "sinh", "softplus", "sqrt", "tan", "tanh", "to_arb"]
