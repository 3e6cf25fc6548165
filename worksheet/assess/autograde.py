"""One answer at a time, for an autograder: PrairieLearn's ``server.py`` ``grade(data)``, an Otter
test, a Gradescope ``run_autograder`` script, or any program that grades answers as they come.

    from worksheet.assess import Question

    DL_DW = Question("(w*x+b-y)**2", wrt="w")   # once: the derivative, its points, the usual mistakes
    DL_DW.grade("2(w*x+b-y)x")                  # Grade(score=1.0, feedback='Correct: this is ∂L/∂w.', …)

A question is what a ``[[question]]`` of a grading key holds — a formula or a program's text,
the variable, optionally values — and an answer is judged as ``worksheet check`` judges it, under
the same limits: whatever the answer is (unreadable, hostile, not even text), a grade comes back,
in at most a few seconds. ``score`` is 1.0 for a correct answer and 0.0 otherwise; ``feedback``
is one sentence for the student that never gives the derivative away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .check import question
from .verdict import CORRECT, INVALID, Verdict


@dataclass(frozen=True)
class Grade:
    """One answer's grade, as autograders take it."""

    score: float  # in [0, 1]: the share of the question's points
    feedback: str  # one sentence for the student
    verdict: str  # correct, incorrect or invalid
    diagnosis: tuple[str, ...] = ()  # sign, constant_factor, missing_chain_factor, … (README, worksheet check)


class Question:
    """∂target/∂wrt of a formula or a program (scalar or a model's vectors and matrices), built
    once, then any number of answers graded. A bad question raises ``WorksheetError`` here."""

    def __init__(self, formula: str, wrt: str, at: str | Mapping | None = None, *, target: str | None = None):
        self.checker = question(formula, wrt, at, target=target)

    def judge(self, answer) -> Verdict:
        """The verdict on ``answer``: text, or a number as a number input submits it (0.1 is
        read as 1/10); anything else is ``invalid``. The same answer is judged once."""
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            answer = str(answer)
        if not isinstance(answer, str):
            return Verdict(INVALID, (), f"answer: expected a formula or a number, not {type(answer).__name__}")
        return self.checker.judge(answer)

    def grade(self, answer) -> Grade:
        """The grade of ``answer``: its score in [0, 1] and the feedback."""
        verdict = self.judge(answer)
        return Grade(1.0 if verdict.verdict == CORRECT else 0.0, verdict.feedback, verdict.verdict, verdict.diagnosis)
