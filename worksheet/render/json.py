"""Trace → JSON, schema ``worksheet.derive/1``: every number exact (a string) with a float beside.

Stable: keys are only ever added under this schema name; a change of meaning gets a new one.
"""

from __future__ import annotations

import math
from fractions import Fraction
from json.encoder import encode_basestring

import sympy
from sympy import Expr

from ..document import notes_paragraph
from ..document.training import notes
from ..tensors import is_array, nested_floats
from ..engine.trace import Step, Trace
from ..arith import as_float, exact_text, expression_text
from ..arith.elements import Ball
from ..limits import PRECISION
from . import modes_json
from ..notation import TextNotation

SCHEMA = "worksheet.derive/1"


def render(trace: Trace) -> str:
    data = modes_json.extend(derivation(trace), trace)  # --mode, --check-numeric
    return dumps(data) + "\n"


def dumps(data) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, the same text, written faster: with an
    indent, the json module writes through its pure-Python encoder, a generator per level."""
    out: list[str] = []
    _write(data, "\n", out)
    return "".join(out)


def _write(value, newline: str, out: list[str]) -> None:
    """``value`` as JSON onto ``out``; a dict's or a list's items each on a line of its own,
    ``newline`` the line break and indent of the enclosing level. (The two loops are one loop
    written twice: a generator of labelled items would cost a third of the time saved.)"""
    plain = _PLAIN.get(type(value))
    if plain is not None:
        out.append(plain(value))
    elif not isinstance(value, (dict, list, tuple)):
        out.append(_scalar(value))
    elif not value:
        out.append("{}" if isinstance(value, dict) else "[]")
    elif isinstance(value, dict):
        inner = newline + "  "
        before = "{" + inner
        for key, item in value.items():
            key = key if isinstance(key, str) else _PLAIN.get(type(key), _scalar)(key)  # 1 → "1", as json does
            label = before + encode_basestring(key) + ": "
            plain = _PLAIN.get(type(item))
            if plain is not None:
                out.append(label + plain(item))
            else:
                out.append(label)
                _write(item, inner, out)
            before = "," + inner
        out.append(newline + "}")
    else:
        inner = newline + "  "
        before = "[" + inner
        for item in value:
            plain = _PLAIN.get(type(item))
            if plain is not None:
                out.append(before + plain(item))
            else:
                out.append(before)
                _write(item, inner, out)
            before = "," + inner
        out.append(newline + "]")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value == math.inf else "-Infinity" if value == -math.inf else float.__repr__(value)


_PLAIN = {str: encode_basestring, int: int.__repr__, float: _float, bool: lambda b: "true" if b else "false",
          type(None): lambda _: "null"}
"""How the json module writes a value of each plain type."""


def _scalar(value) -> str:
    """A value of a subclass of a plain type (NumPy's float64) as the json module writes it."""
    for kind in (str, int, float):
        if isinstance(value, kind):
            return _PLAIN[kind](value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def derivation(trace: Trace) -> dict:
    """The trace as JSON. A model's (``"tensor": true``) has the same keys, with each node's
    and gradient's ``shape``, values as nested lists, and each step in matrix form (``vjp``)."""
    graph, values, tensor = trace.graph, trace.values, trace.tensor
    written = trace.expansions.get(graph.node(graph.target).symbol)
    shape = (lambda name: {"shape": list(trace.shapes[name])}) if tensor else (lambda name: {})
    texts = _Texts()
    form, number = texts.form, texts.number
    show = _term_text() if tensor else form
    return {
        "schema": SCHEMA,
        **({"tensor": True} if tensor else {}),
        "target": graph.target,
        **outputs(trace, texts),
        "expression": form(written) if written is not None else None,
        "source": graph.source,
        **({"notes": list(graph.notes)} if graph.notes else {}),  # how the program was read
        "wrt": list(trace.wrt),
        "at": {k: text(v) for k, v in trace.point.items()} if trace.point is not None else None,
        "nodes": [
            {
                "name": node.name,
                "op": node.op,
                "kind": node.kind,
                "inputs": list(node.inputs),
                **shape(node.name),
                "expr": None if node.is_input else form(node.expr),
                **number("value", values[node.name] if values is not None else None),
            }
            for node in graph.nodes
        ],
        "backward": [vjp(s, show) if tensor else step(s, values is not None, texts) for s in trace.steps],
        "adjoints": {
            name: {
                "paths": list(a.steps),
                "expr": form(a.form),  # a model's: where every path to it is scalar
                **number("value", a.value),
            }
            for name, a in trace.adjoints.items()
        },
        "gradients": {
            g.wrt: {
                "expr": show(g.in_inputs),
                "expr_in_nodes": show(g.in_names),
                "expr_in_trace": show(g.in_trace),
                **shape(g.wrt),
                **number("value", g.value),
            }
            for g in trace.gradients
        },
    }


def outputs(trace: Trace, texts: _Texts) -> dict:
    """Several outputs, the seed, auxiliary outputs and where stop_gradient stopped the sweep:
    ``outputs`` (the outputs whose sum is ``target``, or just ``[target]``), ``seed`` (∂L/∂L:
    ``"1"``, or the --seed-grad tensor), ``aux`` (name → value, like a node's ``value``, or the
    expression for a symbolic worksheet) with ``aux_float``, and ``stopped`` (each
    stop_gradient node the sweep reached, with the input that gets nothing through it)."""
    form, number = texts.form, texts.number
    graph = trace.graph
    aux = graph.aux
    seed = number("seed", trace.seed if trace.seed is not None else sympy.S.One)
    if trace.values is not None:
        values = {name: number("value", trace.values[name]) for name in aux}
    else:
        written = {name: trace.expansions.get(graph.node(name).symbol) for name in aux}
        values = {name: {"value": form(written[name] or graph.node(name).expr), "value_float": None}
                  for name in aux}
    return {
        "outputs": list(graph.outputs) or [graph.target],
        **seed,
        "aux": {name: v["value"] for name, v in values.items()},
        "aux_float": {name: v["value_float"] for name, v in values.items()},
        "stopped": [{"node": node, "input": name} for node, name in trace.stops],
    }


def step(s: Step, numeric: bool, texts: _Texts) -> dict:
    """A formula's step: the local derivative, the upstream gradient and their product."""
    form, number, exact, floating = texts.form, texts.number, texts.exact, texts.floating
    return {
        "node": s.node,
        "input": s.input,
        "position": s.position,
        "local": form(s.local),
        **number("local_value", s.local_value),
        "upstream": exact(s.upstream_value) if numeric else form(s.upstream),
        "product": exact(s.product_value) if numeric else form(s.product),
        "upstream_expr": form(s.upstream),
        "product_expr": form(s.product),
        "upstream_float": floating(s.upstream_value) if numeric else None,
        "product_float": floating(s.product_value) if numeric else None,
    }


def vjp(s: Step, show) -> dict:
    """A model's step: the vector-Jacobian product in matrix form, and its numbers."""
    return {
        "node": s.node,
        "input": s.input,
        "position": s.position,
        "vjp": show(s.vjp),
        "shape": list(s.value.shape),
        "upstream": text(s.upstream_value),
        "upstream_float": nested_floats(s.upstream_value),
        **number("product", s.value),
    }


def form(expr: Expr | None) -> str | None:
    """SymPy's string form, terms and factors in the order the worksheet shows them."""
    return None if expr is None else expression_text(expr, "none")


def _term_text():
    """A matrix-form term (``(∂J/∂o) hᵀ``) as text; None stays None."""
    notation = TextNotation(17)
    return lambda term: None if term is None else notation.term(term)


def number(key: str, value) -> dict:
    """``key``: the value's exact text, ``key_float``: its float (nested lists for a tensor)."""
    return _number(key, value, exact_text, as_float)


def _number(key: str, value, exact, floating) -> dict:
    if value is None:
        return {key: None, f"{key}_float": None}
    if is_array(value):
        return {key: text(value), f"{key}_float": nested_floats(value)}
    return {key: exact(value), f"{key}_float": floating(value)}


class _Texts:
    """``form``, ``number``, exact text and float of one trace, each worked out once for each
    form or value: in a trace they recur (a carried number as the upstream gradient of a node's
    steps, the product into it and its adjoint; ∂L/∂v's form likewise)."""

    def __init__(self):
        self.form, self.exact, self.floating = _once(form), _once(exact_text), _once(as_float)

    def number(self, key: str, value) -> dict:
        return _number(key, value, self.exact, self.floating)


def _once(function):
    """``function``, remembering its answer for each argument (a SymPy expression, or None)."""
    done: dict = {}

    def once(value):
        if value not in done:
            done[value] = function(value)
        return done[value]

    return once


def text(value):
    """Exact text: ``"-1/2"``; a tensor's elements (``"3/10"``, a ball's certified 30 digits, or a
    float's shortest decimal) nested like the tensor."""
    if not is_array(value):
        return exact_text(value)

    def each(item):
        return [each(x) for x in item] if isinstance(item, list) else _element(item)

    return each(value.tolist())


def _element(x) -> str:
    if isinstance(x, Fraction):
        return str(x)
    if isinstance(x, Ball):
        return x.text(PRECISION)  # certified, as a scalar's decimal
    return repr(float(x))


# ── training traces: schema worksheet.train/1, numbers as JSON numbers ──────────────────

TRAIN_SCHEMA = "worksheet.train/1"


def render_training(training) -> str:
    return dumps(training_data(training)) + "\n"


def training_data(training) -> dict:
    def numbers(values) -> dict:
        return {name: nested_floats(value) for name, value in values.items()}

    prediction = training.prediction
    said = [TextNotation().inline(p.parts, str) for note in notes(training) for p in notes_paragraph([note])]
    return {
        "schema": TRAIN_SCHEMA,
        "source": training.graph.source,
        **({"notes": said} if said else {}),  # how the program was read, a learning rate of 0 or below
        "target": training.graph.target,
        "params": list(training.params),
        "lr": float(training.lr),
        "epochs": training.epochs,
        "per_sample": training.per_sample,
        "zero_grad": training.zero_grad,
        "exact": training.exact,
        "start": numbers({p: training.start[p] for p in training.params}),
        "steps": [
            {
                "epoch": step.epoch,
                "sample": step.sample,
                "loss": nested_floats(step.loss),
                "grads": numbers(step.grads),
                "params": numbers(step.params),
            }
            for step in training.steps
        ],
        "final": numbers(training.final),
        "predict": None if prediction is None else {
            "node": prediction.node,
            "at": numbers(prediction.at),
            "before": nested_floats(prediction.before),
            "after": nested_floats(prediction.after),
        },
    }
