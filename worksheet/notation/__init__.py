"""How forms, numbers and document terms are written: LaTeX (for .md, and with boxed blanks for
.tex), Typst math (for .typ and .pdf) and plain text.

Both printers print a form as it was built: the terms of a sum and the factors of a
product in their stored order (SymPy's own printers would sort them and, on negation,
distribute a number over a sum). Rounding a number for display happens here too; the
values themselves are never changed.
"""

from .base import NUMBERS
from .latex import LatexNotation, TexNotation
from .text import TextNotation
from .typst import TypstNotation, typst_name, typst_string

__all__ = ["NUMBERS", "LatexNotation", "TexNotation", "TextNotation", "TypstNotation", "typst_name", "typst_string"]
