"""``worksheet grade``: a key and a file of submissions → one verdict and score per submission row.

The key is TOML, one ``[[question]]`` per question:

    [[question]]
    id = "q1"
    expression = "(w*x+b-y)**2"     # or program = "model.ws" (a file beside the key) or inline text
    wrt = "w"
    points = 2                      # default 1
    at = "x=2,y=4"                  # optional: values (then the answer is a function of the rest)

or a handout's ``manifest.json``, whose questions are the numbered blanks of each variant
(graded with error carried forward, ``blanks.py``).

Submissions are CSV with a header naming the columns ``student``, ``question`` and ``answer``
(in any order; ``variant`` too for a manifest of several variants; other columns are ignored).
Each line is read on its own, so a malformed line (an unclosed quote, a missing field, an
answer the parser refuses) is one ``invalid`` row and never stops the batch. The same answer
to the same question is judged once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .check import INVALID, Question, Verdict, question as asked
from .report import Result, report_csv, totals_csv
from .submissions import Submission, read_submissions
from ..errors import WorksheetError
from ..limits import MAX_PROGRAM_CHARS
from ..lang.tokens import one_plain_line
from ..lang.toml_tables import exact_number, names_text, point_text, program_file, read_toml, text_value
from ..textfiles import read_text

MAX_KEY_BYTES = 4 * MAX_PROGRAM_CHARS
MAX_QUESTIONS = 500
QUESTION_KEYS = {"id", "expression", "program", "wrt", "points", "at"}


@dataclass
class TomlKey:
    """Questions by id, each with its points and its checker (built once, answers cached)."""

    path: str
    questions: dict[str, Question]
    points: dict[str, Fraction]
    ids: dict[str, str]  # casefolded id → the id as the key writes it

    def possible(self, student_rows: Sequence[Submission]) -> Fraction:
        return sum(self.points.values(), Fraction(0))

    def grade(self, rows: Sequence[Submission], on_row: Callable[[], None]) -> list[Result]:
        results = []
        for row in rows:
            try:
                results.append(self._one(row))
            except Exception as error:  # noqa: BLE001 — one row never stops a batch (judge catches the rest)
                results.append(_invalid(row, f"line {row.line}: the answer could not be graded "
                                             f"({type(error).__name__})"))
            on_row()
        return results

    def _one(self, row: Submission) -> Result:
        if row.problem:
            return _invalid(row, row.problem)
        qid = self.ids.get(row.question.casefold(), row.question)  # Q1 is q1, and reported as q1
        row = replace(row, question=qid)
        question = self.questions.get(qid)
        if question is None:
            return _invalid(row, f"line {row.line}: no question {row.question!r} in the key "
                                 f"(questions: {', '.join(self.questions)})")
        if not row.answer.strip():
            return _invalid(row, f"line {row.line}: the answer is empty")
        verdict = question.judge(row.answer)
        if verdict.verdict == INVALID:  # say which line, as for every other invalid row
            return _invalid(row, f"line {row.line}: {verdict.feedback}")
        score = self.points[qid] if verdict.verdict == "correct" else Fraction(0)
        return _result(row, verdict, score)


@dataclass
class ManifestKey:
    """A handout's manifest: the questions are the blanks of each variant, graded together per
    student and problem (error carried forward, ``blanks.py``)."""

    path: str
    manifest: object  # blanks.Manifest

    def possible(self, student_rows: Sequence[Submission]) -> Fraction:
        variants = {self._variant_id(row) for row in student_rows} - {None}
        blanks = sum(len(p["blanks"]) for v in self.manifest.variants if v.id in variants for p in v.problems)
        return blanks * self.manifest.policy.points

    def grade(self, rows: Sequence[Submission], on_row: Callable[[], None]) -> list[Result]:
        if len(self.manifest.variants) > 1 and rows and not any(row.variant for row in rows):
            raise WorksheetError(f"the manifest has {len(self.manifest.variants)} variants: the submissions need "
                                 f"a variant column (v01, v02, …)", where="submissions")
        results: list[Result | None] = [None] * len(rows)
        latest: dict[tuple[str, str, str], int] = {}  # (student, variant, blank) → its last row
        for i, row in enumerate(rows):
            problem = row.problem or self._problem_of(row)
            if problem:
                results[i] = _invalid(row, problem)
                on_row()
                continue
            key = (row.student, self._variant_id(row), row.question)
            if key in latest:  # a resubmission replaces the earlier answer
                earlier = latest[key]
                results[earlier] = _invalid(rows[earlier], f"line {rows[earlier].line}: replaced by the answer "
                                                           f"on line {row.line}")
                on_row()
            latest[key] = i
        for (student, vid), indices in _by_student(latest).items():
            self._grade_student(rows, indices, vid, results)
            for _ in indices:
                on_row()
        return results

    def _grade_student(self, rows, indices: dict[str, int], vid: str, results: list) -> None:
        from .blanks import grade_blanks

        variant = self.manifest.variant(vid)
        policy = self.manifest.policy
        for problem in variant.problems:
            answers = {blank: rows[i].answer for blank, i in indices.items() if blank in problem["blanks"]}
            if not answers:
                continue
            marks = grade_blanks(problem, answers, policy)
            for blank, i in indices.items():
                if blank in marks:
                    mark = marks[blank]
                    results[i] = Result(rows[i].student, rows[i].question, mark.verdict,
                                        mark.credit * policy.points, (), mark.feedback, rows[i].answer, vid)

    def _variant_id(self, row: Submission) -> str | None:
        if row.variant:
            return row.variant
        return self.manifest.variants[0].id if len(self.manifest.variants) == 1 else None

    def _problem_of(self, row: Submission) -> str:
        """Why the row names no blank of a variant ("" when it does)."""
        vid = self._variant_id(row)
        ids = [v.id for v in self.manifest.variants]
        if vid is None:
            return f"line {row.line}: which variant? (the manifest has {len(ids)})"
        if vid not in ids:
            return f"line {row.line}: no variant {vid!r} in the manifest ({ids[0]} … {ids[-1]})"
        blanks = [b for p in self.manifest.variant(vid).problems for b in p["blanks"]]
        if row.question not in blanks:
            return f"line {row.line}: no blank {row.question!r} in variant {vid} (blanks 1–{len(blanks)})"
        return ""


def _by_student(latest: dict[tuple[str, str, str], int]) -> dict[tuple[str, str], dict[str, int]]:
    groups: dict[tuple[str, str], dict[str, int]] = {}
    for (student, vid, blank), i in latest.items():
        groups.setdefault((student, vid), {})[blank] = i
    return groups


def _result(row: Submission, verdict: Verdict, score: Fraction) -> Result:
    return Result(row.student, row.question, verdict.verdict, score, verdict.diagnosis, verdict.feedback,
                  row.answer, row.variant)


def _invalid(row: Submission, reason: str) -> Result:
    return Result(row.student, row.question, INVALID, Fraction(0), (), reason, row.answer, row.variant)


# ── the key ──────────────────────────────────────────────────────────────────────────────

def load_key(path: str | Path, on_question: Callable[[int, int], None] | None = None):
    """A TOML key or a handout manifest (by its first character: ``{`` is JSON), checked whole."""
    from .manifest import MAX_MANIFEST_BYTES, parse_manifest

    path = Path(path)
    text = read_text(path, max(MAX_KEY_BYTES, MAX_MANIFEST_BYTES), "the key")
    if text.lstrip().startswith("{"):
        return ManifestKey(str(path), parse_manifest(text, str(path)))
    if len(text) > MAX_KEY_BYTES:
        raise WorksheetError(f"the key is larger than {MAX_KEY_BYTES:,} bytes", where=str(path))
    return _toml_key(path, text, on_question)


def _toml_key(path: Path, text: str, on_question) -> TomlKey:
    where = str(path)
    data = read_toml(text, where, ("title", "question"))
    tables = data.get("question")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise WorksheetError("expected one or more [[question]] tables", where=f"{where}: question")
    if len(tables) > MAX_QUESTIONS:
        raise WorksheetError(f"at most {MAX_QUESTIONS} questions", where=f"{where}: question")
    questions: dict[str, Question] = {}
    points: dict[str, Fraction] = {}
    ids: dict[str, str] = {}  # without regard to case, as the submissions are matched
    for number, table in enumerate(tables, start=1):
        qid, question, worth = _question(path, number, table)
        if qid.casefold() in ids:
            raise WorksheetError(f"the id {qid!r} is used twice (as {ids[qid.casefold()]!r})",
                                 where=f"{where}: question {number}: id")
        ids[qid.casefold()] = qid
        questions[qid], points[qid] = question, worth
        if on_question is not None:
            on_question(number, len(tables))
    return TomlKey(where, questions, points, ids)


def _question(path: Path, number: int, table: dict) -> tuple[str, Question, Fraction]:
    here = f"{path}: question {number}"
    unknown = sorted(set(table) - QUESTION_KEYS)
    if unknown:
        raise WorksheetError(f"unknown key (keys: {', '.join(sorted(QUESTION_KEYS))})", where=f"{here}: {unknown[0]}")
    qid = table.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip() or len(qid) > 100 or not one_plain_line(qid):
        raise WorksheetError("expected a short text of plain characters (the question column of the submissions)",
                             where=f"{here}: id")
    if ("expression" in table) == ("program" in table):
        raise WorksheetError("give exactly one of expression and program", where=here)
    key = "expression" if "expression" in table else "program"
    text, filename = text_value(table[key], f"{here}: {key}"), None
    if key == "program" and "\n" not in text and text.strip().endswith((".ws", ".txt")):
        text, filename = program_file(path, text.strip(), f"{here}: program")
    if "wrt" not in table:
        raise WorksheetError("which derivative? give wrt = \"w\"", where=here)
    wrt = names_text(table["wrt"], f"{here}: wrt")
    at = point_text(table["at"], f"{here}: at") if "at" in table else None
    worth = exact_number(table.get("points", 1), f"{here}: points")
    if worth <= 0:
        raise WorksheetError("must be positive", where=f"{here}: points")
    try:
        question = asked(text, wrt, at, filename=filename or (str(path) if key == "program" else None))
    except WorksheetError as error:
        raise WorksheetError(str(error), where=f"{here}: {key}") from None
    return qid.strip(), question, worth


# ── grading ──────────────────────────────────────────────────────────────────────────────

def grade(key, rows: Sequence[Submission], on_row: Callable[[], None] = lambda: None) -> list[Result]:
    """One result per row, in order."""
    return key.grade(rows, on_row)


__all__ = ["Result", "Submission", "TomlKey", "grade", "load_key", "read_submissions", "report_csv", "totals_csv"]
