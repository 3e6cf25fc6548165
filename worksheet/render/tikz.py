"""Figure → TikZ: the computational graph for LaTeX, drawn at the layout's coordinates.

    tikz(figure)           a tikzpicture at natural size (1 px = 0.75 pt, y down as in SVG)
    tikz_embedded(figure)  the picture on a worksheet's page: scaled to the line, on a page
                           of its own turned to landscape, or cut into parts between ranks
                           (``figures.placement``), its text never below 7 pt
    tikz_document(figure)  a LaTeX document whose page is the picture (pdflatex)

Texts are set in Latin Modern Typewriter (a monospace narrower than the DejaVu Sans Mono the
layout measures, so each stays inside its box), the figure's few math characters as math,
everything else escaped.
"""

from __future__ import annotations

from ..figure import Figure
from .figures import PX, placement

TEX_MATH = {
    "×": r"$\times$", "÷": r"$\div$", "−": r"$-$", "σ": r"$\sigma$", "Σ": r"$\Sigma$", "ᵀ": r"$^{\top}$",
    "‖": r"$\|$", "·": r"$\cdot$", "√": r"$\surd$", "∇": r"$\nabla$", "^": r"\textasciicircum{}",
    "λ": r"$\lambda$", "φ": r"$\varphi$", "Φ": r"$\Phi$", "π": r"$\pi$",
}
SUPERSCRIPT = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-"))
SUBSCRIPT = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
COLOURS = {"label": "wsink", "name": "wsink", "value": "wsgreen", "grad": "wsred"}


def tex_text(text: str) -> str:
    """Text that TeX typesets as written: Greek letters, operators, super- and subscript digits
    as math, the rest escaped (ASCII only)."""
    from sympy.printing.pretty.pretty_symbology import greek_unicode

    from .latex import escape

    greek = {v: k for k, v in greek_unicode.items()}
    out = []
    for ch in text:
        if ch in SUPERSCRIPT:
            out.append(f"$^{{{SUPERSCRIPT[ch]}}}$")
        elif ch in SUBSCRIPT:
            out.append(f"$_{{{SUBSCRIPT[ch]}}}$")
        elif ch in TEX_MATH:
            out.append(TEX_MATH[ch])
        elif ch in greek:
            out.append(f"$\\{greek[ch]}$" if greek[ch] != "lamda" else r"$\lambda$")
        else:
            out.append(escape(ch))
    return "".join(out)


def tikz(figure: Figure, clip: tuple[float, float, float, float] | None = None) -> str:
    """A tikzpicture at the figure's coordinates; ``clip``: only a part (left, right, top, bottom)."""
    s = PX
    out = [
        rf"\begin{{tikzpicture}}[x={s}pt,y=-{s}pt,>=stealth]",
        r"\definecolor{wsgreen}{HTML}{1A7F37}\definecolor{wsred}{HTML}{CF222E}\definecolor{wsink}{HTML}{24292F}",
        r"\definecolor{wsbox}{HTML}{DDF4FF}\definecolor{wscircle}{HTML}{FFF8C5}",
    ]
    if clip is not None:
        box = f"({clip[0]:.1f},{clip[2]:.1f}) rectangle ({clip[1]:.1f},{clip[3]:.1f})"
        out.append(rf"\useasboundingbox {box}; \clip {box};")
    for points, head in figure.lines():
        path = " -- ".join(f"({x:.1f},{y:.1f})" for x, y in points)
        out.append(rf"\draw[{'->,' if head else ''}wsink,line width=0.9pt] {path};")
    for n in figure.nodes:
        if n.shape == "box":
            out.append(rf"\draw[wsink,fill=wsbox,rounded corners=2pt,line width=0.9pt] ({n.left:.1f},{n.top:.1f}) "
                       rf"rectangle ({n.right:.1f},{n.bottom:.1f});")
        else:
            out.append(rf"\draw[wsink,fill=wscircle,line width=0.9pt] ({n.x:.1f},{n.y:.1f}) circle "
                       rf"({n.width / 2 * s:.2f}pt);")
    for t in figure.texts():
        size = t.size * s
        shape = r"\itshape" if t.role == "name" else ""
        out.append(rf"\node[anchor=base,inner sep=0pt,text={COLOURS[t.role]},"
                   rf"font=\ttfamily\fontsize{{{size:.2f}}}{{{size * 1.2:.2f}}}\selectfont{shape}] "
                   rf"at ({t.x:.1f},{t.baseline:.1f}) {{{tex_text(t.text)}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def tikz_embedded(figure: Figure) -> str:
    """The figure on a worksheet's page (needs graphicx, lscape and afterpage, as the worksheet loads)."""
    where = placement(figure)
    if where.kind == "split":
        return "\n\n".join(_scaled(tikz(figure, part), where.scale) for part in where.parts)
    picture = _scaled(tikz(figure), where.scale)
    if where.kind == "landscape":  # after the page being filled, so it is not left half empty
        return ("\\emph{The computational graph is drawn on a page of its own, turned, after this one.}\n"
                "\\afterpage{\\begin{landscape}\n\\centering\n" + picture + "\n\\end{landscape}}")
    return picture


def _scaled(picture: str, scale: float) -> str:
    return picture if scale >= 0.999 else f"\\scalebox{{{scale:.4f}}}{{%\n{picture}%\n}}"


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
