"""One student's grading as Gradescope's ``results.json`` (its autograder specification's
"Output format"), which a ``run_autograder`` script writes to /autograder/results/.

Gradescope runs the autograder once per submission, so the file is one student's: the
submissions must hold one student (``one_student`` says so before any work; ``--student NAME``
keeps one student's rows of a class's file). Each thing the student's sheet asks is a test, in
the key's order — a question of a TOML key, worth its ``points``; a blank of each variant the
rows name, worth the manifest's points per blank:

    name        the question id ("q1"), or "blank (3)" ("v02, blank (3)" for a second variant)
    score       the points earned by the last answer to it (a resubmission replaces an answer)
    max_score   its points
    status      "passed" with every point earned, else "failed"
    output      the student's answer and the feedback; "Not answered." when there is none
    tags        the verdict, then the diagnosis codes ("incorrect", "sign")

The top level has ``score``, the exact total rounded once (the tests' scores add up to it, up
to a float's rounding), and ``output``: the total out of the points possible, then each row that
answers nothing the sheet asks (a line that cannot be read, an unknown question) with its reason.
Every output and name is plain text (``output_format``, ``test_output_format`` and
``test_name_format`` are "text": a student's answer is never read as HTML or Markdown), and
``extra_data`` names the schema, the student and the variants.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction

from .report import Result, score_text
from .submissions import Submission
from ..errors import WorksheetError

SCHEMA = "worksheet.gradescope/1"


def one_student(rows: Sequence[Submission]) -> str:
    """The one student the rows are of ("" when no row names one); more than one is refused."""
    students = list(dict.fromkeys(row.student for row in rows if row.student))
    if len(students) > 1:
        named = ", ".join(name[:40] for name in students[:3]) + (", …" if len(students) > 3 else "")
        raise WorksheetError(f"a Gradescope results.json is one student's, and the submissions hold "
                             f"{len(students)} ({named}): keep one student's rows with --student NAME",
                             where="--format")
    return students[0] if students else ""


def results_json(key, rows: Sequence[Submission], results: Sequence[Result]) -> str:
    """The results.json of one student's rows and their results (in input order)."""
    student = one_student(rows)
    asked = key.asked(rows)
    last = {key.answered(result): result for result in results}  # the last answer counts
    ids = {(a.variant, a.question) for a in asked}
    tests = [_test(a, last.get((a.variant, a.question))) for a in asked]
    total = sum((_earned(last.get((a.variant, a.question))) for a in asked), Fraction(0))
    possible = sum((a.points for a in asked), Fraction(0))
    unasked = [result.feedback for result in results if key.answered(result) not in ids]
    summary = "\n".join([f"{student or 'You'}: {score_text(total)} of {score_text(possible)} points", *unasked])
    data = {
        "score": float(total),
        "output": summary,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "tests": tests,
        "extra_data": {"schema": SCHEMA, "student": student,
                       "variants": list(dict.fromkeys(a.variant for a in asked if a.variant))},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _earned(result: Result | None) -> Fraction:
    return Fraction(0) if result is None else result.score


def _test(asked, result: Result | None) -> dict:
    earned = _earned(result)
    return {
        "name": asked.name,
        "score": float(earned),
        "max_score": float(asked.points),
        "status": "passed" if earned == asked.points else "failed",
        "output": "Not answered." if result is None else f"Your answer: {result.answer}\n{result.feedback}",
        "tags": ["unanswered"] if result is None else [result.verdict, *result.diagnosis],
    }
