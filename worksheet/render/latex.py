"""Document → a standalone LaTeX document that pdflatex compiles (amsmath, booktabs, longtable)."""

from __future__ import annotations

from ..document import Document
from ..terms import Equation
from .figures import tikz_embedded
from ..notation import LatexNotation, TextNotation
from .templating import environment

WIDE = 72  # an equation longer than this (in characters of plain text) gets one side per line
SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}
PLAIN = {"−": "-", "·": "*", "×": "*", "²": "^2", "³": "^3", "÷": "/", "σ": "sigma", "′": "'", "√": "sqrt"}


def render(doc: Document, *, digits: int = 6) -> str:
    notation, plain = LatexNotation(digits, doc.numbers), TextNotation(digits, doc.numbers)

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

    text = environment(latex=True).get_template("worksheet.tex.j2").render(
        doc=doc, inline=inline, cell=cell, aligned=aligned, escape=escape, listing=listing,
        tikz=tikz_embedded,
    )
    return text.rstrip() + "\n"


def escape(text: str) -> str:
    """Text that LaTeX typesets as written (ASCII only: pdflatex has no fonts for the rest)."""
    text = "".join(PLAIN.get(ch, ch) for ch in text)
    text = "".join(SPECIAL.get(ch, ch) for ch in text).replace("--", "-{}-")  # --aux, not an en dash
    return "".join(ch if ch.isascii() else "?" for ch in text)


def listing(text: str) -> str:
    """A program, line by line in typewriter type, spaces kept."""
    lines = [escape(line).replace(" ", "~") or "~" for line in text.splitlines()]
    return "\\\\\n".join(r"\texttt{%s}" % line for line in lines)
