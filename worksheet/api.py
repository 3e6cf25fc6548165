"""The library's front door: ``derive`` runs parse → graph → trace, with every check the CLI has;
``train``, ``check`` and ``figure`` are the other commands' library functions.

    >>> from worksheet import derive, render
    >>> trace = derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4")
    >>> [str(g.value) for g in trace.gradients]
    ['-8', '-4']
    >>> print(render(trace, "txt"))      # or "md", "tex", "json", "html"

In a notebook each result shows itself (``worksheet.display``): a trace or a training run as its
worksheet, a checked answer as its verdict, a figure as SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .assess.verdict import Verdict
from .engine.derive import derive  # noqa: F401
from .engine.trace import Trace  # noqa: F401
from .figure import draw as figure  # noqa: F401
from .lang.options import (  # noqa: F401  (the names the library's callers had here)
    Number, decimal_inputs, given_values, located, parse_lets, parse_names, parse_point, parse_seed, point_of,
    program_graph, wrt_names,
)


def __getattr__(name: str):
    """``train`` loads on first use: a formula's worksheet needs none of training's code."""
    if name == "train":
        from .engine.train import train

        return train
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Checked:
    """A student's answer, checked: ``verdict.verdict`` is correct, incorrect or invalid, with
    ``verdict.diagnosis`` (codes) and ``verdict.feedback`` (a sentence for the student)."""

    question: object  # the assess.check Question (or a model's TensorQuestion) it was judged against
    answer: str  # as typed
    verdict: Verdict

    @property
    def correct(self) -> bool:
        return self.verdict.verdict == "correct"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """In a notebook, the verdict: HTML, Markdown and text (``worksheet.display``)."""
        from .display import checked

        return checked(self, include, exclude)


def check(formula: str, wrt: str, answer: str, at: str | Mapping | None = None, *,
          filename: str | None = None) -> Checked:
    """The verdict on ``answer`` as ∂L/∂``wrt`` of ``formula`` (a formula or a program's text), as
    ``worksheet check`` gives it:

        >>> result = check("(w*x+b-y)**2", wrt="w", answer="2*(w*x+b-y)")
        >>> result.verdict.verdict, result.verdict.diagnosis[0]
        ('incorrect', 'missing_chain_factor')
        >>> result          # in a notebook: the question, the answer and the verdict

    ``at``: values (``"x=2,y=4"`` or a mapping); with every variable given, the answer may be a
    number. A bad question raises ``WorksheetError``; a bad answer is the verdict ``invalid``."""
    from .assess.check import question

    asked = question(formula, wrt, at, filename=filename)
    return Checked(asked, answer, asked.judge(answer))
