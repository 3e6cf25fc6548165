"""Document → a self-contained HTML page: math as MathML (``notation.mathml``), the graph as
inline SVG, the style and a few lines of script inline, nothing fetched from anywhere (its
Content-Security-Policy forbids it). It prints as it shows, on A4: no equation, row, figure or
listing broken across pages, no heading or introducing paragraph left at the foot of one, and
the Name/Date line of a worksheet on paper too (a handout's sheet has it on the screen as well).

    render(document) -> the page;   fragment(document) -> a <div> with its own style and script (Jupyter)

The figure and the rows are linked: every forward row, chain-rule step, sum and result carries
its block's key (``document.use_key``) as ``data-node`` (and ``data-use`` for a step), the
figure's nodes and arrows the same (``figures.svg(inline=True)``), each within the worksheet it
belongs to (``data-scope``: a new one at each forward table). Hovering over or clicking one of
them highlights the others about the same node or arrow. User text (titles, names, listings)
is escaped by the template; math is escaped as MathML is written.
"""

from __future__ import annotations

import itertools
from html import escape

from markupsafe import Markup

from ..document import Document, Figure, Table, flattened
from ..notation import TextNotation
from ..notation.mathml import MathmlNotation
from .figures import svg
from .latex import WIDE
from .templating import environment

ALIGN = {"l": "left", "r": "right", "c": "center"}
_fragments = itertools.count(1)  # each fragment's id in a notebook, where many share one page


def render(doc: Document, *, digits: int = 6) -> str:
    """The page: a whole HTML document, offline."""
    return _render(doc, digits, "worksheet", page=True)


def fragment(doc: Document, *, digits: int = 6) -> str:
    """The page's body alone: one ``<div>`` with its style (every rule scoped to it) and its
    script (bound to its own id), for a notebook's output."""
    return _render(doc, digits, f"worksheet-{next(_fragments)}", page=False)


def _render(doc: Document, digits: int, root: str, page: bool) -> str:
    notation, plain = MathmlNotation(digits, doc.numbers), TextNotation(digits, doc.numbers)
    scopes = _scopes(doc.blocks)

    def inline(parts) -> Markup:
        return Markup(notation.inline(parts, escape))

    def cell(item) -> Markup:
        if item is None:
            return Markup("")
        return Markup(escape(item) if isinstance(item, str) else notation.inline_html(item))

    def display(eq) -> Markup:
        """One equation as a display; a long one with a side per line (as the LaTeX has it)."""
        return Markup(notation.display_html(eq, wide=len(plain.equation(eq)) > WIDE and len(eq.sides) > 2))

    def keyed(block, i: int | None = None) -> Markup:
        """A row's (or a figure's) data attributes: its scope, and the node or use it is about."""
        attributes = {"data-scope": str(scopes[id(block)])}
        if i is not None:
            key = block.keys[i] if i < len(block.keys) else ""
            if not key:
                return Markup("")
            attributes["data-node"] = key.partition(">")[0]
            if ">" in key:
                attributes["data-use"] = key
        return Markup("".join(f' {name}="{escape(value)}"' for name, value in attributes.items()))

    def picture(block: Figure) -> Markup:
        return Markup(svg(block.figure, inline=True))

    text = environment().overlay(autoescape=True).get_template("worksheet.html.j2").render(
        doc=doc, page=page, root=root, inline=inline, cell=cell, display=display, keyed=keyed,
        picture=picture, align=ALIGN,
    )
    return text.rstrip() + "\n"


def _scopes(blocks) -> dict[int, int]:
    """Each block's worksheet, by ``id``: counted from 1, a new one at each table with keys (a
    forward table: ``use_key``), so that a training trace's steps and a key's problems, which
    name the same nodes, each link their own rows and figure."""
    scope, scopes = 0, {}
    for block in flattened(blocks):
        if isinstance(block, Table) and block.keys:
            scope += 1
        scopes[id(block)] = max(scope, 1)
    return scopes


def check_fragment(question, answer: str, verdict) -> str:
    """A verdict on an answer (``assess.check``), for a notebook: the derivative asked for as
    MathML, the answer as typed, the verdict and its feedback."""
    from ..terms import Partial

    asked = MathmlNotation().inline_html(Partial(question.target, question.wrt))
    codes = f" ({escape(', '.join(verdict.diagnosis))})" if verdict.diagnosis else ""
    return (
        f'<div class="worksheet-check {escape(verdict.verdict)}" style="font-family: system-ui, sans-serif; '
        f'line-height: 1.5">'
        f"<p>{asked} = <code>{escape(answer)}</code></p>"
        f'<p><strong style="color: {VERDICT_COLOURS.get(verdict.verdict, "#57606a")}">{escape(verdict.verdict)}'
        f"</strong>{codes}: {escape(verdict.feedback)}</p></div>\n"
    )


VERDICT_COLOURS = {"correct": "#1a7f37", "incorrect": "#cf222e"}
