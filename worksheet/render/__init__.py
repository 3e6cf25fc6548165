"""Document → text, one renderer per format. JSON is written from the trace itself.

    render(trace, "md" | "tex" | "txt" | "json" | "torch" | "typ", digits=6) -> str
    render(trace, "pdf", digits=6) -> bytes
"""

from __future__ import annotations

import sys
import types
from importlib import import_module

from .. import tensor_document
from ..document import DETAILS, worksheet
from ..errors import WorksheetError
from ..tensor_trace import TensorTrace
from ..trace import Trace

FORMATS = {
    "md": ("markdown", "Markdown with GitHub math"),
    "tex": ("latex", "a standalone LaTeX document (pdflatex)"),
    "txt": ("text", "plain text for the terminal"),
    "json": ("json", "machine-readable, schema worksheet.derive/1"),
    "torch": ("torch", "a PyTorch script that checks every gradient"),
    "typ": ("typst", "Typst markup (typst compile makes the PDF)"),
    "pdf": ("typst", "a PDF typeset by typst, no TeX needed (bytes)"),
}
EXTENSIONS = {".md": "md", ".markdown": "md", ".tex": "tex", ".txt": "txt", ".json": "json", ".py": "torch",
              ".typ": "typ", ".pdf": "pdf"}
BINARY = frozenset({"pdf"})  # render() returns bytes for these


def render(trace: Trace | TensorTrace, format: str = "md", *, digits: int = 6,
           detail: str = "standard") -> str | bytes:
    """``trace`` as a worksheet in ``format``; ``digits`` significant digits for rounded values;
    ``detail`` ``brief``, ``standard`` or ``full`` (``worksheet.document.DETAILS``; scalar formulas).

    Text for every format but ``pdf``, which is bytes.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (formats: {', '.join(FORMATS)})")
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r} (details: {', '.join(DETAILS)})")
    if detail != "standard" and isinstance(trace, TensorTrace):
        raise WorksheetError("brief and full are for scalar formulas; a model's worksheet "
                             "has one level of detail", where="--detail")
    module = import_module(f".{FORMATS[format][0]}", __name__)
    if format in ("json", "torch"):
        return module.render(trace)
    if getattr(trace, "modes", None) is not None:  # --mode, --check-numeric
        from ..modes_document import worksheet as with_modes

        document = with_modes(trace, detail=detail)
    else:
        document = (tensor_document.worksheet(trace) if isinstance(trace, TensorTrace)
                    else worksheet(trace, detail=detail))
    if format == "pdf":
        return module.render_pdf(document, digits=digits)
    return module.render(document, digits=digits)


TRAIN_FORMATS = ("md", "tex", "txt", "json", "typ", "pdf")


def render_training(training, format: str = "md", *, digits: int = 6) -> str | bytes:
    """A training trace (``worksheet.train.train``) in ``format``: md, tex, txt, json, typ or pdf (bytes)."""
    if format not in TRAIN_FORMATS:
        raise ValueError(f"a training trace is written as {', '.join(TRAIN_FORMATS)}, not {format!r}")
    module = import_module(f".{FORMATS[format][0]}", __name__)
    if format == "json":
        return module.render_training(training)
    from ..train_document import training_document

    document = training_document(training, digits=digits)
    if format == "pdf":
        return module.render_pdf(document, digits=digits)
    return module.render(document, digits=digits)


class _Renderers(types.ModuleType):
    """This package, callable as its ``render``: ``from worksheet import render`` gives the
    package (it is loaded on first use), and ``render(trace, "md")`` renders."""

    def __call__(self, trace, format: str = "md", **options):
        return render(trace, format, **options)


sys.modules[__name__].__class__ = _Renderers
