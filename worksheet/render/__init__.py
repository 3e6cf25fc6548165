"""Document → text, one renderer per format. JSON is written from the trace itself.

    render(trace, "md" | "tex" | "txt" | "json" | "torch" | "typ" | "html", digits=6, numbers="auto") -> str
    render(trace, "pdf", digits=6) -> bytes
"""

from __future__ import annotations

import sys
import types
from importlib import import_module

from .. import formats
from ..document import DETAILS, worksheet
from ..engine.trace import Trace

FORMATS = {name: (f.module, f.description) for name, f in formats.of("derive").items()}
"""derive's formats: name → (renderer module, what it is), from the one table ``worksheet.formats``."""
EXTENSIONS = formats.by_extension("derive")
BINARY = frozenset(f.name for f in formats.FORMATS if f.binary)  # render() returns bytes for these


NUMBERS = ("auto", "exact", "decimal")


def numbers_shown(numbers: str, decimal_inputs: bool) -> str:
    """--numbers → how the notation writes a rational (``notation.NUMBERS``): auto is a
    terminating decimal (0.5, 9.8396) where the inputs were written as decimals, else exact;
    decimal rounds what does not terminate too (1/3 ≈ 0.333333)."""
    if numbers not in NUMBERS:
        raise ValueError(f"unknown numbers {numbers!r} (numbers: {', '.join(NUMBERS)})")
    if numbers == "auto":
        return "terminating" if decimal_inputs else "exact"
    return numbers


def render(trace: Trace, format: str = "md", *, digits: int = 6,
           detail: str = "standard", numbers: str = "auto") -> str | bytes:
    """``trace`` as a worksheet in ``format``; ``digits`` significant digits for rounded values;
    ``detail`` ``brief``, ``standard`` or ``full`` (``worksheet.document.DETAILS``);
    ``numbers`` ``auto``, ``exact`` (1/2) or ``decimal`` (0.5; ``numbers_shown``).

    Text for every format but ``pdf``, which is bytes.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (formats: {', '.join(FORMATS)})")
    if detail not in DETAILS:
        raise ValueError(f"unknown detail {detail!r} (details: {', '.join(DETAILS)})")
    from ..engine.derive import collector_paused  # loaded already: the trace was derived

    with collector_paused():
        if format in ("json", "torch"):
            return import_module(f".{FORMATS[format][0]}", __name__).render(trace)
        return render_document(worksheet_document(trace, detail=detail, numbers=numbers), format, digits=digits)


def worksheet_document(trace: Trace, *, detail: str = "standard", numbers: str = "auto"):
    """The ``Document`` every document format of ``render`` writes for ``trace`` (with its
    modes' sections, where it has them); ``detail`` and ``numbers`` as for ``render``."""
    shown = numbers_shown(numbers, trace.decimal_inputs)
    if trace.modes is not None:  # --mode, --check-numeric
        from ..document.modes import worksheet as with_modes

        return with_modes(trace, detail=detail, numbers=shown)
    return worksheet(trace, detail=detail, numbers=shown)


def render_document(document, format: str, *, digits: int = 6) -> str | bytes:
    """A ``Document`` (a worksheet, a training trace, a handout sheet) in a document format."""
    module = import_module(f".{formats.of('derive')[format].module}", __name__)
    if formats.of("derive")[format].binary:
        return module.render_pdf(document, digits=digits)
    return module.render(document, digits=digits)


TRAIN_FORMATS = tuple(formats.of("train"))


def render_training(training, format: str = "md", *, digits: int = 6, numbers: str = "auto") -> str | bytes:
    """A training trace (``worksheet.train.train``) in ``format``: md, tex, txt, json, typ or pdf (bytes);
    ``numbers`` as for ``render``."""
    if format not in TRAIN_FORMATS:
        raise ValueError(f"a training trace is written as {', '.join(TRAIN_FORMATS)}, not {format!r}")
    if format == "json":
        return import_module(".json", __name__).render_training(training)
    return render_document(training_document(training, digits=digits, numbers=numbers), format, digits=digits)


def training_document(training, *, digits: int = 6, numbers: str = "auto"):
    """The ``Document`` of a training trace (``numbers`` as for ``render``)."""
    from ..document.training import training_document as document

    return document(training, digits=digits, numbers=numbers_shown(numbers, training.decimal_inputs))


class _Renderers(types.ModuleType):
    """This package, callable as its ``render``: ``from worksheet import render`` gives the
    package (it is loaded on first use), and ``render(trace, "md")`` renders."""

    def __call__(self, trace, format: str = "md", **options):
        return render(trace, format, **options)


sys.modules[__name__].__class__ = _Renderers
