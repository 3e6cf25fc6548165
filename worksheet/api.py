"""The library's front door: ``derive`` runs parse → graph → trace, with every check the CLI has.

    >>> from worksheet import derive, render
    >>> trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    >>> [str(g.value) for g in trace.gradients]
    ['-8', '-4']
    >>> print(render(trace, "txt"))      # or "md", "tex", "json"
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction

import numpy as np
import sympy
from sympy import Expr

from . import tensors
from .errors import WorksheetError
from .lang.graph import Graph, Let, build, constant
from .limits import MAX_FORMULA_CHARS
from .lang.parse import parse_expression, parse_source
from .lang.tokens import tokenize, written_in_decimals
from .engine.tensor_trace import TensorTrace, is_tensor_program, tensor_trace
from .engine.trace import Trace, trace

Number = int | float | Fraction | Decimal | str | Expr


def derive(
    formula: str,
    wrt: str | Iterable[str] | None = None,
    at: str | Mapping[str, Number] | None = None,
    *,
    let: str | Iterable[str] = (),
    target: str | Iterable[str] | None = None,
    filename: str | None = None,
    aux: str | Iterable[str] = (),
    seed_grad: str | Number | Iterable | None = None,
    mode: str | None = None,
    check_numeric: bool = False,
) -> Trace | TensorTrace:
    """The step-by-step gradient of ``formula`` (a formula or a program's text).

    A program with vectors or matrices (``param W = randn(4, 3, seed=0)``, ``W @ x``,
    ``mean``, a loss) gives a ``TensorTrace``: shapes, and the backward pass in matrix form.

    ``wrt``: the variables, as ``"w,b"`` or a list (default: the program's params, else
    every input). ``at``: values, as ``"w=1,b=0"`` or a mapping; without it (and without
    values declared in the program) the worksheet is symbolic. ``let``: names for
    sub-expressions, as ``"y_pred=w*x+b"`` (or several). ``target``: which assignment of a
    program to differentiate (default: the last); several, as ``"loss,z"`` or a list, are
    differentiated through their sum ``L_total = loss + sum(z)``, each output seeded with ones
    of its shape (MindSpore's ``grad`` of a function returning ``(loss, z)``). ``aux``:
    assignments whose values are reported but not differentiated (``has_aux``). ``seed_grad``:
    for an output that is a vector or a matrix, the gradient to start from, of its shape
    (``"[1, 0, 2]"``, nested lists or an array; PyTorch's ``backward(gradient=…)``).
    ``filename``: where the text came from, for error messages; a file may be longer than a
    one-line formula. ``mode``: ``"reverse"`` (the backward pass, and the adjoint trace),
    ``"forward"`` (the evaluation trace with a tangent column per variable) or ``"both"``;
    None is the plain reverse-mode worksheet. ``check_numeric``: a central-difference estimate
    of each gradient, and the gradient four ways (``trace.modes``; see ``worksheet.modes``).
    """
    with _collector_paused():
        result = _derive(formula, wrt, at, let, target, filename, aux, seed_grad, mode, check_numeric)
    return dataclasses.replace(result, decimal_inputs=decimal_inputs(formula, at))


def decimal_inputs(*written) -> bool:
    """Were any of these inputs (texts, or mappings of values) written as decimals, 0.5 not 1/2?"""
    for item in written:
        if isinstance(item, str) and written_in_decimals(item):
            return True
        if isinstance(item, Mapping) and any(isinstance(v, float) or (isinstance(v, str) and written_in_decimals(v))
                                             for v in item.values()):
            return True
    return False


@contextmanager
def _collector_paused():
    """A trace's objects all live until it is done: Python's cyclic collector, which would
    scan them again on every pass, waits until then (a 5,000-node trace: a fifth of its time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _derive(formula, wrt, at, let, target, filename, aux, seed_grad, mode, check_numeric):
    graph = program_graph(formula, filename=filename, let=let, target=target, aux=aux)
    names = wrt_names(graph, parse_names(wrt, "--wrt") if wrt is not None else None)
    point = point_of(graph, parse_point(at) if at is not None else {})
    seed = parse_seed(seed_grad) if seed_grad is not None else None
    if is_tensor_program(graph, point):
        return _with_modes(located(lambda: tensor_trace(graph, names, point, seed), formula, filename),
                           mode, check_numeric, formula, filename)
    if seed is not None:
        raise WorksheetError(
            f"{graph.target} is a scalar, seeded with 1; --seed-grad is for a vector or matrix output",
            where="--seed-grad",
        )
    return _with_modes(located(lambda: trace(graph, names, point), formula, filename),
                       mode, check_numeric, formula, filename)


def program_graph(
    formula: str,
    *,
    filename: str | None = None,
    let: str | Iterable[str] = (),
    target: str | Iterable[str] | None = None,
    aux: str | Iterable[str] = (),
) -> Graph:
    """The graph of a formula or a program's text, as ``derive`` builds it (errors located)."""
    program = parse_source(formula, filename)
    lets = parse_lets(let)
    targets = parse_names(target, "--target") if target is not None else None
    auxes = parse_names(aux, "--aux") if aux else []
    return located(lambda: build(program, target=targets, lets=lets, aux=auxes), formula, filename)


def _with_modes(result, mode: str | None, check_numeric: bool, formula: str, filename: str | None):
    """The trace with forward mode, the adjoint trace or finite differences attached, if asked."""
    if mode is None and not check_numeric:
        return result
    from .engine.modes import attach

    return located(lambda: attach(result, mode, check_numeric=check_numeric), formula, filename)


def parse_seed(seed: str | Number | Iterable) -> Expr | np.ndarray:
    """``--seed-grad``: ``"[1, 0, 2]"`` (or a number, nested lists, an array) → exact values."""
    return _number(seed, "--seed-grad")


def located(run, source: str, filename: str | None):
    """``run()``, its WorksheetError told which text (and file) it was found in."""
    try:
        return run()
    except WorksheetError as error:
        raise error.located(source=source, where=filename) from None


# ── options ──────────────────────────────────────────────────────────────────────────────

def parse_names(names: str | Iterable[str], option: str) -> list[str]:
    """``"w,b"`` → ``["w", "b"]``, each checked to be a name (λ is lambda, ŷ y_hat, as in formulas)."""
    items = names.split(",") if isinstance(names, str) else list(names)
    result = []
    for item in items:
        tokens = tokenize(item.strip())
        if len(tokens) != 2 or tokens[0].kind != "name":
            raise WorksheetError(f"{item.strip()!r} is not a variable name", where=option)
        name = tokens[0].text
        if name not in result:
            result.append(name)
    if not result:
        raise WorksheetError("no variable named", where=option)
    return result


def parse_point(at: str | Mapping[str, Number]) -> dict[str, Expr]:
    """``"w=1,b=0.5,x=pi/4"`` (or a mapping) → exact values."""
    if isinstance(at, Mapping):
        return {str(name): _number(value, f"--at {name}") for name, value in at.items()}
    point: dict[str, Expr] = {}
    for name, text in _assignments(at, "--at"):
        expr = located(lambda: parse_expression(text), text, f"--at {name}")
        point[name] = located(lambda: constant(expr), text, f"--at {name}")
    return point


def parse_lets(let: str | Iterable[str]) -> list[Let]:
    """``"y_pred=w*x+b"`` (or several) → the sub-expressions to name."""
    items = [let] if isinstance(let, str) else list(let)
    lets = []
    for item in items:
        for name, text in _assignments(item, "--let", split=False):
            expr = located(lambda: parse_expression(text), text, f"--let {name}")
            lets.append(Let(name, expr, text))
    return lets


def _assignments(text: str, option: str, split: bool = True):
    """NAME=VALUE pairs separated by commas (outside parentheses)."""
    if len(text) > MAX_FORMULA_CHARS:
        raise WorksheetError(f"the value is {len(text):,} characters long", where=option)
    pieces = _split_commas(text) if split else [text]
    for piece in pieces:
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise WorksheetError(f"expected NAME=VALUE, got {piece.strip()!r}", where=option)
        yield parse_names(name, option)[0], value.strip()


def _split_commas(text: str) -> list[str]:
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()]


def _number(value: Number, where: str) -> Expr:
    if isinstance(value, bool):
        raise WorksheetError("expected a number, got a truth value", where=where)
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, (float, Decimal)):
        return _number(str(value), where)
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        expr = located(lambda: parse_expression(value), value, where)
        return located(lambda: constant(expr), value, where)
    if isinstance(value, sympy.Basic) and value.is_number:
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return _tensor(value, where)
    raise WorksheetError(f"expected a number, got {type(value).__name__}", where=where)


def _tensor(value, where: str) -> np.ndarray:
    """A vector or matrix given from Python: nested lists (or a NumPy array) of numbers."""
    nested = np.asarray(value, dtype=object).tolist()
    try:
        shape = np.shape(np.array(nested, dtype=object))
        if not 1 <= len(shape) <= 2 or any(isinstance(x, list) for x in np.ravel(np.array(nested, dtype=object))):
            raise ValueError
        return tensors.from_nested([[_plain(x, where) for x in row] if isinstance(row, list) else _plain(row, where)
                                    for row in nested])
    except ValueError:
        raise WorksheetError("expected a vector or a matrix (rectangular nested lists of numbers)", where=where) from None


def _plain(x, where: str):
    return tensors.number(x if isinstance(x, (int, Fraction)) and not isinstance(x, bool) else _number(x, where))


# ── checks against the graph ─────────────────────────────────────────────────────────────

def wrt_names(graph: Graph, names: list[str] | None) -> list[str]:
    """The variables to differentiate with respect to: ``names`` checked against the graph, or by
    default its params, else every input."""
    variables = [n.name for n in graph.inputs]
    if names is None:
        names = list(graph.params) or [n.name for n in graph.inputs if n.kind == "input"]
        if not names:
            raise WorksheetError(
                "nothing to differentiate: name the variables with --wrt or declare them with param",
            )
        return names
    for name in names:
        if name == graph.target:
            raise WorksheetError(f"{name} is the output; ∂{name}/∂{name} = 1", where="--wrt")
        if name not in graph.by_name:
            raise WorksheetError(
                f"{name} does not occur in the formula (its variables: {', '.join(variables)})",
                where="--wrt",
            )
    return names


def given_values(graph: Graph, given: Mapping[str, Expr]) -> dict[str, Expr]:
    """The values declared in the program with ``given`` (``--at``) over them, names checked."""
    names = [n.name for n in graph.inputs]
    for name in given:
        if name not in names:
            raise WorksheetError(
                f"{name} is not a variable of the formula (its variables: {', '.join(names)})",
                where="--at",
            )
    return {**graph.defaults, **given}


def point_of(graph: Graph, given: Mapping[str, Expr]) -> dict[str, Expr] | None:
    """Every input's value — declared in the program, or ``given`` — or None for a symbolic
    worksheet (no value at all); some values but not all is refused, naming the missing."""
    names = [n.name for n in graph.inputs]
    point = given_values(graph, given)
    if not point:
        return None
    missing = [name for name in names if name not in point]
    if missing:
        raise WorksheetError(
            f"no value for {', '.join(missing)}: give every variable a value, "
            f"or none for a symbolic worksheet",
            where="--at",
        )
    return {name: point[name] for name in names}
