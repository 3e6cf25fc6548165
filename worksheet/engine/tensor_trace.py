"""A model's trace: shapes first, then the one sweep (``trace``) over arrays (``numbers.ELEMENTS``).

A model is a program with a vector, a matrix or a tensor operation (``@``, ``sum``, a loss).
Its shapes are inferred before any value is computed, so that a mismatch is one line naming
both sides; its values are arrays of exact or certified elements; each backward step is a
vector-Jacobian product in matrix form (``(∂J/∂o) hᵀ``) and its numbers. Where a value feeds
several nodes (a weight in the loss and in the regulariser) its gradient is the sum of those
steps. The output must be a scalar (backward starts from ∂J/∂J = 1), or be given a seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import sympy
from sympy import Expr

from ..errors import WorksheetError
from ..forms import product, substitute
from ..lang.graph import Graph, Node
from ..limits import MAX_TENSOR_WORK
from ..ops import TENSOR_OPS
from ..ops.tensor import tensor_rule
from ..tensors import is_array, ShapeError, check_size, describe_shape, full, scalar, shape_text
from ..terms import Chain, Form, Partial, Sum, Tensor
from .numbers import ELEMENTS, arg_shapes, as_written, certified, located
from .trace import Gradient, Trace, backward, expand, forward, stopped
from ..lazy import lazy

np = lazy("numpy")

Shape = tuple[int, ...]


def is_tensor_program(graph: Graph, point: Mapping | None) -> bool:
    """Does the program use a tensor value or a tensor operation?"""
    if any(n.op in TENSOR_OPS for n in graph.operations):
        return True
    return any(is_array(v) for v in (point or {}).values())


def tensor_trace(graph: Graph, wrt: Sequence[str], point: Mapping | None, seed=None) -> Trace:
    """Shapes, forward values at ``point``, and the matrix-form reverse sweep toward ``wrt``.

    ``seed`` (``--seed-grad``): for an output that is a vector or a matrix, the tensor of its
    shape the sweep starts from (PyTorch's ``backward(gradient=seed)``): every gradient is
    then the vector-Jacobian product seedᵀ ∂J/∂·, the gradient of the scalar Σᵢ seedᵢ Jᵢ.
    Elements that leave exact fractions are balls, certified (``numbers.certified``)."""
    if point is None:
        raise WorksheetError(
            "a program with vectors or matrices needs values: declare each input with one "
            "(param W = randn(4, 3, seed=0), data x = [1, 2, 3]) or give them with --at"
        )
    return certified(graph, lambda: _tensor_trace(graph, wrt, point, seed))


def _tensor_trace(graph: Graph, wrt: Sequence[str], point: Mapping, seed=None) -> Trace:
    given = {name: ELEMENTS.input(value) for name, value in point.items()}
    shapes = infer_shapes(graph, {k: v.shape for k, v in given.items()})
    shapes.update({name: () for name in wrt if name not in shapes})  # unused and given no value: its 0 is a number
    values = forward(graph, given, ELEMENTS)
    seed = ELEMENTS.input(seed) if seed is not None else None
    _check_output(graph, shapes, seed)
    graph = _summed_outputs(graph, shapes)
    steps, adjoints = backward(graph, wrt, values, ELEMENTS, shapes=shapes, seed=seed)
    named = expand(graph, lambda node: not node.named and tensor_rule(node.op).tensor is False)
    scalar_forms = {name: a.form for name, a in adjoints.items() if a.form is not None and name != graph.target}
    in_names = {name: substitute(form, named) for name, form in scalar_forms.items()}
    gradients = tuple(_gradient(name, adjoints, steps, shapes, in_names) for name in wrt)
    stops = stopped(graph, adjoints, graph.depending_on(wrt))
    point = {**values_of_inputs(graph, values), **{k: v for k, v in given.items() if k not in values}}  # unused too
    return Trace(graph, tuple(wrt), point, values, tuple(steps), adjoints, gradients, stops=stops, seed=seed,
                 shapes=shapes, tensor=True)


def _summed_outputs(graph: Graph, shapes: Mapping[str, Shape]) -> Graph:
    """The graph with the sum of several outputs (``--target L,z``) defined as it is computed:
    L_total = L + sum(z), a tensor output summed over its elements."""
    if not graph.outputs:
        return graph
    node = graph.node(graph.target)
    terms = [sympy.Function("sum")(a) if shapes[a.name] else a for a in node.args]
    summed = dataclasses.replace(node, expr=sympy.Add(*terms, evaluate=False))
    return dataclasses.replace(graph, nodes=tuple(summed if n is node else n for n in graph.nodes))


def values_of_inputs(graph: Graph, values):
    return {n.name: values[n.name] for n in graph.inputs}


# ── shapes ───────────────────────────────────────────────────────────────────────────────

def infer_shapes(graph: Graph, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
    """Every node's shape, before any value is computed; a mismatch is one line naming both."""
    shapes = dict(inputs)
    work = 0
    for node in graph.operations:
        rule = tensor_rule(node.op)
        try:
            shapes[node.name] = rule.shape(*arg_shapes(node, shapes))
            check_size(shapes[node.name], node.name)
        except ShapeError as problem:
            raise located(graph, node, f"{as_written(node)}: {problem}") from None
        work += _node_work(node, shapes)
        if work > MAX_TENSOR_WORK:
            raise located(graph, node, f"the program needs more than {MAX_TENSOR_WORK:,} element operations")
    return shapes


def tensor_work(graph: Graph, shapes: Mapping[str, Shape]) -> int:
    """The element operations of a forward and backward pass, as the work limit counts them."""
    return sum(_node_work(node, shapes) for node in graph.operations)


def _node_work(node: Node, shapes: Mapping[str, Shape]) -> int:
    return tensor_rule(node.op).work(*arg_shapes(node, shapes))


def _check_output(graph: Graph, shapes: Mapping[str, Shape], seed: np.ndarray | None = None) -> None:
    """The output is a scalar, or a tensor given a seed of its shape (``--seed-grad``)."""
    shape = shapes[graph.target]
    node = graph.node(graph.target)
    if seed is None:
        if shape:
            raise located(
                graph, node,
                f"{graph.target} is {describe_shape(shape)}; backward starts from a scalar: reduce it "
                f"with sum(…), mean(…) or a loss, or give --seed-grad, a tensor of its shape to start "
                f"from (the gradient argument of backward())",
            )
        return
    if graph.outputs:
        raise WorksheetError(
            f"{graph.target}, the sum of the outputs {', '.join(graph.outputs)}, is a scalar seeded with 1 "
            "(each output with ones of its shape); --seed-grad seeds a single vector or matrix output",
            where="--seed-grad",
        )
    if not shape:
        raise WorksheetError(
            f"{graph.target} is a scalar, seeded with 1; --seed-grad is for a vector or matrix output",
            where="--seed-grad",
        )
    if seed.shape != shape:
        raise WorksheetError(
            f"the seed is {describe_shape(seed.shape)} but {graph.target} is {describe_shape(shape)}; "
            "--seed-grad must have the output's shape",
            where="--seed-grad",
        )


# ── gradients in matrix form ─────────────────────────────────────────────────────────────

def _gradient(name: str, adjoints, steps, shapes, in_names) -> Gradient:
    """∂J/∂name: one step's matrix form or the sum of the paths, with its scalar gradients
    written out (``in_names``); a model's gradient is not written out further."""
    adjoint = adjoints.get(name)
    if adjoint is None:
        zero = full(shapes[name], 0) if shapes[name] else scalar(0)
        return Gradient(name, None, None, None, zero)
    forms = [steps[i].vjp for i in reversed(adjoint.steps)]
    form = forms[0] if len(forms) == 1 else Sum(tuple(forms)) if forms else None
    written_form = written_in(form, in_names)
    return Gradient(name, form, written_form, written_form, adjoint.value)


def written_in(term, written: Mapping[str, Expr]):
    """``term`` with each scalar ∂J/∂v replaced by its expression, products of expressions
    multiplied out: ∂J/∂v₂ · 2W₁ with ∂J/∂v₂ = λ/2 becomes λW₁."""
    if isinstance(term, Partial):
        return Form(written[term.wrt]) if term.wrt in written else term
    if isinstance(term, Chain):
        factors = tuple(written_in(f, written) for f in term.factors)
        if all(isinstance(f, Form) for f in factors):
            return Form(product(*(f.expr for f in factors)))
        return Chain(factors)
    if dataclasses.is_dataclass(term) and not isinstance(term, (Form, Tensor)):
        changes = {}
        for field in dataclasses.fields(term):
            value = getattr(term, field.name)
            if isinstance(value, tuple):
                changes[field.name] = tuple(written_in(v, written) for v in value)
            elif dataclasses.is_dataclass(value):
                changes[field.name] = written_in(value, written)
        return dataclasses.replace(term, **changes)
    return term


__all__ = ["is_tensor_program", "tensor_trace", "infer_shapes", "tensor_work", "shape_text"]
