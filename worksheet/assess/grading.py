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
answer the parser refuses) is one ``invalid`` row and never stops the batch.

A grading is planned, worked, then put together. ``key.plan(rows)`` settles every row that
needs no judging (a line that cannot be read, an unknown question, an empty or a replaced
answer) and lists the distinct *units* of work, each once, in the order the rows first need
them: for a TOML key a question and an answer's text (stripped: the same answer to the same
question is judged once), for a manifest a student's answers to one problem of a variant (its
blanks are graded together, with error carried forward: two students who wrote the same
answers are graded once). ``key.work(unit)`` is the unit's outcome, a function of the unit and
the key alone, so any process holding the key (a worker of a pool, of a Dask cluster) gives
the same one; ``key.result(row, unit, outcome)`` is the row's line of the report. Where the
units are worked (here, a process pool, Dask: ``batch.py``) changes nothing in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from .check import CORRECT, INVALID, TIME_LIMIT, Question, Verdict, question as asked
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
STUCK_AFTER = 10.0
"""Seconds a unit of work may run past what its soft limits allow (``check.TIME_LIMIT`` for each
step judged under one) before a process pool takes its worker to be stuck where no signal
reaches (one long call into C), stops it, and reports the unit ``invalid``."""


@dataclass(frozen=True)
class Plan:
    """A batch's work: per row, its result, or the unit of work its result comes from."""

    rows: tuple[Submission, ...]  # the rows as graded (a question id as the key writes it)
    units: tuple  # the distinct units of work, in the order the rows first need them
    needs: tuple[int | None, ...]  # per row: the index of its unit (None: settled without work)
    settled: tuple[Result | None, ...]  # per row: its result, where it needs no work


@dataclass(frozen=True)
class Asked:
    """One thing a student's sheet asks: a question of the key, or a blank of a variant."""

    variant: str  # "" for a TOML key
    question: str  # the question id, or the blank's number
    points: Fraction
    name: str  # as a grade book shows it: "q1", "blank (3)", "v02, blank (3)"


@dataclass(frozen=True)
class KeySource:
    """A TOML key as it was read: its path, its text and the program files it names, so that
    another process or machine rebuilds the same key without the files (``TomlKey.__reduce__``)."""

    path: str
    text: str
    programs: tuple[tuple[str, str], ...]  # (the name as the key writes it, the file's text)


@dataclass
class TomlKey:
    """Questions by id, each with its points and its checker (built once, answers cached)."""

    path: str
    questions: dict[str, Question]
    points: dict[str, Fraction]
    ids: dict[str, str]  # casefolded id → the id as the key writes it
    source: KeySource

    def __reduce__(self):  # a key travels as its source and is rebuilt (a model's values are C objects)
        return _rebuilt, (self.source,)

    def asked(self, student_rows: Sequence[Submission]) -> list[Asked]:
        return [Asked("", qid, worth, qid) for qid, worth in self.points.items()]

    def possible(self, student_rows: Sequence[Submission]) -> Fraction:
        return sum((a.points for a in self.asked(student_rows)), Fraction(0))

    def answered(self, result: Result) -> tuple[str, str]:
        """The ``Asked`` (variant, question) a result answers."""
        return "", result.question

    def plan(self, rows: Sequence[Submission]) -> Plan:
        graded, units, needs, settled = [], {}, [], []
        for row in rows:
            row, problem = self._readable(row)
            graded.append(row)
            unit = None if problem else (row.question, row.answer.strip())
            needs.append(None if unit is None else units.setdefault(unit, len(units)))
            settled.append(_invalid(row, problem) if problem else None)
        return Plan(tuple(graded), tuple(units), tuple(needs), tuple(settled))

    def _readable(self, row: Submission) -> tuple[Submission, str]:
        """The row with its question id as the key writes it (Q1 is q1), and why it cannot be
        judged ("" when it can)."""
        if row.problem:
            return row, row.problem
        row = replace(row, question=self.ids.get(row.question.casefold(), row.question))
        if row.question not in self.questions:
            return row, (f"line {row.line}: no question {row.question!r} in the key "
                         f"(questions: {', '.join(self.questions)})")
        if not row.answer.strip():
            return row, f"line {row.line}: the answer is empty"
        return row, ""

    def work(self, unit: tuple[str, str]) -> Verdict:
        qid, answer = unit
        try:
            return self.questions[qid].judge(answer)
        except Exception as error:  # noqa: BLE001 — one row never stops a batch (judge catches the rest)
            return Verdict(INVALID, (), f"the answer could not be graded ({type(error).__name__})")

    def failed(self, unit: tuple[str, str], reason: str) -> Verdict:
        """The outcome of a unit whose work was stopped (``reason``: why)."""
        return Verdict(INVALID, (), f"answer: {reason}")

    def limit(self, unit: tuple[str, str]) -> float:
        """The seconds after which the unit's process is stuck: reading the answer and judging
        it, each under the soft limit, and STUCK_AFTER."""
        return 2 * TIME_LIMIT + STUCK_AFTER

    def result(self, row: Submission, unit: tuple[str, str], verdict: Verdict) -> Result:
        if verdict.verdict == INVALID:  # say which line, as for every other invalid row
            return _invalid(row, f"line {row.line}: {verdict.feedback}")
        score = self.points[unit[0]] if verdict.verdict == CORRECT else Fraction(0)
        return _result(row, verdict, score)


@dataclass
class ManifestKey:
    """A handout's manifest: the questions are the blanks of each variant, graded together per
    student and problem (error carried forward, ``blanks.py``)."""

    path: str
    manifest: object  # blanks.Manifest

    def asked(self, student_rows: Sequence[Submission]) -> list[Asked]:
        """Every blank of each variant the rows name, in the order they first name it."""
        variants = list(dict.fromkeys(v for v in map(self._variant_id, student_rows) if v is not None))
        known = {v.id: v for v in self.manifest.variants}
        points = self.manifest.policy.points
        return [Asked(vid, blank, points, f"{vid}, blank ({blank})" if len(variants) > 1 else f"blank ({blank})")
                for vid in variants if vid in known for p in known[vid].problems for blank in p["blanks"]]

    def possible(self, student_rows: Sequence[Submission]) -> Fraction:
        return sum((a.points for a in self.asked(student_rows)), Fraction(0))

    def answered(self, result: Result) -> tuple[str, str]:
        return result.variant, result.question

    def plan(self, rows: Sequence[Submission]) -> Plan:
        if len(self.manifest.variants) > 1 and rows and not any(row.variant for row in rows):
            raise WorksheetError(f"the manifest has {len(self.manifest.variants)} variants: the submissions need "
                                 f"a variant column (v01, v02, …)", where="submissions")
        settled: list[Result | None] = [None] * len(rows)
        latest: dict[tuple[str, str, str], int] = {}  # (student, variant, blank) → its last row
        for i, row in enumerate(rows):
            problem = row.problem or self._problem_of(row)
            if problem:
                settled[i] = _invalid(row, problem)
                continue
            key = (row.student, self._variant_id(row), row.question)
            if key in latest:  # a resubmission replaces the earlier answer
                earlier = latest[key]
                settled[earlier] = _invalid(rows[earlier], f"line {rows[earlier].line}: replaced by the answer "
                                                           f"on line {row.line}")
            latest[key] = i
        unit_of: dict[int, tuple] = {}  # row → the unit it is graded in
        for (student, vid), indices in _by_student(latest).items():
            for number, problem in enumerate(self.manifest.variant(vid).problems):
                answers = {blank: i for blank, i in indices.items() if blank in problem["blanks"]}
                unit = (vid, number, tuple((blank, rows[i].answer) for blank, i in sorted(
                    answers.items(), key=lambda item: int(item[0]))))
                unit_of.update(dict.fromkeys(answers.values(), unit))
        units: dict[tuple, int] = {}
        needs = tuple(units.setdefault(unit_of[i], len(units)) if i in unit_of else None for i in range(len(rows)))
        return Plan(tuple(rows), tuple(units), needs, tuple(settled))

    def work(self, unit: tuple) -> dict:
        """The marks of one student's blanks of one problem, by blank number."""
        from .blanks import grade_blanks

        vid, number, answers = unit
        return grade_blanks(self.manifest.variant(vid).problems[number], dict(answers), self.manifest.policy)

    def failed(self, unit: tuple, reason: str) -> dict:
        from .blanks import Mark

        vid, number, _ = unit
        blanks = self.manifest.variant(vid).problems[number]["blanks"]
        return {n: Mark("invalid", Fraction(0), f"blank ({n}): {reason}", expected) for n, expected in blanks.items()}

    def limit(self, unit: tuple) -> float:
        """Reading each blank, the error carried forward, and marking each blank, each under the
        soft limit, and STUCK_AFTER."""
        vid, number, _ = unit
        blanks = len(self.manifest.variant(vid).problems[number]["blanks"])
        return (2 * blanks + 1) * TIME_LIMIT + STUCK_AFTER

    def result(self, row: Submission, unit: tuple, marks: dict) -> Result:
        mark = marks[row.question]
        return Result(row.student, row.question, mark.verdict, mark.credit * self.manifest.policy.points, (),
                      mark.feedback, row.answer, unit[0])

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


def _rebuilt(source: KeySource) -> TomlKey:
    """The key ``source`` was read as (in a worker process: its program files from the source)."""
    return _toml_key(Path(source.path), source.text, None, dict(source.programs))


def _toml_key(path: Path, text: str, on_question, programs: dict[str, str] | None = None) -> TomlKey:
    where = str(path)
    data = read_toml(text, where, ("title", "question"))
    tables = data.get("question")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise WorksheetError("expected one or more [[question]] tables", where=f"{where}: question")
    if len(tables) > MAX_QUESTIONS:
        raise WorksheetError(f"at most {MAX_QUESTIONS} questions", where=f"{where}: question")
    read: dict[str, str] = {}  # the program files read, by name

    def program(name: str, here: str) -> tuple[str, str]:
        if programs is None:
            read[name] = program_file(path, name, here)[0]
        else:
            read[name] = programs[name]
        return read[name], name

    questions: dict[str, Question] = {}
    points: dict[str, Fraction] = {}
    ids: dict[str, str] = {}  # without regard to case, as the submissions are matched
    for number, table in enumerate(tables, start=1):
        qid, question, worth = _question(path, number, table, program)
        if qid.casefold() in ids:
            raise WorksheetError(f"the id {qid!r} is used twice (as {ids[qid.casefold()]!r})",
                                 where=f"{where}: question {number}: id")
        ids[qid.casefold()] = qid
        questions[qid], points[qid] = question, worth
        if on_question is not None:
            on_question(number, len(tables))
    return TomlKey(where, questions, points, ids, KeySource(where, text, tuple(read.items())))


def _question(path: Path, number: int, table: dict, program) -> tuple[str, Question, Fraction]:
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
        text, filename = program(text.strip(), f"{here}: program")
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

def grade(key, rows: Sequence[Submission], on_row: Callable[[], None] = lambda: None, *, jobs: int = 1,
          dask: str | None = None) -> list[Result]:
    """One result per row, in order: judged here (``jobs`` 1), on a pool of ``jobs`` processes,
    or on the Dask cluster whose scheduler is at the address ``dask`` — the same results."""
    from .batch import graded

    return list(graded(key, rows, on_row, jobs=jobs, dask=dask))


__all__ = ["Asked", "KeySource", "ManifestKey", "Plan", "Result", "Submission", "TomlKey", "grade", "load_key",
           "read_submissions", "report_csv", "totals_csv"]
