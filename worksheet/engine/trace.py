"""``Graph`` → ``Trace``: the forward values and every chain-rule product of the backward pass,
of a formula or of a model — one sweep, whatever the rank of the values (a scalar is shape ()).

The reverse sweep visits each operation once, from the output back. For each input u of a
node v that leads to a requested variable it records a ``Step``:

    ∂L/∂v · ∂v/∂u  =  upstream · local  =  product,   added into ∂L/∂u.

Where u feeds several nodes its ``Adjoint`` is the sum of those products (the fan-out sum).
What the numbers are is the trace's number policy (``numbers``): a formula's are exact SymPy
numbers, a model's arrays of exact or certified elements, and each step records what it is —
a local derivative in textbook form, or a vector-Jacobian product in matrix form (``vjp``) —
for the document to write. Forms (expressions in node names) are carried beside the values
while they stay small; past ``MAX_FORM_OPS`` they are omitted and only the values go on, so
the cost stays linear in the size of the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sympy
from sympy import Expr, S, Symbol

from ..arith import short_expression
from ..errors import WorksheetError
from ..forms import fits, product, substitute, total
from ..lang.graph import Graph, Node, symbol
from ..limits import MAX_FORM_DEPTH, MAX_FORM_OPS
from ..ops import RULES
from ..terms import Partial
from .numbers import EXACT, arg_shapes


@dataclass(frozen=True)
class Step:
    """One chain-rule product: ∂L/∂node · ∂node/∂input, added into ∂L/∂input.

    On a scalar path (every step of a formula) it holds the local derivative ∂node/∂input in
    textbook form and the product in node names; with values, their numbers. A model's step
    is a vector-Jacobian product: ``vjp``, its matrix form ((∂J/∂o) hᵀ), and ``value``, an
    array of the input's shape."""

    node: str
    input: str
    position: int  # which argument of the node the input is (x*x has two steps)
    local: Expr | None  # ∂node/∂input in textbook form, in node names (None off a scalar path)
    local_value: Expr | None
    upstream: Expr | None  # ∂L/∂node in node names (None: omitted as too large)
    upstream_value: object
    product: Expr | None
    product_value: object
    vjp: object = None  # a model's step in matrix form, a term in node names and ∂J/∂node

    @property
    def value(self):
        """What the step sends back along its arrow: a number, or an array of the input's shape."""
        return self.product_value


@dataclass(frozen=True)
class Adjoint:
    """∂L/∂node, complete: the sum of the products of ``steps`` (one step unless it fans out)."""

    node: str
    steps: tuple[int, ...]  # indices into Trace.steps
    form: Expr | None  # in node names, while every path to it is scalar and short
    value: object


@dataclass(frozen=True)
class Gradient:
    """A requested ∂L/∂wrt: as the sweep built it, in names, in the inputs, and its value. A
    model's is in matrix form, and is not written out further than its scalar gradients."""

    wrt: str
    in_trace: object  # as the sweep built it, in every node's name (a model's: its matrix form)
    in_names: object  # unnamed intermediates written out, the user's names kept
    in_inputs: object  # fully written out in the inputs
    value: object


@dataclass(frozen=True)
class Trace:
    graph: Graph
    wrt: tuple[str, ...]
    point: Mapping[str, object] | None  # the inputs' values, None for a symbolic worksheet
    values: Mapping[str, object] | None  # every node's forward value
    steps: tuple[Step, ...]
    adjoints: Mapping[str, Adjoint]  # in the order the sweep completed them
    gradients: tuple[Gradient, ...]
    expansions: Mapping[Expr, Expr | None] = field(default_factory=dict)  # each operation written out in the inputs
    stops: tuple[tuple[str, str], ...] = ()  # (node, input): stop_gradient nodes the sweep reached
    modes: object = None  # modes.Modes: forward mode, the adjoint trace, finite differences (--mode, --check-numeric)
    decimal_inputs: bool = False  # were its numbers written with a decimal point (--numbers auto)
    seed: object = None  # --seed-grad: ∂J/∂J for a vector or matrix output (None: 1)
    shapes: Mapping[str, tuple] = field(default_factory=dict)  # every node's shape, () a scalar
    tensor: bool = False  # a model: values are arrays, steps vector-Jacobian products

    @property
    def target(self) -> str:
        return self.graph.target

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the worksheet: HTML, Markdown and text (``worksheet.display``)."""
        from ..display import worksheet

        return worksheet(self, include, exclude)


def trace(graph: Graph, wrt: Sequence[str], point: Mapping[str, Expr] | None = None, seed=None) -> Trace:
    """Forward values at ``point`` (if given) and the reverse sweep toward ``wrt``: a model's
    (a program with a vector, a matrix or a tensor operation) with its shapes."""
    from .tensor_trace import is_tensor_program, tensor_trace

    if is_tensor_program(graph, point):
        return tensor_trace(graph, wrt, point, seed)
    values = forward(graph, point) if point is not None else None
    steps, adjoints = backward(graph, wrt, values)
    shown = any(name in adjoints and adjoints[name].form is not None for name in wrt)
    named = expand(graph, lambda node: not node.named) if shown else {}  # for a gradient's form alone
    full = expand(graph, lambda node: True)
    gradients = tuple(_gradient(name, adjoints, named, full) for name in wrt)
    if values is None:
        defined_somewhere(graph, full, gradients)
    return Trace(graph, tuple(wrt), point, values, tuple(steps), adjoints, gradients, full,
                 stopped(graph, adjoints, _leads_to(graph, wrt)), shapes={n.name: () for n in graph.nodes})


# ── forward ──────────────────────────────────────────────────────────────────────────────

def forward(graph: Graph, point: Mapping[str, object], numbers=EXACT) -> dict[str, object]:
    """Every node's value, in evaluation order."""
    values: dict[str, object] = {}
    for node in graph.nodes:
        values[node.name] = numbers.input(point[node.name]) if node.is_input else numbers.value(graph, node, values)
    return values


# ── backward ─────────────────────────────────────────────────────────────────────────────

def backward(graph: Graph, wrt: Sequence[str], values: Mapping[str, object] | None, numbers=EXACT, *,
             shapes: Mapping[str, tuple] | None = None, seed=None, forms: bool = True):
    """The reverse sweep: each node once, from the output back, from ∂L/∂L = 1 (or ``seed``,
    ``--seed-grad``, for a vector or matrix output). A stop_gradient node sends nothing back.
    ``forms`` False: only the numbers (training loops)."""
    target = graph.target
    needed = _leads_to(graph, wrt)
    _check_differentiable(graph, needed, numbers)
    sums = {target: numbers.one if seed is None else seed} if values is not None else {}
    written: dict[str, Expr | None] = {target: S.One if forms else None}  # ∂L/∂v in node names
    contributions: dict[str, list[int]] = {}
    steps: list[Step] = []
    adjoints: dict[str, Adjoint] = {}
    for node in reversed(graph.operations):
        if node.name not in needed or node.name not in written:
            continue
        adjoints[node.name] = Adjoint(
            node.name, tuple(contributions.get(node.name, ())), written[node.name], sums.get(node.name))
        rule = numbers.rule(node.op)
        if rule.stops_gradient:  # stop_gradient: no step, ∂L/∂u gets nothing here
            continue
        for position, arg in enumerate(node.args):
            if not (isinstance(arg, Symbol) and arg.name in needed):
                continue
            step = _step(graph, node, position, arg.name, written[node.name], sums.get(node.name), values,
                         numbers, shapes, seed, forms)
            contributions.setdefault(step.input, []).append(len(steps))
            steps.append(step)
            # the sweep runs backwards: put each path in front, so sums read in the user's order
            written[step.input] = _bounded(_add(step.product, written.get(step.input, S.Zero)))
            if values is not None:
                running = sums.get(step.input)
                sums[step.input] = (step.product_value if running is None else
                                    numbers.add(graph, node, step.input, running, step.product_value, values))
    for node in graph.inputs:
        if node.name in written:
            adjoints[node.name] = Adjoint(
                node.name, tuple(contributions.get(node.name, ())), written[node.name], sums.get(node.name))
    return steps, adjoints


def _step(graph: Graph, node: Node, position: int, name: str, upstream, upstream_value, values, numbers,
          shapes, seed, forms: bool) -> Step:
    on_scalars = _scalar_path(node, name, numbers, shapes)
    local = RULES[node.op].local(position, *node.args) if on_scalars and forms else None
    local_value = product_value = None
    if values is not None:
        local_value, product_value = numbers.send(graph, node, position, name, upstream_value, local, values)
    product_form = _bounded(product(upstream, local)) if upstream is not None and local is not None else None
    vjp = None
    if numbers.tensor and forms:
        g = None if node.name == graph.target and seed is None else Partial(graph.target, node.name)
        vjp = numbers.rule(node.op).vjp_form(position, g, node.symbol, node.args, arg_shapes(node, shapes))
    return Step(node.name, name, position, local, local_value, upstream, upstream_value,
                product_form, product_value, vjp)


def _scalar_path(node: Node, name: str, numbers, shapes) -> bool:
    """Is the step from ``node`` to ``name`` one of scalars through a scalar operation (every
    step of a formula): one with a local derivative in textbook form?"""
    if not numbers.tensor:
        return True
    return numbers.rule(node.op).tensor is False and shapes[name] == () and shapes[node.name] == ()


def _check_differentiable(graph: Graph, needed: frozenset[str], numbers) -> None:
    for node in graph.operations:
        rule = numbers.rule(node.op)
        for i, arg in enumerate(node.args):
            if isinstance(arg, Symbol) and arg.name in needed and not rule.differentiable(i):
                raise WorksheetError(
                    f"{arg.name} is the class index of {node.op}; a class index has no gradient",
                    where="--wrt",
                )


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
        parts = [mapping.get(symbol(name), S.One) for name in node.inputs]
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
