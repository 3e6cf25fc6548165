"""Finite differences, and the derivative by hand: two checks of a worksheet's gradients.

A central difference needs nothing but the function:

    ∂L/∂x ≈ (L(x + h) − L(x − h)) / 2h,

its error is of order h² (the truncation) plus the rounding of the two values divided by
h. A scalar formula is evaluated node by node with certified values (``arith``: exact, or
to 30 digits whatever cancels) and h ≈ 10⁻¹²·max(1, |x|), so that neither error shows; a
model with vectors or matrices is evaluated with its own forward pass, one element of the
variable at a time (exact fractions stay exact; doubles are doubles), with h = 10⁻⁶·max(1, |x|).

"By hand" is ``sympy.diff`` of the output written out in the inputs — the expression the
trace built from the graph (``Trace.expansions``), never the user's text — evaluated at the
point. An estimate agrees with the exact gradient when they differ by at most 10⁻⁶ of the
larger, or by a floor (10⁻¹⁸ for a formula, 10⁻⁶ for a model's doubles); at a kink (relu, abs, max at a tie) a central difference averages the
two sides and rightly differs from the framework's convention.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy
from flint import arb
from sympy import Expr, Rational, Symbol

from ..errors import WorksheetError
from ..forms import evaluate
from ..lang.graph import Graph, symbol
from ..ops import RULES
from ..ops.tensor import tensor_rule
from ..tensors import is_array, ShapeError, as_array, scalar
from .numbers import arg_value
from .tensor_trace import tensor_work
from .trace import Trace, expand
from ..arith import Imprecise, Refused, certify, settle
from ..arith.balls import exact_ball, working
from ..arith.elements import Ball
from ..arith.real import START
from ..lazy import lazy

np = lazy("numpy")

RELATIVE_STEP = Rational(1, 10**12)
"""The step a worksheet states, h ≈ RELATIVE_STEP·max(1, |x|) (it is the power of 2 below)."""

STEP_BITS = 40
"""h = 2^−STEP_BITS (about 0.9·10⁻¹²) times the power of 2 at |x|'s size, for a scalar formula
whose values at x ± h are certified (``arith``): the truncation error, of order h², is then
negligible even where the function turns fast (sin(sinh(2w + 2)) at w = 2.3 turns about a
thousand times faster than sin w), and nothing is lost to rounding."""

TENSOR_RELATIVE_STEP = Rational(1, 10**6)
"""h = TENSOR_RELATIVE_STEP · max(1, |x|) for a model, whose forward pass is exact fractions
or doubles: about the cube root of the doubles' precision, the usual compromise between
truncation and rounding."""

TOLERANCE = 1e-6
"""An estimate agrees when |estimate − gradient| ≤ TOLERANCE · max(|gradient|, |estimate|) + a
floor: TOLERANCE for a model's doubles, SCALAR_FLOOR for a scalar formula's certified values."""

SCALAR_FLOOR = 1e-18
"""What a central difference with h ≈ 10⁻¹² leaves of an exact 0 (its h²·L‴/6 term)."""

MAX_NUMERIC_WORK = 20_000_000
"""Central differences of a model need two forward passes per element of each variable;
beyond this many element operations in all they are refused."""


@dataclass(frozen=True)
class Estimate:
    """The central-difference estimate of one gradient, and the derivative by hand."""

    wrt: str
    value: object  # a SymPy Float (scalar formula), a float array (model), None where undefined
    agrees: bool | None  # with the traced gradient (None: no estimate)
    symbolic: Expr | None = None  # sympy.diff of the written-out output, at the point (scalar)
    step: Expr | None = None  # h (scalar formulas)


def agrees(exact, estimate, floor: float = TOLERANCE) -> bool:
    """Does ``estimate`` agree with the gradient ``exact`` (numbers, or arrays elementwise)?
    |estimate − exact| ≤ TOLERANCE·max(|exact|, |estimate|) + ``floor``: relative, with an
    absolute floor for what a difference quotient leaves of a 0 (h² terms, doubles' rounding)."""
    if is_array(exact) or is_array(estimate):
        exact_array, estimate_array = np.asarray(exact, dtype=object), np.asarray(estimate, dtype=object)
        if exact_array.shape != estimate_array.shape:
            return False
        return all(agrees(a, b, floor) for a, b in zip(exact_array.flat, estimate_array.flat))
    a, b = _ball(exact), _ball(estimate)
    if a is None or b is None:
        return False
    return bool(abs(a - b) <= TOLERANCE * max(abs(a), abs(b)) + floor)


def _ball(x) -> arb | None:
    """A certified ball for an exact value, a Real, a Fraction or a float (None: undefined)."""
    if isinstance(x, (Fraction, int)):
        return exact_ball(x)
    if isinstance(x, float):
        return arb(x) if math.isfinite(x) else None
    if isinstance(x, Ball):
        return x.arb
    try:
        return certify(x, 64)
    except Refused:
        return None


# ── scalar formulas ──────────────────────────────────────────────────────────────────────

def scalar_estimates(trace: Trace) -> dict[str, Estimate]:
    """A central difference and sympy.diff's value for each requested gradient of ``trace``."""
    if trace.values is None:
        raise WorksheetError("finite differences need a point: give the values with --at",
                             where="--check-numeric")
    gradients = {g.wrt: g.value for g in trace.gradients}
    result = {}
    for name in trace.wrt:
        value, step = _central_difference(trace, name)
        symbolic = _by_hand(trace, name)
        result[name] = Estimate(name, value, None if value is None else agrees(gradients[name], value, SCALAR_FLOOR),
                                symbolic, step)
    return result


def _central_difference(trace: Trace, name: str) -> tuple[Expr | None, Expr]:
    """(L(x + h) − L(x − h)) / 2h, every value certified (``settle``), with h an exact power of 2
    near 2^−STEP_BITS·max(1, |x|)."""
    x = variable(trace, name, sympy.S.Zero)
    magnitude = max(0, int(mpmath.mag(mpmath.mpf(certify(x, 8)))) - 1) if x != 0 else 0  # |x| ≥ 2^magnitude
    h = sympy.Integer(2) ** (magnitude - STEP_BITS)
    try:
        up, down = _output(trace.graph, trace.values, name, h), _output(trace.graph, trace.values, name, -h)
        return settle((up - down) / (2 * h)), h
    except (Refused, ZeroDivisionError, OverflowError):
        return None, h


def _output(graph: Graph, values: Mapping[str, Expr], shifted: str, shift: Expr) -> Expr:
    """The output with node ``shifted`` moved by ``shift`` (the nodes after it recomputed;
    a stop_gradient node keeps its value, as the gradient treats it as a constant)."""
    below = graph.ancestors([graph.target])
    current: dict[Symbol, Expr] = {}
    for node in graph.nodes:
        if node.name not in below:
            continue
        if node.is_input or _holds(node.op):
            value = values[node.name]
        else:
            value = settle(evaluate(node.expr, current))
        if node.name == shifted:
            value = settle(value + shift)
        current[node.symbol] = value
    return current[symbol(graph.target)]


def _by_hand(trace: Trace, name: str) -> Expr | None:
    """sympy.diff of the output written out (an intermediate variable kept as a symbol)."""
    graph = trace.graph
    if name not in graph.by_name or graph.node(name).is_input:  # an unused variable: sympy.diff gives 0
        expansions = trace.expansions
    else:
        expansions = expand(graph, lambda node: node.name != name)
    written = expansions.get(symbol(graph.target))
    if written is None:
        return None
    try:
        derivative = sympy.diff(written, symbol(name))
        at = {symbol(k): v for k, v in trace.values.items()}
        return settle(evaluate(derivative, at))
    except (Refused, ZeroDivisionError, OverflowError, TypeError, ValueError):
        return None


# ── models with vectors and matrices ─────────────────────────────────────────────────────

def tensor_estimates(trace: Trace) -> dict[str, Estimate]:
    """A central difference per element of each requested variable, from the forward pass."""
    work = _forward_work(trace)
    passes = 2 * sum(math.prod(trace.shapes[name]) for name in trace.wrt)
    if passes * work > MAX_NUMERIC_WORK:
        raise WorksheetError(
            f"central differences would need {passes:,} forward passes of {work:,} element "
            f"operations each (more than {MAX_NUMERIC_WORK:,} in all)",
            where="--check-numeric",
        )
    gradients = {g.wrt: g.value for g in trace.gradients}
    result = {}
    for name in trace.wrt:
        base = variable(trace, name, scalar(0))
        estimate = np.empty(base.shape, dtype=object)
        try:
            with working(START):  # the elements that are balls, at the trace's first precision
                for index in np.ndindex(*base.shape):
                    x = base[index]
                    h = _tensor_step(x)
                    up = _tensor_output(trace, name, index, h)
                    down = _tensor_output(trace, name, index, -h)
                    estimate[index] = float((up - down) / (2 * h))
        except (Refused, Imprecise, ZeroDivisionError, OverflowError, ShapeError):
            result[name] = Estimate(name, None, None)
            continue
        result[name] = Estimate(name, estimate, agrees(gradients[name], estimate))
    return result


def variable(trace: Trace, name: str, zero):
    """A requested variable's value: its node's, or for one the formula does not use the value
    given with --at (else ``zero``); moving it leaves the output as it is."""
    return trace.values[name] if name in trace.values else trace.point.get(name, zero)


def _tensor_step(x):
    """h = TENSOR_RELATIVE_STEP·max(1, |x|): a fraction for an exact element or a ball, a float
    for a float."""
    step = Fraction(TENSOR_RELATIVE_STEP.p, TENSOR_RELATIVE_STEP.q)
    if isinstance(x, Fraction):
        return step * max(1, abs(x))
    if isinstance(x, Ball):
        return step * max(1, Fraction(abs(float(x))))
    return float(TENSOR_RELATIVE_STEP) * max(1.0, abs(float(x)))


def _tensor_output(trace: Trace, shifted: str, index: tuple, shift):
    """The output with one element of node ``shifted`` moved by ``shift``."""
    graph = trace.graph
    values: dict[str, np.ndarray] = {}

    def moved(name: str, value: np.ndarray) -> np.ndarray:
        if name != shifted:
            return value
        value = value.copy()
        value[index] = value[index] + shift
        return value

    below = graph.ancestors([graph.target])
    for node in graph.nodes:
        if node.name not in below:
            continue
        if node.is_input or _holds(node.op):
            values[node.name] = moved(node.name, trace.values[node.name])
            continue
        xs = [arg_value(a, values) for a in node.args]
        values[node.name] = moved(node.name, as_array(tensor_rule(node.op).forward(*xs)))
    output = values[graph.target]
    seed = trace.seed
    if seed is not None:  # --seed-grad: the gradient of Σ seedᵢ·Jᵢ
        return sum((s * j for s, j in zip(np.ravel(seed), np.ravel(output))), Fraction(0))
    return output[()]


def _holds(op: str) -> bool:
    """stop_gradient: its value is a constant for the gradient, so it is held at x ± h too."""
    return bool(getattr(RULES.get(op), "stops_gradient", False))


def _forward_work(trace: Trace) -> int:
    return max(tensor_work(trace.graph, trace.shapes), 1)
