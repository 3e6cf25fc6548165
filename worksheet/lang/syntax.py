"""The parse tree: what ``parse`` makes of text and ``graph`` reads. A formula is a tree of
``Num`` (a number, exact), ``Var`` (a name), ``Apply`` (an operation) and the tensor values
``ListLit`` and ``Make``; a program is its ``Statement``s, one a line. No SymPy here (``Num.exact``
imports it when asked), so that a syntax error answers at once.

Every walk over a parse tree is iterative: a formula of 10,000 terms is 10,000 deep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from .tokens import Pos


@dataclass(frozen=True)
class Num:
    """A number literal, exact (a Fraction), or the constant π or e (its name). The parser
    runs without SymPy, so that a syntax error answers at once; ``exact`` is the SymPy value."""

    value: Fraction | str
    pos: Pos
    text: str

    def exact(self):
        import sympy

        if isinstance(self.value, str):
            return sympy.pi if self.value == "pi" else sympy.E
        return sympy.Rational(self.value.numerator, self.value.denominator)


@dataclass(frozen=True)
class Var:
    name: str
    pos: Pos


@dataclass(frozen=True)
class Apply:
    """An operation: ``op`` is a rule's name (``add``, ``pow``, ``sin``, …)."""

    op: str
    args: tuple[Num | Var | Apply, ...]
    pos: Pos


@dataclass(frozen=True, eq=False)
class ListLit:
    """``[1, 2]`` (a vector) or ``[[1, 2], [3, 4]]`` (a matrix): a tensor value, as written."""

    items: tuple
    pos: Pos


@dataclass(frozen=True, eq=False)
class Make:
    """``ones(3)``, ``zeros(2, 3)``, ``randn(4, 3, seed=1)``: a tensor value made to a shape."""

    name: str
    args: tuple
    seed: "Ast | None"
    pos: Pos


Ast = Num | Var | Apply | ListLit | Make


@dataclass(frozen=True)
class Statement:
    """One line of a program: ``kind`` is ``param``, ``data``, ``assign`` or ``expr``."""

    kind: str
    name: str | None
    expr: Ast | None
    pos: Pos


@dataclass(frozen=True)
class Program:
    statements: tuple[Statement, ...]
    source: str
    notes: tuple[str, ...] = ()  # what the reader should know of how it was read (a constant's name assigned)


def _postorder(root: Ast) -> Iterator[Ast]:
    """Children before parents, without recursion."""
    stack: list[tuple[Ast, bool]] = [(root, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded or not isinstance(item, Apply):
            yield item
            continue
        stack.append((item, True))
        for child in reversed(item.args):
            stack.append((child, False))

