"""The operations of the formula language: one class per operation (``Rule``), grouped by family
— ``arithmetic`` (+ − × ÷ ^), ``elementary`` (exp, ln, √, trigonometric, hyperbolic),
``activations`` (σ, relu, softplus, silu, elu, leaky_relu, gelu), ``piecewise`` (|·|, sgn,
step, max, min), ``tensor`` (@, .T, outer, the reductions), ``indexing`` (x[0], x[1:3]),
``losses`` (mse, bce_with_logits) and ``softmax``.

What a rule knows: what the node computes and its local derivatives.

A rule never evaluates or prints. ``form(*args)`` is the node's definition and
``local(i, *args)`` is ∂node/∂args[i] in textbook form (σ(z)(1 − σ(z)), 1 − tanh²z), both
built from the node's arguments: symbols of earlier nodes, or numbers. The tracer turns
these forms into values; the renderers print them.

Conventions follow PyTorch: relu′(0) = 0, |·|′(0) = 0, and max/min split the gradient
evenly between two equal arguments.
"""

from __future__ import annotations

from sympy import Expr

from ..arith import OutsideDomain


class Rule:
    """An operation of the formula language.

    ``value(*xs)`` and ``slope(i, *xs)`` are the same operation and derivative on plain
    numbers (exact ``Fraction``s, certified ``Ball``s once a transcendental function is
    involved, or floats in training: ``arith.elements``), for tensors, where each element is
    computed on its own.
    """

    op: str  # the node's op in JSON and in the graph ("mul", "sigmoid", …)
    title: str  # what a reader calls it ("multiply")
    arity: int = 1
    callable: bool = True  # written f(x) in formulas (operators are not)
    domain: str = "not a real number"  # why a value can be undefined, for error messages
    stops_gradient: bool = False  # no gradient flows back through it (stop_gradient)
    tensor: bool = False  # a tensor operation (@, sum, a loss): ops/tensor.py, ops/losses.py
    rule_name: str = ""  # the differentiation rule behind ``local`` (--detail full): "quotient rule"
    symbol: str = ""  # drawn in the graph's circle (figure.py): "×", "σ", "@"
    torch: str = ""  # the PyTorch code, over its arguments' code (--format torch): "torch.exp({0})"
    torch_tensors: tuple[int, ...] = ()  # arguments PyTorch needs as tensors even when they are numbers

    def rule_of(self, i: int, *args: Expr) -> str:
        """The rule that gives ∂node/∂args[i], as a calculus textbook names it ("" for none)."""
        return self.rule_name

    def torch_code(self, code: list[str], numbers: list[bool], shapes: list[tuple]) -> str:
        """The PyTorch expression of the node from its arguments' ``code`` (``numbers``: which
        are number literals; ``shapes``: the arguments' shapes)."""
        code = [f"torch.tensor({c})" if is_number and i in self.torch_tensors else c
                for i, (c, is_number) in enumerate(zip(code, numbers))]
        return self.torch.format(*code)

    def differentiable(self, i: int) -> bool:
        """Does a gradient flow to args[i]? (Not to a class index: ``ops.tensor``.)"""
        return True

    def form(self, *args: Expr) -> Expr:
        raise NotImplementedError

    def local(self, i: int, *args: Expr) -> Expr:
        raise NotImplementedError

    def value(self, *xs):
        raise NotImplementedError

    def slope(self, i: int, *xs):
        raise NotImplementedError

    def local_value(self, i: int, *values: Expr) -> Expr | None:
        """The value of ∂node/∂args[i] where evaluating ``local`` would not give the limit."""
        return None


class Rules(dict):
    """The registry, op → rule. An indexing op carries its index in its name (``index[1:3]``:
    a node's shape depends on it), and its rule is made from the name when it is asked for
    (``indexing.index_rule``)."""

    def __missing__(self, op):
        made = indexing.index_rule(op)
        if made is None:
            raise KeyError(op)
        return made

    def __contains__(self, op) -> bool:
        return dict.__contains__(self, op) or indexing.index_rule(op) is not None

    def get(self, op, default=None):
        return self[op] if op in self else default


RULES: dict[str, Rule] = Rules()


def rule(cls: type[Rule]) -> type[Rule]:
    RULES[cls.op] = cls()
    return cls


# ── numbers: the helpers of value() and slope() ──────────────────────────────────────────

def nonzero(w):
    if w == 0:
        raise OutsideDomain("division by zero")
    return w


# the families register their rules on import (at the end: they build on Rule and rule)
from . import arithmetic, elementary, activations, piecewise, tensor, losses, softmax, indexing  # noqa: E402,F401
from ..lang.vocabulary import ALIASES, FUNCTIONS  # noqa: E402,F401  (the parser's, read without SymPy)

class TensorOps(frozenset):
    """A set of op names that also holds every indexing op (``index[0]``, ``index[1:3]``)."""

    def __contains__(self, op) -> bool:
        return frozenset.__contains__(self, op) or indexing.index_rule(op) is not None


TENSOR_OPS = TensorOps(op for op, r in RULES.items() if r.tensor)
"""The operations that exist only for tensors (``@``, ``.T``, the reductions, the losses, indexing)."""

if {r.op: r.arity for r in RULES.values() if r.callable} != FUNCTIONS:  # one list of functions, kept true
    raise ImportError("vocabulary.FUNCTIONS must list exactly the callable rules, with their arities")
