"""Document → Markdown that GitHub renders: $…$ math inline and in tables, $$…$$ displays."""

from __future__ import annotations

import dataclasses
import re

from ..document import Document, flattened
from .figures import mermaid
from ..notation import LatexNotation
from .templating import environment

ALIGN = {"l": ":--", "r": "--:", "c": ":-:"}


def render(doc: Document, *, digits: int = 6) -> str:
    notation = LatexNotation(digits, doc.numbers)
    doc = dataclasses.replace(doc, blocks=flattened(doc.blocks))  # a page-less format: groups read in order

    math = notation.math

    def inline(parts) -> str:
        return notation.inline(parts, escape)

    def cell(item) -> str:
        if item is None:
            return ""
        return escape(item).replace("|", "\\|") if isinstance(item, str) else f"${math(item)}$"

    text = environment().get_template("worksheet.md.j2").render(
        doc=doc, inline=inline, cell=cell, display=math, align=ALIGN, mermaid=mermaid, escape=escape,
        fence=fence,
    )
    return text.rstrip() + "\n"


def escape(text: str) -> str:
    """Text that Markdown shows as written, on one line: no tag, link, emphasis or heading of
    the user's text is ever live (``<script>``, ``[x](javascript:…)``)."""
    for ch in "\\`*_[]<>#$&!~":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.splitlines())


def fence(text: str, shortest: int = 3) -> str:
    """A code fence (``shortest=1``: an inline code span's delimiter) longer than any run of
    backticks in ``text``, which therefore cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(shortest, longest + 1)
