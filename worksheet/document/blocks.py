"""The blocks of a ``Document``: headings, paragraphs, tables, chains of equations, listings and
figures — plain data whose math parts are *terms* (``worksheet.terms``), in no output syntax."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from ..terms import Equation


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Text with inline math: a tuple of strings and terms/equations."""

    parts: tuple


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple, ...]  # cells: str, a term, an equation, or None for an empty cell
    align: str  # one letter per column: l, c or r


@dataclass(frozen=True)
class Equations:
    """A display block of equations, one per line, each with an optional label."""

    rows: tuple[Equation, ...]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    """A program, shown as the user typed it."""

    text: str


@dataclass(frozen=True)
class Figure:
    """The computational graph as a picture: a ``worksheet.figure.Figure`` (nodes, arrows with
    values and gradients, coordinates). Markdown draws it as Mermaid, LaTeX as TikZ; a
    renderer without pictures leaves it out, and its layout is then never computed (``make``
    lays it out on first use)."""

    make: Callable[[], object]

    @cached_property
    def figure(self) -> object:
        return self.make()


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple
    numbers: str = "exact"  # how its values are written: notation.NUMBERS
