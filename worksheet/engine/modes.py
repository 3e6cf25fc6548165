"""Which ways to the gradient a worksheet shows, and their results beside the trace.

``derive(…, mode=…, check_numeric=…)`` attaches a ``Modes`` to the trace it returns:

* ``mode``: ``"reverse"`` (the backward pass, as always, and with ``--mode`` given, the
  adjoint trace of the literature: v̄ = ∂L/∂v with a fan-out written as running updates
  v̄ ← v̄ + v̄ᵢ·∂vᵢ/∂v), ``"forward"`` (the evaluation trace with one tangent column per
  variable, ``forward.py``) or ``"both"``;
* ``check_numeric``: a central-difference estimate of each gradient and the derivative by
  hand (``numeric.py``), so that a worksheet can set four methods side by side: by hand,
  numerically, forward mode, reverse mode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import sympy
from flint import arb
from sympy import Expr, S

from ..arith import CARRIED_BITS, certify, settle
from ..errors import WorksheetError
from .forward import ForwardTrace, forward_mode
from ..functions import to_sympy
from .numeric import Estimate, scalar_estimates, tensor_estimates
from .trace import Trace

MODES = ("forward", "reverse", "both")
SIMPLIFY_MAX_OPS = 60  # sympy.simplify is tried on a difference of forms only up to this size


@dataclass(frozen=True)
class Update:
    """One step of the adjoint trace: ū gets v̄ · ∂v/∂u (set on its first path, added after)."""

    step: int  # index into Trace.steps
    first: bool  # the first path into ū: ū = …; later ones: ū ← ū + …
    before: Expr | None  # ū before this step (None when first, or symbolic)
    after: Expr | None  # ū after it


@dataclass(frozen=True)
class Modes:
    mode: str  # "forward", "reverse" or "both"
    explicit: bool  # asked for (--mode given): the reverse worksheet adds its adjoint trace
    forward: ForwardTrace | None = None  # the tangents (forward, both, or for the check)
    updates: tuple[Update, ...] | None = None  # the adjoint trace (scalar reverse mode)
    estimates: Mapping[str, Estimate] | None = None  # --check-numeric
    forward_agrees: Mapping[str, bool] | None = None  # forward mode's gradient = reverse mode's

    @property
    def forward_shown(self) -> bool:
        return self.mode in ("forward", "both")

    @property
    def reverse_shown(self) -> bool:
        return self.mode in ("reverse", "both")


def attach(trace: Trace, mode: str | None = None, *, check_numeric: bool = False):
    """``trace`` with its ``Modes``; ``mode`` None is reverse mode, not asked for explicitly."""
    if mode is not None and mode not in MODES:
        raise WorksheetError(f"unknown mode {mode!r} (modes: {', '.join(MODES)})", where="--mode")
    chosen = mode or "reverse"
    if trace.tensor:
        if chosen != "reverse":
            raise WorksheetError(
                "forward mode is for scalar formulas; this program has vectors or matrices "
                "(use --mode reverse)",
                where="--mode",
            )
        estimates = tensor_estimates(trace) if check_numeric else None
        return dataclasses.replace(trace, modes=Modes(chosen, mode is not None, estimates=estimates))
    estimates = scalar_estimates(trace) if check_numeric else None
    forward = forward_mode(trace) if chosen != "reverse" or check_numeric else None
    updates = adjoint_updates(trace) if mode is not None and chosen != "forward" else None
    agree = None
    if chosen != "both" and not check_numeric:
        pass  # nothing compares the two modes
    elif forward is not None and trace.values is not None:
        agree = {g.wrt: same(forward.gradients[g.wrt].value, g.value) for g in trace.gradients}
    elif forward is not None:
        agree = {g.wrt: same_form(forward.written[g.wrt], g.in_inputs) for g in trace.gradients}
    modes = Modes(chosen, mode is not None, forward, updates, estimates, agree)
    return dataclasses.replace(trace, modes=modes)


def adjoint_updates(trace: Trace) -> tuple[Update, ...]:
    """The reverse sweep's steps as updates of the adjoints, with the running sums."""
    running: dict[str, Expr] = {}
    updates = []
    for index, step in enumerate(trace.steps):
        first = step.input not in running
        before = running.get(step.input)
        after = None
        if step.product_value is not None:
            after = step.product_value if first else settle(before + step.product_value)
            running[step.input] = after
        else:
            running[step.input] = S.Zero
        updates.append(Update(index, first, None if first or step.product_value is None else before, after))
    return tuple(updates)


def same_form(a: Expr | None, b: Expr | None) -> bool | None:
    """Two forms of one derivative: True where algebra shows them equal, None where it cannot
    cheaply tell (never False: a failed simplification proves nothing)."""
    if a is None or b is None:
        return None
    if a == b:
        return True
    difference = (to_sympy(a) - to_sympy(b)).doit()
    if sympy.expand(difference) == 0:
        return True
    if sympy.count_ops(difference) <= SIMPLIFY_MAX_OPS and sympy.simplify(difference) == 0:
        return True
    return None


def same(a: Expr | None, b: Expr | None) -> bool:
    """Two ways to the same value: equal, or equal to the CARRIED_BITS their certified decimals
    have (relative to their size: 1e-300 and 2e-300 are not the same)."""
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    x, y = certify(a), certify(b)
    return abs(x - y) <= max(abs(x), abs(y)) * arb(2) ** -(CARRIED_BITS - 8)
