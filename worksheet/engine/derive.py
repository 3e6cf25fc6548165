"""``derive``: parse → graph → trace, with every check the CLI has, and the modes asked for
(the library's front door, ``worksheet.api``, and the commands call it; so do the handouts, the
assessors and training, for a problem's trace)."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable, Mapping
from contextlib import contextmanager

from ..errors import WorksheetError
from ..lang.options import (
    Number, decimal_inputs, located, parse_names, parse_point, parse_seed, point_of, program_graph, wrt_names,
)
from .tensor_trace import is_tensor_program
from .trace import Trace, trace


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
    graph=None,
) -> Trace:
    """The step-by-step gradient of ``formula`` (a formula or a program's text).

    A program with vectors or matrices (``param W = randn(4, 3, seed=0)``, ``W @ x``,
    ``mean``, a loss) gives a model's ``Trace`` (``trace.tensor``): shapes, and the backward pass in matrix form.

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
    ``graph``: the program's graph, where the caller has built it from ``formula`` already
    (with the same ``let``, ``target`` and ``aux``), so that it is not built twice.
    """
    with collector_paused():
        result = _derive(formula, wrt, at, let, target, filename, aux, seed_grad, mode, check_numeric, graph)
    return dataclasses.replace(result, decimal_inputs=decimal_inputs(formula, at))


@contextmanager
def collector_paused():
    """A trace's objects all live until it is done: Python's cyclic collector, which would
    scan them again on every pass, waits until then (a 5,000-node trace: a fifth of its time).
    So do a document's, while it is written (``render``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _derive(formula, wrt, at, let, target, filename, aux, seed_grad, mode, check_numeric, graph=None):
    if graph is None:
        graph = program_graph(formula, filename=filename, let=let, target=target, aux=aux)
    names = wrt_names(graph, parse_names(wrt, "--wrt") if wrt is not None else None, unused=True)
    point = point_of(graph, parse_point(at) if at is not None else {}, names)
    seed = parse_seed(seed_grad) if seed_grad is not None else None
    if seed is not None and not is_tensor_program(graph, point):
        raise WorksheetError(
            f"{graph.target} is a scalar, seeded with 1; --seed-grad is for a vector or matrix output",
            where="--seed-grad",
        )
    return _with_modes(located(lambda: trace(graph, names, point, seed), formula, filename),
                       mode, check_numeric, formula, filename)


def _with_modes(result, mode: str | None, check_numeric: bool, formula: str, filename: str | None):
    """The trace with forward mode, the adjoint trace or finite differences attached, if asked."""
    if mode is None and not check_numeric:
        return result
    from .modes import attach

    return located(lambda: attach(result, mode, check_numeric=check_numeric), formula, filename)


