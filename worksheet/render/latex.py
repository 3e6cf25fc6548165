"""Document → a standalone LaTeX document that pdflatex compiles in one run (amsmath, booktabs;
a table that fits a page is a tabular, a longer one a longtable of fixed column widths)."""

from __future__ import annotations

from ..document import FEW_ROWS, PAGE_ROWS, Document, Table, Together
from ..terms import Equation
from .tikz import tikz_embedded
from ..notation import TexNotation, TextNotation
from .templating import environment

WIDE = 72  # an equation longer than this (in characters of plain text) gets one side per line
SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}
PLAIN = {"−": "-", "·": "*", "×": "*", "²": "^2", "³": "^3", "÷": "/", "σ": "sigma", "′": "'", "√": "sqrt",
         "…": "..."}
LINE_EM = 43  # the text width of the 11 pt A4 page, in em
COLUMN = {"l": r">{\raggedright\arraybackslash}", "c": r">{\centering\arraybackslash}",
          "r": r">{\raggedleft\arraybackslash}"}


def render(doc: Document, *, digits: int = 6) -> str:
    notation, plain = TexNotation(digits, doc.numbers), TextNotation(digits, doc.numbers)

    math = notation.math

    def inline(parts) -> str:
        return notation.inline(parts, escape)

    def cell(item) -> str:
        if item is None:
            return ""
        return escape(item) if isinstance(item, str) else f"${math(item)}$"

    def aligned(eq: Equation) -> str:
        """lhs &= a = b …, or one side per line when it would not fit the page."""
        return notation.aligned(eq, wide=len(plain.equation(eq)) > WIDE and len(eq.sides) > 2)

    def widths(block: Table) -> str:
        """A long table's columns at fixed widths, each as wide as its widest cell (shrunk
        together to the line): longtable needs no second run to agree on widths it is given."""
        def chars(item) -> int:
            return 0 if item is None else len(item if isinstance(item, str) else plain.math(item))

        ems = [0.55 * max(len(h), *(chars(row[i]) for row in block.rows)) + 0.5 for i, h in enumerate(block.header)]
        scale = min(1.0, (LINE_EM - 1.1 * len(ems)) / sum(ems))  # less \tabcolsep on both sides of each
        return "".join(f"{COLUMN.get(a, COLUMN['l'])}p{{{em * scale:.2f}em}}" for a, em in zip(block.align, ems))

    text = environment(latex=True).get_template("worksheet.tex.j2").render(
        doc=doc, inline=inline, cell=cell, aligned=aligned, escape=escape, listing=listing,
        tikz=tikz_embedded, long=long, widths=widths, boxed=boxed, few=lambda block: len(block.rows) <= FEW_ROWS,
    )
    return text.rstrip() + "\n"


def long(block: Table) -> bool:
    """Is the table too long for a page (a longtable, which breaks), rather than a tabular?"""
    return len(block.rows) > PAGE_ROWS  # else a tabular, kept whole


def boxed(group: Together) -> bool:
    """Can the group be set in a box, measured and kept on one page? Not with a longtable in it."""
    return not any(isinstance(b, Table) and long(b) for b in group.blocks)


def escape(text: str) -> str:
    """Text that LaTeX typesets as written (ASCII only: pdflatex has no fonts for the rest)."""
    text = "".join(PLAIN.get(ch, ch) for ch in text)
    text = "".join(SPECIAL.get(ch, ch) for ch in text).replace("--", "-{}-")  # --aux, not an en dash
    return "".join(ch if ch.isascii() else "?" for ch in text)


def listing(text: str) -> str:
    """A program, line by line in typewriter type, spaces kept."""
    lines = [escape(line).replace(" ", "~") or "~" for line in text.splitlines()]
    return "\\\\\n".join(r"\texttt{%s}" % line for line in lines)
