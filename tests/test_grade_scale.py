"""Grading at scale: a process pool (--jobs) writes the serial run's report byte for byte, judges
each distinct answer once, survives a stuck or crashed worker, and JSON lines stream in order,
whole or absent."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import random
import sys
import time
from fractions import Fraction
from pathlib import Path

import sympy

from conftest import SAMPLES

from test_grade import GARBAGE, HOSTILE, KEY, LABELLED, POINTS

PARTS = {"q1": ("(w*x+b-y)**2", "w"), "q2": ("1/(1+exp(-(w*x+b)))", "w"), "q4": ("w*x", "w")}
"""Questions of the sample key whose derivative sympy gives independently (q4's relu is w·x
where w·x > 0: not used for sympy's answers)."""


def sympy_answers(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """(question, answer, verdict): ∂/∂w from sympy.diff (correct), and twice it (incorrect)."""
    w, x, b, y = sympy.symbols("w x b y", real=True)
    names = {"w": w, "x": x, "b": b, "y": y}
    rows = []
    for q in ("q1", "q2"):
        formula, wrt = PARTS[q]
        derivative = sympy.diff(sympy.sympify(formula, locals=names), names[wrt])
        for _ in range(count):
            k = rng.randint(2, 9)
            rows.append((q, str(derivative).replace("**", "^"), "correct"))
            rows.append((q, f"{k}*({derivative})", "incorrect"))
    return rows


def batch(path: Path, seed: int = 16, students: int = 60) -> list[tuple[str, str, str, str]]:
    """A class's submissions with repeats (a few answers per question), garbage, hostile answers,
    sympy's answers, unknown questions and lines that cannot be read: (student, question,
    answer, expected verdict) per readable row, the file written to ``path``."""
    rng = random.Random(seed)
    rows = []
    extra = sympy_answers(rng, 3)
    for s in range(students):
        for q, answers in LABELLED.items():
            if rng.random() < 0.06:
                rows.append((f"s{s:03d}", q, rng.choice(GARBAGE), "invalid"))
            else:
                rows.append((f"s{s:03d}", q, *rng.choice(answers)))
        if s % 7 == 0:
            q, answer = rng.choice(HOSTILE)
            rows.append((f"s{s:03d}", q, answer, None))
        if s % 5 == 0:
            rows.append((f"s{s:03d}", *rng.choice(extra)))
        if s % 11 == 0:
            rows.append((f"s{s:03d}", "q9", "1", "invalid"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "question", "answer"])
    writer.writerows(r[:3] for r in rows)
    text = out.getvalue() + 'sx,q1,"2(w*x+b-y)x\nsx,q2\n'  # an unclosed quote, a missing field
    path.write_text(text)
    return rows


def _report(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_jobs_2_writes_the_serial_report_and_totals_byte_for_byte(cli, tmp_path):
    submissions = tmp_path / "class.csv"
    rows = batch(submissions)
    assert len(rows) > 300
    outputs = {}
    for jobs in ("1", "2"):
        report, totals = tmp_path / f"r{jobs}.csv", tmp_path / f"t{jobs}.csv"
        result = cli("grade", str(KEY), str(submissions), "-o", str(report), "--totals", str(totals), "--jobs", jobs)
        assert result.code == 0, result.err
        outputs[jobs] = report.read_bytes(), totals.read_bytes()
    assert outputs["1"] == outputs["2"]
    report = _report(outputs["2"][0].decode())
    assert len(report) == len(rows) + 2  # every row, the two unreadable lines too
    for (student, question, answer, verdict), row in zip(rows, report):  # the hand labels and sympy agree
        assert (row["student"], row["question"]) == (student, question)
        if verdict is not None:
            assert row["verdict"] == verdict, (answer, row["feedback"])
            assert int(row["score"]) == (POINTS[question] if verdict == "correct" else 0)
    assert [r["verdict"] for r in report[-2:]] == ["invalid", "invalid"]


def test_each_distinct_answer_to_a_question_is_judged_once(tmp_path):
    from worksheet.assess.grading import grade, load_key, read_submissions

    submissions = tmp_path / "class.csv"
    rows = batch(submissions)
    key = load_key(KEY)
    judged = []
    original = key.work
    key.work = lambda unit: judged.append(unit) or original(unit)
    grade(key, read_submissions(submissions))
    readable = {(q, a.strip()) for _, q, a, _ in rows if q in POINTS and a.strip()}
    assert sorted(judged) == sorted(readable)  # each once, none missed
    assert len(judged) < len(rows) / 2  # a class repeats itself


def test_a_manifest_on_two_processes_grades_as_one_and_identical_sheets_are_graded_once(cli, tmp_path):
    from worksheet.assess.grading import load_key, read_submissions

    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--variants", "2", "--seed", "5", "-f", "md",
               "-o", str(out)).code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    rng = random.Random(5)
    lines = ["student,variant,question,answer"]
    for s in range(40):
        variant = manifest["variants"][s % 2]
        for problem in variant["problems"]:
            for blank, value in problem["blanks"].items():
                if rng.random() < 0.3:
                    value = rng.choice(["0", "1", "-2", "abc", "9^9^9^9", "", "1e999999999"])
                lines.append(f"ann{s % 9},{variant['id']},{blank},\"{value}\"")  # 9 names: resubmissions
    lines += ["bob,v07,1,1", "bob,v01,9999,1"]
    twin = [line.replace("ann4,", "twin,", 1) for line in lines if line.startswith("ann4,")]
    submissions, with_twin = tmp_path / "blanks.csv", tmp_path / "twins.csv"
    submissions.write_text("\n".join(lines) + "\n")
    with_twin.write_text("\n".join(lines + twin) + "\n")
    outputs = []
    for jobs in ("1", "2"):
        report, totals = tmp_path / f"r{jobs}.csv", tmp_path / f"t{jobs}.csv"
        result = cli("grade", str(out / "manifest.json"), str(with_twin), "-o", str(report), "--totals",
                     str(totals), "-j", jobs)
        assert result.code == 0, result.err
        outputs.append((report.read_bytes(), totals.read_bytes()))
    assert outputs[0] == outputs[1]
    report = _report(outputs[0][0].decode())
    assert {"correct", "incorrect", "invalid"} <= {r["verdict"] for r in report}
    marks = {name: [(r["question"], r["verdict"], r["score"]) for r in report if r["student"] == name]
             for name in ("ann4", "twin")}
    assert marks["ann4"] == marks["twin"] and len(marks["twin"]) > 10
    key = load_key(out / "manifest.json")
    alone, twins = (key.plan(read_submissions(path)) for path in (submissions, with_twin))
    assert len(twins.units) == len(alone.units)  # the twin's sheet is ann4's: no more work
    assert len(set(twins.units)) == len(twins.units)


class StuckKey:
    """The sample key, stuck on one answer where no signal reaches (a sleep in C) — or, on
    another, its process ending — as a test's stand-in for a hopeless worker."""

    STUCK, CRASH = "stuck(w)", "crash(w)"

    def __init__(self, key):
        self.key = key

    def __reduce__(self):
        return StuckKey, (self.key,)

    def plan(self, rows):
        return self.key.plan(rows)

    def result(self, row, unit, outcome):
        return self.key.result(row, unit, outcome)

    def failed(self, unit, reason):
        return self.key.failed(unit, reason)

    def limit(self, unit):
        return 1.0 if unit[1] == self.STUCK else self.key.limit(unit)

    def work(self, unit):
        if unit[1] == self.STUCK:
            time.sleep(3600)
        if unit[1] == self.CRASH:
            os._exit(3)
        return self.key.work(unit)


def _stuck_batch(tmp_path, crash: bool = True) -> tuple[list, list]:
    from worksheet.assess.grading import read_submissions

    lines = ["student,question,answer"] + [f"s{i},{q},{a}" for i, (q, answers) in enumerate(LABELLED.items())
                                             for a, _ in answers[:2]]
    lines[3:3] = [f"late,q1,{StuckKey.STUCK}"] + [f"boom,q2,{StuckKey.CRASH}"] * crash
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    rows = read_submissions(path)
    return rows, [r for r in rows if r.answer not in (StuckKey.STUCK, StuckKey.CRASH)]


def test_a_stuck_worker_is_stopped_and_its_answer_is_invalid_while_the_batch_goes_on(tmp_path):
    from worksheet.assess.grading import grade, load_key

    rows, others = _stuck_batch(tmp_path)
    results = grade(StuckKey(load_key(KEY)), rows, jobs=2)
    by_student = {r.student: r for r in results}
    assert by_student["late"].verdict == "invalid"
    assert "took longer than 1 s" in by_student["late"].feedback and "line 4" in by_student["late"].feedback
    assert by_student["boom"].verdict == "invalid" and "stopped (exit status 3)" in by_student["boom"].feedback
    serial = grade(load_key(KEY), others)  # every other row as the serial run grades it
    assert [r for r in results if r.student not in ("late", "boom")] == serial
    assert multiprocessing.active_children() == []  # no worker outlives the batch


def test_an_interrupted_batch_leaves_no_worker_and_no_file(cli, tmp_path, monkeypatch):
    import worksheet.assess.batch as batch_module

    submissions = tmp_path / "class.csv"
    batch(submissions, students=20)
    real = batch_module.assembled

    def interrupted(key, plan, outcomes):
        for i, result in enumerate(real(key, plan, outcomes)):
            if i == 30:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(batch_module, "assembled", interrupted)
    report = tmp_path / "r.jsonl"
    result = cli("grade", str(KEY), str(submissions), "-o", str(report), "--totals", str(tmp_path / "t.csv"),
                 "-j", "2")
    assert result.code == 130 and result.err == "worksheet: interrupted\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.csv"]  # no report, no totals, no temporary
    assert multiprocessing.active_children() == []


def test_workers_started_fresh_rebuild_the_key_from_its_source_and_grade_the_same(tmp_path, monkeypatch):
    """Where workers are not forked (macOS, Windows) the key reaches them pickled: a TOML key as
    its text and its program files (a model's values are C objects, which do not pickle)."""
    import pickle

    from worksheet.assess import pool
    from worksheet.assess.grading import grade, load_key, read_submissions

    program = tmp_path / "model.ws"
    program.write_text((SAMPLES / "linear_bce.ws").read_text())
    key_file = tmp_path / "key.toml"
    key_file.write_text('[[question]]\nid = "m"\nprogram = "model.ws"\nwrt = "b"\n'
                        '[[question]]\nid = "q"\nexpression = "(w*x+b-y)**2"\nwrt = "w"\n')
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer\na,m,(sigmoid(z) - y)/3\nb,m,sigmoid(z) - y\nc,m,[1, 2]\n"
                           "d,q,2(w*x+b-y)x\ne,q,-2(w*x+b-y)x\n")
    rows = read_submissions(submissions)
    key = load_key(key_file)
    here = grade(key, rows)
    blob = pickle.dumps(load_key(key_file))
    program.unlink()  # the rebuilt key reads nothing from disk
    assert grade(pickle.loads(blob), rows) == here
    monkeypatch.setattr(pool, "context", lambda: multiprocessing.get_context("spawn"))
    assert grade(pickle.loads(blob), rows, jobs=2) == here
    assert [r.verdict for r in here] == ["correct", "incorrect", "invalid", "correct", "incorrect"]


def test_json_lines_are_the_report_rows_with_exact_scores(cli, tmp_path):
    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nid = "a"\nexpression = "x**2"\nwrt = "x"\npoints = 0.1234567\n'
                   '[[question]]\nid = "b"\nexpression = "sin(x)"\nwrt = "x"\npoints = 3\n')
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer\nann,a,2x\nann,b,cos(x)\nann,b,-cos(x)\nbob,a,-2x\nbob,c,1\n")
    csv_rows = _report(cli("grade", str(key), str(submissions)).out)
    result = cli("grade", str(key), str(submissions), "-f", "jsonl", "-j", "2")
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert len(lines) == len(csv_rows) == 5
    for line, row in zip(lines, csv_rows):
        assert [line[c] for c in ("student", "variant", "question", "verdict", "feedback")] == \
            [row[c] for c in ("student", "variant", "question", "verdict", "feedback")]
        assert ";".join(line["diagnosis"]) == row["diagnosis"]
        assert line["score_float"] == float(Fraction(line["score"]))
    assert Fraction(lines[0]["score"]) == Fraction("0.1234567") and csv_rows[0]["score"] == "0.123457"
    assert lines[3]["answer"] == "-2x" and csv_rows[3]["answer"] == "'-2x"  # quoted for spreadsheets only
    assert [line["verdict"] for line in lines] == ["correct", "correct", "incorrect", "incorrect", "invalid"]
    inferred = tmp_path / "r.jsonl"
    assert cli("grade", str(key), str(submissions), "-o", str(inferred)).code == 0
    assert inferred.read_text() == result.out


def test_json_lines_are_written_as_each_row_is_graded(monkeypatch):
    """Each line is on standard output before the next row is graded."""
    from worksheet.cli.reports import _emit_lines

    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    seen = []

    def lines():
        for i in range(4):
            seen.append(out.getvalue().count("\n"))
            yield f"{i}\n"

    _emit_lines(lines(), None)
    assert seen == [0, 1, 2, 3] and out.getvalue() == "0\n1\n2\n3\n"


def test_jobs_and_dask_together_and_too_many_jobs_are_refused(cli, tmp_path):
    report = tmp_path / "r.csv"
    for args in (["--jobs", "2", "--dask", "tcp://127.0.0.1:1"], ["--jobs", "100000"]):
        result = cli("grade", str(KEY), str(SAMPLES / "grading" / "submissions.csv"), "-o", str(report), *args)
        assert result.code == 2 and "--jobs" in result.err and len(result.err.splitlines()) == 1
        assert not report.exists()


def test_grading_on_dask_without_the_extra_says_how_to_install_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    result = cli("grade", str(KEY), str(SAMPLES / "grading" / "submissions.csv"), "--dask", "tcp://127.0.0.1:1")
    assert result.code == 2 and "pip install 'worksheet[dask]'" in result.err and result.out == ""
