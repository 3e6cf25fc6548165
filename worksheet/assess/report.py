"""The report of a grading: one ``Result`` per submission row as CSV (``report_csv``) or as JSON
lines (``report_line``, one object a row), and the totals per student and variant
(``totals_csv``); a student's text never becomes a spreadsheet formula. (Gradescope's
results.json, one student's, is ``gradescope.py``.)"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (the command line reads FORMATS at start-up: nothing more is imported for it)
    from .submissions import Submission

REPORT_COLUMNS = ("student", "variant", "question", "answer", "verdict", "score", "diagnosis", "feedback")
TOTALS_COLUMNS = ("student", "variant", "score", "possible", "answered")
FORMATS = {"csv": ("", ".csv", ".txt"), "jsonl": (".jsonl",), "gradescope": (".json",)}
"""The report's formats, each with the -o suffixes that choose it ("": no suffix, report or -)."""


@dataclass(frozen=True)
class Result:
    """One row of the report: the verdict on a submission, its score, and why."""

    student: str
    question: str
    verdict: str
    score: Fraction
    diagnosis: tuple[str, ...]
    feedback: str
    answer: str = ""  # as submitted
    variant: str = ""


def report_csv(results: Iterable[Result]) -> str:
    return _csv(REPORT_COLUMNS, ([r.student, r.variant, r.question, r.answer, r.verdict, score_text(r.score),
                                  ";".join(r.diagnosis), r.feedback] for r in results))


def report_line(result: Result) -> str:
    """One row of the report as a line of JSON: the CSV's columns, ``score`` as the exact
    value's text (``exact_text``: the CSV's 0.123457 is 0.1234567 here) with ``score_float``
    beside it, and ``diagnosis`` a list of codes."""
    return json.dumps({"student": result.student, "variant": result.variant, "question": result.question,
                       "answer": result.answer, "verdict": result.verdict, "score": exact_text(result.score),
                       "score_float": float(result.score), "diagnosis": list(result.diagnosis),
                       "feedback": result.feedback}, ensure_ascii=False) + "\n"


def totals_csv(key, rows: Sequence[Submission], results: Sequence[Result]) -> str:
    """Per student and variant, in order of first appearance: the score (the last row of each
    question counts, as a resubmission replaces an answer), the points possible and the questions
    answered. A student with rows for two variants gets two rows, each out of its own points."""
    last: dict[tuple[str, str], dict[str, Fraction]] = {}
    counted: dict[tuple[str, str], list[Submission]] = {}
    for row, result in zip(rows, results):
        if not row.student:
            continue
        sheet = (row.student, row.variant)
        scores = last.setdefault(sheet, {})
        if result.question:  # a line that could not be read names no question: none is answered
            scores[result.question] = result.score
        counted.setdefault(sheet, []).append(row)
    return _csv(TOTALS_COLUMNS, ([student, variant, score_text(sum(scores.values(), Fraction(0))),
                                  score_text(key.possible(counted[student, variant])), str(len(scores))]
                                 for (student, variant), scores in last.items()))


def score_text(score: Fraction) -> str:
    """2, 0.5, 0.333333: an integer, else a short decimal."""
    if score.denominator == 1:
        return str(score.numerator)
    return f"{float(score):.6g}"


def exact_text(score: Fraction) -> str:
    """2, 0.1234567 (a decimal that ends, every digit of it), else 1/3: never rounded."""
    if score.denominator == 1:
        return str(score.numerator)
    rest, twos, fives = score.denominator, 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{score.numerator}/{score.denominator}"
    places = max(twos, fives)
    digits = str(abs(score.numerator) * 10**places // score.denominator).rjust(places + 1, "0")
    return f"{'-' if score < 0 else ''}{digits[:-places]}.{digits[-places:]}"


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return out.getvalue()


def _safe_cell(cell: str) -> str:
    """A student's text never becomes a spreadsheet formula (=, +, -, @ first are quoted with ')."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(cell) else cell


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
