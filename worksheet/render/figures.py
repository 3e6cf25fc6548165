"""Figure → Mermaid, TikZ, SVG or PNG: the computational graph as a picture.

    render_figure(figure, "mermaid" | "tikz" | "svg" | "png") -> str (bytes for png)

Every renderer draws the boxes, polylines and texts ``worksheet.figure`` placed (Mermaid
lays the graph out itself, its nodes declared in the layout's order); ``render/tikz.py`` and
``render/typst_figure.py`` draw the same for LaTeX and Typst, and PNG is the Typst picture
rasterised. Text from the user — names, values — is escaped for each format: a label can
never become Mermaid syntax, XML markup, Typst code or a TeX command.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import formats
from ..document.blocks import use_key
from ..figure import SMALL, Figure, FigureEdge

FIGURE_FORMATS = {name: f.description for name, f in formats.of("graph").items()}
FIGURE_EXTENSIONS = formats.by_extension("graph")

GREEN = "#1a7f37"  # forward values
RED = "#cf222e"  # gradients
INK = "#24292f"
BOX_FILL = "#ddf4ff"
CIRCLE_FILL = "#fff8c5"
COLOURS = {"label": INK, "name": INK, "value": GREEN, "grad": RED}

PX = 0.75  # pt per CSS px: a figure's natural size on paper
LEAST_TEXT = 7.0  # pt: no text of a printed figure is smaller
PAGE = (470.0, 700.0)  # pt: an A4 page's text area inside the worksheets' 2.2 cm margins (width, height)
LANDSCAPE = (717.0, 440.0)


def render_figure(figure: Figure, format: str) -> str | bytes:
    """``figure`` in ``format``; PNG is bytes, the others text."""
    if format not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {format!r} (formats: {', '.join(FIGURE_FORMATS)})")
    from .tikz import tikz_document

    return {"mermaid": mermaid, "tikz": tikz_document, "svg": svg, "png": png}[format](figure)


@dataclass(frozen=True)
class Placement:
    """How a figure sits on an A4 page: ``inline`` (scaled by ``scale`` to the line),
    ``landscape`` (a page of its own, turned) or ``split`` (``parts``: (left, right, top,
    bottom) in px, cut between ranks, one under another). ``least``: the smallest scale that keeps its text
    at LEAST_TEXT."""

    kind: str
    scale: float
    least: float
    parts: tuple[tuple[float, float, float, float], ...] = ()


def placement(figure: Figure) -> Placement:
    """Shrink to the line only while the smallest text stays at 7 pt; a wider graph gets a
    landscape page, and a graph wider still is cut between ranks into parts, not shrunk."""
    least = LEAST_TEXT / (SMALL * PX)
    width, height = figure.width * PX, figure.height * PX

    def fit(area) -> float:
        return min(1.0, area[0] / width, area[1] / height)

    if fit(PAGE) >= least:
        return Placement("inline", fit(PAGE), least)
    if fit(LANDSCAPE) >= least:
        return Placement("landscape", fit(LANDSCAPE), least)
    scale = max(least, min(1.0, PAGE[1] / height))
    return Placement("split", scale, least, _parts(figure, PAGE[0] / (scale * PX)))


def _parts(figure: Figure, limit: float) -> tuple[tuple[float, float, float, float], ...]:
    """Cut points chosen greedily, each part as wide as ``limit`` px allows; each part as
    (left, right, top, bottom): only as tall as what is drawn in it."""
    cuts, start, last = [], 0.0, 0.0
    for cut in (*figure.cuts, figure.width):
        if cut - start > limit and last > start:
            cuts.append((start, last))
            start = last
        last = cut
    cuts.append((start, figure.width))
    return tuple((a, b, *_band(figure, a, b)) for a, b in cuts)


def _band(figure: Figure, a: float, b: float) -> tuple[float, float]:
    """The heights of everything drawn between x = a and x = b (with a few px to spare)."""
    ys = [y for n in figure.nodes if n.right >= a and n.left <= b for y in (n.top, n.bottom + SMALL * 1.4)]
    ys += [y for t in figure.texts() if t.box[2] >= a and t.box[0] <= b for y in (t.box[1], t.box[3])]
    for points, _ in figure.lines():
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for x in (max(a, min(x0, x1)), min(b, max(x0, x1))):
                if min(x0, x1) <= x <= max(x0, x1):
                    ys.append(y0 if x1 == x0 else y0 + (x - x0) / (x1 - x0) * (y1 - y0))
    if not ys:
        return 0.0, figure.height
    return max(0.0, min(ys) - 6), min(figure.height, max(ys) + 6)


# ── Mermaid ──────────────────────────────────────────────────────────────────────────────

MERMAID_SAFE = set(" .,+−-×÷·=/^√σΣᵀ‖²")  # besides letters and digits; the rest become #NN;


def mermaid_text(text: str) -> str:
    """A label's text inside "…": every character that could mean something to Mermaid
    (quotes, brackets, #, ;, <, &, `, |) becomes an entity code #NN;."""
    return "".join(
        ch if ch.isalnum() or ch in MERMAID_SAFE else f"#{ord(ch)};" for ch in text
    )


def mermaid(figure: Figure) -> str:
    """flowchart LR: variables as boxes [ ], operations as circles (( )) with their names under
    the symbol, one arrow per use labelled "→ value" and "← gradient" on two lines, and the
    output's own arrow out. Nodes are declared in the layout's order (layer, then height), so
    Mermaid's own layout starts from ours. Node ids are n0, n1, …: no name is read as syntax."""
    ids = {n.name: f"n{i}" for i, n in enumerate(figure.nodes)}
    lines = ["flowchart LR"]
    for n in sorted(figure.nodes, key=lambda n: (n.layer, n.y)):
        if n.shape == "box":
            lines.append(f'    {ids[n.name]}["{mermaid_text(n.label)}"]')
        else:
            caption = f"<br>{mermaid_text(n.caption)}" if n.caption else ""
            lines.append(f'    {ids[n.name]}(("{mermaid_text(n.label)}{caption}"))')
    for e in figure.edges:
        lines.append(f"    {ids[e.source]} {_mermaid_arrow(e.value, e.grad)} {ids[e.target]}")
    if figure.values:
        lines.append('    out[" "]')
        lines.append(f"    {ids[figure.output]} {_mermaid_arrow(figure.node(figure.output).value, figure.seed)} out")
        lines.append("    style out fill:none,stroke:none")
    lines.append(f"    classDef variable fill:{BOX_FILL},stroke:{INK}")
    lines.append(f"    classDef operation fill:{CIRCLE_FILL},stroke:{INK}")
    boxes = [ids[n.name] for n in figure.nodes if n.shape == "box"]
    circles = [ids[n.name] for n in figure.nodes if n.shape != "box"]
    if boxes:
        lines.append(f"    class {','.join(boxes)} variable")
    if circles:
        lines.append(f"    class {','.join(circles)} operation")
    return "\n".join(lines) + "\n"


def _mermaid_arrow(value: str | None, grad: str | None) -> str:
    """-->|"→ value<br>← gradient"|: the forward value and the gradient on lines of their own,
    so a fraction's slash is never read as a separator."""
    parts = [f"{mark} {mermaid_text(text)}" for mark, text in (("→", value), ("←", grad)) if text is not None]
    return f'-->|"{"<br>".join(parts)}"|' if parts else "-->"


# ── SVG ──────────────────────────────────────────────────────────────────────────────────


def svg(figure: Figure, *, inline: bool = False) -> str:
    """A standalone SVG: boxes, circles, polylines with arrowheads (a marker), values above in
    green, gradients below in red, in the font the layout measured. Every text is XML-escaped.

    ``inline``: the SVG to put in an HTML page (``render.html``): no XML declaration, no
    namespace (the HTML parser gives it), and every element says what it draws, for the page's
    script: ``data-node`` (a node, or the node an arrow leaves) and, on an arrow and its labels,
    ``data-use`` (``document.use_key``: the use of a value the arrow is, and the step along it)."""
    from xml.sax.saxutils import escape as xml_escape  # here: xml.sax loads urllib, 12 ms a start

    w, h = figure.width, figure.height
    out = [] if inline else ['<?xml version="1.0" encoding="UTF-8"?>']
    out += [
        f'<svg{"" if inline else XMLNS} width="{w:g}" height="{h:g}" viewBox="0 0 {w:g} {h:g}" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">',
        "<defs>",
        f'<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{INK}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{w:g}" height="{h:g}" fill="white"/>',
    ]
    owners = [*figure.edges, *figure.trunk_sources, figure.output]  # what each of figure.lines() is
    for (points, head), owner in zip(figure.lines(), owners):
        text = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        marker = ' marker-end="url(#arrow)"' if head else ""
        keys = _keys(owner) if inline else ""
        out.append(f'<polyline points="{text}" fill="none" stroke="{INK}" stroke-width="1.2"{marker}{keys}/>')
    for n in figure.nodes:
        keys = _keys(n.name) if inline else ""
        if n.shape == "box":
            out.append(f'<rect x="{n.left:.1f}" y="{n.top:.1f}" width="{n.width:.1f}" height="{n.height:.1f}" '
                       f'rx="4" fill="{BOX_FILL}" stroke="{INK}" stroke-width="1.2"{keys}/>')
        else:
            out.append(f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{n.width / 2:.1f}" fill="{CIRCLE_FILL}" '
                       f'stroke="{INK}" stroke-width="1.2"{keys}/>')
    for t in figure.texts():
        style = ' font-style="italic"' if t.role == "name" else ""
        keys = _keys(t.of if isinstance(t.of, FigureEdge) else t.of.name) if inline else ""
        out.append(f'<text x="{t.x:.1f}" y="{t.baseline:.1f}" font-size="{t.size:g}" text-anchor="middle" '
                   f'fill="{COLOURS[t.role]}" class="{t.role}"{style}{keys}>{xml_escape(t.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


XMLNS = ' xmlns="http://www.w3.org/2000/svg"'


def _keys(owner: str | FigureEdge) -> str:
    """The data attributes of what draws a node (its name) or an arrow (a ``FigureEdge``)."""
    from xml.sax.saxutils import quoteattr

    if isinstance(owner, str):
        return f" data-node={quoteattr(owner)}"
    key = use_key(owner.target, owner.source, owner.position)
    return f" data-node={quoteattr(owner.source)} data-use={quoteattr(key)}"


# ── PNG (the Typst picture, rasterised) ──────────────────────────────────────────────────


def png(figure: Figure, *, ppi: int = 144) -> bytes:
    """The figure as a PNG, drawn by Typst (no Cairo): a page the size of the picture."""
    from .typst import compile_pdf
    from .typst_figure import picture

    source = "#set page(width: auto, height: auto, margin: 0pt, fill: white)\n#" + picture(figure) + "\n"
    return compile_pdf(source, "png", ppi)[0]
