"""Figure → Mermaid, TikZ, SVG or PNG: the computational graph as a picture.

    render_figure(figure, "mermaid" | "tikz" | "svg" | "png") -> str (bytes for png)

Every renderer draws the coordinates ``worksheet.figure`` computed (Mermaid lays the graph
out itself). Text from the user — names, values — is escaped for each format: a label can
never become Mermaid syntax, XML markup or a TeX command.
"""

from __future__ import annotations

from xml.sax.saxutils import escape as xml_escape

from .. import formats
from ..figure import FONT, SMALL, Figure, FigureNode

FIGURE_FORMATS = {name: f.description for name, f in formats.of("graph").items()}
FIGURE_EXTENSIONS = formats.by_extension("graph")

GREEN = "#1a7f37"  # forward values
RED = "#cf222e"  # gradients
INK = "#24292f"
BOX_FILL = "#ddf4ff"
CIRCLE_FILL = "#fff8c5"


def render_figure(figure: Figure, format: str) -> str | bytes:
    """``figure`` in ``format``; PNG is bytes, the others text."""
    if format not in FIGURE_FORMATS:
        raise ValueError(f"unknown figure format {format!r} (formats: {', '.join(FIGURE_FORMATS)})")
    return {"mermaid": mermaid, "tikz": tikz_document, "svg": svg, "png": png}[format](figure)


# ── Mermaid ──────────────────────────────────────────────────────────────────────────────

MERMAID_SAFE = set(" .,+−-×÷·=/^√σΣᵀ‖²")  # besides letters and digits; the rest become #NN;


def mermaid_text(text: str) -> str:
    """A label's text inside "…": every character that could mean something to Mermaid
    (quotes, brackets, #, ;, <, &, `, |) becomes an entity code #NN;."""
    return "".join(
        ch if ch.isalnum() or ch in MERMAID_SAFE else f"#{ord(ch)};" for ch in text
    )


def mermaid(figure: Figure) -> str:
    """flowchart LR: variables as boxes [ ], operations as circles (( )), one arrow per use,
    labelled "value / gradient". Node ids are n0, n1, … so no name is ever read as syntax."""
    ids = {n.name: f"n{i}" for i, n in enumerate(figure.nodes)}
    lines = ["flowchart LR"]
    for n in figure.nodes:
        if n.shape == "box":
            lines.append(f'    {ids[n.name]}["{mermaid_text(n.label)}"]')
        else:
            label = mermaid_text(n.label) + ("" if n.label == n.name else f"<br>{mermaid_text(n.name)}")
            lines.append(f'    {ids[n.name]}(("{label}"))')
    for e in figure.edges:
        text = " / ".join(t for t in (e.value, e.grad) if t is not None)
        if e.value is None and e.grad is not None:
            text = f"∇ {e.grad}"
        arrow = f'-->|"{mermaid_text(text)}"|' if text else "-->"
        lines.append(f"    {ids[e.source]} {arrow} {ids[e.target]}")
    lines.append(f"    classDef variable fill:{BOX_FILL},stroke:{INK}")
    lines.append(f"    classDef operation fill:{CIRCLE_FILL},stroke:{INK}")
    boxes = [ids[n.name] for n in figure.nodes if n.shape == "box"]
    circles = [ids[n.name] for n in figure.nodes if n.shape != "box"]
    if boxes:
        lines.append(f"    class {','.join(boxes)} variable")
    if circles:
        lines.append(f"    class {','.join(circles)} operation")
    return "\n".join(lines) + "\n"


# ── SVG ──────────────────────────────────────────────────────────────────────────────────


def svg(figure: Figure) -> str:
    """A standalone SVG: boxes, circles, arrows (a marker), values above in green, gradients
    below in red. Every text is XML-escaped."""
    w, h = figure.width, figure.height
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}" height="{h:g}" viewBox="0 0 {w:g} {h:g}" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        "<defs>",
        f'<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{INK}"/></marker>',
        "</defs>",
        f'<rect x="0" y="0" width="{w:g}" height="{h:g}" fill="white"/>',
    ]
    halo = 'stroke="white" stroke-width="3" paint-order="stroke"'
    for e in figure.edges:
        (x1, y1), (x2, y2) = e.start, e.end
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{INK}" '
                   f'stroke-width="1.2" marker-end="url(#arrow)"/>')
    for e in figure.edges:
        lx, ly = e.label_at
        if e.value is not None:
            out.append(f'<text x="{lx:.1f}" y="{ly - 4:.1f}" font-size="{SMALL}" text-anchor="middle" '
                       f'fill="{GREEN}" {halo}>{xml_escape(e.value)}</text>')
        if e.grad is not None:
            out.append(f'<text x="{lx:.1f}" y="{ly + SMALL + 2:.1f}" font-size="{SMALL}" text-anchor="middle" '
                       f'fill="{RED}" {halo}>{xml_escape(e.grad)}</text>')
    for n in figure.nodes:
        out += _svg_node(n)
    if figure.values:
        out += _svg_stub(figure, figure.node(figure.output))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_node(n: FigureNode) -> list[str]:
    out = []
    if n.shape == "box":
        out.append(f'<rect x="{n.left:.1f}" y="{n.top:.1f}" width="{n.width:.1f}" height="{n.height:.1f}" '
                   f'rx="4" fill="{BOX_FILL}" stroke="{INK}" stroke-width="1.2"/>')
    else:
        out.append(f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{n.width / 2:.1f}" fill="{CIRCLE_FILL}" '
                   f'stroke="{INK}" stroke-width="1.2"/>')
    out.append(f'<text x="{n.x:.1f}" y="{n.y + FONT * 0.35:.1f}" font-size="{FONT}" text-anchor="middle" '
               f'fill="{INK}">{xml_escape(n.label)}</text>')
    if n.shape != "box" and n.label != n.name:
        out.append(f'<text x="{n.x:.1f}" y="{n.bottom + SMALL + 1:.1f}" font-size="{SMALL}" text-anchor="middle" '
                   f'fill="{INK}" font-style="italic">{xml_escape(n.name)}</text>')
    return out


def _svg_stub(figure: Figure, n: FigureNode) -> list[str]:
    """The output's own arrow out to the right: its value above, the seed ∂L/∂L below."""
    x1, x2 = n.right, figure.width - 10
    out = [f'<line x1="{x1:.1f}" y1="{n.y:.1f}" x2="{x2:.1f}" y2="{n.y:.1f}" stroke="{INK}" '
           f'stroke-width="1.2" marker-end="url(#arrow)"/>']
    mid = (x1 + x2) / 2
    if n.value is not None:
        out.append(f'<text x="{mid:.1f}" y="{n.y - 4:.1f}" font-size="{SMALL}" text-anchor="middle" '
                   f'fill="{GREEN}">{xml_escape(n.value)}</text>')
    if figure.seed is not None:
        out.append(f'<text x="{mid:.1f}" y="{n.y + SMALL + 2:.1f}" font-size="{SMALL}" text-anchor="middle" '
                   f'fill="{RED}">{xml_escape(figure.seed)}</text>')
    return out


# ── TikZ ─────────────────────────────────────────────────────────────────────────────────

TEX_MATH = {
    "×": r"$\times$", "÷": r"$\div$", "−": r"$-$", "σ": r"$\sigma$", "Σ": r"$\Sigma$", "ᵀ": r"$^{\top}$",
    "‖": r"$\|$", "·": r"$\cdot$", "²": r"$^{2}$", "√": r"$\surd$", "∇": r"$\nabla$", "^": r"\textasciicircum{}",
}
PX = 0.75  # pt per px (CSS)
PAGE_WIDTH = 620  # px: a worksheet's figure wider than this is scaled to the line width


def tex_text(text: str) -> str:
    """Text that TeX typesets as written: the figure's few math characters as math, the rest
    escaped (ASCII only)."""
    from .latex import escape

    return "".join(TEX_MATH.get(ch) or escape(ch) for ch in text)


def tikz(figure: Figure) -> str:
    """A tikzpicture at the figure's coordinates (y grows downwards, as in SVG)."""
    s = PX
    out = [
        rf"\begin{{tikzpicture}}[x={s}pt,y=-{s}pt,>=stealth,font=\sffamily\small,"
        r"every label/.style={font=\sffamily\scriptsize}]",
        r"\definecolor{wsgreen}{HTML}{1A7F37}\definecolor{wsred}{HTML}{CF222E}",
        r"\definecolor{wsbox}{HTML}{DDF4FF}\definecolor{wscircle}{HTML}{FFF8C5}",
    ]
    for i, n in enumerate(figure.nodes):
        if n.shape == "box":
            shape = (f"draw,fill=wsbox,rounded corners=2pt,minimum width={n.width * s:.1f}pt,"
                     f"minimum height={n.height * s:.1f}pt")
        else:
            shape = f"draw,fill=wscircle,circle,minimum size={n.width * s:.1f}pt,inner sep=0pt"
        out.append(rf"\node[{shape}] (n{i}) at ({n.x:.1f},{n.y:.1f}) {{{tex_text(n.label)}}};")
        if n.shape != "box" and n.label != n.name:
            out.append(rf"\node[font=\sffamily\scriptsize\itshape,anchor=north] at ({n.x:.1f},{n.bottom:.1f}) "
                       rf"{{{tex_text(n.name)}}};")
    for e in figure.edges:
        (x1, y1), (x2, y2) = e.start, e.end
        (lx, ly) = e.label_at
        out.append(rf"\draw[->] ({x1:.1f},{y1:.1f}) -- ({x2:.1f},{y2:.1f});")
        if e.value is not None:
            out.append(rf"\node[font=\sffamily\scriptsize,text=wsgreen,fill=white,inner sep=0.5pt,anchor=south] "
                       rf"at ({lx:.1f},{ly - 1:.1f}) {{{tex_text(e.value)}}};")
        if e.grad is not None:
            out.append(rf"\node[font=\sffamily\scriptsize,text=wsred,fill=white,inner sep=0.5pt,anchor=north] "
                       rf"at ({lx:.1f},{ly + 1:.1f}) {{{tex_text(e.grad)}}};")
    if figure.values:
        n = figure.node(figure.output)
        x1, x2 = n.right, figure.width - 10
        mid = (x1 + x2) / 2
        out.append(rf"\draw[->] ({x1:.1f},{n.y:.1f}) -- ({x2:.1f},{n.y:.1f});")
        if n.value is not None:
            out.append(rf"\node[font=\sffamily\scriptsize,text=wsgreen,anchor=south] at ({mid:.1f},{n.y - 1:.1f}) "
                       rf"{{{tex_text(n.value)}}};")
        if figure.seed is not None:
            out.append(rf"\node[font=\sffamily\scriptsize,text=wsred,anchor=north] at ({mid:.1f},{n.y + 1:.1f}) "
                       rf"{{{tex_text(figure.seed)}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def tikz_embedded(figure: Figure) -> str:
    """The tikzpicture for a worksheet page: scaled down to the line width when wider."""
    picture = tikz(figure)
    if figure.width > PAGE_WIDTH:
        return "\\resizebox{\\linewidth}{!}{%\n" + picture + "%\n}"
    return picture


def tikz_document(figure: Figure) -> str:
    """A LaTeX document whose page is the picture (pdflatex; TikZ and geometry only)."""
    w, h = figure.width * PX + 8, figure.height * PX + 8
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{lmodern}",
        rf"\usepackage[paperwidth={w:.1f}pt,paperheight={h:.1f}pt,margin=4pt]{{geometry}}",
        r"\usepackage{tikz}",
        r"\pagestyle{empty}",
        r"\setlength{\parindent}{0pt}",
        r"\begin{document}",
        r"\noindent",
        tikz(figure),
        r"\end{document}",
    ]) + "\n"


# ── PNG (drawn by Typst from the SVG) ────────────────────────────────────────────────────


def png(figure: Figure, *, ppi: int = 144) -> bytes:
    """The SVG as a PNG, rasterised by Typst (no Cairo): a page the size of the picture with
    the SVG on it. The SVG is passed as an input, never spliced into Typst source."""
    from .typst import compile_pdf

    source = (
        '#set page(width: auto, height: auto, margin: 0pt, fill: white)\n'
        '#image(bytes(sys.inputs.at("svg")), format: "svg", width: '
        f'{figure.width * PX:.1f}pt)\n'
    )
    return compile_pdf(source, "png", ppi, {"svg": svg(figure)})[0]
