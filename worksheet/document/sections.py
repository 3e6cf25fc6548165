"""What a formula's worksheet and a model's share: the sections (``sections``), the backward
pass node by node (``node_blocks``), the names of the partials (``local``, ``path``), and the
notes on several outputs, auxiliary outputs, stop_gradient, unused variables and how the program
was read."""

from __future__ import annotations

from sympy import S, Symbol

from ..lang.graph import Node, symbol
from ..limits import MAX_DRAWN_ARROWS
from ..ops import RULES
from ..terms import Chain, Equation, Form, Number, Ones, Partial
from .blocks import Document, Equations, Figure, Heading, Paragraph, use_key

DETAILS = {
    "brief": "the tables and the results: the forward table, one line per gradient of the backward pass, the result",
    "standard": "every chain-rule product of the backward pass (the default)",
    "full": "as standard, and the rule of every local derivative (constant multiple rule, quotient rule, …)",
}


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


def operation(node: Node) -> str:
    """What a forward table calls a node: its kind of input, or its operation's title."""
    if node.is_input:
        return {"param": "parameter", "data": "data"}.get(node.kind, "input")
    return RULES[node.op].title


def local(trace, node: str, wrt: str, position: int | None = None) -> Partial:
    """∂v/∂u, node v's local derivative; the output's is written on its definition,
    ∂(v₁ + a)/∂a, since ∂L/∂a is the whole gradient (1 and −2 in one line otherwise). With
    the ``position`` of u among v's arguments, where v uses u more than once, it says which
    use it is (∂v₂/∂w (first use)), as the graph draws one arrow per use."""
    use = use_of(trace.graph.node(node), wrt, position) if position is not None else None
    return Partial(trace.graph.node(node).expr if node == trace.target else node, wrt, use)


def use_of(node: Node, wrt: str, position: int) -> int | None:
    """Which use of ``wrt`` argument ``position`` of ``node`` is, counted from the left (1, 2, …);
    None where the node uses it once."""
    uses = [i for i, arg in enumerate(node.args) if isinstance(arg, Symbol) and arg.name == wrt]
    return uses.index(position) + 1 if len(uses) > 1 and position in uses else None


def path(trace, node: str, wrt: str, position: int | None = None):
    """One path of a fan-out: ∂L/∂v · ∂v/∂u; out of the output itself, ∂(v₁ + a)/∂a alone
    (``position``: as for ``local``)."""
    if node == trace.target:
        return local(trace, node, wrt, position)
    return Chain((Partial(trace.target, node), local(trace, node, wrt, position)))


def paths_into(trace, name: str) -> list:
    """The steps whose products add up to ∂L/∂name, in the order of the formula: by node, in
    evaluation order, then by argument (w·w: its first use, then its second)."""
    order = trace.graph.order
    steps = [trace.steps[i] for i in trace.adjoints[name].steps]
    return sorted(steps, key=lambda s: (order[s.node], s.position))


def fans_out(trace, name: str) -> bool:
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


def node_blocks(trace, *, equation, fan_out, heading, rule_of=None, input_sums: bool = False) -> list:
    """The backward pass node by node, from the output back, for a formula or a model: the node
    (``heading(trace, node)``: its label and paragraph), the sum where its value feeds several
    nodes (``fan_out``), one equation per chain-rule step (``equation(trace, step)``), the rule
    behind each (``rule_of``, for --detail full) and where the gradient stops. With
    ``input_sums``, an input used more than once gets its sum as a step of its own too, where
    the sweep completes it (a handout's sheet: the worksheet writes it in the result)."""
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
            if input_sums and len(adjoint.steps) > 1:
                blocks += [input_paragraph(trace, name), Equations((fan_out(trace, name),), keys=(name,))]
            continue
        steps = steps_from.get(name, [])
        sums = [name] if len(adjoint.steps) > 1 else []
        rows = [fan_out(trace, name) for _ in sums] + [equation(trace, step) for step in steps]
        keys = sums + [use_key(step.node, step.input, step.position) for step in steps]
        label, paragraph = heading(trace, node)
        blocks.append(paragraph)
        if rows:
            blocks.append(Equations(tuple(rows), keys=tuple(keys)))
        if rule_of and (named := rules_named(trace, steps, rule_of)):
            blocks.append(named)
        if name in stops:
            blocks.append(stop_note(trace.target, node, stops[name], label))
    return blocks


def input_paragraph(trace, name: str) -> Paragraph:
    """Where an input's paths meet: ``Input w, used twice: its paths add up.``"""
    count = len(trace.adjoints[name].steps)
    times = "twice" if count == 2 else f"{count} times"
    return Paragraph(("Input ", Form(symbol(name)), f", used {times}: its paths add up.",))


def rules_named(trace, steps, rule_of) -> Paragraph | None:
    """The rule ``rule_of(node, step)`` behind each step's local derivative, ∂v/∂u, one
    paragraph per node: ``Rules: ∂v2/∂a: constant multiple rule; ∂v2/∂b: quotient rule.``"""
    named: dict[str, list] = {}  # rule → the local derivatives it gives, in the order of the steps
    for step in steps:
        node = trace.graph.node(step.node)
        name = rule_of(node, step)
        partial = local(trace, step.node, step.input, step.position)
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


def listed(names) -> list:
    parts: list = []
    for i, name in enumerate(names):
        if i:
            parts.append(" and " if i == len(names) - 1 else ", ")
        parts.append(Form(symbol(name)))
    return parts


# ── several outputs, auxiliary outputs, stop_gradient ─────────────────────────────────────


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
        "The program has several outputs, ", *listed(graph.outputs), ". Their gradients add: they "
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


def notes_paragraph(notes) -> list:
    """Notes for the reader — how the program was read (``Graph.notes``), the learning rate — as
    one short paragraph, each note a sentence (a string, or a tuple of text and terms); none
    without notes."""
    parts: list = []
    for i, note in enumerate(notes):
        parts += [" "] * bool(i) + ([note] if isinstance(note, str) else list(note))
    return [Paragraph(tuple(parts))] if parts else []


def independent_note(trace) -> list:
    """The requested variables the output does not depend on at all (a name the formula does not
    use, as JAX's grad allows): ``L does not depend on y: ∂L/∂y = 0.``"""
    above = trace.graph.ancestors([trace.target])
    return notes_paragraph(
        (Form(symbol(trace.target)), " does not depend on ", Form(symbol(w)), ": ",
         Equation((Partial(trace.target, w), Number(S.Zero))), ".")
        for w in trace.wrt if w not in above
    )


def blocked_note(trace) -> list:
    """The requested variables that affect the output only through stop_gradient."""
    if not trace.stops:
        return []
    graph = trace.graph
    above = graph.ancestors([graph.target])
    blocked = [w for w in trace.wrt if w in above and w not in trace.adjoints]
    if not blocked:
        return []
    return [Paragraph((
        *listed(blocked), " affect" + ("s" if len(blocked) == 1 else ""), " ", Form(symbol(graph.target)),
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
    return [Paragraph(("Auxiliary outputs (not differentiated):",)), Equations(rows, keys=tuple(aux))]
