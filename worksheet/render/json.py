"""Trace → JSON, schema ``worksheet.derive/1``: every number exact (a string) with a float beside.

Stable: keys are only ever added under this schema name; a change of meaning gets a new one.
"""

from __future__ import annotations

import json

import sympy
from sympy import Expr

from ..trace import Step, Trace
from ..values import as_float, exact_text

SCHEMA = "worksheet.derive/1"


def render(trace: Trace) -> str:
    return json.dumps(derivation(trace), indent=2, ensure_ascii=False) + "\n"


def derivation(trace: Trace) -> dict:
    graph = trace.graph
    written = trace.expansions.get(graph.node(graph.target).symbol)
    values = trace.values
    return {
        "schema": SCHEMA,
        "target": graph.target,
        "expression": form(written) if written is not None else None,
        "source": graph.source,
        "wrt": list(trace.wrt),
        "at": {k: exact_text(v) for k, v in trace.point.items()} if trace.point is not None else None,
        "nodes": [
            {
                "name": node.name,
                "op": node.op,
                "kind": node.kind,
                "inputs": list(node.inputs),
                "expr": None if node.is_input else form(node.expr),
                **number("value", values[node.name] if values is not None else None),
            }
            for node in graph.nodes
        ],
        "backward": [step(s, values is not None) for s in trace.steps],
        "adjoints": {
            name: {
                "paths": list(a.steps),
                "expr": form(a.form),
                **number("value", a.value),
            }
            for name, a in trace.adjoints.items()
        },
        "gradients": {
            g.wrt: {
                "expr": form(g.in_inputs),
                "expr_in_nodes": form(g.in_names),
                "expr_in_trace": form(g.in_trace),
                **number("value", g.value),
            }
            for g in trace.gradients
        },
    }


def step(s: Step, numeric: bool) -> dict:
    return {
        "node": s.node,
        "input": s.input,
        "position": s.position,
        "local": form(s.local),
        **number("local_value", s.local_value),
        "upstream": exact_text(s.upstream_value) if numeric else form(s.upstream),
        "product": exact_text(s.product_value) if numeric else form(s.product),
        "upstream_expr": form(s.upstream),
        "product_expr": form(s.product),
        "upstream_float": as_float(s.upstream_value) if numeric else None,
        "product_float": as_float(s.product_value) if numeric else None,
    }


def form(expr: Expr | None) -> str | None:
    """SymPy's string form, terms and factors in the order the worksheet shows them."""
    return None if expr is None else sympy.sstr(expr, order="none")


def number(key: str, value: Expr | None) -> dict:
    if value is None:
        return {key: None, f"{key}_float": None}
    return {key: exact_text(value), f"{key}_float": as_float(value)}
