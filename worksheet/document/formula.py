"""A formula's worksheet: its problem, forward table, backward pass and result, each step a
local derivative in textbook form times the upstream gradient, in forms and in numbers."""

from __future__ import annotations

from sympy import S

from ..engine.trace import Step, Trace
from ..lang.graph import Node, symbol
from ..limits import MAX_FORM_DEPTH, MAX_FORM_OPS
from ..ops import RULES
from ..terms import Chain, Equation, Form, Number, Partial, Sum, plugged
from .blocks import Equations, Listing, Paragraph, Table
from .sections import (
    aux_blocks, blocked_note, distinct, fans_out, independent_note, listed, node_blocks, notes_paragraph, operation,
    outputs_note, path, paths_into, seeds_note,
)


def problem(trace: Trace) -> list:
    graph, target = trace.graph, trace.target
    blocks: list = []
    written = trace.expansions.get(graph.node(target).symbol)
    if graph.statements > 1:
        blocks.append(Listing(graph.source.strip()))
    if written is not None:
        blocks.append(Equations((Equation((Form(graph.node(target).symbol), Form(written))),)))
    blocks += outputs_note(graph, Form(graph.node(target).expr))
    wrt = listed(trace.wrt)
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
    return blocks + notes_paragraph(graph.notes)


def _point(trace: Trace) -> list:
    parts: list = []
    for i, (name, value) in enumerate(trace.point.items()):
        if i:
            parts.append(", ")
        parts.append(Equation((Form(symbol(name)), Number(value))))
    return parts


def value_cell(value, quantity: dict):
    """The worksheet's cell for a number: the number itself. A handout's writes a numbered
    blank instead where the student fills it in (``quantity`` says what it is: ``{"kind":
    "local", "node": "v3", "input": "w", "position": 0}``)."""
    return Number(value)


def _forward(trace: Trace) -> list:
    intro = Paragraph((
        "One row per node, in evaluation order: the inputs, then each operation as written."
        + (" Each value is computed from the values above it." if trace.values is not None else ""),
    ))
    return [intro, *forward_table(trace)]


def forward_table(trace: Trace, cell=value_cell) -> list:
    """One row per node: its name, operation, definition and value (an input's as given)."""
    values = trace.values
    header = ("node", "operation", "definition") + (("value",) if values is not None else ())
    rows = []
    for node in trace.graph.nodes:
        row = [Form(node.symbol), operation(node), _definition(node)]
        if values is not None:
            value = values[node.name]
            row.append(Number(value) if node.is_input else cell(value, {"kind": "forward", "node": node.name}))
        rows.append(tuple(row))
    return [Table(header, tuple(rows), "lll" + ("r" if values is not None else ""),
                  keys=tuple(node.name for node in trace.graph.nodes))]


def _definition(node: Node):
    if node.is_input:
        return None
    return Equation((Form(node.symbol), Form(node.expr)))


def _adjoints(trace: Trace) -> list:
    """The backward pass in brief: ∂L/∂u for every node, one line each, in the sweep's order."""
    target = trace.target
    if not trace.adjoints:
        return [Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    rows, keys = [Equation((Partial(target, target), Number(S.One)))], [target]
    for name, adjoint in trace.adjoints.items():
        if name == target:
            continue
        value = Number(adjoint.value) if adjoint.value is not None else (
            Form(adjoint.form) if adjoint.form is not None else None)
        if value is not None:
            rows.append(Equation((Partial(target, name), value)))
            keys.append(name)
    return [Equations(tuple(rows), keys=tuple(keys))]


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
    blocks += node_blocks(trace, equation=step_equation, fan_out=fan_out, heading=heading,
                          rule_of=_rule_of if rules else None)
    return blocks


def heading(trace: Trace, node: Node) -> tuple:
    label = Equation((Form(node.symbol), Form(node.expr)))
    return label, Paragraph(("Node ", label, ":"))


def _rule_of(node: Node, step: Step) -> str:
    return RULES[node.op].rule_of(step.position, *node.args)


def step_equation(trace: Trace, step: Step, cell=value_cell, *, working: bool = True) -> Equation:
    """One chain-rule step, ∂L/∂u = ∂L/∂v · ∂v/∂u = upstream · local = product, each number
    written by ``cell`` (the value, or a numbered blank); ``working`` False leaves out the forms
    between the chain and the numbers (a handout's sheet: the student works them out)."""
    target = trace.target
    at = {"node": step.node, "input": step.input, "position": step.position}
    sides: list = [] if fans_out(trace, step.input) else [Partial(target, step.input)]
    local = Form(step.local)
    # the local derivative with the values put in, where that is more than one number
    shown = [plugged(step.local, trace.values)] if working and trace.values and not step.local.is_Atom else []
    if step.node == target:
        if fans_out(trace, step.input):  # one path of several: ∂(v₁ + a)/∂a, as the sum writes it
            sides.append(path(trace, step.node, step.input, step.position))
        sides += [local, *shown] if working else []
        if step.local_value is not None:
            sides.append(cell(step.local_value, {"kind": "local", **at}))
        return Equation(tuple(distinct(sides)))
    sides.append(path(trace, step.node, step.input, step.position))
    if step.upstream_value is not None:
        upstream = cell(step.upstream_value, {"kind": "upstream", **at})
        if working:
            sides.append(Chain((upstream, local)))
            sides += [Chain((upstream, form)) for form in shown]
        if step.local.free_symbols or not working:
            sides.append(Chain((upstream, cell(step.local_value, {"kind": "local", **at}))))
        sides.append(cell(step.product_value, {"kind": "product", **at}))
    else:
        upstream = Form(step.upstream) if step.upstream is not None else Partial(target, step.node)
        sides.append(Chain((upstream, local)))
        if step.product is not None:
            sides.append(Form(step.product))
    return Equation(tuple(distinct(sides)))


def fan_out(trace: Trace, name: str, cell=value_cell, *, working: bool = True) -> Equation:
    """∂L/∂u = Σ over the nodes u feeds of ∂L/∂v · ∂v/∂u (``cell``, ``working``: as for a step)."""
    target = trace.target
    adjoint = trace.adjoints[name]
    steps = paths_into(trace, name)
    sides: list = [
        Partial(target, name),
        Sum(tuple(path(trace, s.node, name, s.position) for s in steps)),
    ]
    if adjoint.value is not None:
        if working:
            sides.append(Sum(tuple(Number(s.product_value) for s in steps)))
        sides.append(cell(adjoint.value, {"kind": "sum", "node": name}))
    elif all(s.product is not None for s in steps):
        sides.append(Sum(tuple(Form(s.product) for s in steps)))
        if adjoint.form is not None:
            sides.append(Form(adjoint.form))
    return Equation(tuple(distinct(sides)))


def _result(trace: Trace) -> list:
    rows, notes = [], []
    for gradient in trace.gradients:
        paths = fan_out(trace, gradient.wrt).sides[1:] if fans_out(trace, gradient.wrt) else []
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
    keys = tuple(gradient.wrt for gradient in trace.gradients)
    return [Equations(tuple(rows), keys=keys), *notes, *blocked_note(trace), *independent_note(trace),
            *aux_blocks(trace.graph, lambda name: _aux(trace, name))]


def _aux(trace: Trace, name: str) -> list:
    """An auxiliary output's definition and value (symbolically: written out in the inputs)."""
    node = trace.graph.node(name)
    if trace.values is not None:
        return [Form(node.expr), Number(trace.values[name])]
    written = trace.expansions.get(symbol(name))
    return [Form(node.expr), *([Form(written)] if written is not None else [])]


PARTS = (problem, _forward, _adjoints, _backward, _result)
