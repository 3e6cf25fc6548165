"""The graph as data: a ``Node`` is one operation as the user wrote it (or an input), a
``Graph`` its nodes in evaluation order; with the walks over them that ``graph`` and the
engines need: what an output depends on, and the names v1, v2, … of the unnamed operations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sympy import Expr, Symbol

from ..ops import RULES
from .tokens import Pos


@lru_cache(maxsize=1 << 17)
def symbol(name: str) -> Symbol:
    """The SymPy symbol of a node: real, as every quantity on a worksheet is. Made once per
    name: SymPy's own cache holds a thousand, fewer than the names of a long program."""
    return Symbol(name, real=True)


@dataclass(frozen=True)
class Node:
    """One operation as the user wrote it (or an input variable, with op ``"input"``)."""

    name: str
    op: str
    inputs: tuple[str, ...]  # the nodes it reads, in order, repeats kept
    args: tuple[Expr, ...]  # the rule's arguments: symbols of those nodes, or numbers
    expr: Expr  # its definition in terms of its inputs
    pos: Pos | None = None
    named: bool = False  # the user gave the name
    kind: str = "op"  # "op", "param", "data" or "input" (a free variable)

    @property
    def symbol(self) -> Symbol:
        return symbol(self.name)

    @property
    def is_input(self) -> bool:
        return self.op == "input"


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]  # inputs in order of first use, then operations in evaluation order
    target: str
    defaults: Mapping[str, Expr] = field(default_factory=dict)  # values declared in the program
    source: str = ""  # the program's text
    statements: int = 1  # how many statements it has (a formula has one)
    outputs: tuple[str, ...] = ()  # several outputs (--target L,z): the target is their sum
    aux: tuple[str, ...] = ()  # --aux: assignments whose values are reported, not differentiated
    notes: tuple[str, ...] = ()  # how the program was read, for the reader (a constant's name assigned)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {n.name: n for n in self.nodes})
        object.__setattr__(self, "order", {n.name: i for i, n in enumerate(self.nodes)})  # name → its place

    def node(self, name: str) -> Node:
        return self.by_name[name]

    @property
    def inputs(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.is_input)

    @property
    def operations(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if not n.is_input)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes if n.kind == "param")

    def depending_on(self, names) -> frozenset[str]:
        """``names`` and every node whose value depends on one of them: those that carry a
        tangent in forward mode, and that the reverse sweep visits."""
        reached = set(names)
        for node in self.operations:
            if any(name in reached for name in node.inputs):
                reached.add(node.name)
        return frozenset(reached)

    def ancestors(self, names) -> frozenset[str]:
        """``names`` and every node they depend on (the output's: what its value needs)."""
        return frozenset(n.name for n in ancestor_nodes(list(self.nodes), names))


def ancestor_nodes(operations: list[Node], targets: Sequence[str]) -> list[Node]:
    """The nodes of ``operations`` the ``targets`` depend on (and they), in evaluation order."""
    by_name = {n.name: n for n in operations}
    keep, stack = set(), list(targets)
    while stack:
        name = stack.pop()
        if name in keep or name not in by_name:
            continue
        keep.add(name)
        stack.extend(by_name[name].inputs)
    return [n for n in operations if n.name in keep]


def number_unnamed(operations: list[Node], taken: set[str]) -> list[Node]:
    """Name the unnamed operations v1, v2, … in evaluation order, skipping names in use."""
    renames: dict[str, str] = {}
    counter = 0
    for node in operations:
        if node.name.startswith("\0"):
            counter += 1
            while f"v{counter}" in taken:
                counter += 1
            renames[node.name] = f"v{counter}"
    if not renames:
        return operations
    mapping = {symbol(old): symbol(new) for old, new in renames.items()}
    renamed = []
    for node in operations:
        args = tuple(mapping.get(a, a) for a in node.args)
        renamed.append(
            Node(
                renames.get(node.name, node.name),
                node.op,
                tuple(renames.get(i, i) for i in node.inputs),
                args,
                node.expr if args == node.args else RULES[node.op].form(*args),  # built again only if renamed
                node.pos,
                node.named,
                node.kind,
            )
        )
    return renamed
