"""The blocks of a ``Document``: headings, paragraphs, tables, chains of equations, listings,
figures and groups of blocks that belong together — plain data whose math parts are *terms*
(``worksheet.terms``), in no output syntax."""

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
    keys: tuple[str, ...] = ()  # one per row where each row is a node of the graph: its key (``use_key``)


@dataclass(frozen=True)
class Equations:
    """A display block of equations, one per line, each with an optional label."""

    rows: tuple[Equation, ...]
    labels: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # one per row where each row is a node's or a step's: its key (``use_key``)


def use_key(node: str, input: str | None = None, position: int = 0) -> str:
    """What a row of a worksheet is about, for a format that links it to the figure (HTML; the
    others ignore keys): a node, ``"v3"`` (its forward row, its gradient ∂L/∂v3, a fan-out sum,
    a result), or one use of ``input`` as argument ``position`` of ``node``, ``"v3>L:0"`` — an
    arrow of the figure and the chain-rule step along it, ∂L/∂L · ∂L/∂v3, which adds into
    ∂L/∂v3. Names are identifiers, so ``>`` and ``:`` never occur in one. Keys name the nodes of
    one worksheet: a document holding several (a training trace's steps, an answer key's
    problems) starts each with its forward table, a ``Table`` with keys, where the names of the
    next worksheet begin."""
    return node if input is None else f"{input}>{node}:{position}"


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


PAGE_ROWS = 30
"""A table of at most this many rows fits on a page: every format with pages keeps it whole."""
FEW_ROWS = 3
"""A display of at most this many rows is kept on one page (each row always is)."""

DISPLAYS = (Table, Equations, Listing, Figure)
"""The blocks set off from the text: a paragraph just before one introduces it, and is kept with it."""


@dataclass(frozen=True)
class Together:
    """Blocks that belong together, as a handout's problem: printed on one page when they fit on
    one (starting a fresh page when they do not fit on the rest of this one), else broken
    between blocks, each heading kept with what follows. Formats without pages print the
    blocks in order. It holds no figure (a figure finds its own place) and no other group."""

    blocks: tuple

    def __post_init__(self):
        if any(isinstance(b, (Figure, Together)) for b in self.blocks):
            raise ValueError("a group of blocks holds no figure and no other group")

    @property
    def lead(self) -> tuple:
        """Its heading and statement: the blocks before its second heading, never left at the foot of a page."""
        later = [i for i, b in enumerate(self.blocks) if isinstance(b, Heading) and i > 0]
        return self.blocks[:later[0]] if later else self.blocks

    @property
    def rest(self) -> tuple:
        return self.blocks[len(self.lead):]


def flattened(blocks) -> tuple:
    """``blocks`` with each group's blocks in its place: the document as a format without pages reads it."""
    return tuple(inner for b in blocks for inner in (b.blocks if isinstance(b, Together) else (b,)))


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple
    numbers: str = "exact"  # how its values are written: notation.NUMBERS
    name_line: str = "print"  # a Name/Date line under the title: "print" (on a page: Typst, LaTeX),
    # "every" (in every format, Markdown and text too: a student's sheet) or "none" (a key)
