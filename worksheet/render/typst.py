"""Document → Typst markup (``typ``), and that markup compiled to a PDF with the typst wheel (``pdf``).

The PDF needs no TeX and no system fonts: typst embeds New Computer Modern (text and math)
and DejaVu Sans Mono (the program listing). Every piece of the user's text reaches the
markup escaped (prose: each ASCII punctuation mark behind a backslash; program listings,
the title and names in math: Typst string literals), so nothing typed is ever read as Typst
code.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Iterable

from ..document import FEW_ROWS, PAGE_ROWS, Document, Equations, Table
from ..terms import Blank, Equation, Tensor
from ..limits import TYPESET_SECONDS
from ..notation import TextNotation, TypstNotation, typst_string
from . import typst_figure
from .templating import environment
from .typesetting import Typesetter, cpus

WIDE = 72  # an equation longer than this (in characters of plain text) gets one side per line
ALIGN = {"l": "left", "r": "right", "c": "center"}
PUNCTUATION = frozenset(string.punctuation) - frozenset(",;:!?()%&|")  # those stay plain in markup


def render(doc: Document, *, digits: int = 6) -> str:
    """The worksheet as Typst markup (A4, ruled tables, display equations)."""
    notation, plain = TypstNotation(digits, doc.numbers), TextNotation(digits, doc.numbers)

    math = notation.math

    def inline(parts) -> str:
        return notation.inline(parts, escape)

    def cell(item) -> str:
        if item is None:
            return "[]"
        return f"[{escape(item)}]" if isinstance(item, str) else f"[${math(item)}$]"

    def wide(eq: Equation) -> bool:
        """Does the equation take one line per side (it would not fit the page on one)?"""
        return len(eq.sides) > 2 and len(plain.equation(eq)) > WIDE

    def aligned(eq: Equation) -> str:
        """lhs &= a = b …, or one side per line when it would not fit the page."""
        return notation.aligned(eq, wide=wide(eq))

    def display(block: Equations) -> str:
        """The rows as one aligned display. A few rows, or rows that hold a matrix or take several
        lines, are kept together (``kept``): a page break never parts a row from its lhs."""
        rows = [aligned(eq) for eq in block.rows]
        whole = "$ " + " \\\n  ".join(rows) + " $"
        if not (1 < len(rows) <= FEW_ROWS or any(holds_matrix(eq) or wide(eq) for eq in block.rows)):
            return whole  # one line, or many scalar rows of one line each: a page may break between any two
        each = [f"$ {row} $" for row in rows] if len(rows) > 1 else []
        return "#kept(" + ",\n  ".join([whole, *each]) + ")"

    def table(block: Table) -> dict:
        return {
            "columns": len(block.header),
            "align": "(" + ", ".join(ALIGN.get(a, "left") + " + horizon" for a in block.align) + ",)",
            "header": [f"[{escape(h)}]" for h in block.header],
            "rows": [[cell(item) for item in row] for row in block.rows],
            "breakable": "true" if len(block.rows) > PAGE_ROWS else "false",
        }

    labels: dict[int, str] = {}  # each figure's label, for a page reference

    def label(block) -> str:
        return labels.setdefault(id(block), f"graph-{len(labels) + 1}")

    def figure(block) -> str:
        """The graph, drawn in Typst (``typst_figure``), in the flow: top-level markup."""
        return typst_figure.placed(block.figure, label(block))

    def figure_page(block) -> str:
        """The graph's own turned page, at the end, when it needs one."""
        return typst_figure.page_of(block.figure, label(block))

    def fits_line(block) -> bool:
        return typst_figure.placement(block.figure).kind == "inline"

    def figure_inline(block) -> str:
        return typst_figure.inline(block.figure)

    def beside(block, room: str) -> str:
        return typst_figure.beside(block.figure, room)

    text = environment().get_template("worksheet.typ.j2").render(
        doc=doc, inline=inline, aligned=aligned, display=display, table=table, escape=escape, string=typst_string,
        figure=figure, figure_page=figure_page, fits_line=fits_line, figure_inline=figure_inline, beside=beside,
    )
    return text.rstrip() + "\n"


def holds_matrix(term) -> bool:
    """Is a vector or matrix written anywhere in ``term`` (a key's blank may hold one)?"""
    if isinstance(term, Tensor):
        return True
    if isinstance(term, Blank):
        return bool(getattr(term.value, "shape", ()))
    if isinstance(term, tuple):
        return any(holds_matrix(t) for t in term)
    if dataclasses.is_dataclass(term):
        return any(holds_matrix(getattr(term, f.name)) for f in dataclasses.fields(term))
    return False


def render_pdf(doc: Document, *, digits: int = 6) -> bytes:
    """The worksheet as a PDF: the Typst markup of ``render`` compiled in memory."""
    return compile_pdf(render(doc, digits=digits))


def render_pdfs(docs: Iterable[Document], *, digits: int = 6, on_each=None) -> list[bytes]:
    """Each worksheet as a PDF, in order, typeset on every CPU (``typesetting``): the markup of
    one is written while those before it compile. ``on_each(done, total)`` after each PDF."""
    with Typesetter(cpus(), TYPESET_SECONDS) as typesetter:
        futures = [typesetter.submit(render(doc, digits=digits)) for doc in docs]
        pdfs = []
        for future in futures:
            pdfs.append(typesetter.result(future))
            if on_each is not None:
                on_each(len(pdfs), len(futures))
        return pdfs


def compile_pdf(source: str, format: str = "pdf", ppi: float | None = None, inputs: dict | None = None):
    """Typst markup → PDF bytes (or PNG pages, a list of bytes), with typst's embedded fonts only,
    by a child process in an empty directory, stopped after TYPESET_SECONDS or on Ctrl-C
    (``typesetting``). ``inputs``: strings the markup reads as ``sys.inputs``, never spliced into it.
    """
    with Typesetter(1, TYPESET_SECONDS) as typesetter:
        return typesetter.result(typesetter.submit(source, format, ppi, inputs))


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
