"""Autograders: Gradescope's results.json (checked against a JSON schema written from its
autograder specification), and the per-answer API that a PrairieLearn server.py or an Otter
test calls — the README's examples, run as they are written."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import tomllib
import types
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

from conftest import ROOT, SAMPLES

from test_grade import KEY, LABELLED, SUBMISSIONS

EXAMPLES = Path(__file__).parent / "examples"
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
TEXT_FORMATS = ["text", "html", "simple_format", "md", "ansi"]
RESULTS_SCHEMA = {  # https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format")
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "tests", "output"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": TEXT_FORMATS},
        "test_output_format": {"enum": TEXT_FORMATS},
        "test_name_format": {"enum": TEXT_FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "tags"],
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "exclusiveMinimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string", "minLength": 1},
                    "name_format": {"enum": TEXT_FORMATS},
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": {"enum": TEXT_FORMATS},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": VISIBILITY},
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def valid_results(text: str) -> dict:
    """results.json, checked: the schema, each test's score within its points, the top score
    the sum of the tests', and a test passed exactly when it has every point."""
    if os.environ.get("CI"):  # .ci/run installs the dev group, which brings jsonschema (nbformat's)
        import jsonschema
    else:
        jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(text)
    jsonschema.validate(data, RESULTS_SCHEMA)
    for test in data["tests"]:
        assert 0 <= test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
    assert math.isclose(data["score"], sum(t["score"] for t in data["tests"]), abs_tol=1e-9)
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    return data


def test_one_students_results_json_has_a_test_per_question_worth_its_points(cli, tmp_path):
    key = tomllib.loads(KEY.read_text())  # the points, read independently of the grader
    points = {q["id"]: Fraction(str(q.get("points", 1))) for q in key["question"]}
    labels = {q: dict(answers) for q, answers in LABELLED.items()}
    answers = {"q1": "2*(w*x+b-y)", "q2": "sigmoid(w*x+b)*(1-sigmoid(w*x+b))*x", "q3": "2(w*x+w*w-y)x"}
    submissions = tmp_path / "ann.csv"
    submissions.write_text("student,question,answer\n" + "".join(f"ann,{q},\"{a}\"\n" for q, a in answers.items())
                           + "ann,q3,2(w*x+w*w-y)(x+2w)\nann,q9,1\n")  # a resubmission, an unknown question
    results = tmp_path / "results.json"
    assert cli("grade", str(KEY), str(submissions), "-o", str(results)).code == 0  # .json: Gradescope's
    data = valid_results(results.read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert list(tests) == list(points)  # every question, in the key's order, answered or not
    answers["q3"] = "2(w*x+w*w-y)(x+2w)"  # the last answer counts
    for qid, worth in points.items():
        test = tests[qid]
        assert test["max_score"] == float(worth)
        if qid in answers:
            verdict = labels[qid][answers[qid]]
            assert test["tags"][0] == verdict and test["output"].startswith(f"Your answer: {answers[qid]}\n")
            assert test["score"] == (float(worth) if verdict == "correct" else 0)
        else:
            assert test["tags"] == ["unanswered"] and test["score"] == 0 and test["output"] == "Not answered."
    assert data["score"] == float(points["q2"] + points["q3"])
    assert "no question 'q9'" in data["output"] and data["extra_data"]["student"] == "ann"


def test_a_handout_sheet_has_a_test_per_blank_with_error_carried_forward(cli, tmp_path):
    out = tmp_path / "handout"
    assert cli("handout", str(SAMPLES / "backprop_set.toml"), "--seed", "7", "-f", "md", "-o", str(out)).code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    problem = manifest["variants"][0]["problems"][0]  # (w*x+b-y)**2: blanks 1–4 are v1, v2, v3, L
    inputs = {k: int(v) for k, v in problem["inputs"].items()}
    v1 = inputs["w"] * inputs["x"]
    wrong_v2 = v1 + inputs["b"] + 1
    sheet = tmp_path / "ann.toml"
    sheet.write_text(f'student = "ann"\n[answers]\n1 = "{v1}"\n2 = "{wrong_v2}"\n3 = "{wrong_v2 - inputs["y"]}"\n'
                     '4 = "<script>alert(1)</script>"\n')
    result = cli("grade", str(out / "manifest.json"), str(sheet), "-f", "gradescope")
    assert result.code == 0, result.err
    data = valid_results(result.out)
    blanks = [b for p in manifest["variants"][0]["problems"] for b in p["blanks"]]
    assert [t["name"] for t in data["tests"]] == [f"blank ({b})" for b in blanks]
    tags = [t["tags"][0] for t in data["tests"][:4]]
    assert tags == ["correct", "incorrect", "consistent", "invalid"]
    assert "<script>alert(1)</script>" in data["tests"][3]["output"]  # as text: the formats are "text"
    policy = manifest.get("policy", {})
    points, share = (Fraction(str(policy.get(k, 1))) for k in ("points", "consistent"))
    assert data["score"] == float(points * (1 + share))


def test_results_json_for_several_students_is_refused_until_one_is_chosen(cli, tmp_path):
    results = tmp_path / "results.json"
    result = cli("grade", str(KEY), str(SUBMISSIONS), "-o", str(results))
    assert result.code == 2 and "--student" in result.err and not results.exists()
    assert len(result.err.splitlines()) == 1
    result = cli("grade", str(KEY), str(SUBMISSIONS), "-o", str(results), "--student", "bob", "-j", "2")
    assert result.code == 0, result.err
    assert valid_results(results.read_text())["extra_data"]["student"] == "bob"
    result = cli("grade", str(KEY), str(SUBMISSIONS), "--student", "nobody")
    assert result.code == 2 and "nobody" in result.err


# ── one answer at a time ─────────────────────────────────────────────────────────────────

W, X, B, Y = sympy.symbols("w x b y", real=True)
LOSS = (W * X + B - Y) ** 2


def test_question_grades_an_answer_with_a_score_in_0_1_and_feedback():
    from worksheet.assess import Grade, Question

    question = Question("(w*x+b-y)**2", wrt="w")
    right = question.grade(str(sympy.diff(LOSS, W)))
    wrong = question.grade(str(-sympy.diff(LOSS, W)))
    assert right == Grade(1.0, right.feedback, "correct", ())
    assert wrong.score == 0.0 and wrong.verdict == "incorrect" and "sign" in wrong.diagnosis and wrong.feedback
    assert question.judge(str(-sympy.diff(LOSS, W))).diagnosis == wrong.diagnosis
    for nonsense in (None, ["2x"], b"2x", True, "__import__('os')"):
        mark = question.grade(nonsense)
        assert (mark.score, mark.verdict) == (0.0, "invalid") and mark.feedback
    at_point = Question("(w*x+b-y)**2", wrt="w", at="w=1,b=0,x=2,y=4")
    value = sympy.diff(LOSS, W).subs({W: 1, B: 0, X: 2, Y: 4})
    assert at_point.grade(int(value)).score == 1.0 and at_point.grade(float(value) + 0.5).score == 0.0
    model = Question((SAMPLES / "linear_bce.ws").read_text(), wrt="b")
    assert model.grade("(sigmoid(z) - y)/3").score == 1.0 and model.grade("sigmoid(z) - y").score == 0.0


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prairielearn_data(answers: dict) -> dict:
    """A PrairieLearn data dict as grade(data) receives it (its QuestionData keys)."""
    return {"params": {}, "correct_answers": {}, "submitted_answers": answers, "format_errors": {},
            "partial_scores": {}, "score": 0, "feedback": {}, "variant_seed": "1", "options": {},
            "raw_submitted_answers": dict(answers), "editable": True, "panel": "question", "extensions": {},
            "num_valid_submissions": 1}


def test_the_prairielearn_example_grades_a_submission():
    server = _load(EXAMPLES / "prairielearn_server.py", "server")
    data = prairielearn_data({"dL_dw": str(sympy.diff(LOSS, W)), "dL_db": str(sympy.diff(LOSS, W))})
    server.grade(data)
    assert data["partial_scores"]["dL_dw"]["score"] == 1.0  # sympy's ∂L/∂w
    assert data["partial_scores"]["dL_db"]["score"] == 0.0  # ∂L/∂w is not ∂L/∂b
    assert data["score"] == 0.5 and data["feedback"]["dL_db"] == data["partial_scores"]["dL_db"]["feedback"] != ""
    data = prairielearn_data({"dL_db": str(sympy.diff(LOSS, B))})  # dL_dw left empty
    server.grade(data)
    assert data["partial_scores"]["dL_db"]["score"] == 1.0 and data["partial_scores"]["dL_dw"]["score"] == 0.0


def test_the_otter_example_passes_a_right_answer_and_fails_a_wrong_one_with_the_feedback(monkeypatch):
    registered = []

    def test_case(name=None, points=None, hidden=False, success_message=None, failure_message=None):
        def register(function):
            registered.append((function, points))
            return function
        return register

    otter = types.ModuleType("otter")
    otter.test_files = types.ModuleType("otter.test_files")
    otter.test_files.test_case = test_case
    monkeypatch.setitem(sys.modules, "otter", otter)
    monkeypatch.setitem(sys.modules, "otter.test_files", otter.test_files)
    q1 = _load(EXAMPLES / "otter_q1.py", "q1")
    (check, points), = registered
    assert points == q1.points == 2
    check(str(sympy.diff(LOSS, W)))  # passes
    wrong = str(2 * sympy.diff(LOSS, W))
    with pytest.raises(AssertionError) as failed:
        check(wrong)
    assert str(failed.value) == q1.DL_DW.grade(wrong).feedback and "constant_factor" in q1.DL_DW.grade(wrong).diagnosis


def test_the_readme_quotes_the_examples_as_they_are_run():
    readme = (ROOT / "README.md").read_text()
    if "PrairieLearn" not in readme:
        pytest.skip("the README's PrairieLearn / Otter section is not merged yet")
    for example in ("prairielearn_server.py", "otter_q1.py"):
        assert (EXAMPLES / example).read_text() in readme, example
