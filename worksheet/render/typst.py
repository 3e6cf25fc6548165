"""Document → Typst markup (``typ``), and that markup compiled to a PDF with the typst wheel (``pdf``).

The PDF needs no TeX and no system fonts: typst embeds New Computer Modern (text and math)
and DejaVu Sans Mono (the program listing). Every piece of the user's text reaches the
markup escaped (prose: each ASCII punctuation mark behind a backslash; program listings,
the title and names in math: Typst string literals), so nothing typed is ever read as Typst
code.
"""

from __future__ import annotations

import string
import tempfile

from ..document import Document, Equation, Table
from .notation import TextNotation, TypstNotation, typst_string
from .templating import environment

WIDE = 72  # an equation longer than this (in characters of plain text) gets one side per line
KEEP_TOGETHER = 30  # a table of at most this many rows is never split across pages
ALIGN = {"l": "left", "r": "right", "c": "center"}
PUNCTUATION = frozenset(string.punctuation) - frozenset(",;:!?()%&|")  # those stay plain in markup


def render(doc: Document, *, digits: int = 6) -> str:
    """The worksheet as Typst markup (A4, ruled tables, display equations)."""
    notation, plain = TypstNotation(digits), TextNotation(digits)

    def math(item) -> str:
        return notation.equation(item) if isinstance(item, Equation) else notation.term(item)

    def inline(parts) -> str:
        return "".join(escape(p) if isinstance(p, str) else f"${math(p)}$" for p in parts)

    def cell(item) -> str:
        if item is None:
            return "[]"
        return f"[{escape(item)}]" if isinstance(item, str) else f"[${math(item)}$]"

    def aligned(eq: Equation) -> str:
        """lhs &= a = b …, or one side per line when it would not fit the page."""
        return notation.aligned(eq, wide=len(plain.equation(eq)) > WIDE and len(eq.sides) > 2)

    def table(block: Table) -> dict:
        return {
            "columns": len(block.header),
            "align": "(" + ", ".join(ALIGN.get(a, "left") for a in block.align) + ",)",
            "header": [f"[{escape(h)}]" for h in block.header],
            "rows": [[cell(item) for item in row] for row in block.rows],
            "breakable": "true" if len(block.rows) > KEEP_TOGETHER else "false",
        }

    def figure(block) -> str:
        """The graph figure, drawn from its SVG (a string literal: it cannot reach Typst code)."""
        from .figures import svg

        return typst_string(svg(block.figure))

    text = environment().get_template("worksheet.typ.j2").render(
        doc=doc, inline=inline, aligned=aligned, table=table, escape=escape, string=typst_string,
        figure=figure,
    )
    return text.rstrip() + "\n"


def render_pdf(doc: Document, *, digits: int = 6) -> bytes:
    """The worksheet as a PDF: the Typst markup of ``render`` compiled in memory."""
    return compile_pdf(render(doc, digits=digits))


def compile_pdf(source: str, format: str = "pdf", ppi: float | None = None):
    """Typst markup → PDF bytes (or PNG pages, a list of bytes), with typst's embedded fonts only.

    The markup is compiled in an empty directory, so it can read no file; the PDF carries no
    date, so the same worksheet is the same PDF.
    """
    import typst

    with tempfile.TemporaryDirectory(prefix="worksheet-typst-") as root:
        out = typst.compile(source.encode("utf-8"), root=root, format=format, ppi=ppi,
                            ignore_system_fonts=True)
    if format == "png" and isinstance(out, bytes):  # one page
        return [out]
    return out


def escape(text: str) -> str:
    """Text that Typst's markup shows as written: each markup character escaped, on one line."""
    out = []
    for ch in text:
        if ch in PUNCTUATION:
            out.append("\\" + ch)
        elif ch in "\r\n\t":
            out.append(" ")
        elif not ch.isprintable():
            continue
        else:
            out.append(ch)
    return "".join(out)
