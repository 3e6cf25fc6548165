"""The derivatives students write when they make the usual chain-rule mistakes, from the question's graph.

The chain rule, forward: with ẇ = 1, each node's tangent is v̇ = Σᵢ (∂v/∂uᵢ)·u̇ᵢ, and the
output's tangent is ∂L/∂w. Each mistake is the same sweep with one thing changed:

* ``missing_chain_factor``: one local derivative ∂v/∂u taken as 1 (an inner derivative
  dropped), or the sweep started at an intermediate node u instead of w (∂L/∂u written in
  the inputs: the chain stopped before it reached w);
* ``missing_term``: one local derivative taken as 0 (a summand, or one path of a fan-out,
  left out), when something is left;
* ``wrong_variable``: the sweep started at another input;
* ``not_differentiated``: the output itself.

Each comes with feedback that names where to look (the node, the term, the path), never
the derivative itself. A mistake that gives the right derivative, or nothing, is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sympy import Expr, S, Symbol

from ..forms import evaluate
from ..lang.graph import Graph, Node
from ..ops import RULES
from .sampling import Domain
from ..engine.trace import expand

MAX_OPERATIONS = 80
"""Beyond this many operations only the cheap mistakes (another variable, no derivative) are tried."""

SUMS = ("add", "sub", "outputs")


@dataclass(frozen=True)
class Mistake:
    code: str  # missing_chain_factor, missing_term, wrong_variable or not_differentiated
    expr: Expr  # the derivative the mistake gives, in the inputs
    feedback: str  # where to look


class Chain:
    """The question's graph with every node written out in the inputs (evaluated SymPy)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.written: dict[Expr, Expr] = {}
        for node in graph.nodes:
            self.written[node.symbol] = node.symbol if node.is_input else evaluate(node.expr, self.written)
        self.shown = expand(graph, lambda node: True)  # unevaluated, in the user's order, for feedback
        self._locals: dict[tuple[str, int], Expr] = {}  # every mistake's sweep reuses them

    def values(self) -> list[Expr]:
        """Every operation written out in the inputs: where they are all defined is the domain."""
        return [self.written[node.symbol] for node in self.graph.operations]

    def domain(self, *exprs: Expr) -> Domain:
        """Where every operation (and each of ``exprs``) is defined, evaluated node by node."""
        return Domain(exprs, [(n.symbol, n.expr, self.written[n.symbol]) for n in self.graph.operations])

    def local(self, node: Node, position: int) -> Expr:
        """∂node/∂args[position], in the inputs (computed once)."""
        key = (node.name, position)
        if key not in self._locals:
            self._locals[key] = evaluate(RULES[node.op].local(position, *node.args), self.written)
        return self._locals[key]

    def derivative(self, start: str | Iterable[str], change: Mapping[tuple[str, int], Expr] | None = None) -> Expr:
        """∂output/∂start by the forward chain rule (``start``: a node, or several nodes that
        compute the same thing, each seeded with 1), with the local derivatives in ``change``
        ((node, position) → value) put in place of the true ones."""
        change = change or {}
        starts = {start} if isinstance(start, str) else set(start)
        tangents: dict[str, Expr] = dict.fromkeys(starts, S.One)
        for node in self.graph.operations:
            if node.name in starts or RULES[node.op].stops_gradient:
                continue
            tangent = S.Zero
            for position, arg in enumerate(node.args):
                if isinstance(arg, Symbol) and arg.name in tangents:
                    local = change.get((node.name, position))
                    tangent += (self.local(node, position) if local is None else local) * tangents[arg.name]
            if tangent != 0:
                tangents[node.name] = tangent
        return tangents.get(self.graph.target, S.Zero)

    def text(self, name: str) -> str:
        """A node as the user wrote it, in the inputs (``w·x + b − y``)."""
        from ..notation import TextNotation

        symbol = Symbol(name, real=True)
        return TextNotation().doprint(self.shown.get(symbol, symbol) or symbol)

    def reached(self, wrt: str) -> list[tuple[Node, int]]:
        """The (node, position) of every chain-rule step on a path from ``wrt`` to the output."""
        depends = {wrt}
        steps = []
        for node in self.graph.operations:
            if RULES[node.op].stops_gradient:
                continue
            for position, arg in enumerate(node.args):
                if isinstance(arg, Symbol) and arg.name in depends:
                    steps.append((node, position))
                    depends.add(node.name)
        return steps


def mistakes(chain: Chain, wrt: str, correct: Expr) -> list[Mistake]:
    """The mistaken derivatives worth recognising, in the order a diagnosis tries them."""
    graph = chain.graph
    target = graph.target
    found = [Mistake("not_differentiated", chain.written[graph.node(target).symbol],
                     f"This is {target} itself, not its derivative: differentiate it with respect to {wrt}.")]
    if len(graph.operations) <= MAX_OPERATIONS:
        steps = chain.reached(wrt)
        factors = _alike([(n, p) for n, p in steps if not chain.local(n, p).is_number],
                         lambda n, p: (n.op, chain.written[n.symbol], p))
        found += [_dropped_factor(chain, wrt, group) for group in factors]
        last = [(n, p) for n, p in steps if n.args[p].name == wrt and not chain.local(n, p).is_number]
        if len({chain.written[n.symbol] for n, _ in last}) > 1:
            found.append(_dropped_factor(chain, wrt, last))  # the last factor of every path
        inner = [n for n in graph.operations if n.name != target and any(m is n for m, _ in steps)]
        found += [_stopped_early(chain, wrt, group) for group in _alike(inner, lambda n: chain.written[n.symbol])]
        found += [_left_out(chain, wrt, node, position) for node, position in steps]
    for node in graph.inputs:
        if node.name != wrt:
            found.append(Mistake("wrong_variable", chain.derivative(node.name),
                                 f"This is the derivative with respect to {node.name}; the question asks for "
                                 f"∂{target}/∂{wrt}."))
    return [m for m in found if m.expr != 0 and m.expr != correct]


def _left_out(chain: Chain, wrt: str, node: Node, position: int) -> Mistake:
    """One summand or one path dropped: that step's local derivative taken as 0."""
    expr = chain.derivative(wrt, {(node.name, position): S.Zero})
    arg = node.args[position].name
    if node.op in SUMS:
        feedback = (f"A term is missing: {chain.text(arg)} in {chain.text(node.name)} depends on {wrt} too; "
                    f"differentiate every term of the sum.")
    elif node.args.count(node.args[position]) > 1:
        feedback = (f"{chain.text(arg)} appears more than once in {chain.text(node.name)}: the product rule "
                    f"(or the power rule) needs a term for each appearance.")
    else:
        feedback = (f"{wrt} reaches {chain.graph.target} along more than one path, and your answer leaves out "
                    f"the one through {chain.text(node.name)}: add the contributions of every path.")
    return Mistake("missing_term", expr, feedback)


def _alike(items: list, key) -> list[list]:
    """``items`` grouped by ``key``: the same sub-expression written twice is one mistake."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(*item) if isinstance(item, tuple) else key(item), []).append(item)
    return list(groups.values())


def _dropped_factor(chain: Chain, wrt: str, steps: list[tuple[Node, int]]) -> Mistake:
    """Inner derivatives dropped: those steps' local derivatives taken as 1."""
    expr = chain.derivative(wrt, dict.fromkeys(((n.name, p) for n, p in steps), S.One))
    pairs = list(dict.fromkeys((chain.text(n.name), chain.text(n.args[p].name)) for n, p in steps))
    if len(pairs) == 1:
        (node, arg), = pairs
        return Mistake("missing_chain_factor", expr,
                       f"A factor of the chain rule is missing: the derivative of {node} with respect to {arg}.")
    nodes = ", ".join(node for node, _ in pairs)
    return Mistake("missing_chain_factor", expr,
                   f"Factors of the chain rule are missing: the derivatives of {nodes} with respect to {wrt}.")


def _stopped_early(chain: Chain, wrt: str, nodes: list[Node]) -> Mistake:
    """The chain stopped at ``nodes`` (one sub-expression, maybe written more than once):
    ∂L/∂node, written in the inputs."""
    expr = chain.derivative([n.name for n in nodes])
    inner = chain.text(nodes[0].name)
    return Mistake("missing_chain_factor", expr,
                   f"The chain rule stops too early: your answer is the derivative with respect to {inner}; "
                   f"multiply by the derivative of {inner} with respect to {wrt}.")


__all__ = ["Chain", "Mistake", "mistakes"]
