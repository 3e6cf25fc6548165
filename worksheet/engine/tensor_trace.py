"""``Graph`` → ``TensorTrace``: forward values with shapes, and the reverse sweep in matrix form.

The same sweep as ``trace.py``, over tensors: each operation is visited once, from the
output back; for each input that leads to a requested variable a ``TensorStep`` records
the vector-Jacobian product — its matrix form (``(∂J/∂o) hᵀ``) and its numbers. Where a
value feeds several nodes (a weight in the loss and in the regulariser) its gradient is the
sum of those steps. The output must be a scalar (backward starts from ∂J/∂J = 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy
from flint import arb
from sympy import Expr, Symbol

from ..arith import CARRIED_BITS, MAX_PRECISION, Imprecise, TooSmall, short_expression
from ..arith.balls import working
from ..arith.elements import Ball, magnitude_checked, to_arb
from ..arith.real import START
from ..errors import WorksheetError
from ..lang.graph import Graph, Node
from ..limits import MAX_TENSOR_WORK
from ..ops import TENSOR_OPS
from ..ops.tensor import tensor_rule
from ..tensors import (
    OutsideDomain, ShapeError, TooLarge, as_array, check_size, describe_shape, full, number, scalar,
    shape_text, tidy_all,
)
from ..forms import product, substitute, total
from ..terms import Chain, Form, Partial, Sum, Tensor
from .trace import expand, stopped

Shape = tuple[int, ...]


@dataclass(frozen=True)
class TensorStep:
    """One vector-Jacobian product: the part of ∂J/∂input that flows through ``node``."""

    node: str
    input: str
    position: int
    form: object  # the matrix form, a term in node names and ∂J/∂node
    value: np.ndarray  # of the input's shape


@dataclass(frozen=True)
class TensorAdjoint:
    """∂J/∂node, complete: the sum of its ``steps`` (one unless the node fans out)."""

    node: str
    steps: tuple[int, ...]
    value: np.ndarray

    @property
    def form(self):
        return None


@dataclass(frozen=True)
class TensorGradient:
    wrt: str
    form: object  # the matrix form: one step's, or the sum of the paths
    value: np.ndarray
    in_names: object = None  # the form with scalar gradients written out: (∂J/∂z) xᵀ + λW₁


@dataclass(frozen=True)
class TensorTrace:
    graph: Graph
    wrt: tuple[str, ...]
    point: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]
    shapes: Mapping[str, Shape]
    steps: tuple[TensorStep, ...]
    adjoints: Mapping[str, TensorAdjoint]
    gradients: tuple[TensorGradient, ...]
    stops: tuple[tuple[str, str], ...] = ()  # (node, input): stop_gradient nodes the sweep reached
    seed: np.ndarray | None = None  # --seed-grad: ∂J/∂J for a vector or matrix output (else 1)
    modes: object = None  # modes.Modes: finite differences (--check-numeric)
    decimal_inputs: bool = False  # were its numbers written with a decimal point (--numbers auto)

    @property
    def target(self) -> str:
        return self.graph.target


def is_tensor_program(graph: Graph, point: Mapping | None) -> bool:
    """Does the program use a tensor value or a tensor operation?"""
    if any(n.op in TENSOR_OPS for n in graph.operations):
        return True
    return any(isinstance(v, np.ndarray) for v in (point or {}).values())


def tensor_trace(graph: Graph, wrt: Sequence[str], point: Mapping | None, seed=None) -> TensorTrace:
    """Shapes, forward values at ``point``, and the matrix-form reverse sweep toward ``wrt``.

    ``seed`` (``--seed-grad``): for an output that is a vector or a matrix, the tensor of its
    shape the sweep starts from (PyTorch's ``backward(gradient=seed)``): every gradient is
    then the vector-Jacobian product seedᵀ ∂J/∂·, the gradient of the scalar Σᵢ seedᵢ Jᵢ.

    Elements that leave exact fractions are balls (``arith.elements``); the sweep is run at
    128 bits and again with twice the bits while an element it prints is not certified to
    CARRIED_BITS or a kink cannot be decided (Ziv's strategy), up to MAX_PRECISION."""
    prec = START
    while True:
        try:
            with working(prec):
                result = _tensor_trace(graph, wrt, point, seed)
            uncertified = _uncertified(result, prec)
            if uncertified is None:
                return result
            problem = _located(graph, graph.node(uncertified), f"{uncertified}: its value does not settle at "
                               f"{MAX_PRECISION:,} bits of precision (it cancels to within 10^−4,932 of its terms)")
        except _Undecided as undecided:
            problem = undecided.error
        if prec >= MAX_PRECISION:
            raise problem
        prec = min(2 * prec, MAX_PRECISION)


class _Undecided(Imprecise):
    """A kink or a domain this precision cannot decide, at a node (``error``: the refusal, if
    no precision can)."""

    def __init__(self, error: WorksheetError):
        self.error = error


ZERO_PRECISION = 512
"""From this many bits on, an element whose ball still holds 0 and is narrower than 2^−(prec − 64)
of the largest entry of the trace counts as 0 (a cancellation to 0: Σ(softmax − onehot), z −
mean(z)); printed 0. Below this precision it is first computed again with more bits."""


def _uncertified(trace: TensorTrace, prec: int) -> str | None:
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


def _tensor_trace(graph: Graph, wrt: Sequence[str], point: Mapping | None, seed=None) -> TensorTrace:
    if point is None:
        raise WorksheetError(
            "a program with vectors or matrices needs values: declare each input with one "
            "(param W = randn(4, 3, seed=0), data x = [1, 2, 3]) or give them with --at"
        )
    values = {name: _tensor(value) for name, value in point.items()}
    shapes = infer_shapes(graph, {k: v.shape for k, v in values.items()})
    values = forward(graph, values)
    seed = _tensor(seed) if seed is not None else None
    _check_output(graph, shapes, seed)
    graph = _summed_outputs(graph, shapes)
    steps, adjoints, scalar_forms = backward(graph, wrt, values, shapes, seed=seed)
    named = expand(graph, lambda node: not node.named and tensor_rule(node.op).tensor is False)
    written = {name: substitute(form, named) for name, form in scalar_forms.items()}
    gradients = tuple(_gradient(name, adjoints, steps, shapes, written) for name in wrt)
    stops = stopped(graph, adjoints, graph.depending_on(wrt))
    return TensorTrace(graph, tuple(wrt), values_of_inputs(graph, values), values, shapes,
                       tuple(steps), adjoints, gradients, stops, seed)


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


def _tensor(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    return scalar(number(value))


# ── shapes and forward values ────────────────────────────────────────────────────────────

def infer_shapes(graph: Graph, inputs: Mapping[str, Shape]) -> dict[str, Shape]:
    """Every node's shape, before any value is computed; a mismatch is one line naming both."""
    shapes = dict(inputs)
    work = 0
    for node in graph.operations:
        arg_shapes = tuple(_arg_shape(a, shapes) for a in node.args)
        rule = tensor_rule(node.op)
        try:
            shapes[node.name] = rule.shape(*arg_shapes)
            check_size(shapes[node.name], node.name)
        except ShapeError as problem:
            raise _located(graph, node, f"{_written(graph, node)}: {problem}") from None
        work += _node_work(node, shapes)
        if work > MAX_TENSOR_WORK:
            raise _located(graph, node, f"the program needs more than {MAX_TENSOR_WORK:,} element operations")
    return shapes


def tensor_work(graph: Graph, shapes: Mapping[str, Shape]) -> int:
    """The element operations of a forward and backward pass, as the work limit counts them."""
    return sum(_node_work(node, shapes) for node in graph.operations)


def _node_work(node: Node, shapes: Mapping[str, Shape]) -> int:
    return tensor_rule(node.op).work(*(_arg_shape(a, shapes) for a in node.args))


def _arg_shape(arg: Expr, shapes: Mapping[str, Shape]) -> Shape:
    return shapes[arg.name] if isinstance(arg, Symbol) else ()


def _arg_value(arg: Expr, values: Mapping[str, np.ndarray]) -> np.ndarray:
    return values[arg.name] if isinstance(arg, Symbol) else scalar(number(arg))


def forward(graph: Graph, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for node in graph.operations:
        xs = [_arg_value(a, values) for a in node.args]
        values[node.name] = _computed(graph, node, lambda: tensor_rule(node.op).forward(*xs), xs)
    return values


def _computed(graph: Graph, node: Node, compute, xs, wrt: str | None = None) -> np.ndarray:
    """``compute()``, or one line naming the node and the problem."""
    try:
        return as_array(compute())
    except OutsideDomain as problem:
        where = f"∂{node.name}/∂{wrt}" if wrt else node.name
        raise _located(graph, node, f"{where} = {_written(graph, node)} is undefined at the given values ({problem})") from None
    except Imprecise:
        raise _Undecided(_located(graph, node, f"{node.name} = {_written(graph, node)}: a kink or a domain "
                                               f"edge that no precision up to {MAX_PRECISION:,} bits decides")) from None
    except (TooLarge, OverflowError) as problem:
        why = problem if isinstance(problem, TooLarge) else "beyond the largest double, about 1.8e308"
        what = "is too small to write" if isinstance(problem, TooSmall) else "overflows"
        raise _located(graph, node, f"{node.name} = {_written(graph, node)} {what} ({why})") from None
    except ShapeError as problem:
        raise _located(graph, node, f"{_written(graph, node)}: {problem}") from None
    except ZeroDivisionError:
        raise _located(graph, node, f"{node.name} = {_written(graph, node)} divides by zero") from None


def _check_output(graph: Graph, shapes: Mapping[str, Shape], seed: np.ndarray | None = None) -> None:
    """The output is a scalar, or a tensor given a seed of its shape (``--seed-grad``)."""
    shape = shapes[graph.target]
    node = graph.node(graph.target)
    if seed is None:
        if shape:
            raise _located(
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


# ── backward ─────────────────────────────────────────────────────────────────────────────

def backward(graph: Graph, wrt: Sequence[str], values, shapes, *, forms: bool = True, seed=None):
    """The reverse sweep: each node once, each step's matrix form (unless ``forms`` is False,
    for training loops that need only the numbers) and value. It starts from ∂J/∂J = 1, or
    from ``seed`` (``--seed-grad``) for a vector or matrix output. A stop_gradient node sends
    nothing back: no step."""
    target = graph.target
    leads = graph.depending_on(wrt)
    _check_differentiable(graph, wrt, leads)
    accumulated: dict[str, np.ndarray] = {target: seed if seed is not None else scalar(1)}
    scalar_forms: dict[str, Expr | None] = {target: sympy.S.One}  # scalar ∂J/∂v in node names
    paths: dict[str, list[int]] = {target: []}
    steps: list[TensorStep] = []
    adjoints: dict = {}
    for node in reversed(graph.operations):
        if node.name not in accumulated or node.name not in leads:
            continue
        g = accumulated[node.name]
        adjoints[node.name] = TensorAdjoint(node.name, tuple(paths[node.name]), g)
        rule = tensor_rule(node.op)
        xs = [_arg_value(a, values) for a in node.args]
        arg_shapes = tuple(_arg_shape(a, shapes) for a in node.args)
        upstream = None if node.name == target and seed is None else Partial(target, node.name)
        for i, arg in enumerate(node.args):
            if not (isinstance(arg, Symbol) and arg.name in leads and rule.differentiable(i)):
                continue
            if rule.stops_gradient:  # stop_gradient: ∂J/∂arg gets nothing through this node
                continue
            value = _computed(graph, node, lambda: rule.vjp(i, g, values[node.name], *xs), xs, arg.name)
            value = tidy_all(value)
            form = rule.vjp_form(i, upstream, node.symbol, node.args, arg_shapes) if forms else None
            steps.append(TensorStep(node.name, arg.name, i, form, value))
            name = arg.name
            accumulated[name] = value if name not in accumulated else as_array(accumulated[name] + value)
            if forms:
                _add_scalar_form(scalar_forms, name, node, i, rule, shapes)
            paths.setdefault(name, []).append(len(steps) - 1)
    for node in graph.inputs:
        if node.name in accumulated and node.name in leads:
            adjoints[node.name] = TensorAdjoint(node.name, tuple(paths[node.name]), accumulated[node.name])
    return steps, adjoints, {k: v for k, v in scalar_forms.items() if v is not None and k != target}


def _add_scalar_form(forms: dict, name: str, node: Node, i: int, rule, shapes) -> None:
    """∂J/∂name as an expression, while every path to it runs through scalar operations."""
    upstream = forms.get(node.name)
    scalar_path = rule.tensor is False and shapes[name] == () and shapes[node.name] == ()
    if upstream is None or not scalar_path:
        forms[name] = None
        return
    contribution = product(upstream, rule.rule.local(i, *node.args))
    if name not in forms:
        forms[name] = contribution
    elif forms[name] is not None:
        forms[name] = total(contribution, forms[name])


def _check_differentiable(graph: Graph, wrt: Sequence[str], leads: frozenset[str]) -> None:
    for node in graph.operations:
        rule = tensor_rule(node.op)
        for i, arg in enumerate(node.args):
            if isinstance(arg, Symbol) and arg.name in leads and not rule.differentiable(i):
                raise WorksheetError(
                    f"{arg.name} is the class index of {node.op}; a class index has no gradient",
                    where="--wrt",
                )


def _gradient(name: str, adjoints, steps, shapes, written) -> TensorGradient:
    adjoint = adjoints.get(name)
    if adjoint is None:
        return TensorGradient(name, None, full(shapes[name], 0) if shapes[name] else scalar(0))
    forms = [steps[i].form for i in reversed(adjoint.steps)]
    form = forms[0] if len(forms) == 1 else Sum(tuple(forms)) if forms else None
    in_names = written_in(form, written)
    return TensorGradient(name, form, adjoint.value, in_names if in_names != form else None)


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


# ── messages ─────────────────────────────────────────────────────────────────────────────

SYMBOLS = {"matmul": "@", "add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def _written(graph: Graph, node: Node) -> str:
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


def _located(graph: Graph, node: Node, message: str) -> WorksheetError:
    line, column = node.pos if node.pos else (None, None)
    return WorksheetError(message, line=line, column=column, source=graph.source or None)


__all__ = ["TensorTrace", "TensorStep", "TensorGradient", "is_tensor_program", "tensor_trace", "shape_text"]
