"""Reading a file of submissions → one ``Submission`` per row, in order: CSV with a header
naming the columns (its separator a comma, a semicolon or a tab), or one student's answers to a
handout's blanks in TOML. A row that cannot be read is kept with the reason (it becomes an
``invalid`` row of the report): one bad line never stops the batch."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorksheetError
from ..lang.tokens import one_plain_line
from ..lang.toml_tables import read_toml
from ..textfiles import read_text

MAX_SUBMISSIONS_BYTES = 50_000_000
COLUMNS = ("student", "question", "answer")


@dataclass(frozen=True)
class Submission:
    """One row of the submissions: a student's answer to a question (or a blank of a variant)."""

    line: int
    student: str
    question: str
    answer: str
    variant: str = ""
    problem: str = ""  # why the line cannot be read ("" when it can)


def read_submissions(path: str | Path) -> list[Submission]:
    """Every non-empty row after the header, in order (a quoted field may hold a line break: the
    row is then one submission, as CSV says); a row that cannot be read is kept with the reason
    (it becomes an ``invalid`` row of the report)."""
    text = read_text(path, MAX_SUBMISSIONS_BYTES, "the submissions", lenient=True)
    if Path(path).suffix.lower() == ".toml":
        return _toml_submissions(text, str(path))
    rows = list(_csv_rows(text, _delimiter(text)))
    header = next((i for i, (_, fields, _) in enumerate(rows) if any(f.strip() for f in fields)), None)
    if header is None:
        raise WorksheetError("the file is empty (expected a header: student,question,answer)", where=str(path))
    columns = _header(rows[header][1], str(path))
    return [_submission(number, fields, error, columns) for number, fields, error in rows[header + 1:]
            if error or any(f.strip() for f in fields)]


def _delimiter(text: str) -> str:
    """The header's separator: a comma, or a semicolon or a tab where the header has no comma
    (a spreadsheet saved in a locale whose decimal mark is the comma writes ``;``)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," not in header:
        for mark in (";", "\t"):
            if mark in header:
                return mark
    return ","


def _csv_rows(text: str, delimiter: str = ","):
    """(line the row starts on, its fields, the reason it cannot be read or "") for each row. A
    quoted field may run over a line break (up to SPAN lines: the row is then one submission);
    a quote never closed spoils its own line only, not the rest of the file."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        for end in range(i + 1, min(i + SPAN, len(lines)) + 1):
            fields = _fields("\n".join(lines[i:end]), delimiter)
            if fields is not None:
                yield i + 1, fields, ""
                i = end
                break
        else:
            yield i + 1, lines[i].split(delimiter), f"line {i + 1}: not a CSV row (a quote that is never closed)"
            i += 1


SPAN = 10
"""The most lines one quoted field may run over."""


def _fields(text: str, delimiter: str = ",") -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        return None
    return rows[0] if len(rows) == 1 else [] if not rows else None


def _toml_submissions(text: str, where: str) -> list[Submission]:
    """One student's answers to a handout's blanks:

        student = "ada"
        variant = "v03"
        [answers]
        1 = "-6"        # blank number = the value (a number or a text)
    """
    data = read_toml(text, where, ("student", "variant", "answers"))
    student, variant, answers = data.get("student"), data.get("variant", ""), data.get("answers")
    if not isinstance(student, str) or not student.strip() or not one_plain_line(student):
        raise WorksheetError("expected the student's name, one line of plain text", where=f"{where}: student")
    if not isinstance(variant, str) or not one_plain_line(variant):
        raise WorksheetError("expected a variant id such as \"v03\"", where=f"{where}: variant")
    if not isinstance(answers, dict):
        raise WorksheetError("expected a table [answers] of blank number = value", where=f"{where}: answers")
    rows = []
    for number, (blank, value) in enumerate(answers.items(), start=1):
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        plain = one_plain_line(blank) and one_plain_line(str(value))
        problem = ("" if ok else f"answers.{blank}: expected a number or a text") if plain else \
            f"answer {number}: its blank or its value holds a line break or a control character"
        rows.append(Submission(number, student.strip(), blank.strip() if plain else "",
                               str(value) if ok and plain else "", variant.strip(), problem))
    return rows


def _header(fields: list[str], where: str) -> dict[str, int]:
    names = [name.strip().lower() for name in fields]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise WorksheetError(f"the header has no column {missing[0]!r} (it needs student, question, answer; "
                             f"found: {', '.join(names)})", where=f"{where}:1")
    return {name: names.index(name) for name in (*COLUMNS, "variant") if name in names}


def _submission(number: int, fields: list[str], error: str, columns: dict[str, int]) -> Submission:
    get = (lambda name: fields[columns[name]].strip() if name in columns and columns[name] < len(fields) else "")
    if error:  # the line split at its separators: the student's name, where no quote is before it
        student = get("student")
        known = '"' not in "".join(fields[:columns["student"] + 1]) and one_plain_line(student)
        return Submission(number, student if known else "", "", "", problem=error)
    student, question, answer, variant = get("student"), get("question"), get("answer"), get("variant")
    plain_answer = one_plain_line(answer)
    if not all(one_plain_line(f) for f in (student, question, variant)):  # never echoed into the report
        problem = f"line {number}: a student, question or variant holds a line break or a control character"
        student = question = variant = ""
    elif len(fields) < len(columns) or (len(fields) <= max(columns.values())):
        problem = f"line {number}: expected {max(columns.values()) + 1} fields, found {len(fields)}"
    elif not student or not question:
        problem = f"line {number}: the student or the question is empty"
    elif not plain_answer:
        problem = f"line {number}: the answer holds a line break or a control character"
    else:
        problem = ""
    if not plain_answer:
        answer = ""  # never echoed into the report, whatever else is wrong with the row
    return Submission(number, student, question, answer, variant, problem)
