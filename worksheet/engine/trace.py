"""``Graph`` → ``Trace``: the forward values and every chain-rule product of the backward pass.

The reverse sweep visits each operation once, from the output back. For each input u of a
node v that leads to a requested variable it records a ``Step``:

    ∂L/∂v · ∂v/∂u  =  upstream · local  =  product,   added into ∂L/∂u.

Where u feeds several nodes its ``Adjoint`` is the sum of those products (the fan-out sum).
Forms (expressions in node names) are carried beside the values while they stay small;
past ``MAX_FORM_OPS`` they are omitted and only the values go on, so the cost stays linear
in the size of the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy import Expr, S, Symbol

from ..errors import WorksheetError
from ..forms import evaluate, fits, product, put_in, substitute, total
from ..lang.graph import Graph, Node
from ..limits import MAX_FORM_DEPTH, MAX_FORM_OPS
from ..ops import RULES
from ..arith import OutsideDomain, Real, Refused, plus, settle, short_expression, short_text, times


@dataclass(frozen=True)
class Step:
    """One chain-rule product: ∂L/∂node · ∂node/∂input, added into ∂L/∂input."""

    node: str
    input: str
    position: int  # which argument of the node the input is (x*x has two steps)
    local: Expr  # ∂node/∂input in textbook form, in node names
    local_value: Expr | None
    upstream: Expr | None  # ∂L/∂node in node names (None: omitted as too large)
    upstream_value: Expr | None
    product: Expr | None
    product_value: Expr | None

    @property
    def value(self) -> Expr | None:
        """What the step sends back along its arrow, as a ``TensorStep``'s ``value``."""
        return self.product_value


@dataclass(frozen=True)
class Adjoint:
    """∂L/∂node, complete: the sum of the products of ``steps`` (one step unless it fans out)."""

    node: str
    steps: tuple[int, ...]  # indices into Trace.steps
    form: Expr | None
    value: Expr | None


@dataclass(frozen=True)
class Gradient:
    """A requested ∂L/∂wrt: in the names of the nodes, in the inputs, and its value."""

    wrt: str
    in_trace: Expr | None  # as the sweep built it, in every node's name
    in_names: Expr | None  # unnamed intermediates written out, the user's names kept
    in_inputs: Expr | None  # fully written out in the inputs
    value: Expr | None


@dataclass(frozen=True)
class Trace:
    graph: Graph
    wrt: tuple[str, ...]
    point: Mapping[str, Expr] | None  # the inputs' values, None for a symbolic worksheet
    values: Mapping[str, Expr] | None  # every node's forward value
    steps: tuple[Step, ...]
    adjoints: Mapping[str, Adjoint]  # in the order the sweep completed them
    gradients: tuple[Gradient, ...]
    expansions: Mapping[Expr, Expr | None]  # each operation written out in the inputs
    stops: tuple[tuple[str, str], ...] = ()  # (node, input): stop_gradient nodes the sweep reached
    modes: object = None  # modes.Modes: forward mode, the adjoint trace, finite differences (--mode, --check-numeric)
    decimal_inputs: bool = False  # were its numbers written with a decimal point (--numbers auto)
    seed = None  # ∂L/∂L is 1: a scalar output has no --seed-grad (as TensorTrace.seed)
    shapes: Mapping[str, tuple] = field(default_factory=dict)  # every value a scalar (as TensorTrace.shapes)

    @property
    def target(self) -> str:
        return self.graph.target


def trace(graph: Graph, wrt: Sequence[str], point: Mapping[str, Expr] | None = None) -> Trace:
    """Forward values at ``point`` (if given) and the reverse sweep toward ``wrt``."""
    values = forward(graph, point) if point is not None else None
    steps, adjoints = backward(graph, wrt, values)
    named = expand(graph, lambda node: not node.named)
    full = expand(graph, lambda node: True)
    gradients = tuple(_gradient(name, adjoints, named, full) for name in wrt)
    if values is None:
        defined_somewhere(graph, full, gradients)
    return Trace(graph, tuple(wrt), point, values, tuple(steps), adjoints, gradients, full,
                 stopped(graph, adjoints, _leads_to(graph, wrt)))


# ── forward ──────────────────────────────────────────────────────────────────────────────

def forward(graph: Graph, point: Mapping[str, Expr]) -> dict[str, Expr]:
    """Every node's value, in evaluation order."""
    values: dict[Expr, Expr] = {}
    result: dict[str, Expr] = {}
    for node in graph.nodes:
        if node.is_input:
            value = settle(point[node.name])
        else:
            value = settled(node, lambda: evaluate(node.expr, values), values)
        values[node.symbol] = value
        result[node.name] = value
    return result


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


# ── backward ─────────────────────────────────────────────────────────────────────────────

def backward(
    graph: Graph, wrt: Sequence[str], values: Mapping[str, Expr] | None
) -> tuple[list[Step], dict[str, Adjoint]]:
    """The reverse sweep: each node once, from the output back."""
    needed = _leads_to(graph, wrt)
    symbols = {Symbol(k, real=True): v for k, v in values.items()} if values is not None else None
    forms: dict[str, Expr | None] = {graph.target: S.One}
    sums: dict[str, Expr] = {graph.target: S.One}
    contributions: dict[str, list[int]] = {}
    steps: list[Step] = []
    adjoints: dict[str, Adjoint] = {}
    for node in reversed(graph.operations):
        if node.name not in needed or node.name not in forms:
            continue
        upstream_value = sums[node.name] if values is not None else None
        adjoints[node.name] = Adjoint(
            node.name, tuple(contributions.get(node.name, ())), forms[node.name], upstream_value
        )
        if RULES[node.op].stops_gradient:  # stop_gradient: no step, ∂L/∂u gets nothing here
            continue
        for position, arg in enumerate(node.args):
            if not (isinstance(arg, Symbol) and arg.name in needed):
                continue
            step = _step(node, position, arg.name, forms[node.name], upstream_value, symbols)
            contributions.setdefault(step.input, []).append(len(steps))
            steps.append(step)
            # the sweep runs backwards: put each path in front, so sums read in the user's order
            forms[step.input] = _bounded(_add(step.product, forms.get(step.input, S.Zero)))
            if values is not None:
                running = sums.get(step.input, S.Zero)
                sums[step.input] = settled(node, lambda: plus(running, step.product_value), symbols,
                                           what=f"∂{graph.target}/∂{step.input}, the sum of its paths,")
    for node in graph.inputs:
        if node.name in forms:
            value = sums[node.name] if values is not None else None
            adjoints[node.name] = Adjoint(
                node.name, tuple(contributions.get(node.name, ())), forms[node.name], value
            )
    return steps, adjoints


def stopped(graph: Graph, adjoints: Mapping[str, object], leads) -> tuple[tuple[str, str], ...]:
    """(node, input) for each stop_gradient node the sweep reached, whose input leads to a
    requested variable: the places where the gradient stops, in sweep order. ``leads``: the
    names of the nodes that depend on a requested variable."""
    return tuple(
        (node.name, arg.name)
        for node in reversed(graph.operations)
        if RULES[node.op].stops_gradient and node.name in adjoints
        for arg in node.args
        if isinstance(arg, Symbol) and arg.name in leads
    )


def _step(node: Node, position: int, name: str, upstream, upstream_value, symbols) -> Step:
    rule = RULES[node.op]
    local = rule.local(position, *node.args)
    local_value = product_value = None
    if symbols is not None:
        arg_values = [evaluate(a, symbols) for a in node.args]
        local_value = rule.local_value(position, *arg_values)
        if local_value is None:
            local_value = settled(node, lambda: _local_value(local, symbols, arg_values), symbols, name)
        product_value = settled(node, lambda: times(upstream_value, local_value), symbols,
                                what=f"the product ∂L/∂{node.name} · ∂{node.name}/∂{name}")
    product_form = _bounded(product(upstream, local)) if upstream is not None else None
    return Step(node.name, name, position, local, local_value, upstream, upstream_value,
                product_form, product_value)


def _local_value(local: Expr, symbols, arg_values) -> Expr:
    """The local derivative at the point: SymPy's evaluation while the inputs are exact; of a
    carried number, the form with the numbers put in as it stands (``settle`` carries it as a
    Real whose ball comes straight from the tree: 1 − tanh²r, not SymPy's arithmetic first)."""
    if any(isinstance(v, Real) for v in arg_values):
        return put_in(local, symbols)
    return evaluate(local, symbols)


def _add(a: Expr | None, b: Expr | None) -> Expr | None:
    return None if a is None or b is None else total(a, b)


def _bounded(form: Expr | None) -> Expr | None:
    """``form``, or None once it is too large to be worth reading."""
    if form is None or not fits(form, MAX_FORM_OPS, MAX_FORM_DEPTH):
        return None
    return form


def _leads_to(graph: Graph, wrt: Sequence[str]) -> frozenset[str]:
    """The nodes on a path from a requested variable to the output."""
    reaches = graph.depending_on(wrt)
    return reaches if graph.target in reaches else frozenset()


# ── results ──────────────────────────────────────────────────────────────────────────────

def expand(graph: Graph, written_out) -> dict[Expr, Expr | None]:
    """The operations ``written_out``, each as its definition with the earlier ones written
    out in turn (None where that grows too large), keyed by the node's symbol."""
    mapping: dict[Expr, Expr | None] = {}
    for node in graph.operations:
        if not written_out(node):
            continue
        parts = [mapping.get(Symbol(name, real=True), S.One) for name in node.inputs]
        if any(p is None for p in parts):
            mapping[node.symbol] = None
        else:
            mapping[node.symbol] = _bounded(substitute(node.expr, mapping))
    return mapping


UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def defined_somewhere(graph: Graph, full: Mapping[Expr, Expr | None], gradients=()) -> None:
    """A symbolic worksheet whose node or gradient is undefined for every value of the inputs
    ((0·cos b)⁻², whose base is 0 whatever b is) is refused, naming the first such node."""
    for node in graph.operations:
        written = full.get(node.symbol)
        if written is not None and written.has(*UNDEFINED):
            line, column = node.pos or (None, None)
            raise WorksheetError(
                f"{node.name} = {short_expression(node.expr)} is undefined for every value of the inputs "
                f"({RULES[node.op].domain})", line=line, column=column)
    for g in gradients:
        if g.in_inputs is not None and g.in_inputs.has(*UNDEFINED):
            raise WorksheetError(f"∂{graph.target}/∂{g.wrt} is undefined for every value of the inputs "
                                 f"(a local derivative divides by a node that is always 0)", where="--wrt")


def _gradient(name: str, adjoints, named, full) -> Gradient:
    adjoint = adjoints.get(name)
    if adjoint is None:  # no path from this variable to the output
        return Gradient(name, S.Zero, S.Zero, S.Zero, S.Zero)
    form = adjoint.form
    return Gradient(
        name,
        form,
        _written_out(form, named),
        _written_out(form, full),
        adjoint.value,
    )


def _written_out(form: Expr | None, expansions: Mapping[Expr, Expr | None]) -> Expr | None:
    if form is None or any(expansions.get(s, s) is None for s in form.free_symbols):
        return None
    return _bounded(substitute(form, expansions))
