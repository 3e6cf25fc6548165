"""Figure → a picture drawn natively in Typst: boxes, circles, polylines, text as text (so a
PDF's figure is searchable and crisp), and how it sits on an A4 page.

    picture(figure) -> str     a Typst expression: the figure at its natural size (1 px = 0.75 pt)
    placed(figure)  -> str     markup for the page: scaled to the line, on a landscape page of
                               its own, or cut into parts between ranks, never below 7 pt text

Every text is a Typst string literal (``typst_string``): nothing the user typed is read as code.
"""

from __future__ import annotations

from ..figure import Figure
from ..notation import typst_string
from .figures import BOX_FILL, CIRCLE_FILL, COLOURS, INK, PX, Placement, placement

FONT = "DejaVu Sans Mono"  # embedded in typst: the font the layout measures


def _pt(v: float) -> str:
    return f"{v * PX:.2f}pt"


def _point(p) -> str:
    return f"({_pt(p[0])}, {_pt(p[1])})"


def picture(figure: Figure) -> str:
    """The figure as one Typst expression: a box of its size with every piece placed in it."""
    ink = f'rgb("{INK}")'
    out = [f"box(width: {_pt(figure.width)}, height: {_pt(figure.height)}, fill: white, {{"]
    for points, head in figure.lines():
        steps = ", ".join(f"curve.line({_point(p)})" for p in points[1:])
        out.append(f"  place(top + left, curve(stroke: 0.9pt + {ink}, curve.move({_point(points[0])}), {steps}))")
        if head:
            out.append(f"  place(top + left, polygon(fill: {ink}, {', '.join(map(_point, _head(points)))}))")
    for n in figure.nodes:
        if n.shape == "box":
            out.append(f"  place(top + left, dx: {_pt(n.left)}, dy: {_pt(n.top)}, rect(width: {_pt(n.width)}, "
                       f'height: {_pt(n.height)}, radius: 3pt, fill: rgb("{BOX_FILL}"), stroke: 0.9pt + {ink}))')
        else:
            out.append(f"  place(top + left, dx: {_pt(n.left)}, dy: {_pt(n.top)}, circle(radius: {_pt(n.width / 2)}, "
                       f'fill: rgb("{CIRCLE_FILL}"), stroke: 0.9pt + {ink}))')
    for t in figure.texts():
        left, top, right, _ = t.box
        style = ', style: "oblique"' if t.role == "name" else ""
        out.append(f"  place(top + left, dx: {_pt(left - 20)}, dy: {_pt(top)}, box(width: {_pt(right - left + 40)}, "
                   f'align(center, text(font: "{FONT}", size: {_pt(t.size)}, fill: rgb("{COLOURS[t.role]}"){style}, '
                   f'top-edge: "ascender", bottom-edge: "descender", {typst_string(t.text)}))))')
    out.append("})")
    return "\n".join(out)


def _head(points, length: float = 7.0, half: float = 3.2):
    """An arrowhead's three corners at the polyline's end, along its last segment."""
    (x0, y0), (x1, y1) = points[-2], points[-1]
    d = max(1e-9, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
    ux, uy = (x1 - x0) / d, (y1 - y0) / d
    bx, by = x1 - ux * length, y1 - uy * length
    return (x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)


def placed(figure: Figure, label: str) -> str:
    """Markup that puts the figure in the text's flow (``figures.placement``): scaled to the
    line, or cut into parts one under another; a graph that needs a page of its own is
    named here, with its page number, and drawn by ``page_of`` at the end (a turned page in
    the middle would leave the page before it half empty)."""
    where = placement(figure)
    if where.kind == "landscape":
        return (f"_The computational graph is drawn on a page of its own, turned: page "
                f"#context counter(page).at(<{label}>).first()._")
    if where.kind == "split":  # the picture once, then a window on it per part
        windows = "\n".join(f"#align(center, {_scaled(_window(label.replace('-', '_'), *part), where.scale)})"
                             "\n#v(0.6em)" for part in where.parts)
        return (f"#let {label.replace('-', '_')} = {picture(figure)}\n"
                f"_The computational graph, in {len(where.parts)} parts from left to right:_\n" + windows)
    return "#" + inline(figure)


def page_of(figure: Figure, label: str) -> str:
    """The figure's own turned page, when it needs one (at the document's end), else nothing."""
    where = placement(figure)
    if where.kind != "landscape":
        return ""
    return (f"#page(flipped: true)[#align(center + horizon, {_scaled(picture(figure), where.scale)}) "
            f"<{label}>]")


def inline(figure: Figure) -> str:
    """A Typst expression: the figure centred, scaled to the line (``placement``'s scale)."""
    return f"align(center, {_scaled(picture(figure), placement(figure).scale)})"


def beside(figure: Figure, room: str) -> str:
    """A Typst expression: the figure scaled to ``room`` (a length expression) when it fits
    there with its text at 7 pt or more, else ``none`` (the caller then stacks it)."""
    least = placement(figure).least
    return (f"if {room} >= {_pt(figure.width * least)} {{ scale(calc.min(1.0, {room} / {_pt(figure.width)}) * 100%, "
            f"reflow: true, {picture(figure)}) }} else {{ none }}")


def _scaled(body: str, scale: float) -> str:
    return body if scale >= 0.999 else f"scale({scale * 100:.2f}%, reflow: true, {body})"


def _window(name: str, a: float, b: float, top: float, bottom: float) -> str:
    """The part of the picture between x = a and x = b (cut between ranks, where no text is),
    from ``top`` to ``bottom``."""
    return (f"box(width: {_pt(b - a)}, height: {_pt(bottom - top)}, clip: true, "
            f"place(top + left, dx: {_pt(-a)}, dy: {_pt(-top)}, {name}))")


__all__ = ["Placement", "beside", "inline", "page_of", "picture", "placed", "placement"]
