"""``Trace`` → ``Document``: the worksheet's sections, tables and equations, in no output syntax.

A document is plain data: headings, paragraphs, tables and chains of equations whose
parts are mathematical *terms* (a form, a number, ∂L/∂v, a product of terms). Renderers
print it in Markdown, LaTeX or plain text; none of them decides what a worksheet says.
A formula's sections are written in ``formula.py``, a model's in ``model.py``, what they
share in ``sections.py``; the mode sections in ``modes.py``, a training run in ``training.py``.
"""

from __future__ import annotations

from ..engine.trace import Trace
from . import formula, model
from .blocks import (  # noqa: F401
    DISPLAYS, FEW_ROWS, PAGE_ROWS, Document, Equations, Figure, Heading, Listing, Paragraph, Table, Together,
    flattened, use_key,
)
from .sections import (  # noqa: F401  (what the handouts, modes and training build with)
    DETAILS, aux_blocks, blocked_note, distinct, fans_out, listed, local, node_blocks, notes_paragraph, path, sections,
)


def worksheet(trace: Trace, *, title: str = "Backpropagation worksheet", detail: str = "standard",
              numbers: str = "exact") -> Document:
    """The derivation of ``trace`` as a document: problem, forward pass, backward pass, result.

    ``detail`` (``DETAILS``): ``brief`` reduces the backward pass to one line per node,
    ``∂L/∂u = value``, and leaves out the figure; ``full`` names the rule after each step.
    ``numbers``: exact, terminating or decimal (``notation.NUMBERS``). A model's
    worksheet has the same sections, in matrix form (``document.model``).
    """
    parts = model.PARTS if trace.tensor else formula.PARTS
    return sections(trace, parts, title=title, detail=detail, numbers=numbers)
