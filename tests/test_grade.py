"""worksheet grade: a key and submissions → one report row per submission row, in order, and totals."""

import csv
import io
import json
import random


from conftest import SAMPLES

KEY = SAMPLES / "grading" / "key.toml"
SUBMISSIONS = SAMPLES / "grading" / "submissions.csv"

# answers with their verdicts, worked out by hand (independent of the checker)
LABELLED = {
    "q1": [("2(w*x+b-y)x", "correct"), ("2*x*(x*w + b - y)", "correct"), ("2w*x^2+2b*x-2x*y", "correct"),
           ("2*(w*x+b-y)", "incorrect"), ("-2(w*x+b-y)x", "incorrect"), ("(w*x+b-y)x", "incorrect")],
    "q2": [("sigmoid(w*x+b)*(1-sigmoid(w*x+b))*x", "correct"), ("x*exp(-(w*x+b))/(1+exp(-(w*x+b)))^2", "correct"),
           ("sigmoid(w*x+b)*(1-sigmoid(w*x+b))", "incorrect"), ("x*sigmoid(w*x+b)", "incorrect")],
    "q3": [("2(w*x+w*w-y)(x+2w)", "correct"), ("2(w*x+w*w-y)x", "incorrect"), ("2(w*x+w^2-y)(x+w)", "incorrect")],
    "q4": [("step(w*x)*x", "correct"), ("x", "incorrect"), ("x*sign(w*x)", "incorrect")],
    "q5": [("-7", "correct"), ("-7.0", "correct"), ("-8", "incorrect"), ("7", "incorrect")],
}
POINTS = {"q1": 2, "q2": 1, "q3": 2, "q4": 1, "q5": 1}
GARBAGE = ["diff(x)", "__import__('os')", "x===2", "1/0", "9^9^9^9", "z+1", "(((((", "x" * 3000, "", "=cmd|' /C calc'!A0"]


def _report(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_sample_report_in_order_with_scores_and_totals(cli, tmp_path):
    report, totals = tmp_path / "report.csv", tmp_path / "totals.csv"
    result = cli("grade", str(KEY), str(SUBMISSIONS), "-o", str(report), "--totals", str(totals))
    assert result.code == 0, result.err
    rows = _report(report.read_text())
    given = [line for line in SUBMISSIONS.read_text().splitlines()[1:] if line.strip()]
    assert len(rows) == len(given)
    assert [r["student"] for r in rows] == [line.split(",")[0] for line in given]
    assert list(rows[0]) == ["student", "variant", "question", "answer", "verdict", "score", "diagnosis", "feedback"]
    submitted = list(csv.DictReader(io.StringIO(SUBMISSIONS.read_text())))
    unquoted = [a[1:] if a[:1] == "'" and a[1:2] in "=+-@" else a for a in (r["answer"] for r in rows)]
    assert unquoted == [(s["answer"] or "").strip() for s in submitted]  # as submitted ('-2x: not a formula)
    ada = [r for r in rows if r["student"] == "ada"]
    assert all(r["verdict"] == "correct" for r in ada) and sum(int(r["score"]) for r in ada) == 7
    bob = {r["question"]: r for r in rows if r["student"] == "bob"}
    assert "missing_chain_factor" in bob["q1"]["diagnosis"].split(";") and bob["q1"]["score"] == "0"
    assert bob["q3"]["diagnosis"] == "missing_term"
    totals_rows = {r["student"]: r for r in _report(totals.read_text())}
    assert totals_rows["ada"] == {"student": "ada", "variant": "", "score": "7", "possible": "7", "answered": "5"}
    assert totals_rows["bob"]["score"] == "0"


def test_malformed_rows_are_invalid_and_never_stop_the_batch(cli, tmp_path):
    submissions = tmp_path / "s.csv"
    submissions.write_bytes(
        "student,question,answer\n"
        "a,q1,2(w*x+b-y)x\n"
        'a,q2,"sigmoid(w*x\n'  # an unclosed quote: this line only
        "a,q3\n"  # a missing field
        "a,q9,1\n"  # no such question
        "a,q4,\n"  # empty
        "\n"
        "a,q5,\xff\xfe-7\n".encode("latin-1")  # not UTF-8
        + b"b,q1,2(w*x+b-y)x\n"
    )
    result = cli("grade", str(KEY), str(submissions))
    assert result.code == 0, result.err
    rows = _report(result.out)
    assert [r["verdict"] for r in rows] == ["correct", "invalid", "invalid", "invalid", "invalid", "invalid", "correct"]
    assert "line 3" in rows[1]["feedback"] and "line 5" in rows[3]["feedback"]


def test_a_2000_row_batch_with_garbage_reports_every_row_in_order(cli, tmp_path):
    rng = random.Random(2026)
    lines, expected = [], []
    for s in range(400):
        for q, answers in LABELLED.items():
            if rng.random() < 0.05:
                answer, verdict = rng.choice(GARBAGE), "invalid"
            else:
                answer, verdict = rng.choice(answers)
            lines.append([f"s{s:03d}", q, answer])
            expected.append((verdict, POINTS[q] if verdict == "correct" else 0))
    submissions = tmp_path / "batch.csv"
    with submissions.open("w", newline="") as handle:
        csv.writer(handle).writerows([["student", "question", "answer"], *lines])
    report = tmp_path / "report.csv"
    result = cli("grade", str(KEY), str(submissions), "-o", str(report))
    assert result.code == 0, result.err
    rows = _report(report.read_text())
    assert len(rows) == 2000
    assert [(r["student"], r["question"]) for r in rows] == [(s, q) for s, q, _ in lines]
    assert [(r["verdict"], int(r["score"])) for r in rows] == expected
    assert all("\n" not in r["feedback"] for r in rows)
    assert sum(v == "invalid" for v, _ in expected) > 50  # the garbage is there


def test_spreadsheet_formulas_in_the_report_are_neutralised(cli, tmp_path):
    submissions = tmp_path / "s.csv"
    submissions.write_text('student,question,answer\n=HYPERLINK("x"),q1,x\n')
    rows = _report(cli("grade", str(KEY), str(submissions)).out)
    assert rows[0]["student"].startswith("'=")


def test_bad_key_or_header_is_exit_2_and_nothing_written(cli, tmp_path):
    report = tmp_path / "report.csv"
    bad = tmp_path / "key.toml"
    bad.write_text('[[question]]\nid = "q1"\nexpression = "(w*x+"\nwrt = "w"\n')
    result = cli("grade", str(bad), str(SUBMISSIONS), "-o", str(report))
    assert result.code == 2 and "question 1" in result.err and "1:6" in result.err and not report.exists()
    bad.write_text('[[question]]\nid = "q1"\nexpression = "x**2"\nwrt = "x"\ncolour = "red"\n')
    assert "colour" in cli("grade", str(bad), str(SUBMISSIONS), "-o", str(report)).err
    headerless = tmp_path / "s.csv"
    headerless.write_text("name,q,a\nada,q1,x\n")
    result = cli("grade", str(KEY), str(headerless), "-o", str(report))
    assert result.code == 2 and "student" in result.err and not report.exists()


def test_report_is_written_whole_or_not_at_all(cli, tmp_path, monkeypatch):
    import worksheet.assess.grading as grading

    report = tmp_path / "report.csv"
    calls = []

    def interrupted(key, rows, on_row):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(grading, "grade", interrupted)
    result = cli("grade", str(KEY), str(SUBMISSIONS), "-o", str(report))
    assert calls and result.code == 130 and list(tmp_path.iterdir()) == []
    assert result.err == "worksheet: interrupted\n"  # one line, as every refusal


def test_manifest_key_grades_blanks_with_error_carried_forward(cli, tmp_path):
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--variants", "2", "--seed", "7", "-f", "md",
               "-o", str(out)).code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    first = manifest["variants"][0]["problems"][0]  # (w*x+b-y)**2: blanks 1–4 are v1, v2, v3, L
    inputs = {k: int(v) for k, v in first["inputs"].items()}
    v1 = inputs["w"] * inputs["x"]
    wrong_v2 = v1 + inputs["b"] + 1  # one off
    v3 = wrong_v2 - inputs["y"]
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,variant,question,answer\n"
                           f"ann,v01,1,{v1}\nann,v01,2,{wrong_v2}\nann,v01,3,{v3}\nann,v01,4,{v3 ** 2}\n"
                           "ann,v01,999,1\nann,v07,1,1\nann,v02,1,0.5\n")
    result = cli("grade", str(out / "manifest.json"), str(submissions), "--totals", str(tmp_path / "t.csv"))
    assert result.code == 0, result.err
    verdicts = [r["verdict"] for r in _report(result.out)]
    assert verdicts == ["correct", "incorrect", "consistent", "consistent", "invalid", "invalid", "incorrect"]
    total, unknown, other = _report((tmp_path / "t.csv").read_text())
    assert total["score"] == "3" and int(total["possible"]) == sum(len(p["blanks"]) for p in manifest["variants"][0]["problems"])
    # a row for another variant is a second sheet, out of its own points, not v01's doubled
    assert (other["student"], other["variant"], other["score"], other["answered"]) == ("ann", "v02", "0", "1")
    assert int(other["possible"]) == sum(len(p["blanks"]) for p in manifest["variants"][1]["problems"])
    assert unknown["variant"] == "v07" and unknown["possible"] == "0"  # no such variant: nothing possible
    no_variant = tmp_path / "n.csv"
    no_variant.write_text("student,question,answer\nann,1,3\n")
    result = cli("grade", str(out / "manifest.json"), str(no_variant))
    assert result.code == 2 and "variant" in result.err


def test_one_students_blanks_in_toml(cli, tmp_path):
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--seed", "3", "-f", "md", "-o", str(out)).code == 0
    blanks = json.loads((out / "manifest.json").read_text())["variants"][0]["problems"][0]["blanks"]
    answers = tmp_path / "ann.toml"
    answers.write_text('student = "ann"\n[answers]\n' + "".join(f'{n} = "{v}"\n' for n, v in list(blanks.items())[:3]))
    rows = _report(cli("grade", str(out / "manifest.json"), str(answers)).out)
    assert [r["verdict"] for r in rows] == ["correct"] * 3


HOSTILE = [  # answers that once ended a batch with an internal error or hung it
    ("q1", "(x+1)**99999"), ("q1", "exp(exp(exp(x)))"), ("q1", "max(x, max(x**2, 1))"),
    ("q1", "abs(3/log(1-x))"), ("q5", "abs(3/log(1-20))"), ("q5", "0e999999999"), ("q5", "1e999999999"),
    ("q5", "exp(exp(exp(20)))"), ("q1", "x^(10^100000)"), ("q1", "sin(10^(10^5))*x"), ("q5", "-7"),
]


def test_hostile_rows_are_one_row_each_and_the_batch_goes_on(cli, tmp_path):
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer\n" + "".join(
        f'{"s%d" % i},{q},"{a}"\n' for i, (q, a) in enumerate(HOSTILE)))
    result = cli("grade", str(KEY), str(submissions))
    assert result.code == 0, result.err
    rows = _report(result.out)
    assert [r["student"] for r in rows] == [f"s{i}" for i in range(len(HOSTILE))]
    verdicts = {HOSTILE[i][1]: r["verdict"] for i, r in enumerate(rows)}
    assert verdicts["-7"] == "correct"  # the last row is still judged, and right
    assert verdicts["(x+1)**99999"] == "incorrect" and verdicts["exp(exp(exp(x)))"] == "incorrect"
    assert verdicts["0e999999999"] == "incorrect"  # it is 0, quickly, not a hang
    assert verdicts["1e999999999"] == "invalid" and verdicts["abs(3/log(1-20))"] == "invalid"
    assert all(r["feedback"] and "\n" not in r["feedback"] for r in rows)


def test_control_characters_never_reach_the_report(cli, tmp_path):
    """A name with an escape sequence is not echoed, whatever else is wrong with its row."""
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer,variant\n"
                           "ann,q1,2(w*x+b-y)x\n"              # 3 fields of 4: the count is its problem
                           "\x1b[2J,q1,2(w*x+b-y)x\n"          # and a terminal escape in the name
                           "bob\x07,q1,2(w*x+b-y)x,v01\n")
    result = cli("grade", str(KEY), str(submissions))
    assert result.code == 0, result.err
    rows = _report(result.out)
    assert [r["verdict"] for r in rows] == ["invalid"] * 3
    assert all(ch.isprintable() or ch == "\n" for ch in result.out)
    assert "control character" in rows[1]["feedback"] and "control character" in rows[2]["feedback"]


def test_control_characters_in_one_students_toml(cli, tmp_path):
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "-f", "md", "-o", str(out)).code == 0
    named = tmp_path / "a.toml"
    named.write_text('student = "ann\\u001b]0;owned\\u0007"\n[answers]\n1 = "2"\n')
    result = cli("grade", str(out / "manifest.json"), str(named))
    assert result.code == 2 and "student" in result.err and "\x1b" not in result.err
    blanks = tmp_path / "b.toml"
    blanks.write_text('student = "ann"\n[answers]\n"\\u001b[2J" = "2"\n2 = "x\\u001bq"\n3 = "4"\n')
    result = cli("grade", str(out / "manifest.json"), str(blanks))
    assert result.code == 0 and all(ch.isprintable() or ch == "\n" for ch in result.out)
    assert [r["verdict"] for r in _report(result.out)][:2] == ["invalid", "invalid"]


def test_a_question_id_with_a_control_character_is_refused(cli, tmp_path):
    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nid = "\\u001b[2J"\nexpression = "(w*x+b-y)**2"\nwrt = "w"\n')
    result = cli("grade", str(key), str(SUBMISSIONS))
    assert result.code == 2 and "question 1: id" in result.err and "\x1b" not in result.err


def test_wrt_and_at_may_be_written_as_toml_list_and_table(cli, tmp_path):
    key = tmp_path / "key.toml"
    key.write_text('[[question]]\nid = "q1"\nexpression = "(w*x+b-y)**2"\nwrt = ["w"]\n'
                   'at = {w = 1, b = 0, x = 2, y = 4.5}\n')
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer\nada,q1,-10\nbob,q1,-8\n")  # 2(1·2 + 0 − 4.5)·2 = −10
    result = cli("grade", str(key), str(submissions))
    assert result.code == 0, result.err
    assert [r["verdict"] for r in _report(result.out)] == ["correct", "incorrect"]
    problem_set = tmp_path / "set.toml"
    problem_set.write_text('title = "Lists"\n[[problem]]\nexpression = "(w*x+b-y)**2"\nwrt = ["w", "b"]\n'
                           'at = {x = 2, y = 4}\n[problem.vary]\nw = [-3, 3]\nb = [0, 2]\n')
    out = tmp_path / "out"
    assert cli("handout", str(problem_set), "-o", str(out), "-f", "md", "--key").code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["variants"][0]["problems"][0]["inputs"]["y"] == "4"
    key.write_text('[[question]]\nid = "q1"\nexpression = "w*x"\nwrt = [1]\n')
    result = cli("grade", str(key), str(submissions))
    assert result.code == 2 and "wrt" in result.err and "list of names" in result.err


def test_a_semicolon_file_from_standard_input_with_ids_in_any_case(tmp_path):
    """A spreadsheet in a comma-decimal locale writes ;. Q1 is q1 (and is reported as q1); a
    resubmission replaces the answer, so ada answered 1 question, not 2 rows."""
    from conftest import run_process

    text = "student;question;answer\nada;Q1;2*(w*x+b-y)\nada;q1;2(w*x+b-y)x\n"
    totals = tmp_path / "t.csv"
    result = run_process("grade", str(KEY), "-", "--totals", str(totals), stdin=text)
    assert result.code == 0, result.err
    rows = _report(result.out)
    assert [(r["question"], r["verdict"]) for r in rows] == [("q1", "incorrect"), ("q1", "correct")]
    assert _report(totals.read_text())[0] == {"student": "ada", "variant": "", "score": "2", "possible": "7", "answered": "1"}


def test_excel_byte_order_mark_and_no_silent_xlsx(cli, tmp_path):
    report = tmp_path / "r.csv"
    assert cli("grade", str(KEY), str(SUBMISSIONS), "--bom", "-o", str(report)).code == 0
    assert report.read_bytes().startswith(b"\xef\xbb\xbfstudent,variant,question,answer,")
    result = cli("grade", str(KEY), str(SUBMISSIONS), "-o", str(tmp_path / "r.xlsx"))
    assert result.code == 2 and ".xlsx" in result.err and not (tmp_path / "r.xlsx").exists()


def test_a_manifest_report_names_each_rows_variant(cli, tmp_path):
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--seed", "3", "-f", "md", "-o", str(out)).code == 0
    blanks = json.loads((out / "manifest.json").read_text())["variants"][0]["problems"][0]["blanks"]
    first, value = next(iter(blanks.items()))
    submissions = tmp_path / "s.csv"
    submissions.write_text(f"student,question,answer\nann,{first},{value}\n")
    rows = _report(cli("grade", str(out / "manifest.json"), str(submissions)).out)
    assert rows[0]["variant"] == "v01" and rows[0]["answer"].lstrip("'") == str(value)
    assert rows[0]["verdict"] == "correct"


def test_a_line_with_an_unclosed_quote_keeps_its_students_name(cli, tmp_path):
    submissions = tmp_path / "s.csv"
    submissions.write_text('student,question,answer\nann,q1,"2(w*x+b-y)x\nbob,q1,2(w*x+b-y)x\n')
    totals = tmp_path / "t.csv"
    result = cli("grade", str(KEY), str(submissions), "--totals", str(totals))
    rows = _report(result.out)
    assert [(r["student"], r["verdict"]) for r in rows] == [("ann", "invalid"), ("bob", "correct")]
    assert "never closed" in rows[0]["feedback"]
    assert _report(totals.read_text())[0] == {"student": "ann", "variant": "", "score": "0", "possible": "7", "answered": "0"}
