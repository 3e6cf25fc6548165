"""Forward mode: every node's tangent, one column per variable, from the rules' local derivatives.

The column of a variable x is seeded with ẋ = 1 and 0 for every other input; each operation
v of inputs u₁, u₂, … then gets its tangent by the chain rule in its inputs,

    v̇ = Σᵢ u̇ᵢ · ∂v/∂uᵢ,

with ∂v/∂uᵢ the rule's ``local`` form (the same one the reverse sweep uses), and the
output's tangent is ∂L/∂x. This is the evaluation trace of the autodiff literature
(Griewank and Walther; Baydin et al., "Automatic differentiation in machine learning: a
survey", Table 2): one sweep from the inputs forward per variable, beside the primal values.

A term is written for each argument that depends on a requested variable (an argument that
depends on none has tangent 0 in every column); in a column where it does not depend on that
column's variable, its term is there with the number 0, as in the literature's tables.
Values stay exact like the rest of the scalar trace (``settle``); forms in node names are
carried while they stay small, as in ``trace.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy
from sympy import Expr, S, Symbol

from ..accents import Dot
from ..forms import evaluate, fits, product, substitute, total
from ..lang.graph import Node, symbol
from ..limits import MAX_FORM_DEPTH, MAX_FORM_OPS
from ..ops import RULES
from .numbers import settled
from .trace import Trace


@dataclass(frozen=True)
class Tangent:
    """v̇ in the column of one variable: in node names and, at a point, its value."""

    form: Expr | None  # in node names (None: too large to be worth reading)
    value: Expr | None  # None for a symbolic worksheet
    seed: bool = False  # the variable of the column itself (or an input): v̇ is given, not computed


@dataclass(frozen=True)
class ForwardRow:
    """One node of the evaluation trace: its chain rule, and its tangent per variable."""

    node: str
    positions: tuple[int, ...]  # the arguments that carry a tangent, in the node's order
    locals: tuple[Expr, ...]  # ∂v/∂uᵢ of those arguments, in node names
    local_values: tuple[Expr, ...] | None  # their values at the point
    chain: Expr | None  # Σ u̇ᵢ·∂v/∂uᵢ in dotted names (None for an input)
    tangents: Mapping[str, Tangent]  # per variable


@dataclass(frozen=True)
class ForwardTrace:
    wrt: tuple[str, ...]
    rows: Mapping[str, ForwardRow]  # every node, in evaluation order
    gradients: Mapping[str, Tangent]  # ∂L/∂x = L̇ in the column of x
    written: Mapping[str, Expr | None]  # each gradient's form written out in the inputs


def forward_mode(trace: Trace) -> ForwardTrace:
    """The tangents of every node of ``trace``'s graph, one column per requested variable."""
    graph, wrt, values = trace.graph, tuple(trace.wrt), trace.values
    symbols = {symbol(k): v for k, v in values.items()} if values is not None else None
    carries = graph.depending_on(wrt)
    below = graph.ancestors([graph.target])
    rows: dict[str, ForwardRow] = {}
    for node in graph.nodes:
        if node.name not in below and not node.is_input:
            continue  # an auxiliary output (--aux): not on the way to the output
        if node.is_input:
            tangents = {x: _seed(node.name == x, values is not None) for x in wrt}
            rows[node.name] = ForwardRow(node.name, (), (), () if values is not None else None, None, tangents)
            continue
        row = _row(node, wrt, carries, rows, symbols)
        if node.name in wrt:  # an intermediate variable: seeded in its own column
            tangents = {**row.tangents, node.name: _seed(True, values is not None)}
            row = ForwardRow(row.node, row.positions, row.locals, row.local_values, row.chain, tangents)
        rows[node.name] = row
    target = graph.target
    gradients = {x: rows[target].tangents[x] for x in wrt}
    written = {x: _written_out(gradients[x].form, trace.expansions) for x in wrt}
    return ForwardTrace(wrt, rows, gradients, written)


def _seed(is_variable: bool, numeric: bool) -> Tangent:
    one = S.One if is_variable else S.Zero
    return Tangent(one, one if numeric else None, True)


def _row(node: Node, wrt, carries: set[str], rows, symbols) -> ForwardRow:
    rule = RULES[node.op]
    positions = tuple(
        i for i, arg in enumerate(node.args) if isinstance(arg, Symbol) and arg.name in carries
    )
    locals_ = tuple(rule.local(i, *node.args) for i in positions)
    local_values = None
    if symbols is not None:
        arg_values = [evaluate(a, symbols) for a in node.args]
        local_values = tuple(
            _local_value(node, rule, i, local, arg_values, symbols) for i, local in zip(positions, locals_)
        )
    inputs = [node.args[i].name for i in positions]
    chain = total(*(product(Dot(u), local) for u, local in zip(inputs, locals_))) if positions else None
    tangents = {}
    for x in wrt:
        forms = [rows[u].tangents[x].form for u in inputs]
        form = None
        if all(f is not None for f in forms):
            form = _bounded(total(*(product(f, local) for f, local in zip(forms, locals_))))
        value = None
        if symbols is not None:
            terms = [rows[u].tangents[x].value * lv for u, lv in zip(inputs, local_values)]
            value = settled(node, lambda terms=terms: sympy.Add(*terms), symbols, of="the tangent of ")
        tangents[x] = Tangent(form, value)
    return ForwardRow(node.name, positions, locals_, local_values, chain, tangents)


def _local_value(node: Node, rule, i: int, local: Expr, arg_values, symbols) -> Expr:
    """∂v/∂uᵢ at the point: the rule's limit where it has one, else the form evaluated."""
    value = rule.local_value(i, *arg_values)
    if value is not None:
        return value
    return settled(node, lambda: evaluate(local, symbols), symbols, node.args[i].name)


def _bounded(form: Expr | None) -> Expr | None:
    if form is None or not fits(form, MAX_FORM_OPS, MAX_FORM_DEPTH):
        return None
    return form


def _written_out(form: Expr | None, expansions: Mapping[Expr, Expr | None]) -> Expr | None:
    if form is None or any(expansions.get(s, s) is None for s in form.free_symbols):
        return None
    return _bounded(substitute(form, expansions))
