"""An independent oracle for every number of a worksheet: mpmath at 1,000 digits, confirmed at 2,000.

``random_program(rng)`` writes a small program, one operation a line (``v3 = tanh(v2)``), so
that every node of the worksheet's graph is a line of the program and every number the
worksheet prints — each forward value, each local derivative, upstream gradient and product of
the backward pass, each adjoint and each gradient — has a counterpart here, computed by a
forward and a reverse sweep over the same lines in mpmath, with PyTorch's conventions at the
kinks (relu′(0) = 0, |·|′(0) = 0, a tie of max or min splits the gradient). Nothing here uses
the worksheet's code, SymPy's evaluation or its parser: the program is built as data and
written out as text.

``sweep(program, point, digits)`` gives those numbers, or says why there are none: undefined
(log of a negative number, a division by 0: the worksheet must refuse), out of range (a
magnitude beyond 10^±1,000,000: the worksheet must refuse), or unverifiable (beyond what this
oracle computes reliably: the case is not counted).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

MAX_EXPONENT = 1_000_000  # the worksheet's MAX_DIGITS: a magnitude beyond 10^± this is refused
HUGE_ARGUMENT = 2.4e6  # e^u for |u| beyond this is beyond 10^±1,000,000
TRIG_LIMIT = mpmath.mpf(10) ** 300  # sin of a larger argument is not computed here

UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid", "relu",
         "softplus", "abs", "neg"]
BINARY = ["add", "sub", "mul", "div", "max", "min"]
POWERS = ["pow_const", "const_pow"]
EXPONENTS = [2, 3, -1, -2, Fraction(1, 2), Fraction(3, 2)]
BASES = [2, Fraction(1, 2), 3, 10]
CONSTANTS = [2, 3, 10, 100, Fraction(1, 2), Fraction(3, 2), Fraction(1, 10), Fraction(1, 1000), 1000]


class Undefined(ArithmeticError):
    """The program has no value (or no derivative it must compute) at the point."""


class OutOfRange(ArithmeticError):
    """A number beyond 10^±1,000,000 in magnitude."""


class Unverifiable(ArithmeticError):
    """Beyond this oracle (a sine of 10^300, a result that does not confirm)."""


@dataclass(frozen=True)
class Line:
    name: str
    op: str
    args: tuple  # names (str) or constants (Fraction / int)

    def text(self) -> str:
        a = [arg if isinstance(arg, str) else number_text(arg) for arg in self.args]
        symbols = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
        if self.op in symbols:
            return f"{self.name} = {a[0]} {symbols[self.op]} {a[1]}"
        if self.op == "neg":
            return f"{self.name} = -{a[0]}"
        if self.op in ("pow_const", "const_pow"):
            return f"{self.name} = {a[0]} ** {a[1]}"
        return f"{self.name} = {self.op}({', '.join(a)})"


@dataclass(frozen=True)
class Program:
    lines: tuple[Line, ...]
    variables: tuple[str, ...]

    def text(self) -> str:
        return "\n".join(line.text() for line in self.lines) + "\n"

    @property
    def target(self) -> str:
        return self.lines[-1].name


@dataclass
class Numbers:
    """What the worksheet must print: by node, by (node, position) and by variable."""

    values: dict = field(default_factory=dict)
    locals: dict = field(default_factory=dict)
    upstreams: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    adjoints: dict = field(default_factory=dict)
    gradients: dict = field(default_factory=dict)
    zero_within: dict = field(default_factory=dict)  # (table, key) → a bound: 0, or below it in size


def number_text(c) -> str:
    c = Fraction(c)
    if c.denominator == 1:
        return str(c.numerator)
    return format(float(c), "g") if float(c) == c else f"({c.numerator}/{c.denominator})"


# ── programs ─────────────────────────────────────────────────────────────────────────────

def random_program(rng: random.Random, variables=("x", "y")) -> Program:
    variables = tuple(variables[: rng.choice([1, 1, 2])])
    names = list(variables)
    lines = []
    for i in range(rng.randint(1, 6)):
        name = "L" if i == -1 else f"v{i + 1}"
        recent = names[-1] if rng.random() < 0.7 else rng.choice(names)
        kind = rng.random()
        if kind < 0.5:
            op = rng.choice(UNARY)
            args = (recent,)
        elif kind < 0.85:
            op = rng.choice(BINARY)
            other = rng.choice(names) if rng.random() < 0.6 else rng.choice(CONSTANTS)
            args = (recent, other) if rng.random() < 0.5 else (other, recent)
        else:
            op = rng.choice(POWERS)
            args = (recent, rng.choice(EXPONENTS)) if op == "pow_const" else (rng.choice(BASES), recent)
        lines.append(Line(name, op, args))
        names.append(name)
    last = lines[-1]
    lines[-1] = Line("L", last.op, last.args)
    needed = {"L"}  # only the lines the output depends on (the graph has no others)
    for line in reversed(lines):
        if line.name in needed:
            needed.update(a for a in line.args if isinstance(a, str))
    lines = [line for line in lines if line.name in needed]
    used = tuple(v for v in variables if v in needed)
    return Program(tuple(lines), used)


def random_point(rng: random.Random, variables) -> dict[str, Fraction]:
    """Magnitudes from 10⁻³ to 10³ (three significant digits), integers up to 1000, and 0."""
    point = {}
    for v in variables:
        kind = rng.random()
        if kind < 0.05:
            value = Fraction(0)
        elif kind < 0.3:
            value = Fraction(rng.randint(-1000, 1000))
        else:
            exponent = rng.uniform(-3, 3)
            mantissa = rng.randint(100, 999)
            value = Fraction(mantissa) * Fraction(10) ** (math.floor(exponent) - 2)
            value = value if rng.random() < 0.5 else -value
        point[v] = value
    return point


def point_text(point: dict[str, Fraction]) -> str:
    return ",".join(f"{k}={number_text(v) if v >= 0 else '-' + number_text(-v)}" for k, v in point.items())


# ── the oracle ───────────────────────────────────────────────────────────────────────────
#
# Interval arithmetic (mpmath.iv): each number is an interval that holds the true value, so
# that a cancellation or an absorption (1 + e^−8366 at 1,000 digits is 1) shows as a wide
# interval rather than as a wrong digit. A sweep whose intervals are not all narrower than
# 10^−CONFIRMED_DIGITS of their values, or that meets a comparison it cannot decide (a kink,
# a tie), is run again with four times the digits, up to MAX_ORACLE_DIGITS.

CONFIRMED_DIGITS = 60
MAX_ORACLE_DIGITS = 16_000


class NeedMore(ArithmeticError):
    """This precision cannot decide a branch or a domain, or lost the digits."""


def confirmed(program: Program, point, digits: int = 1000) -> Numbers:
    """Every number, each to at least CONFIRMED_DIGITS digits (the midpoint of a narrow
    interval), or 0 within ``Numbers.zero_within`` (an interval around 0 narrower than
    10^−(digits − 100): a cancellation to 0, such as ∂(x/x)/∂x, that no precision separates)."""
    while True:
        iv = mpmath.iv
        saved = iv.dps
        iv.dps = digits
        try:
            numbers = _sweep(program, point)
            if all(_settled(x, digits) for table in _tables(numbers) for x in table.values()):
                return _midpoints(numbers, digits)
        except NeedMore:
            pass
        finally:
            iv.dps = saved
        digits *= 4
        if digits > MAX_ORACLE_DIGITS:
            raise Unverifiable("no precision up to 16,000 digits settles it")


def _tables(numbers: Numbers):
    return [numbers.values, numbers.locals, numbers.upstreams, numbers.products, numbers.adjoints, numbers.gradients]


def _settled(x, digits: int) -> bool:
    if x.a == x.b:
        return True
    if x.a > 0 or x.b < 0:
        return x.delta <= abs(x.mid) * mpmath.iv.mpf(10) ** -CONFIRMED_DIGITS
    return x.delta <= mpmath.iv.mpf(10) ** -(digits - 100)


def _midpoints(numbers: Numbers, digits: int) -> Numbers:
    with mpmath.workdps(digits):
        out = Numbers()
        for name in ("values", "locals", "upstreams", "products", "adjoints", "gradients"):
            table = {}
            for key, x in getattr(numbers, name).items():
                if x.a == x.b or x.a > 0 or x.b < 0:
                    table[key] = mpmath.mpf(x.mid.a)
                else:  # an interval around 0: the value is 0, or smaller than its width
                    table[key] = mpmath.mpf(0)
                    out.zero_within[(name, key)] = mpmath.mpf(x.delta.b)
            setattr(out, name, table)
        return out


def _sweep(program: Program, point) -> Numbers:
    iv = mpmath.iv
    out = Numbers()
    values = {name: iv.mpf(v.numerator) / v.denominator for name, v in point.items()}
    out.values.update(values)
    for line in program.lines:
        args = [values[a] if isinstance(a, str) else _iv(a) for a in line.args]
        same = len(line.args) == 2 and line.args[0] == line.args[1]
        values[line.name] = _ranged(_value(line.op, args, same))
        out.values[line.name] = values[line.name]
    depends = set(program.variables)
    for line in program.lines:
        if any(isinstance(a, str) and a in depends for a in line.args):
            depends.add(line.name)
    zero = iv.mpf(0)
    if program.target not in depends:
        out.gradients = {v: zero for v in program.variables}
        return out
    adjoint = {program.target: iv.mpf(1)}
    for line in reversed(program.lines):
        if line.name not in adjoint:
            continue
        out.adjoints[line.name] = adjoint[line.name]
        args = [values[a] if isinstance(a, str) else _iv(a) for a in line.args]
        same = len(line.args) == 2 and line.args[0] == line.args[1]
        for i, a in enumerate(line.args):
            if not (isinstance(a, str) and a in depends):
                continue
            local = _ranged(_local(line.op, i, args, values[line.name], same))
            product = _ranged(adjoint[line.name] * local)
            key = (line.name, i)
            out.locals[key], out.upstreams[key], out.products[key] = local, adjoint[line.name], product
            adjoint[a] = _ranged(adjoint[a] + product if a in adjoint else product)
    for v in program.variables:
        if v in adjoint:
            out.adjoints[v] = adjoint[v]
    out.gradients = {v: adjoint.get(v, zero) for v in program.variables}
    return out


def _iv(c):
    c = Fraction(c)
    return mpmath.iv.mpf(c.numerator) / c.denominator


def _sign(x) -> int:
    """The sign of an interval: 0 only for exactly 0; NeedMore when it holds 0 and more."""
    if x.a == 0 and x.b == 0:
        return 0
    if x.a > 0:
        return 1
    if x.b < 0:
        return -1
    raise NeedMore("sign")


def _ranged(x):
    """Refuse what the worksheet must refuse: beyond 10^±1,000,000 (decided on the interval)."""
    if not (mpmath.isfinite(x.a) and mpmath.isfinite(x.b)):
        raise NeedMore("unbounded")
    if x.a == 0 and x.b == 0:
        return x
    if x.a <= 0 <= x.b:
        return x  # holds 0: its size is decided at a higher precision, if it matters
    low = min(abs(x.a), abs(x.b))
    high = max(abs(x.a), abs(x.b))
    if _log10(high) > MAX_EXPONENT - 1 and _log10(low) > MAX_EXPONENT - 1:
        raise OutOfRange("beyond 10^1,000,000")
    if _log10(high) < -(MAX_EXPONENT - 1) and _log10(low) < -(MAX_EXPONENT - 1):
        raise OutOfRange("below 10^-1,000,000")
    return x


def _log10(x) -> float:
    """log10 of a positive mpf of any size, from its binary exponent."""
    m = mpmath.mpf(x)
    return float((m.exp + m.man.bit_length()) * mpmath.log10(2)) if m else -math.inf


def _exp(u):
    if u.a > HUGE_ARGUMENT:
        raise OutOfRange("e^u")
    if u.b < -HUGE_ARGUMENT:
        raise OutOfRange("e^u tiny")
    if not (u.a > -2 * HUGE_ARGUMENT and u.b < 2 * HUGE_ARGUMENT):
        raise NeedMore("exp of a wide interval")
    return mpmath.iv.exp(u)


def _below(exponent: int):
    """The interval [0, 10^−exponent]."""
    return mpmath.iv.mpf([0, mpmath.mpf(10) ** -exponent])


def _sigmoid(u):
    if u.a >= 0:
        if u.a > HUGE_ARGUMENT:  # 1 − e^−u, within 10^−1,000,000 of 1
            return 1 - _below(MAX_EXPONENT)
        return 1 / (1 + _exp(-u))
    if u.b < -HUGE_ARGUMENT:
        raise OutOfRange("σ(u) tiny")
    t = _exp(u)
    return t / (1 + t)


def _sech2(u):
    if abs(u.a) > HUGE_ARGUMENT / 2 and abs(u.b) > HUGE_ARGUMENT / 2 and (u.a > 0 or u.b < 0):
        raise OutOfRange("sech² tiny")
    e = _exp(-abs_iv(u))  # sech²u = 4e^{−2|u|}/(1 + e^{−2|u|})²
    return 4 * e * e / (1 + e * e) ** 2


def abs_iv(u):
    s = _sign(u)
    return u if s >= 0 else -u


def _tanh(u):
    s = _sign(u)
    if s == 0:
        return u
    a = abs_iv(u)
    if a.a > HUGE_ARGUMENT:  # 1 − 2e^−2|u|, within 10^−1,000,000 of 1
        return s * (1 - _below(MAX_EXPONENT))
    t = mpmath.iv.expm1(2 * a)  # tanh|u| = expm1(2|u|)/(expm1(2|u|) + 2)
    return s * (t / (t + 2))


def _trig(name):
    def apply(u):
        if abs(u.b) > TRIG_LIMIT or abs(u.a) > TRIG_LIMIT:
            raise Unverifiable("trig of a huge argument")
        return getattr(mpmath.iv, name)(u)
    return apply


def _step(z, at_zero):
    s = _sign(z)
    return mpmath.iv.mpf(1 if s > 0 else 0 if s < 0 else at_zero)


def _value(op: str, a, same: bool):
    iv = mpmath.iv
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return iv.mpf(0) if same else a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "div":
        if _sign(a[1]) == 0:
            raise Undefined("division by 0")
        return iv.mpf(1) if same else a[0] / a[1]
    if op in ("max", "min"):
        if same:
            return a[0]
        d = _sign(a[0] - a[1])
        return (a[0] if d >= 0 else a[1]) if op == "max" else (a[0] if d <= 0 else a[1])
    if op in ("pow_const", "const_pow"):
        return _power(a[0], a[1])
    u = a[0]
    if op == "exp":
        return _exp(u)
    if op == "log":
        if _sign(u) <= 0:
            raise Undefined("log")
        return iv.log(u)
    if op == "sqrt":
        s = _sign(u)
        if s < 0:
            raise Undefined("sqrt")
        return iv.mpf(0) if s == 0 else iv.sqrt(u)
    if op in ("sin", "cos", "tan"):
        return _trig(op)(u)
    if op == "sinh":  # e^u − e^−u, as expm1(u) − expm1(−u) near 0 (no cancellation)
        if abs(u.a) > 1 or abs(u.b) > 1:
            return (_exp(u) - _exp(-u)) / 2
        return (iv.expm1(u) - iv.expm1(-u)) / 2
    if op == "cosh":
        return (_exp(u) + _exp(-u)) / 2
    if op == "tanh":
        return _tanh(u)
    if op == "sigmoid":
        return _sigmoid(u)
    if op == "relu":
        return u if _sign(u) > 0 else iv.mpf(0)
    if op == "softplus":
        if _sign(u) > 0:
            if u.a > HUGE_ARGUMENT:
                return u
            return u + iv.log1p(_exp(-u))
        if u.b < -HUGE_ARGUMENT:
            raise OutOfRange("softplus tiny")
        return iv.log1p(_exp(u))
    if op == "abs":
        return abs_iv(u)
    if op == "neg":
        return -u
    raise ValueError(op)


def _power(u, w):
    iv = mpmath.iv
    w_exact = w.a if w.a == w.b else None  # a number (the exponents and bases of the programs)
    s = _sign(u)
    if s == 0:
        if w.a <= 0:
            raise Undefined("0 to a power ≤ 0")
        return iv.mpf(0)
    if w_exact is not None and w_exact == int(w_exact):
        n = int(w_exact)
        size = max(abs(_log10(abs_iv(u).a)), abs(_log10(abs_iv(u).b)))
        if size and abs(n) > MAX_EXPONENT / size:
            raise OutOfRange("power")
        return u ** n
    if s < 0:
        raise Undefined("negative base")
    return _exp(w * iv.log(u))


def _local(op: str, i: int, a, out, same: bool):
    iv = mpmath.iv
    one = iv.mpf(1)
    if op == "add":
        return one
    if op == "sub":
        return one if i == 0 else -one
    if op == "mul":
        return a[1 - i]
    if op == "div":
        return 1 / a[1] if i == 0 else -a[0] / a[1] ** 2
    if op in ("max", "min"):
        if same:
            return iv.mpf(0.5)
        ahead = a[0] - a[1] if i == 0 else a[1] - a[0]
        return _step(ahead if op == "max" else -ahead, 0.5)
    if op == "pow_const":  # u^w, w a number
        u, w = a
        if _sign(u) == 0 and w.a < 1:
            raise Undefined("power rule at 0")
        return w * _power(u, w - 1) if w.a != 1 else one
    if op == "const_pow":  # c^u
        return out * iv.log(a[0])
    u = a[0]
    if op == "exp":
        return out
    if op == "log":
        return 1 / u
    if op == "sqrt":
        if _sign(u) == 0:
            raise Undefined("sqrt′(0)")
        return 1 / (2 * out)
    if op == "sin":
        return _trig("cos")(u)
    if op == "cos":
        return -_trig("sin")(u)
    if op == "tan":
        return 1 + out ** 2
    if op == "sinh":
        return _value("cosh", [u], False)
    if op == "cosh":
        return _value("sinh", [u], False)
    if op == "tanh":
        return _sech2(u)
    if op == "sigmoid":
        return _sigmoid(u) * _sigmoid(-u)
    if op == "relu":
        return _step(u, 0)
    if op == "softplus":
        return _sigmoid(u)
    if op == "abs":
        return iv.mpf(_sign(u))
    if op == "neg":
        return -one
    raise ValueError(op)
