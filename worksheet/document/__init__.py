"""``Trace`` → ``Document``: the worksheet's sections, tables and equations, in no output syntax.

A document is plain data: headings, paragraphs, tables and chains of equations whose
parts are mathematical *terms* (a form, a number, ∂L/∂v, a product of terms). Renderers
print it in Markdown, LaTeX or plain text; none of them decides what a worksheet says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from sympy import S

from ..lang.graph import Node, symbol
from ..limits import MAX_DRAWN_ARROWS, MAX_FORM_DEPTH, MAX_FORM_OPS
from ..ops import RULES
from ..terms import Chain, Equation, Form, Number, Ones, Partial, Shown, Sum, plugged  # noqa: F401
from ..engine.trace import Step, Trace

# ── blocks ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Text with inline math: a tuple of strings and terms/equations."""

    parts: tuple


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple, ...]  # cells: str, a term, an equation, or None for an empty cell
    align: str  # one letter per column: l, c or r


@dataclass(frozen=True)
class Equations:
    """A display block of equations, one per line, each with an optional label."""

    rows: tuple[Equation, ...]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """A program, shown as the user typed it."""

    text: str


@dataclass(frozen=True)
class Figure:
    """The computational graph as a picture: a ``worksheet.figure.Figure`` (nodes, arrows with
    values and gradients, coordinates). Markdown draws it as Mermaid, LaTeX as TikZ; a
    renderer without pictures leaves it out, and its layout is then never computed (``make``
    lays it out on first use)."""

    make: Callable[[], object]

    @cached_property
    def figure(self) -> object:
        return self.make()


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple
    numbers: str = "exact"  # how its values are written: render.notation.NUMBERS


# ── the worksheet ────────────────────────────────────────────────────────────────────────


DETAILS = {
    "brief": "the tables and the results: the forward table, one line per gradient of the backward pass, the result",
    "standard": "every chain-rule product of the backward pass (the default)",
    "full": "as standard, and the rule of every local derivative (constant multiple rule, quotient rule, …)",
}


def worksheet(trace: Trace, *, title: str = "Backpropagation worksheet", detail: str = "standard",
              numbers: str = "exact") -> Document:
    """The derivation of ``trace`` as a document: problem, forward pass, backward pass, result.

    ``detail`` (``DETAILS``): ``brief`` reduces the backward pass to one line per node,
    ``∂L/∂u = value``, and leaves out the figure; ``full`` names the rule after each step.
    ``numbers``: exact, terminating or decimal (``render.notation.NUMBERS``). A model's
    worksheet has the same sections, in matrix form (``document.tensor``).
    """
    if trace.tensor:
        from .tensor import PARTS
    else:
        PARTS = (_problem, _forward, _adjoints, _backward, _result)
    return sections(trace, PARTS, title=title, detail=detail, numbers=numbers)


def sections(trace, parts, *, title: str, detail: str, numbers: str) -> Document:
    """A worksheet's document, for a formula or a model: the problem, 1. the graph and forward
    pass, 2. the backward pass (in brief: ∂L/∂v for every node), 3. the result; ``parts`` are the
    functions that write them: (problem, forward, adjoints, backward(trace, rules=), result)."""
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r} (details: {', '.join(DETAILS)})")
    problem, forward, adjoints, backward, result = parts
    brief = detail == "brief"
    blocks = [
        *problem(trace),
        Heading("1. Computational graph and forward pass"),
        *forward(trace),
        *([] if brief else graph_figure(trace, numbers)),
        Heading("2. Backward pass"),
        *(adjoints(trace) if brief else backward(trace, rules=detail == "full")),
        Heading("3. Result"),
        *result(trace),
    ]
    return Document(title, tuple(blocks), numbers)


def _problem(trace: Trace) -> list:
    graph, target = trace.graph, trace.target
    blocks: list = []
    written = trace.expansions.get(graph.node(target).symbol)
    if graph.statements > 1:
        blocks.append(Listing(graph.source.strip()))
    if written is not None:
        blocks.append(Equations((Equation((Form(graph.node(target).symbol), Form(written))),)))
    blocks += outputs_note(graph, Form(graph.node(target).expr))
    wrt = _names(trace.wrt)
    plural = "s" if len(trace.wrt) > 1 else ""
    sentence: list = [f"Find the gradient{plural} of ", Form(symbol(target)), " with respect to "]
    sentence += wrt
    if trace.point is not None:
        sentence.append(" at ")
        sentence += _point(trace)
    else:
        sentence.append(", symbolically")
    sentence.append(".")
    blocks.append(Paragraph(tuple(sentence)))
    return blocks


def _names(names) -> list:
    parts: list = []
    for i, name in enumerate(names):
        if i:
            parts.append(" and " if i == len(names) - 1 else ", ")
        parts.append(Form(symbol(name)))
    return parts


def _point(trace: Trace) -> list:
    parts: list = []
    for i, (name, value) in enumerate(trace.point.items()):
        if i:
            parts.append(", ")
        parts.append(Equation((Form(symbol(name)), Number(value))))
    return parts


def _forward(trace: Trace) -> list:
    values = trace.values
    header = ("node", "operation", "definition") + (("value",) if values is not None else ())
    rows = []
    for node in trace.graph.nodes:
        row = [Form(node.symbol), _operation(node), _definition(node)]
        if values is not None:
            row.append(Number(values[node.name]))
        rows.append(tuple(row))
    intro = Paragraph((
        "One row per node, in evaluation order: the inputs, then each operation as written."
        + (" Each value is computed from the values above it." if values is not None else ""),
    ))
    return [intro, Table(header, tuple(rows), "lll" + ("r" if values is not None else ""))]


def _operation(node: Node) -> str:
    if node.is_input:
        return {"param": "parameter", "data": "data"}.get(node.kind, "input")
    return RULES[node.op].title


def _definition(node: Node):
    if node.is_input:
        return None
    return Equation((Form(node.symbol), Form(node.expr)))


def _adjoints(trace: Trace) -> list:
    """The backward pass in brief: ∂L/∂u for every node, one line each, in the sweep's order."""
    target = trace.target
    if not trace.adjoints:
        return [Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    rows = [Equation((Partial(target, target), Number(S.One)))]
    for name, adjoint in trace.adjoints.items():
        if name == target:
            continue
        value = Number(adjoint.value) if adjoint.value is not None else (
            Form(adjoint.form) if adjoint.form is not None else None)
        if value is not None:
            rows.append(Equation((Partial(target, name), value)))
    return [Equations(tuple(rows))]


def rules_named(trace, steps, rule_of) -> Paragraph | None:
    """The rule ``rule_of(node, step)`` behind each step's local derivative, ∂v/∂u, one
    paragraph per node: ``Rules: ∂v2/∂a: constant multiple rule; ∂v2/∂b: quotient rule.``"""
    named: dict[str, list] = {}  # rule → the local derivatives it gives, in the order of the steps
    for step in steps:
        node = trace.graph.node(step.node)
        name = rule_of(node, step)
        partial = local(trace, step.node, step.input)
        if name and partial not in named.setdefault(name, []):
            named[name].append(partial)
    parts: list = []
    for name, partials in named.items():
        if not partials:
            continue
        if parts:
            parts.append("; ")
        for i, partial in enumerate(partials):
            parts += [", "] * bool(i) + [partial]
        parts.append(f": {name}")
    return Paragraph(("Rule" + ("s" if len(named) > 1 else "") + ": ", *parts, ".")) if parts else None


def _backward(trace: Trace, rules: bool = False) -> list:
    target = trace.target
    if not trace.steps and not trace.stops:
        return [Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    blocks: list = [Paragraph((
        "Seed ", Equation((Partial(target, target), Number(S.One))),
        ". From the output back, each input ", Form(symbol("u")), " of a node ", Form(symbol("v")),
        " receives the upstream gradient times the local derivative, ",
        Chain((Partial(target, "v"), Partial("v", "u"))),
        "; where a value feeds several nodes, the paths add up.",
    )), *seeds_note(trace.graph, None)]
    blocks += node_blocks(trace, equation=_step_equation, fan_out=_fan_out, heading=_heading,
                          rule_of=_rule_of if rules else None)
    return blocks


def _heading(trace: Trace, node: Node) -> tuple:
    label = Equation((Form(node.symbol), Form(node.expr)))
    return label, Paragraph(("Node ", label, ":"))


def _rule_of(node: Node, step: Step) -> str:
    return RULES[node.op].rule_of(step.position, *node.args)


def node_blocks(trace, *, equation, fan_out, heading, rule_of=None) -> list:
    """The backward pass node by node, from the output back, for a formula or a model: the node
    (``heading(trace, node)``: its label and paragraph), the sum where its value feeds several
    nodes (``fan_out``), one equation per chain-rule step (``equation(trace, step)``), the rule
    behind each (``rule_of``, for --detail full) and where the gradient stops."""
    stops: dict[str, list[str]] = {}
    for node_name, input_name in trace.stops:
        stops.setdefault(node_name, []).append(input_name)
    steps_from: dict[str, list] = {}
    for step in trace.steps:
        steps_from.setdefault(step.node, []).append(step)
    blocks: list = []
    for name, adjoint in trace.adjoints.items():
        node = trace.graph.node(name)
        if node.is_input:
            continue
        steps = steps_from.get(name, [])
        rows = [fan_out(trace, name)] * (len(adjoint.steps) > 1) + [equation(trace, step) for step in steps]
        label, paragraph = heading(trace, node)
        blocks.append(paragraph)
        if rows:
            blocks.append(Equations(tuple(rows)))
        if rule_of and (named := rules_named(trace, steps, rule_of)):
            blocks.append(named)
        if name in stops:
            blocks.append(stop_note(trace.target, node, stops[name], label))
    return blocks


def _step_equation(trace: Trace, step: Step) -> Equation:
    target = trace.target
    sides: list = [] if _fans_out(trace, step.input) else [Partial(target, step.input)]
    local = Form(step.local)
    # the local derivative with the values put in, where that is more than one number
    shown = [plugged(step.local, trace.values)] if trace.values and not step.local.is_Atom else []
    if step.node == target:
        if _fans_out(trace, step.input):  # one path of several: ∂(v₁ + a)/∂a, as the sum writes it
            sides.append(path(trace, step.node, step.input))
        sides += [local, *shown]
        if step.local_value is not None:
            sides.append(Number(step.local_value))
        return Equation(tuple(distinct(sides)))
    sides.append(path(trace, step.node, step.input))
    if step.upstream_value is not None:
        upstream = Number(step.upstream_value)
        sides.append(Chain((upstream, local)))
        sides += [Chain((upstream, form)) for form in shown]
        if step.local.free_symbols:
            sides.append(Chain((upstream, Number(step.local_value))))
        sides.append(Number(step.product_value))
    else:
        upstream = Form(step.upstream) if step.upstream is not None else Partial(target, step.node)
        sides.append(Chain((upstream, local)))
        if step.product is not None:
            sides.append(Form(step.product))
    return Equation(tuple(distinct(sides)))


def _fan_out(trace: Trace, name: str) -> Equation:
    """∂L/∂u = Σ over the nodes u feeds of ∂L/∂v · ∂v/∂u."""
    target = trace.target
    adjoint = trace.adjoints[name]
    steps = [trace.steps[i] for i in reversed(adjoint.steps)]  # in the order of the formula
    sides: list = [
        Partial(target, name),
        Sum(tuple(path(trace, s.node, name) for s in steps)),
    ]
    if adjoint.value is not None:
        sides.append(Sum(tuple(Number(s.product_value) for s in steps)))
        sides.append(Number(adjoint.value))
    elif all(s.product is not None for s in steps):
        sides.append(Sum(tuple(Form(s.product) for s in steps)))
        if adjoint.form is not None:
            sides.append(Form(adjoint.form))
    return Equation(tuple(distinct(sides)))


def _result(trace: Trace) -> list:
    rows, notes = [], []
    for gradient in trace.gradients:
        paths = _fan_out(trace, gradient.wrt).sides[1:] if _fans_out(trace, gradient.wrt) else []
        sides: list = [Partial(trace.target, gradient.wrt), *paths[:1]]
        sides += [Form(f) for f in (gradient.in_trace, gradient.in_names, gradient.in_inputs) if f is not None]
        if gradient.value is not None:
            sides += [*paths[1:2], Number(gradient.value)]
        if gradient.in_inputs is None:
            notes.append(Paragraph((
                Partial(trace.target, gradient.wrt),
                " written out in the inputs would be too long to read (more than "
                f"{MAX_FORM_OPS} operations, or nested more than {MAX_FORM_DEPTH} deep), "
                "so only its value is shown.",
            )))
        rows.append(Equation(tuple(distinct(sides))))
    return [Equations(tuple(rows)), *notes, *blocked_note(trace), *aux_blocks(trace.graph, lambda name: _aux(trace, name))]


def _aux(trace: Trace, name: str) -> list:
    """An auxiliary output's definition and value (symbolically: written out in the inputs)."""
    node = trace.graph.node(name)
    if trace.values is not None:
        return [Form(node.expr), Number(trace.values[name])]
    written = trace.expansions.get(symbol(name))
    return [Form(node.expr), *([Form(written)] if written is not None else [])]


def local(trace, node: str, wrt: str) -> Partial:
    """∂v/∂u, node v's local derivative; the output's is written on its definition,
    ∂(v₁ + a)/∂a, since ∂L/∂a is the whole gradient (1 and −2 in one line otherwise)."""
    return Partial(trace.graph.node(node).expr if node == trace.target else node, wrt)


def path(trace, node: str, wrt: str):
    """One path of a fan-out: ∂L/∂v · ∂v/∂u; out of the output itself, ∂(v₁ + a)/∂a alone."""
    if node == trace.target:
        return local(trace, node, wrt)
    return Chain((Partial(trace.target, node), local(trace, node, wrt)))


def _fans_out(trace: Trace, name: str) -> bool:
    adjoint = trace.adjoints.get(name)
    return adjoint is not None and len(adjoint.steps) > 1


def distinct(sides: list) -> list:
    """Drop a side that says the same as the one before it (x = x says nothing)."""
    result = []
    for side in sides:
        if not result or _key(side) != _key(result[-1]):
            result.append(side)
    return result


def _key(side):
    """Forms and numbers of the same value read alike: 1 = 1 is dropped too."""
    if isinstance(side, Form):
        return ("value", side.expr)
    if isinstance(side, Number):
        return ("value", side.value)
    return side


# ── several outputs, auxiliary outputs, stop_gradient (shared with document.tensor) ──────


def graph_figure(trace, numbers: str = "exact") -> list:
    """The graph as a figure: each arrow with its value and the gradient flowing back along it;
    a graph of more than MAX_DRAWN_ARROWS arrows is named, not drawn."""
    from ..figure import figure, uses

    arrows = sum(1 for _ in uses(trace.graph))
    if arrows > MAX_DRAWN_ARROWS:
        return [Paragraph((f"The graph has {arrows:,} arrows, too many to draw on a page (at most "
                           f"{MAX_DRAWN_ARROWS:,}): worksheet graph draws it alone, as SVG or PNG.",))]
    return [Figure(lambda: figure(trace, numbers=numbers))]



def outputs_note(graph, definition) -> list:
    """Several outputs (``--target L,z``): what their sum, the output the sweep starts from, is."""
    if not graph.outputs:
        return []
    return [Paragraph((
        "The program has several outputs, ", *_names(graph.outputs), ". Their gradients add: they "
        "are differentiated through their sum ", Equation((Form(symbol(graph.target)), definition)),
        ", each output seeded with ones of its shape (MindSpore's grad of a function that returns "
        "several values; in PyTorch, backward() of the sum).",
    ))]


def seeds_note(graph, shapes) -> list:
    """The seed each output gets through the sum of the outputs: 1, or 𝟏 of its shape."""
    if not graph.outputs:
        return []
    parts: list = ["Through ", Form(symbol(graph.target)), " each output is seeded with ones of its shape: "]
    for i, name in enumerate(graph.outputs):
        if i:
            parts.append(" and " if i == len(graph.outputs) - 1 else ", ")
        shape = shapes.get(name, ()) if shapes else ()
        parts.append(Equation((Partial(graph.target, name), Ones(shape) if shape else Number(S.One))))
    parts.append(".")
    return [Paragraph(tuple(parts))]


def stop_note(target: str, node: Node, inputs, label) -> Paragraph:
    """At a stop_gradient node: the gradient stops here."""
    parts: list = []
    for i, name in enumerate(inputs):
        if i:
            parts.append(", ")
        parts.append(Partial(target, name))
    return Paragraph((
        *parts, " gets nothing through ", label, ": stop_gradient passes the value forward and "
        "no gradient back, so the sweep stops here (no step).",
    ))


def blocked_note(trace) -> list:
    """The requested variables that affect the output only through stop_gradient."""
    if not trace.stops:
        return []
    graph = trace.graph
    above, stack = set(), [graph.target]
    while stack:
        name = stack.pop()
        if name not in above:
            above.add(name)
            stack.extend(graph.node(name).inputs)
    blocked = [w for w in trace.wrt if w in above and w not in trace.adjoints]
    if not blocked:
        return []
    return [Paragraph((
        *_names(blocked), " affect" + ("s" if len(blocked) == 1 else ""), " ", Form(symbol(graph.target)),
        " only through stop_gradient, so " + ("its gradient is" if len(blocked) == 1 else "their gradients are"),
        " 0.",
    ))]


def aux_blocks(graph, sides) -> list:
    """``--aux``: the auxiliary outputs, which are not differentiated: each name = ``sides(name)``
    (its definition and its value)."""
    aux = graph.aux
    if not aux:
        return []
    rows = tuple(Equation(tuple(distinct([Form(symbol(name)), *sides(name)]))) for name in aux)
    return [Paragraph(("Auxiliary outputs (not differentiated):",)), Equations(rows)]

