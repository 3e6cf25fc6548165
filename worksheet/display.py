"""How the library's results show themselves in a notebook. Jupyter (IPython's display) asks an
object for ``_repr_mimebundle_(include, exclude)`` and shows the richest type it gets; each
result's method hands itself to one function here:

    worksheet(trace)     derive's Trace          text/html, text/markdown, text/plain
    training(training)   train's Training        text/html, text/markdown, text/plain
    checked(result)      check's Checked         text/html, text/markdown, text/plain
    picture(figure)      figure's Figure         image/svg+xml, text/plain (its Mermaid source)

The HTML is a fragment (``render.html.fragment``): one ``<div>`` with its own style and script,
the figure linked to the rows as on the page ``--format html`` writes. A type is rendered only
when it is asked for (``include``, ``exclude``), and the document once for all of them. Nothing
is imported until a result is shown: ``import worksheet`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from functools import cache


def worksheet(trace, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict:
    """A derivation as its worksheet."""
    from .render import worksheet_document

    return _documented(lambda: worksheet_document(trace), include, exclude)


def training(run, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict:
    """A training run as its trace of steps."""
    from .render import training_document

    return _documented(lambda: training_document(run), include, exclude)


def checked(result, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict:
    """A checked answer: what was asked, the answer as typed, the verdict and its feedback."""
    from .render.check import render_check
    from .render.html import check_fragment

    question, answer, verdict = result.question, result.answer, result.verdict
    codes = f" ({', '.join(verdict.diagnosis)})" if verdict.diagnosis else ""
    return _bundle({
        "text/html": lambda: check_fragment(question, answer, verdict),
        "text/markdown": lambda: (
            f"${_partial(question)}$ = {_code(answer)}: **{verdict.verdict}**{codes}. {_markdown(verdict.feedback)}\n"
        ),
        "text/plain": lambda: render_check(question, answer, verdict, "txt"),
    }, include, exclude)


def picture(figure, include: Container[str] | None = None, exclude: Container[str] | None = None) -> dict:
    """A figure as SVG (and, for a console, its Mermaid source)."""
    from .render.figures import mermaid, svg

    return _bundle({"image/svg+xml": lambda: svg(figure), "text/plain": lambda: mermaid(figure)}, include, exclude)


def _documented(document: Callable[[], object], include, exclude) -> dict:
    """A document's bundle: HTML, Markdown and text, the document built once."""
    from .render import render_document
    from .render.html import fragment

    doc = cache(document)

    return _bundle({
        "text/html": lambda: fragment(doc()),
        "text/markdown": lambda: render_document(doc(), "md"),
        "text/plain": lambda: render_document(doc(), "txt"),
    }, include, exclude)


def _bundle(makers: dict[str, Callable[[], str]], include, exclude) -> dict[str, str]:
    return {mime: make() for mime, make in makers.items()
            if (include is None or mime in include) and (exclude is None or mime not in exclude)}


def _partial(question) -> str:
    """∂L/∂w, the derivative asked for, in the worksheets' LaTeX."""
    from .notation import LatexNotation
    from .terms import Partial

    return LatexNotation().math(Partial(question.target, question.wrt))


def _code(text: str) -> str:
    """An answer as inline code, on one line, between more backticks than it holds in a row."""
    from .render.markdown import fence

    tick = fence(text, shortest=1)
    return f"{tick} {' '.join(text.splitlines())} {tick}"


def _markdown(text: str) -> str:
    """Feedback as Markdown shows it: its text, no markup of its own."""
    from .render.markdown import escape

    return escape(text)
