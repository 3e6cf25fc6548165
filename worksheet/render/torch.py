"""Trace → a runnable PyTorch script that rebuilds the model, calls ``backward()`` and checks
every ``.grad`` against the worksheet's numbers (exit status 1 when one differs).

The script uses PyTorch's own functions (``F.mse_loss``, ``F.cross_entropy``, …) in float64,
so it is an independent check of the worksheet, and a starting point for students.
"""

from __future__ import annotations

import keyword
import math

import sympy
from sympy import Symbol

from ..errors import WorksheetError
from ..lang.graph import Graph, Node
from ..lang.versions import unversioned
from ..ops import RULES
from .templating import environment
from ..lazy import lazy
from ..tensors import is_array

np = lazy("numpy")

RTOL, ATOL = "1e-9", "1e-12"
TAKEN = {"torch", "F", "sys", "expected", "ok", "name", "tensor", "want", "got"}



def render(trace) -> str:
    graph = trace.graph
    values = _input_values(trace)
    if values is None:
        raise WorksheetError("the PyTorch script needs values: give them with --at or in the program", where="--format torch")
    names = {n.name: _python_name(n.name) for n in graph.nodes}
    indices = _class_indices(graph)
    inputs = [_input_line(n, names[n.name], values[n.name], n.name in trace.wrt, n.name in indices)
              for n in graph.inputs]
    model = [f"{names[n.name]} = {_expression(n, names, _shapes(trace))}" for n in graph.operations]
    retained = [f"{names[w]}.retain_grad()" for w in trace.wrt if not graph.node(w).is_input]
    expected = [(g.wrt, _floats(g.value)) for g in trace.gradients]
    return environment().get_template("check.py.j2").render(
        title=None, inputs=inputs, model=_retain(model, retained, graph, names),
        output=names[graph.target], target=graph.target, expected=expected, seed=_seed(trace),
        reached=any(w in trace.adjoints for w in trace.wrt),
        checked=[(w, names[w]) for w in trace.wrt], rtol=RTOL, atol=ATOL,
    )


def _retain(model: list[str], retained: list[str], graph: Graph, names) -> list[str]:
    """Intermediate nodes asked for with --wrt keep their .grad (retain_grad after their line)."""
    if not retained:
        return model
    out = []
    for node, line in zip(graph.operations, model):
        out.append(line)
        if f"{names[node.name]}.retain_grad()" in retained:
            out.append(f"{names[node.name]}.retain_grad()")
    return out


def _input_values(trace):
    if trace.point is None:
        return None
    return dict(trace.point)


def _shapes(trace):
    return trace.shapes


def _python_name(name: str) -> str:
    base, version = unversioned(name)
    if version:  # c″, a reassigned name's version: c_v2
        name = f"{base}_v{version}"
    if keyword.iskeyword(name) or name in TAKEN:
        return name + "_"
    return name


def _class_indices(graph: Graph) -> set[str]:
    return {n.args[1].name for n in graph.operations
            if n.op == "cross_entropy" and isinstance(n.args[1], Symbol)}


def _input_line(node: Node, name: str, value, grad: bool, index: bool) -> str:
    if index:
        return f"{name} = torch.tensor({_ints(value)}, dtype=torch.long)"
    flag = ", requires_grad=True" if grad else ""
    return f"{name} = torch.tensor({_floats(value)}{flag})"


def _expression(node: Node, names, shapes) -> str:
    """The node's line of PyTorch, as its rule writes it (``Rule.torch_code``)."""
    code = [names[a.name] if isinstance(a, Symbol) else _literal(a) for a in node.args]
    numbers = [not isinstance(a, Symbol) for a in node.args]
    arg_shapes = [shapes.get(a.name, ()) if isinstance(a, Symbol) else () for a in node.args]
    return RULES[node.op].torch_code(code, numbers, arg_shapes)


def _seed(trace) -> str:
    """backward()'s argument: the --seed-grad tensor, if one was given."""
    seed = trace.seed
    return "" if seed is None else f"gradient=torch.tensor({_floats(seed)})"


def _literal(value: sympy.Expr) -> str:
    """A number in the model's code; negative ones in parentheses (so -1 ** x means (-1)**x)."""
    text = str(int(value)) if value.is_Integer else _double(value)
    return f"({text})" if text.startswith("-") else text


def _floats(value) -> str:
    """A number or nested lists of numbers as Python float literals (exact doubles)."""
    if is_array(value):
        if value.shape == ():
            return _floats(value[()])
        return "[" + ", ".join(_floats(v) for v in value) + "]"
    return _double(value)


def _double(value) -> str:
    """A float literal, exact to the double; a value beyond the doubles' range is refused (the
    script computes in float64: an ``inf`` would be no test)."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise WorksheetError("the PyTorch script computes in float64, and a value here is beyond the "
                             "largest double (about 1.8e308): write the worksheet in another format")
    return repr(number)


def _ints(value) -> str:
    if is_array(value):
        if value.shape == ():
            return str(int(value[()]))
        return "[" + ", ".join(_ints(v) for v in value) + "]"
    return str(int(value))
