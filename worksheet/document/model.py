"""A model's ``Trace`` → its worksheet's sections, with vectors and matrices.

The same sections as a scalar worksheet — problem, graph and forward pass, backward pass,
result — with each node's shape (h ∈ ℝ⁴, W₁ ∈ ℝ^{4×3}), values as matrices, and each
backward step in matrix form, ``∂J/∂W₂ = (∂J/∂o) hᵀ``, followed by its numbers.
"""

from __future__ import annotations

import sympy

from .blocks import Equations, Listing, Paragraph, Table
from .sections import (
    aux_blocks, blocked_note, distinct, fans_out, independent_note, listed, local, node_blocks, notes_paragraph,
    operation, outputs_note, path, paths_into, seeds_note, use_of,
)
from ..lang.graph import Node, symbol
from ..ops.tensor import tensor_rule
from ..engine.numbers import arg_shapes
from ..engine.trace import Step, Trace
from ..tensors import is_exact
from ..terms import Call, Equation, Form, Hadamard, Number, Ones, Partial, Space, Sum, Tensor, Transpose
from ..lazy import lazy

np = lazy("numpy")


def _adjoints(trace: Trace) -> list:
    """The backward pass in brief: ∂J/∂v for every node, one line each, in the sweep's order."""
    target = trace.target
    if not trace.steps and not trace.stops:
        return [Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    seed = shown(trace.seed) if trace.seed is not None else Number(sympy.S.One)
    names = [target] + [name for name in trace.adjoints if name != target]
    rows = [Equation((Partial(target, target), seed))]
    rows += [Equation((Partial(target, name), shown(trace.adjoints[name].value))) for name in names[1:]]
    return [Equations(tuple(rows), keys=tuple(names))]


def _rule_of(trace: Trace):
    """--detail full: the rule behind a step's vector-Jacobian product (an elementwise one says so)."""
    def rule_of(node: Node, step: Step) -> str:
        name = tensor_rule(node.op).rule_of(step.position, *node.args)
        elementwise = not tensor_rule(node.op).tensor and trace.shapes[node.name] != ()
        return f"{name}, elementwise" if name and elementwise else name
    return rule_of


def shown(value: np.ndarray):
    """A value as a term: a number for a scalar, a matrix otherwise."""
    if value.shape == ():
        x = value[()]
        if is_exact(x):
            return Number(sympy.Rational(x.numerator, x.denominator))
        if float(x) == int(float(x)) and abs(float(x)) < 1e15:  # 2.0 is shown 2
            return Number(sympy.Integer(int(float(x))))
        return Number(sympy.Float(float(x), 17))
    return Tensor(value)


def problem(trace: Trace) -> list:
    graph = trace.graph
    blocks: list = [Listing(graph.source.strip())]
    blocks += outputs_note(graph, _definition(trace, graph.node(graph.target)))
    sentence: list = [f"Find the gradient{'s' if len(trace.wrt) > 1 else ''} of ", Form(symbol(graph.target)),
                      " with respect to ", *listed(trace.wrt), " at the values below."]
    blocks.append(Paragraph(tuple(sentence)))
    return blocks + notes_paragraph(graph.notes)


def value_cell(value: np.ndarray, quantity: dict):
    """The worksheet's cell for a value: the number or the matrix itself (a handout's: a blank)."""
    return shown(value)


def _forward(trace: Trace) -> list:
    intro = Paragraph((
        "One row per node, in evaluation order: the inputs, then each operation as written, with "
        "the space its value lives in (",
        Space(()), " a number, ", Space((4,)), " a vector of 4, ", Space((4, 3)),
        " a matrix of 4 rows and 3 columns; a vector is a column). Scalars are in the table, vectors and matrices below it.",
    ))
    return [intro, *forward_table(trace)]


def forward_table(trace: Trace, cell=value_cell) -> list:
    """One row per node with its space; the scalars' values in the table, the vectors' and
    matrices' below it (numbered in reading order: the table's cells, then the matrices)."""
    def written(node):
        value = trace.values[node.name]
        return shown(value) if node.is_input else cell(value, {"kind": "forward", "node": node.name})

    nodes = trace.graph.nodes
    rows = [(Form(n.symbol), Space(trace.shapes[n.name]), operation(n), _definition(trace, n),
             written(n) if trace.values[n.name].shape == () else None) for n in nodes]
    tensors = [Equation((Form(n.symbol), *([_definition(trace, n)] if not n.is_input else []), written(n)))
               for n in nodes if trace.values[n.name].shape != ()]
    blocks = [Table(("node", "shape", "operation", "definition", "value"), tuple(rows), "lllll",
                    keys=tuple(n.name for n in nodes))]
    if tensors:
        blocks.append(Equations(tuple(tensors), keys=tuple(n.name for n in nodes if trace.values[n.name].shape != ())))
    return blocks


def _definition(trace: Trace, node: Node):
    if node.is_input:
        return None
    return tensor_rule(node.op).definition(node.args, arg_shapes(node, trace.shapes))


def _backward(trace: Trace, rules: bool = False) -> list:
    target = trace.target
    if not trace.steps and not trace.stops:
        return [Paragraph((f"No requested variable affects {target}: every gradient is 0.",))]
    seed: tuple = ("Seed ", Equation((Partial(target, target), Number(sympy.S.One))), ". ")
    if trace.seed is not None:  # --seed-grad: a vector-Jacobian product
        g = Form(symbol("g"))
        seed = ("Seed ", Equation((Partial(target, target), g)), ", the tensor given with --seed-grad (the "
                "gradient argument of PyTorch's backward()), shown below: every ", Partial(target, "u"),
                " is then the vector-Jacobian product of ", g, ", the gradient of the scalar ",
                Call("sum", (Hadamard((g, Form(symbol(target)))),)), ". ")
    blocks: list = [Paragraph((
        *seed, "From the output back, each input ", Form(symbol("u")), " of a node ", Form(symbol("v")),
        " receives the vector-Jacobian product of ", Form(symbol("v")),
        ", written in matrix form (", Transpose(Form(symbol("A"))), " the transpose, ",
        Hadamard((Form(symbol("a")), Form(symbol("b")))), " the elementwise product, ", Ones(()),
        " a tensor of ones) and then in numbers; ",
        Partial(target, "u"), " has the shape of ", Form(symbol("u")),
        ". Where a value feeds several nodes, the paths add up.",
    ))]
    if trace.seed is not None:
        blocks.append(Equations((Equation((Partial(target, target), Form(symbol("g")), shown(trace.seed))),)))
    blocks += seeds_note(trace.graph, trace.shapes)
    blocks += node_blocks(trace, equation=step_equation, fan_out=fan_out, heading=heading,
                          rule_of=_rule_of(trace) if rules else None)
    return blocks


def heading(trace: Trace, node: Node) -> tuple:
    label = Equation((Form(node.symbol), _definition(trace, node)))
    return label, Paragraph(("Node ", label, ", in ", Space(trace.shapes[node.name]), ":"))


def step_equation(trace: Trace, step: Step, cell=value_cell, *, working: bool = True) -> Equation:
    """One vector-Jacobian product, ∂J/∂u = its matrix form = its value (``cell``: the value,
    or a numbered blank; a model's step has no working between the two)."""
    target = trace.target
    sides: list = [] if fans_out(trace, step.input) else [Partial(target, step.input)]
    if sides == [] and step.node == target:  # one path of several, out of the output itself
        sides.append(local(trace, step.node, step.input, step.position))
    elif use_of(trace.graph.node(step.node), step.input, step.position):  # which use: w·w has two
        sides.append(path(trace, step.node, step.input, step.position))
    at = {"node": step.node, "input": step.input, "position": step.position}
    sides += [step.vjp, cell(step.value, {"kind": "product", **at})]
    return Equation(tuple(distinct(sides)))


def fan_out(trace: Trace, name: str, cell=value_cell, *, working: bool = True) -> Equation:
    """∂J/∂u = the sum of the paths' matrix forms = its value."""
    adjoint = trace.adjoints[name]
    forms = tuple(s.vjp for s in paths_into(trace, name))
    return Equation((Partial(trace.target, name), Sum(forms), cell(adjoint.value, {"kind": "sum", "node": name})))


def _result(trace: Trace) -> list:
    rows = []
    for gradient in trace.gradients:
        sides: list = [Partial(trace.target, gradient.wrt)]
        if gradient.in_trace is not None:
            sides.append(gradient.in_trace)
        if gradient.in_names != gradient.in_trace:  # its scalar gradients written out
            sides.append(gradient.in_names)
        sides.append(shown(gradient.value))
        rows.append(Equation(tuple(sides)))
    return [Equations(tuple(rows), keys=tuple(g.wrt for g in trace.gradients)), *blocked_note(trace),
            *independent_note(trace),
            *aux_blocks(trace.graph, lambda name: [_definition(trace, trace.graph.node(name)),
                                                   shown(trace.values[name])])]


PARTS = (problem, _forward, _adjoints, _backward, _result)
"""A model's worksheet; ``detail`` as for a formula's (``document.DETAILS``): ``brief`` is the
forward table, ∂J/∂v for every node and the result; ``full`` names each VJP's rule."""
