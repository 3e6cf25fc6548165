"""The number policy: what a trace's values are, and how each one is computed or refused.

One sweep (``trace.forward``, ``trace.backward``) runs over either kind of value:

* ``EXACT`` — a formula's values: SymPy numbers, exact where they can be (1/2, √2, e^{−1}),
  else carried ``Real``s whose every printed digit is certified by ball arithmetic
  (``arith.settle``). A value that is undefined or would not be a number is one line naming
  the node, its inputs and their values.
* ``ELEMENTS`` — a model's values: NumPy arrays whose elements are exact ``Fraction``s or
  certified ``Ball``s (``arith.elements``). A trace of balls is computed again with twice the
  bits while an element it prints is not certified (``certified``: Ziv's strategy), up to
  MAX_PRECISION.
* ``DOUBLES`` — training's (``train``, its default): the same arrays of float64, as PyTorch's;
  ``FRACTIONS`` — ``train --exact``: exact fractions only.

A symbolic worksheet (no point) has no values: the sweep carries only forms.
"""

from __future__ import annotations

from collections.abc import Mapping

from flint import arb
from sympy import Expr, S, Symbol

from ..arith import (
    CARRIED_BITS, MAX_PRECISION, Imprecise, OutsideDomain, Real, Refused, TooSmall, plus, settle,
    short_expression, short_text, times,
)
from ..arith.balls import working
from ..arith.elements import Ball, magnitude_checked, to_arb
from ..arith.real import START
from ..errors import WorksheetError
from ..forms import evaluate, put_in
from ..lang.graph import Graph, Node
from ..ops import RULES
from ..ops.tensor import tensor_rule
from ..tensors import is_array, ShapeError, TooLarge, as_array, elementwise, number, scalar, tidy_all
from ..lazy import lazy

np = lazy("numpy")


class BySymbol(Mapping):
    """Values keyed by node name, read by symbol (as ``forms.evaluate`` looks them up)."""

    def __init__(self, values: Mapping[str, Expr]):
        self.values = values

    def __getitem__(self, key):
        if isinstance(key, Symbol):
            return self.values[key.name]
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        return isinstance(key, Symbol) and key.name in self.values

    def __iter__(self):
        return (Symbol(name, real=True) for name in self.values)

    def __len__(self) -> int:
        return len(self.values)


# ── a formula: exact SymPy numbers ───────────────────────────────────────────────────────

class Exact:
    """A formula's numbers: each value exact or a certified carried number, or refused."""

    tensor = False  # its steps are local derivatives, written in textbook form
    one = S.One  # ∂L/∂L

    def rule(self, op: str):
        return RULES[op]

    def input(self, value) -> Expr:
        return settle(value)

    def value(self, graph: Graph, node: Node, values: Mapping[str, Expr]) -> Expr:
        symbols = BySymbol(values)
        return settled(node, lambda: evaluate(node.expr, symbols), symbols)

    def send(self, graph: Graph, node: Node, position: int, name: str, upstream, local: Expr, values):
        """(∂node/∂name at the point, upstream · that): the local derivative's value and the
        product the step sends back."""
        local_value = self.local_at(node, position, name, local, values)
        product = settled(node, lambda: times(upstream, local_value), BySymbol(values),
                          what=f"the product ∂L/∂{node.name} · ∂{node.name}/∂{name}")
        return local_value, product

    def local_at(self, node: Node, position: int, name: str, local: Expr, values) -> Expr:
        """∂node/∂name (``local``, in node names) at ``values``: the rule's own value where
        evaluating the form would not give the limit."""
        symbols = BySymbol(values)
        arg_values = [evaluate(a, symbols) for a in node.args]
        local_value = RULES[node.op].local_value(position, *arg_values)
        if local_value is None:
            local_value = settled(node, lambda: _local_value(local, symbols, arg_values), symbols, name)
        return local_value

    def add(self, graph: Graph, node: Node, name: str, running, value, values):
        """``running`` + ``value``: another path into ∂L/∂name."""
        return settled(node, lambda: plus(running, value), BySymbol(values),
                       what=f"∂{graph.target}/∂{name}, the sum of its paths,")


def _local_value(local: Expr, symbols, arg_values) -> Expr:
    """The local derivative at the point: SymPy's evaluation while the inputs are exact; of a
    carried number, the form with the numbers put in as it stands (``settle`` carries it as a
    Real whose ball comes straight from the tree: 1 − tanh²r, not SymPy's arithmetic first)."""
    if any(isinstance(v, Real) for v in arg_values):
        return put_in(local, symbols)
    return evaluate(local, symbols)


def settled(
    node: Node, compute, values: Mapping[Expr, Expr], wrt: str | None = None, *, of: str = "",
    what: str | None = None,
) -> Expr:
    """``compute()`` settled, or a one-line error naming the node, its inputs and their values
    (and, for a local derivative, the input ``wrt``); ``of`` names what was computed, when it
    is not the node's value ("the tangent of "), and ``what`` replaces the whole name
    ("the product ∂L/∂v2 · ∂v2/∂v1")."""
    try:
        return settle(compute())
    except Refused as error:
        at = ", ".join(f"{name} = {short_text(values[Symbol(name, real=True)])}" for name in dict.fromkeys(node.inputs))
        definition = short_expression(node.expr)
        if what is None:
            what = (f"the derivative of {node.name} = {definition} with respect to {wrt}" if wrt is not None
                    else f"{of}{node.name} = {definition}")
        if isinstance(error, OutsideDomain):
            why = f" ({RULES[node.op].domain})" if wrt is None and not of and what.startswith(node.name) else ""
            problem = f"{what} is undefined at {at}{why}"
        else:
            problem = f"{what} would be {error} at {at}"
        line, column = node.pos or (None, None)
        raise WorksheetError(problem, line=line, column=column) from None


# ── a model: arrays of exact or certified elements, or doubles ───────────────────────────

class Elements:
    """A model's numbers: NumPy arrays of Fractions and Balls (or floats, in training)."""

    tensor = True  # its steps are vector-Jacobian products, written in matrix form

    @property
    def one(self) -> np.ndarray:
        return scalar(1)

    def rule(self, op: str):
        return tensor_rule(op)

    def input(self, value) -> np.ndarray:
        return value if is_array(value) else scalar(number(value))

    def value(self, graph: Graph, node: Node, values: Mapping[str, np.ndarray]) -> np.ndarray:
        xs = [arg_value(a, values) for a in node.args]
        return computed(graph, node, lambda: tensor_rule(node.op).forward(*xs))

    def send(self, graph: Graph, node: Node, position: int, name: str, upstream, local, values):
        """(None, the vector-Jacobian product): ∂J/∂name's part through ``node``, of name's shape."""
        rule = tensor_rule(node.op)
        xs = [arg_value(a, values) for a in node.args]
        value = computed(graph, node, lambda: rule.vjp(position, upstream, values[node.name], *xs), name)
        return None, tidy_all(value)

    def add(self, graph: Graph, node: Node, name: str, running, value, values):
        return as_array(running + value)


class Doubles(Elements):
    """Training's numbers: every element a float64, as PyTorch computes."""

    def input(self, value) -> np.ndarray:
        return elementwise(float, super().input(value))


class Fractions(Elements):
    """``train --exact``: every element an exact fraction, and so every step."""

    def input(self, value) -> np.ndarray:
        array = super().input(value)
        if any(isinstance(x, float) for x in array.flat):
            raise WorksheetError("--exact needs exact inputs (a value here is not a fraction)")
        return array


EXACT, ELEMENTS, DOUBLES, FRACTIONS = Exact(), Elements(), Doubles(), Fractions()


def arg_value(arg: Expr, values: Mapping[str, np.ndarray]) -> np.ndarray:
    return values[arg.name] if isinstance(arg, Symbol) else scalar(number(arg))


def arg_shapes(node: Node, shapes: Mapping[str, tuple]) -> tuple[tuple, ...]:
    """The shapes of a node's arguments (a number's is ())."""
    return tuple(shapes[a.name] if isinstance(a, Symbol) else () for a in node.args)


def computed(graph: Graph, node: Node, compute, wrt: str | None = None) -> np.ndarray:
    """``compute()``, or one line naming the node and the problem."""
    try:
        return as_array(compute())
    except OutsideDomain as problem:
        where = f"∂{node.name}/∂{wrt}" if wrt else node.name
        raise located(graph, node, f"{where} = {as_written(node)} is undefined at the given values ({problem})") from None
    except Imprecise:
        raise Undecided(located(graph, node, f"{node.name} = {as_written(node)}: a kink or a domain "
                                             f"edge that no precision up to {MAX_PRECISION:,} bits decides")) from None
    except (TooLarge, OverflowError) as problem:
        why = problem if isinstance(problem, TooLarge) else "beyond the largest double, about 1.8e308"
        what = "is too small to write" if isinstance(problem, TooSmall) else "overflows"
        raise located(graph, node, f"{node.name} = {as_written(node)} {what} ({why})") from None
    except ShapeError as problem:
        raise located(graph, node, f"{as_written(node)}: {problem}") from None
    except ZeroDivisionError:
        raise located(graph, node, f"{node.name} = {as_written(node)} divides by zero") from None


class Undecided(Imprecise):
    """A kink or a domain this precision cannot decide, at a node (``error``: the refusal, if
    no precision can)."""

    def __init__(self, error: WorksheetError):
        self.error = error


def certified(graph: Graph, run):
    """``run()`` (a model's trace) at 128 bits, and again with twice the bits while an element
    it prints is not certified to CARRIED_BITS or a kink cannot be decided, up to MAX_PRECISION."""
    prec = START
    while True:
        try:
            with working(prec):
                result = run()
            uncertified = _uncertified(result, prec)
            if uncertified is None:
                return result
            problem = located(graph, graph.node(uncertified), f"{uncertified}: its value does not settle at "
                              f"{MAX_PRECISION:,} bits of precision (it cancels to within 10^−4,932 of its terms)")
        except Undecided as undecided:
            problem = undecided.error
        if prec >= MAX_PRECISION:
            raise problem
        prec = min(2 * prec, MAX_PRECISION)


ZERO_PRECISION = 512
"""From this many bits on, an element whose ball still holds 0 and is narrower than 2^−(prec − 64)
of the largest entry of the trace counts as 0 (a cancellation to 0: Σ(softmax − onehot), z −
mean(z)); printed 0. Below this precision it is first computed again with more bits."""


def _uncertified(trace, prec: int) -> str | None:
    """The first node with an element not certified to CARRIED_BITS (None: all are), a 0 by
    cancellation counting as certified at ZERO_PRECISION (see there). A certified element
    beyond 10^±MAX_DIGITS is refused here (TooLarge), as a scalar value is."""
    arrays = [(name, v) for name, v in trace.values.items()] + [(s.node, s.value) for s in trace.steps] + [
        (name, a.value) for name, a in trace.adjoints.items()]
    doubtful, seen = [], set()
    for name, value in arrays:
        if id(value) in seen:
            continue
        seen.add(id(value))
        for x in np.ravel(value):
            if type(x) is Ball:
                if not x.accurate(CARRIED_BITS):
                    doubtful.append((name, x))
                else:
                    magnitude_checked(x)
    if not doubtful:
        return None
    if prec < ZERO_PRECISION:
        return doubtful[0][0]
    magnitudes = [abs(x.arb.mid()) if isinstance(x, Ball) else abs(to_arb(x))
                  for _, v in arrays for x in np.ravel(v) if not isinstance(x, float)]
    zero_width = max(magnitudes, key=float) * arb(2) ** -(prec - 64)
    for name, x in doubtful:
        if not (0 in x.arb and bool(x.arb.rad() <= zero_width)):
            return name
    return None


# ── messages ─────────────────────────────────────────────────────────────────────────────

SYMBOLS = {"matmul": "@", "add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def as_written(node: Node) -> str:
    """The operation as the user wrote it, in its inputs' names: W @ x, z + b, relu(z)."""
    names = [a.name if isinstance(a, Symbol) else short_expression(a, None) for a in node.args]
    if node.op in SYMBOLS:
        return f" {SYMBOLS[node.op]} ".join(names)
    if node.op == "transpose":
        return f"{names[0]}.T"
    if node.op == "neg":
        return f"-{names[0]}"
    if node.op == "id":
        return names[0]
    return f"{node.op}({', '.join(names)})"


def located(graph: Graph, node: Node, message: str) -> WorksheetError:
    line, column = node.pos if node.pos else (None, None)
    return WorksheetError(message, line=line, column=column, source=graph.source or None)
