"""The wrong numbers students write in a blank, with what to tell them: the usual chain-rule
mistakes, computed from the problem's trace (the values are the trace's, exact).

    every blank          the sign flipped (−v); a constant factor off (2v, v/2)
    product  ∂L/∂v·∂v/∂u the local derivative ∂v/∂u alone; the upstream ∂L/∂v alone
    upstream ∂L/∂v       (one path into v, from p) ∂L/∂p: the factor ∂p/∂v left out
    gradient ∂L/∂w       (one path, from v) ∂v/∂w alone; ∂L/∂v: the chain stopped before w
    sum, or a gradient   (several paths) each path's product alone: the other paths left out
      of fan-out

Feedback names where to look, never the value. Which of them an LMS is given (distinct from
the right answer and from each other) is for ``questions`` to decide; a model's vectors and
matrices get the sign and the factors of each element only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Rational

from ..document.sections import local, paths_into
from ..notation import TextNotation
from ..terms import Partial

SIGN = ("The sign is wrong: follow each minus sign along the chain (the − of a subtraction, of a "
        "derivative such as cos′ = −sin) and count them.")
DOUBLE = "This is twice the value: check the constant factors (the exponent the power rule brings down, a 1/2)."
HALF = "This is half the value: check the constant factors (the exponent the power rule brings down, a 2)."


@dataclass(frozen=True)
class Wrong:
    """A mistaken value of a blank and the sentence that tells the student where to look."""

    value: Expr
    feedback: str


def scaled(value: Expr) -> list[Wrong]:
    """The mistakes of any number: the sign flipped, a factor 2 or 1/2 off."""
    if value == 0:
        return []
    return [Wrong(-value, SIGN), Wrong(2 * value, DOUBLE), Wrong(value * Rational(1, 2), HALF)]


def chained(trace, quantity: dict) -> list[Wrong]:
    """The chain-rule mistakes of a formula's blank (``quantity``, as the manifest names it)."""
    kind = quantity["kind"]
    if kind == "product":
        return _product(trace, _step(trace, quantity))
    if kind == "upstream":
        return _upstream(trace, quantity["node"])
    if kind in ("gradient", "sum"):
        return _into(trace, quantity.get("wrt") or quantity["node"])
    return []


def _step(trace, quantity: dict):
    for step in trace.steps:
        if (step.node, step.input, step.position) == (quantity["node"], quantity["input"], quantity["position"]):
            return step
    raise KeyError(quantity)


def _product(trace, step) -> list[Wrong]:
    """∂L/∂v · ∂v/∂u with one factor left out."""
    if step.node == trace.target:  # the output's local derivative is the product: nothing to leave out
        return []
    upstream, derivative = _written(Partial(trace.target, step.node)), _local(trace, step)
    return [Wrong(step.local_value, f"This is the local derivative {derivative} alone: multiply it by the "
                                    f"upstream gradient {upstream}."),
            Wrong(step.upstream_value, f"This is the upstream gradient {upstream} alone: multiply it by the "
                                       f"local derivative {derivative}.")]


def _upstream(trace, name: str) -> list[Wrong]:
    """∂L/∂v taken as the gradient of the node v feeds, without ∂p/∂v."""
    paths = paths_into(trace, name) if name in trace.adjoints else []
    if len(paths) != 1 or paths[0].node == trace.target:
        return []
    step = paths[0]
    return [Wrong(step.upstream_value, f"This is {_written(Partial(trace.target, step.node))}, the gradient one "
                                       f"step earlier: multiply it by {_local(trace, step)}.")]


def _into(trace, name: str) -> list[Wrong]:
    """∂L/∂w (or a fan-out sum): one path alone, or the last step's factors alone."""
    if name not in trace.adjoints:
        return []
    paths = paths_into(trace, name)
    if len(paths) > 1:
        return [Wrong(step.product_value, f"This is only the path through {step.node} "
                                          f"({_local(trace, step)}): {name} feeds {len(paths)} uses, "
                                          "add the products of every path.") for step in paths]
    step = paths[0]
    if step.node == trace.target:
        return []
    derivative, upstream = _local(trace, step), _written(Partial(trace.target, step.node))
    return [Wrong(step.local_value, f"This is {derivative} alone: multiply it by the upstream gradient {upstream}."),
            Wrong(step.upstream_value, f"This is {upstream}: the chain stops one step before {name}; multiply it "
                                       f"by {derivative}.")]


def _local(trace, step) -> str:
    """∂v/∂u as the sheet names it (∂v2/∂w (first use); the output's on its definition)."""
    return _written(local(trace, step.node, step.input, step.position))


def _written(term) -> str:
    return TextNotation().term(term)


__all__ = ["Wrong", "chained", "scaled"]
