"""A problem's sheet as an LMS shows it: the blocks the handout builds (``handout.sheet_blocks``)
→ an HTML fragment, with each numbered blank put where the format wants its field.

    Heading   <h3>/<h4>        Paragraph  <p>        Listing  <pre>
    Table     <table> with <thead> and <tbody>       Equations  one <p> per row

Math is the terminal's one-line Unicode (``TextNotation``: ∂L/∂v3 = ∂L/∂v3 · ∂v3/∂v2), which
every LMS shows as it is, with a vector or a matrix on one line ([−3, −7]). A blank is a marker
in that text, and ``fill(number)`` gives what stands in its place: a Cloze field, an
interaction element, or text. Text goes in as element text, so the serializer escapes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from xml.etree.ElementTree import Element, SubElement

from ..document import Equations, Figure, Heading, Listing, Paragraph, Table, flattened
from ..notation import TextNotation

OPEN, CLOSE = "\ue000", "\ue001"
"""Around a blank's number in the notation's text (private-use characters no formula has)."""
_MARKED = re.compile(f"{OPEN}([0-9]+){CLOSE}")

NUMBERS = "terminating"
"""How the sheet writes values in an LMS: a fraction whose decimal ends as that decimal (−0.5, as
a student types it), any other as a fraction (1/3)."""

Piece = str | Element
Fill = Callable[[int], Iterable[Piece]]


class LmsNotation(TextNotation):
    """The terminal's one-line math, with each blank a marker and every matrix on one line."""

    def blank(self, number: int, filled: str | None) -> str:
        return f"{OPEN}{number}{CLOSE}"

    def tensor(self, value) -> str:
        return self.filled_tensor(value)


def page(blocks, fill: Fill, numbers: str = NUMBERS) -> Element:
    """The blocks as a ``<div>``, each blank replaced by ``fill(number)`` (``numbers``: how
    values are written, ``notation.NUMBERS``)."""
    notation = LmsNotation(numbers=numbers)
    root = Element("div")
    for block in flattened(blocks):
        _block(root, block, notation, fill)
    return root


def lines(blocks, numbers: str = NUMBERS) -> dict[int, str]:
    """Each blank's line of the sheet as text, every blank in it written (n)______: the row of
    the forward table or the equation it is in (what a question about one blank shows)."""
    notation = LmsNotation(numbers=numbers)
    found: dict[int, str] = {}
    for block in flattened(blocks):
        for line in _lines(block, notation):
            for number in _MARKED.findall(line):
                found.setdefault(int(number), _MARKED.sub(lambda m: f"({m.group(1)})______", line))
    return found


def _block(root: Element, block, notation: LmsNotation, fill: Fill) -> None:
    if isinstance(block, Heading):
        _inline(SubElement(root, f"h{min(block.level + 1, 6)}"), block.text, fill)
    elif isinstance(block, Paragraph):
        _inline(SubElement(root, "p"), _paragraph(block, notation), fill)
    elif isinstance(block, Listing):
        SubElement(root, "pre").text = block.text.strip("\n")
    elif isinstance(block, Equations):
        for row in block.rows:
            _inline(SubElement(root, "p"), notation.math(row), fill)
    elif isinstance(block, Table):
        _table(SubElement(root, "table"), block, notation, fill)
    elif not isinstance(block, Figure):  # a figure is drawn on paper, not in a quiz
        raise TypeError(f"no LMS form for {type(block).__name__}")


def _table(table: Element, block: Table, notation: LmsNotation, fill: Fill) -> None:
    head = SubElement(SubElement(table, "thead"), "tr")
    for name in block.header:
        SubElement(head, "th").text = name
    body = SubElement(table, "tbody")
    for row in block.rows:
        tr = SubElement(body, "tr")
        for cell in row:
            _inline(SubElement(tr, "td"), _cell(cell, notation), fill)


def _lines(block, notation: LmsNotation) -> list[str]:
    """The lines of a block a blank can be on: a paragraph, an equation, a table row."""
    if isinstance(block, Paragraph):
        return [_paragraph(block, notation)]
    if isinstance(block, Equations):
        return [notation.math(row) for row in block.rows]
    if isinstance(block, Table):
        return ["; ".join(f"{name}: {text}" for name, text in zip(block.header, map(
            lambda c: _cell(c, notation), row)) if text) for row in block.rows]
    return []


def _paragraph(block: Paragraph, notation: LmsNotation) -> str:
    return notation.inline(block.parts, str)


def _cell(cell, notation: LmsNotation) -> str:
    return "" if cell is None else cell if isinstance(cell, str) else notation.math(cell)


def _inline(parent: Element, text: str, fill: Fill) -> None:
    """``text`` into ``parent``, each blank's marker replaced by its pieces (text or elements)."""
    last: Element | None = None
    for i, part in enumerate(_MARKED.split(text)):
        pieces = [part] if i % 2 == 0 else fill(int(part))
        for piece in pieces:
            if isinstance(piece, str):
                if last is None:
                    parent.text = (parent.text or "") + piece
                else:
                    last.tail = (last.tail or "") + piece
            else:
                parent.append(piece)
                last = piece


def shaped(shape: tuple[int, ...], pieces: list) -> list:
    """A blank's fields (one per number, in row order) laid out as its value: one number, a
    vector [a, b] or a matrix [[a, b], [c, d]]."""
    if not shape:
        return list(pieces)
    if len(shape) == 1:
        return ["[", *_joined(pieces), "]"]
    rows = [pieces[i:i + shape[1]] for i in range(0, len(pieces), shape[1])]
    return ["[", *_joined([["[", *_joined(row), "]"] for row in rows], flat=True), "]"]


def _joined(items: list, flat: bool = False) -> list:
    out: list = []
    for i, item in enumerate(items):
        out += ([", "] if i else []) + (item if flat else [item])
    return out


__all__ = ["LmsNotation", "lines", "page", "shaped"]
