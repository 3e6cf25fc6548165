"""Every output format in one table: its name, the renderer module that writes it, what it is,
its file extensions, whether it is bytes, and the commands that write it. The command line
(its --format choices and the -o suffixes it knows), ``render``, ``render_training``, handouts
and figures all read it. It imports nothing heavy, so ``--help`` stays instant."""

from __future__ import annotations

from dataclasses import dataclass

WORKSHEETS = frozenset({"derive", "train", "handout"})  # the commands that write documents


@dataclass(frozen=True)
class Format:
    name: str
    module: str  # worksheet.render.<module>
    description: str
    extensions: tuple[str, ...]  # the first is the one written
    commands: frozenset[str]
    binary: bool = False


FORMATS = (
    Format("md", "markdown", "Markdown with GitHub math", (".md", ".markdown"), WORKSHEETS),
    Format("tex", "latex", "a standalone LaTeX document (pdflatex)", (".tex",), WORKSHEETS),
    Format("txt", "text", "plain text for the terminal", (".txt",), WORKSHEETS | {"check"}),
    Format("json", "json", "machine-readable, schema worksheet.derive/1", (".json",),
           frozenset({"derive", "train", "check"})),
    Format("torch", "torch", "a PyTorch script that checks every gradient", (".py",), frozenset({"derive"})),
    Format("typ", "typst", "Typst markup (typst compile makes the PDF)", (".typ",), WORKSHEETS),
    Format("pdf", "typst", "a PDF typeset by typst, no TeX needed (bytes)", (".pdf",), WORKSHEETS, binary=True),
    Format("html", "html", "a self-contained web page (MathML, inline SVG figure)", (".html", ".htm"), WORKSHEETS),
    Format("mermaid", "figures", "a Mermaid flowchart (GitHub renders it in Markdown)", (".mmd", ".mermaid"),
           frozenset({"graph"})),
    Format("tikz", "figures", "a LaTeX document with a TikZ picture (pdflatex)", (".tex",), frozenset({"graph"})),
    Format("svg", "figures", "an SVG image", (".svg",), frozenset({"graph"})),
    Format("png", "figures", "a PNG image (drawn by Typst)", (".png",), frozenset({"graph"}), binary=True),
)


def of(command: str) -> dict[str, Format]:
    """The formats ``command`` writes, by name, in the table's order."""
    return {f.name: f for f in FORMATS if command in f.commands}


def by_extension(command: str) -> dict[str, str]:
    """File suffix → format name, for telling ``-o`` files of ``command`` apart (.py is torch)."""
    return {ext: f.name for f in of(command).values() for ext in f.extensions}
