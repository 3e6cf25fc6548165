"""worksheet: step-by-step backpropagation worksheets.

    from worksheet import derive, render
    trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    print(render(trace, "md"))

    from worksheet import derive, train, check, figure    # in a notebook, each result shows itself
    check("(w*x+b-y)**2", wrt="w", answer="2*(w*x+b-y)*x")
    figure("(w*x+b-y)**2", at="w=1,b=0,x=2,y=4")

Pipeline: parse (text → Program) → graph (→ Graph) → trace (→ Trace) → document
(→ Document) → render (→ Markdown, LaTeX, text, JSON). Each step is a pure function.
"""

from .errors import WorksheetError

__all__ = ["derive", "train", "check", "figure", "render", "FORMATS", "WorksheetError"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``derive``, ``train``, ``check``, ``figure``, ``render`` and ``FORMATS`` load on first use:
    SymPy and NumPy take seconds to import, and ``worksheet --help`` or ``--version`` needs
    neither. (``worksheet.render`` is the renderers' package, which can be called as its
    ``render`` function; ``worksheet.figure`` the figures' package, callable as ``draw``.)"""
    from importlib import import_module

    if name in ("derive", "train", "check"):
        return getattr(import_module(".api", __name__), name)
    if name == "figure":
        return import_module(".figure", __name__)
    if name in ("render", "FORMATS"):
        module = import_module(".render", __name__)
        return module if name == "render" else module.FORMATS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
