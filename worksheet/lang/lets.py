"""``--let name=expr``: which subtrees of a formula a let names.

A let names its expression wherever the formula writes it alike: the same operations on the
same operands, in the same order and grouping (``--let z=w*x+b`` names ``w*x+b`` in
``(w*x+b-y)**2``, not ``b+w*x``). Subtrees are compared by structural keys, computed
bottom-up, and a subtree written like a let reads to its parent as the let's name, so that
one let may be written with another (``--let s=a+b --let t=s*c``).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass

from ..errors import WorksheetError
from .syntax import Apply, Ast, ListLit, Make, Num, Var, _postorder


@dataclass(frozen=True)
class Let:
    """``--let name=expr``: name the operation ``expr`` wherever the formula contains it."""

    name: str
    expr: Ast
    source: str


class LetKeys:
    """--let matching: structural keys, computed bottom-up, and the lets by the key of their
    expression."""

    def __init__(self, lets: Sequence[Let]):
        self.lets = list(lets)
        self.by_key: dict[int, Let] = {}
        self.keys: dict[tuple, int] = {}
        for let in self.lets:
            self._index(let)

    def _index(self, let: Let) -> None:
        if not isinstance(let.expr, Apply):
            raise WorksheetError(
                "a --let names an operation of the formula, such as w*x+b",
                where=f"--let {let.name}", source=let.source, line=1, column=1,
            )
        if any(other.name == let.name for other in self.by_key.values()):
            raise WorksheetError(f"{let.name} is named twice", where="--let")
        keys: dict[int, int] = {}
        for item in _postorder(let.expr):
            keys[id(item)] = self.seen_as(self.own_key(item, keys))
        self.by_key[self.own_key(let.expr, keys)] = let

    def find(self, key: int) -> Let | None:
        """The let whose expression is written like the subtree of key ``key``, if any."""
        return self.by_key.get(key)

    def own_key(self, item: Ast, keys: Mapping[int, int]) -> int:
        """An integer that two subtrees share exactly when they are written alike."""
        if isinstance(item, Num):
            raw = ("num", item.value)
        elif isinstance(item, (ListLit, Make)):
            raw = ("value", id(item))
        elif isinstance(item, Var):
            raw = ("var", item.name)
        else:
            raw = (item.op, *(keys[id(a)] for a in item.args))
        return self.keys.setdefault(raw, len(self.keys))

    def seen_as(self, key: int) -> int:
        """How a parent sees a subtree: one written like a let reads as the let's name."""
        let = self.by_key.get(key)
        if let is None:
            return key
        return self.keys.setdefault(("var", let.name), len(self.keys))

    def check_all_found(self, found: Container[str]) -> None:
        """Every let names an operation of the formula (``found``: the names given)."""
        for let in self.lets:
            if let.name not in found:
                raise WorksheetError(
                    "this expression does not occur in the formula as written "
                    "(same order and grouping)",
                    where=f"--let {let.name}", source=let.source, line=1, column=1,
                )
