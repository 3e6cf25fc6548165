"""worksheet: step-by-step backpropagation worksheets.

    from worksheet import derive, render
    trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    print(render(trace, "md"))

Pipeline: parse (text → Program) → graph (→ Graph) → trace (→ Trace) → document
(→ Document) → render (→ Markdown, LaTeX, text, JSON). Each step is a pure function.
"""

from .api import derive
from .errors import WorksheetError
from .render import FORMATS, render

__all__ = ["derive", "render", "FORMATS", "WorksheetError"]
__version__ = "0.1.0"
