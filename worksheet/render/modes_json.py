"""The keys ``--mode`` and ``--check-numeric`` add to the JSON of ``worksheet.derive/1``.

* ``mode``: ``"reverse"`` (the default), ``"forward"`` or ``"both"``.
* ``forward`` (forward mode): ``wrt``; ``nodes`` in evaluation order, each with ``name``,
  its primal ``value``/``value_float``, ``chain`` (the tangent as the chain rule in its
  inputs, tangents written ``dot(u)``; null for an input) and ``tangents``: per variable
  ``expr`` (the tangent in node names), ``value``, ``value_float``; and ``gradients``: per
  variable ``expr`` (in node names), ``expr_in_inputs``, ``value``, ``value_float`` and
  ``agrees_with_reverse``.
* each entry of ``gradients`` (``--check-numeric``): ``numeric_float`` (the central
  difference; a nested list of the variable's shape for a model), ``numeric_agrees``, and
  for a scalar formula ``numeric_step`` (h), ``symbolic`` and ``symbolic_float`` (sympy.diff
  of the written-out output at the point).

Numbers are exact strings with a float beside them, as everywhere in this schema.
"""

from __future__ import annotations


from ..tensors import is_array, nested_floats
from ..arith import as_float


def extend(data: dict, trace) -> dict:
    """``data`` (the derivation's JSON) with the keys of ``trace.modes``, if any."""
    from .json import form, number

    modes = trace.modes
    if modes is None:
        data["mode"] = "reverse"
        return data
    data["mode"] = modes.mode
    if modes.forward is not None and modes.forward_shown:
        data["forward"] = _forward(trace, form, number)
    if modes.estimates is not None:
        for name, entry in data["gradients"].items():
            estimate = modes.estimates[name]
            entry["numeric_float"] = _floats(estimate.value)
            entry["numeric_agrees"] = estimate.agrees
            if not is_array(estimate.value):  # a scalar formula
                entry["numeric_step"] = as_float(estimate.step) if estimate.step is not None else None
                entry.update(number("symbolic", estimate.symbolic))
    return data


def _floats(value):
    if value is None:
        return None
    if is_array(value):
        return nested_floats(value)
    return as_float(value)


def _forward(trace, form, number) -> dict:
    forward, values = trace.modes.forward, trace.values
    nodes = []
    for name, row in forward.rows.items():
        nodes.append({
            "name": name,
            **number("value", values[name] if values is not None else None),
            "chain": form(row.chain),
            "tangents": {
                x: {"expr": form(t.form), **number("value", t.value)} for x, t in row.tangents.items()
            },
        })
    agree = trace.modes.forward_agrees or {}
    gradients = {
        x: {
            "expr": form(t.form),
            "expr_in_inputs": form(forward.written[x]),
            **number("value", t.value),
            "agrees_with_reverse": agree.get(x),
        }
        for x, t in forward.gradients.items()
    }
    return {"wrt": list(forward.wrt), "nodes": nodes, "gradients": gradients}
