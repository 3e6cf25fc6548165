"""Document → plain Unicode text for the terminal: aligned tables, one equation per line."""

from __future__ import annotations

import dataclasses
import textwrap
import unicodedata

from ..document import Document, Figure, Table, flattened
from ..notation import TextNotation
from .templating import environment

WIDTH = 88


def render(doc: Document, *, digits: int = 6) -> str:
    notation = TextNotation(digits, doc.numbers)
    # no pages (groups read in order) and no pictures: the graph's figure is left out (worksheet graph draws it)
    doc = dataclasses.replace(doc, blocks=tuple(b for b in flattened(doc.blocks) if not isinstance(b, Figure)))

    math = notation.math

    def inline(parts) -> str:
        text = notation.inline(parts, str)
        return textwrap.fill(text, WIDTH, break_long_words=False, break_on_hyphens=False)

    def table(block: Table) -> list[str]:
        cells = [[("" if c is None else c if isinstance(c, str) else math(c)) for c in row]
                 for row in block.rows]
        widths = [max(shown_width(h), *(shown_width(r[i]) for r in cells)) for i, h in enumerate(block.header)]

        def line(row):
            padded = [
                " " * (w - shown_width(v)) + v if a == "r" else v + " " * (w - shown_width(v))
                for v, w, a in zip(row, widths, block.align)
            ]
            return "  " + "  ".join(padded).rstrip()

        return [line(block.header), "  " + "  ".join("─" * w for w in widths)] + [line(r) for r in cells]

    text = environment().get_template("worksheet.txt.j2").render(
        doc=doc, inline=inline, display=math, table=table
    )
    return text.rstrip() + "\n"


def shown_width(text: str) -> int:
    """Columns on the terminal: a combining accent (the dot of v̇, the bar of v̄) takes none."""
    return sum(not unicodedata.combining(ch) for ch in text)
