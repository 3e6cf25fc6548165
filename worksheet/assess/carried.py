"""Error carried forward: each blank of a handout recomputed from the student's own values.

``Carried`` keeps a table of *the student's values*: for a blank the student answered validly
and wrongly, their value; for everything else the true value. A blank's *ECF expectation* is
its quantity recomputed from the student's values of what it is computed from (the table in
``blanks``). A formula's quantities are numbers; a model's are vectors and matrices, and its
steps vector-Jacobian products, recomputed with the model's own operations (``ELEMENTS``):

    forward v       v's operation at the student's values of its inputs
    product         the step's vector-Jacobian product of the student's ∂J/∂v, at the student's
                    forward values of v and its arguments
    sum, gradient   as for a formula: Σ of the student's paths
"""

from __future__ import annotations

from functools import lru_cache

import sympy

from .answers import same_number
from ..errors import WorksheetError


@lru_cache(maxsize=64)
def rebuild(source: str, wrt: tuple[str, ...], inputs: tuple[tuple[str, str], ...]):
    """The problem's trace, from the manifest's source, variables and drawn inputs."""
    from ..engine.derive import derive

    return derive(source, wrt=list(wrt), at=dict(inputs), filename="manifest")


class Carried:
    """The problem's trace, the student's values, and each blank's ECF expectation."""

    def __init__(self, trace, quantities: dict, keys: dict, given: dict):
        self.trace, self.quantities = trace, quantities
        self.target = trace.target
        self.steps = {(s.node, s.input, s.position): s for s in trace.steps}
        self.paths = {name: [trace.steps[i] for i in a.steps] for name, a in trace.adjoints.items()}
        self.blank_of = {_identity(q): n for n, q in quantities.items()}
        self.mine: dict[str, object] = {}  # blank → the student's value (the true one when it is correct)
        for n, q in quantities.items():
            if given[n].value is not None and not agrees(given[n].value, keys[n], given[n].text, q.get("decimals")):
                self.mine[n] = self._own(given[n].value)

    @classmethod
    def of(cls, entry: dict, keys: dict, given: dict, where: str) -> Carried | None:
        """None for an entry without the grading keys (no ECF)."""
        if not all(k in entry for k in ("source", "wrt", "quantities")):
            return None
        try:
            trace = rebuild(entry["source"], tuple(entry["wrt"]), tuple(entry["inputs"].items()))
        except WorksheetError as error:
            raise WorksheetError(f"its source does not rebuild ({error})", where=f"{where}.source") from None
        if trace.values is None:
            raise WorksheetError("expected a formula or a model at a point", where=f"{where}.source")
        carried = cls(trace, entry["quantities"], keys, given)
        for n, q in entry["quantities"].items():
            carried.check(n, q, keys[n], f"{where}.quantities.{n}")
        return carried

    def check(self, n: str, q: dict, key, where: str) -> None:
        """The quantity names a part of the trace, and its value there is the key's."""
        try:
            true = self.true(q)
        except KeyError:
            raise WorksheetError(f"no such {q['kind']} quantity in the problem", where=where) from None
        if true is None or not matches(true, key):
            raise WorksheetError(f"the key of blank ({n}) is not the value of its quantity", where=where)

    def true(self, q: dict):
        """The true value of a quantity, from the trace."""
        kind = q["kind"]
        if kind == "forward":
            self.trace.graph.node(q["node"])
            return self.trace.values[q["node"]]
        if kind == "sum":
            return self.trace.adjoints[q["node"]].value
        if kind == "gradient":
            for gradient in self.trace.gradients:
                if gradient.wrt == q["wrt"]:
                    return gradient.value
            raise KeyError(q["wrt"])
        step = self.steps[(q["node"], q["input"], q["position"])]
        return {"local": step.local_value, "upstream": step.upstream_value, "product": step.product_value}[kind]

    def _own(self, value):
        """A student's answer as the trace holds such a value: a model's as an array."""
        if not self.trace.tensor:
            return value
        from ..engine.numbers import ELEMENTS

        return ELEMENTS.input(value)

    # the student's values: (value, the blanks it came from that are wrong)

    def value(self, q: dict) -> tuple[object, tuple[str, ...]]:
        """The student's value of a quantity: their answer where it is a wrong number, else the true one."""
        n = self.blank_of.get(_identity(q))
        if n is not None and n in self.mine:
            return self.mine[n], (n,)
        return self.true(q), ()

    def adjoint(self, name: str) -> tuple[object, tuple[str, ...]]:
        """The student's ∂L/∂name: 1 for the output, their sum blank (an input's, where the sheet
        has one), the single path's product, or Σ of their products of the paths."""
        if name == self.target:
            return self._own(_settle(1)), ()
        paths = self.paths.get(name)
        if not paths:
            return self.trace.adjoints[name].value if name in self.trace.adjoints else 0, ()
        total = {"kind": "sum", "node": name}  # an input's sum: a blank of its own on a newer sheet
        if len(paths) > 1 and (not self.trace.graph.node(name).is_input or _identity(total) in self.blank_of):
            return self.value(total)
        return _total([self.product(s) for s in paths])

    def product(self, step) -> tuple[object, tuple[str, ...]]:
        """The student's ∂L/∂v · ∂v/∂u of a step (a formula's output: the local blank itself)."""
        at = {"node": step.node, "input": step.input, "position": step.position}
        if step.node == self.target and not self.trace.tensor:
            return self.value({"kind": "local", **at})
        return self.value({"kind": "product", **at})

    def expectation(self, n: str) -> tuple[object, tuple[str, ...]]:
        """The ECF expectation of blank n and the wrong blanks it carries forward; None if undefined.
        A model's scalar is the number it holds, as its blank is."""
        from ..arith import Imprecise, Refused

        if n not in self.quantities:
            return None, ()
        try:
            value, sources = self._expect(self.quantities[n])
        except (Refused, Imprecise, WorksheetError, ArithmeticError, ValueError, TypeError):
            return None, ()
        return (plain(value) if getattr(value, "shape", None) == () else value), sources

    def _expect(self, q: dict) -> tuple[object, tuple[str, ...]]:
        kind = q["kind"]
        if kind == "forward":
            return self._forward(q["node"])
        if kind == "gradient":
            return self.adjoint(q["wrt"]) if q["wrt"] in self.trace.adjoints else (self.true(q), ())
        if kind == "sum":
            return _total([self.product(s) for s in self.paths[q["node"]]])
        step = self.steps[(q["node"], q["input"], q["position"])]
        if kind == "local":
            return self._local(step)
        if kind == "upstream":
            return self.adjoint(q["node"])
        if self.trace.tensor:
            return self._vjp(step)
        at = {"node": q["node"], "input": q["input"], "position": q["position"]}
        upstream, local = self.value({"kind": "upstream", **at}), self.value({"kind": "local", **at})
        return _settle(upstream[0] * local[0]), upstream[1] + local[1]

    def _forwards(self, names) -> tuple[dict, tuple[str, ...]]:
        """The student's forward values of ``names``, by name."""
        values, sources = {}, ()
        for name in dict.fromkeys(names):
            values[name], came = self.value({"kind": "forward", "node": name})
            sources += came
        return values, sources

    def _forward(self, name: str):
        """v = rule_v(inputs), at the student's values of the inputs, in the trace's numbers."""
        from ..engine.numbers import ELEMENTS, EXACT

        node = self.trace.graph.node(name)
        values, sources = self._forwards(node.inputs)
        return (ELEMENTS if self.trace.tensor else EXACT).value(self.trace.graph, node, values), sources

    def _local(self, step):
        """∂v/∂u, evaluated at the student's forward values of v's arguments."""
        from ..engine.numbers import EXACT

        node = self.trace.graph.node(step.node)
        values, sources = self._forwards(node.inputs)
        return EXACT.local_at(node, step.position, step.input, step.local, values), sources

    def _vjp(self, step):
        """A model's step: the vector-Jacobian product of the student's ∂J/∂v, at the student's
        forward values of v and of its arguments."""
        from ..engine.numbers import ELEMENTS

        node = self.trace.graph.node(step.node)
        upstream, came = self.adjoint(step.node)
        values, sources = self._forwards((node.name, *node.inputs))
        _, value = ELEMENTS.send(self.trace.graph, node, step.position, step.input, upstream, None, values)
        return value, came + sources

    def describe(self, n: str) -> str:
        """What blank n is, in words (" is the local derivative ∂v3/∂v2"), never its value."""
        if n not in self.quantities:
            return ""
        q, L = self.quantities[n], self.target
        product = (f"the vector-Jacobian product of {q.get('node')} into ∂{L}/∂{q.get('input')}" if self.trace.tensor
                   else f"the product ∂{L}/∂{q.get('node')} · ∂{q.get('node')}/∂{q.get('input')}")
        words = {
            "forward": lambda: f"the forward value of {q['node']}",
            "local": lambda: f"the local derivative ∂{q['node']}/∂{q['input']}",
            "upstream": lambda: f"the upstream gradient ∂{L}/∂{q['node']}",
            "product": lambda: product,
            "sum": lambda: f"the sum of the paths into ∂{L}/∂{q['node']}",
            "gradient": lambda: f"the gradient ∂{L}/∂{q['wrt']}",
        }[q["kind"]]()
        return f", {words},"


# ── comparing values ─────────────────────────────────────────────────────────────────────

def agrees(value, key, text: str | None, places: int | None = None) -> bool:
    """Is a student's answer (``text``, read as ``value``) the key: a number as ``same_number``
    judges (rounding alike to ``places`` decimals, for a rounded blank), a vector or matrix
    element by element (``tensor_check.same_tensor``)?"""
    if getattr(value, "shape", ()) or getattr(key, "shape", ()):
        from .tensor_check import same_tensor

        shaped = getattr(value, "shape", ()) and getattr(key, "shape", ())
        return bool(shaped) and value.shape == key.shape and same_tensor(text, key)
    if places is not None:
        from .rounding import alike

        try:
            return alike(value, key, places, text)
        except (TypeError, ValueError, ArithmeticError):
            return False
    return same(value, key, text)


def matches(value, key) -> bool:
    """Are two computed values the same: numbers, or vectors and matrices element by element?"""
    if getattr(value, "shape", None) == ():
        value = plain(value)
    if getattr(value, "shape", ()) or getattr(key, "shape", ()):
        shaped = getattr(value, "shape", ()) and getattr(key, "shape", ())
        return bool(shaped) and value.shape == key.shape and all(
            same(plain(a), plain(b)) for a, b in zip(value.flat, key.flat))
    return same(value, key)


def same(value, expected, text: str | None = None) -> bool:
    try:
        return same_number(value, expected, text)
    except (TypeError, ValueError, ArithmeticError):
        return False


def plain(x):
    """A model's element (or 0-d array) as a SymPy number: exact where it is, else a ball's
    certified 30 digits."""
    from fractions import Fraction

    from ..arith.elements import Ball, closed_form

    if getattr(x, "shape", None) == ():
        x = x[()]
    if isinstance(x, sympy.Basic):
        return x
    if isinstance(x, (int, Fraction)) or (isinstance(x, Ball) and closed_form(x) is not None):
        return closed_form(x)
    if isinstance(x, Ball):
        return sympy.Float(x.text(30), 30)
    return sympy.Float(float(x), 17)


def _identity(q: dict) -> tuple:
    return tuple(q.get(k) for k in ("kind", "node", "input", "position", "wrt"))


def _total(parts: list[tuple[object, tuple[str, ...]]]) -> tuple[object, tuple[str, ...]]:
    value, sources = 0, ()
    for part, came in parts:
        value, sources = value + part, sources + came
    return _settle(value), sources


def _settle(value):
    """A formula's number settled (exact, or certified); a model's array as it is."""
    from sympy import Integer

    from ..arith import settle

    if isinstance(value, int):
        return settle(Integer(value))
    if isinstance(value, sympy.Basic):
        return settle(value)
    from ..tensors import as_array

    return as_array(value)  # a model's (numpy's 0-d sums are plain elements)
