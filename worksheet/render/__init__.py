"""Document → text, one renderer per format. JSON is written from the trace itself.

    render(trace, "md" | "tex" | "txt" | "json", digits=6) -> str
"""

from __future__ import annotations

from importlib import import_module

from ..document import worksheet
from ..trace import Trace

FORMATS = {
    "md": ("markdown", "Markdown with GitHub math"),
    "tex": ("latex", "a standalone LaTeX document (pdflatex)"),
    "txt": ("text", "plain text for the terminal"),
    "json": ("json", "machine-readable, schema worksheet.derive/1"),
}
EXTENSIONS = {".md": "md", ".markdown": "md", ".tex": "tex", ".txt": "txt", ".json": "json"}


def render(trace: Trace, format: str = "md", *, digits: int = 6) -> str:
    """``trace`` as a worksheet in ``format``; ``digits`` significant digits for rounded values."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (formats: {', '.join(FORMATS)})")
    module = import_module(f".{FORMATS[format][0]}", __name__)
    if format == "json":
        return module.render(trace)
    return module.render(worksheet(trace), digits=digits)
