"""Handouts that teach (issue 15, part 3): each use of a fan-out variable is labelled, the fan-out
sum is a numbered blank of its own (graded with error carried forward), and sigmoid problems
draw many versions, their values rounded to the problem's decimals.

Oracles: sympy.diff of each problem, the sum of the products the manifest records, and sympy's
own evaluation at 60 digits rounded by Python's decimal module (``rounding_oracle``)."""

import csv
import io
import json
import re
from dataclasses import fields, is_dataclass

import pytest
import sympy
from conftest import SAMPLES
from rounding_oracle import digits, rounded_oracle, same_value
from test_blanks import NODES, expected_values

from worksheet.assess.blanks import grade_blanks, load_manifest
from worksheet.assess.rounding import alike, rounded, units
from worksheet.handout import documents
from worksheet.handout.problems import draw, load
from worksheet.terms import Blank, Rounded

SET = SAMPLES / "backprop_set.toml"
w, x, y, b = sympy.symbols("w x y b")
SQUARE_SET = '''title = "Fan-out"
[[problem]]
expression = "(w*w - y)**2"
wrt = "w"
[problem.vary]
w = [-3, 3]
y = [-5, 5]
'''
SQUARE = (w * w - y) ** 2


def _handout(cli, path, out, fmt, variants="3", seed="1"):
    result = cli("handout", str(path), "-o", str(out), "--variants", variants, "--seed", seed, "-f", fmt, "--key")
    assert result.code == 0, result.err
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture
def square_set(tmp_path):
    path = tmp_path / "square.toml"
    path.write_text(SQUARE_SET)
    return path


# ── 1. each use of a fan-out variable is labelled ─────────────────────────────────────────

@pytest.mark.parametrize("fmt, first, second", [
    ("txt", "∂v1/∂w (first use)", "∂v1/∂w (second use)"),
    ("md", r"\frac{\partial v_{1}}{\partial w}\,\text{(first use)}", r"\,\text{(second use)}"),
    ("tex", r"\frac{\partial v_{1}}{\partial w}\,\text{(first use)}", r"\,\text{(second use)}"),
    ("typ", 'frac(partial v_1, partial w) thin "(first use)"', '"(second use)"'),
])
def test_each_use_of_w_in_w_times_w_is_labelled_on_the_sheet_and_the_key(cli, square_set, tmp_path, fmt, first,
                                                                        second):
    _handout(cli, square_set, tmp_path, fmt, variants="1")
    for name in (f"square-v01.{fmt}", f"square-v01-key.{fmt}"):
        text = (tmp_path / name).read_text()
        assert first in text and second in text, name


def test_no_two_steps_of_the_sheet_read_alike(cli, square_set, tmp_path):
    """The sheet's backward steps, blanks taken out: every line differs from every other."""
    _handout(cli, square_set, tmp_path, "txt", variants="1")
    sheet = (tmp_path / "square-v01.txt").read_text()
    backward = sheet.split("Backward pass")[1].split("Result")[0]
    steps = [re.sub(r"\(\d+\)_+", "__", line.strip()) for line in backward.splitlines() if "∂" in line]
    steps = [s for s in steps if s.startswith("∂")]
    assert len(steps) >= 5 and len(set(steps)) == len(steps), steps


def test_the_worksheet_labels_each_use_where_two_steps_would_read_alike(cli):
    out = cli("derive", "w*w", "--at", "w=3", "-f", "txt").out
    assert "∂(w·w)/∂w (first use) = w = 3" in out and "∂(w·w)/∂w (second use) = w = 3" in out
    assert "∂L/∂w = ∂(w·w)/∂w (first use) + ∂(w·w)/∂w (second use) = 2w = 3 + 3 = 6" in out
    out = cli("derive", "w*x + w*w", "--wrt", "w", "--at", "w=3,x=2", "-f", "txt").out
    assert "∂L/∂v1 · ∂v1/∂w = 1 · x" in out  # v1 uses w once: no label
    assert "∂L/∂v2 · ∂v2/∂w (first use) = 1 · w" in out and "∂L/∂v2 · ∂v2/∂w (second use) = 1 · w" in out
    backward = json.loads(cli("derive", "w*w", "--at", "w=3", "-f", "json").out)["backward"]
    assert sorted(s["position"] for s in backward) == [0, 1]  # the JSON tells the uses apart by position


def test_a_models_two_uses_are_labelled(cli, tmp_path):
    program = tmp_path / "square.ws"
    program.write_text("param w = [1, 2]\nL = sum(w*w)\n")
    out = cli("derive", str(program), "-f", "txt").out
    assert "∂L/∂v1 · ∂v1/∂w (first use) = ∂L/∂v1 ⊙ w" in out and "(second use) = ∂L/∂v1 ⊙ w" in out


# ── 2. the fan-out sum is a numbered blank of its own ─────────────────────────────────────

def _of_kind(problem, kind, **match):
    return [n for n, q in problem["quantities"].items() if q["kind"] == kind and all(q.get(k) == v for k, v in match.items())]


def test_the_fan_out_sum_is_its_own_blank_with_the_value_of_sympy_diff(cli, square_set, tmp_path):
    manifest = _handout(cli, square_set, tmp_path, "txt", variants="5")
    for variant in manifest["variants"]:
        problem = variant["problems"][0]
        point = {sympy.Symbol(k): sympy.Rational(v) for k, v in problem["inputs"].items()}
        expected = sympy.diff(SQUARE, w).subs(point)
        (total,) = _of_kind(problem, "sum", node="w")
        products = _of_kind(problem, "product", input="w")
        (gradient,) = _of_kind(problem, "gradient")
        assert len(products) == 2 and int(products[-1]) < int(total) < int(gradient)
        assert sympy.Rational(problem["blanks"][total]) == expected
        assert sum(sympy.Rational(problem["blanks"][p]) for p in products) == expected
        assert sympy.Rational(problem["blanks"][gradient]) == expected
    sheet = (tmp_path / "square-v01.txt").read_text()
    assert "Input w, used twice: its paths add up." in sheet
    assert re.search(r"∂L/∂w = ∂L/∂v1 · ∂v1/∂w \(first use\) \+ ∂L/∂v1 · ∂v1/∂w \(second use\) = "
                     rf"\({total}\)_+", (tmp_path / "square-v05.txt").read_text())


def test_the_sample_programs_sum_adds_the_three_paths_of_w(cli, tmp_path):
    """Problem 3, y_pred = w*x + w*w: ∂L/∂w = sympy.diff = the sum of the three product blanks."""
    manifest = _handout(cli, SET, tmp_path, "txt", variants="4", seed="2")
    formula = (w * x + w * w - y) ** 2
    for variant in manifest["variants"]:
        problem = variant["problems"][2]
        point = {sympy.Symbol(k): sympy.Rational(v) for k, v in problem["inputs"].items()}
        (total,) = _of_kind(problem, "sum", node="w")
        products = _of_kind(problem, "product", input="w")
        assert len(products) == 3
        assert sympy.Rational(problem["blanks"][total]) == sympy.diff(formula, w).subs(point)
        assert sum(sympy.Rational(problem["blanks"][p]) for p in products) == sympy.diff(formula, w).subs(point)


def test_grade_carries_a_wrong_path_forward_into_the_sum_and_the_result(cli, square_set, tmp_path):
    manifest = _handout(cli, square_set, tmp_path / "out", "md", variants="1", seed="4")
    problem = manifest["variants"][0]["problems"][0]
    keys = {n: sympy.Rational(v) for n, v in problem["blanks"].items()}
    first_local = _of_kind(problem, "local", node="v1", position=0)[0]
    first, second = _of_kind(problem, "product", input="w")
    (total,) = _of_kind(problem, "sum", node="w")
    (gradient,) = _of_kind(problem, "gradient")
    answers = dict(keys)
    answers[first_local] = keys[first_local] + 1  # ∂v1/∂w (first use) one off
    answers[first] = keys[first] + keys[_of_kind(problem, "upstream", node="v1", position=0)[0]]  # its product
    answers[total] = answers[gradient] = answers[first] + keys[second]  # the sum of their own products
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,question,answer\n" + "".join(f"ann,{n},{v}\n" for n, v in answers.items()))
    result = cli("grade", str(tmp_path / "out" / "manifest.json"), str(submissions))
    assert result.code == 0, result.err
    verdicts = {r["question"]: r for r in csv.DictReader(io.StringIO(result.out))}
    assert verdicts[first_local]["verdict"] == "incorrect"
    assert verdicts[first]["verdict"] == "consistent" and f"({first_local})" in verdicts[first]["feedback"]
    assert verdicts[total]["verdict"] == "consistent" and f"({first})" in verdicts[total]["feedback"]
    assert verdicts[gradient]["verdict"] == "consistent" and f"({total})" in verdicts[gradient]["feedback"]
    assert {verdicts[n]["verdict"] for n in keys if n not in (first_local, first, total, gradient)} == {"correct"}
    answers[total] = answers[first] + keys[second] + 1  # not the sum of anything they wrote
    marks = grade_blanks(load_manifest(tmp_path / "out" / "manifest.json").variants[0].problems[0],
                         {n: str(v) for n, v in answers.items()})
    assert marks[total].verdict == "incorrect"


# ── 3. nice numbers for sigmoid problems beyond the zero point ───────────────────────────

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sigmoid_problem_draws_many_distinct_versions(seed):
    variants = draw(load(SET), 40, seed)
    points = {tuple(sorted((k, str(v)) for k, v in variant[1].inputs.items())) for variant in variants}
    assert len(points) >= 30
    zs = {variant[1].inputs["w"] * variant[1].inputs["x"] + variant[1].inputs["b"] for variant in variants}
    assert len(zs) >= 8  # not only w·x + b = 0


def _blanks(blocks):
    """Every Blank term in a sheet's blocks, wherever it sits (tables, equations, chains)."""
    stack, found = list(blocks), []
    while stack:
        item = stack.pop()
        if isinstance(item, Blank):
            found.append(item)
        elif is_dataclass(item):
            stack.extend(getattr(item, f.name) for f in fields(item))
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
    return sorted(found, key=lambda blank: blank.number)


def test_each_rounded_key_value_is_the_oracle_rounded_and_the_manifest_keeps_it_exact(cli, tmp_path):
    manifest = _handout(cli, SET, tmp_path, "txt", variants="12", seed="9")
    problem_set = load(SET)
    rounded_blanks = 0
    for data, variant in zip(manifest["variants"], draw(problem_set, 12, 9)):
        problem = data["problems"][1]
        truth = expected_values(problem, NODES[2])
        key = (tmp_path / f"backprop_set-{data['id']}-key.txt").read_text()
        _, key_document, _ = documents(problem_set, variant, data["id"], 9)
        for blank in _blanks(key_document.blocks):
            n = str(blank.number)
            if n not in problem["blanks"]:
                continue  # another problem's
            assert same_value(problem["blanks"][n], truth[n])  # the manifest: the exact value
            places = problem["quantities"][n].get("decimals")
            if places is None:
                assert truth[n].is_Rational and not isinstance(blank.value, Rounded)
                continue
            rounded_blanks += 1
            assert places == 4 and isinstance(blank.value, Rounded)
            assert blank.value.text == rounded_oracle(truth[n], 4), (n, digits(truth[n], 20))
            assert blank.value.text.replace("-", "−") in key  # printed as is, trailing zeros kept
    assert rounded_blanks >= 50


def test_grade_accepts_the_rounded_value_and_refuses_a_wrong_one(cli, tmp_path):
    manifest = _handout(cli, SET, tmp_path, "md", variants="3", seed="5")
    checked = 0
    for data in manifest["variants"]:
        problem = data["problems"][1]
        truth = expected_values(problem, NODES[2])
        rounded_ones = [n for n, q in problem["quantities"].items() if "decimals" in q]
        if not rounded_ones:
            continue  # w·x + b = 0: every value exact
        right = {n: rounded_oracle(truth[n], 4) for n in rounded_ones}
        marks = grade_blanks(problem, right)
        assert {marks[n].verdict for n in rounded_ones} == {"correct"}
        for n in rounded_ones:
            checked += 1
            value = sympy.Rational(right[n])
            more = grade_blanks(problem, {n: digits(truth[n], 9)})[n]  # more digits than asked
            off = grade_blanks(problem, {n: str(value + sympy.Rational(3, 10**4))})[n]  # three units off
            short = grade_blanks(problem, {n: rounded_oracle(truth[n], 2)})[n]  # two places, not four
            assert more.verdict == "correct" and off.verdict == "incorrect", (right[n], off)
            if rounded_oracle(truth[n], 2) != right[n].rstrip("0").rstrip("."):
                assert short.verdict == "incorrect" and "give 4 decimal places" in short.feedback
    assert checked >= 10


def test_grade_of_a_rounded_blank_from_the_command_line(cli, tmp_path):
    manifest = _handout(cli, SET, tmp_path / "out", "md", variants="1", seed="6")
    problem = manifest["variants"][0]["problems"][1]
    truth = expected_values(problem, NODES[2])
    n = next(n for n, q in problem["quantities"].items() if "decimals" in q)
    good, bad = rounded_oracle(truth[n], 4), str(sympy.Rational(rounded_oracle(truth[n], 4)) + sympy.Rational(1, 10))
    submissions = tmp_path / "s.csv"
    submissions.write_text(f"student,question,answer\nann,{n},{good}\nbob,{n},{bad}\n")
    rows = list(csv.DictReader(io.StringIO(cli("grade", str(tmp_path / "out" / "manifest.json"),
                                               str(submissions)).out)))
    assert [r["verdict"] for r in rows] == ["correct", "incorrect"]
    assert good not in rows[1]["feedback"]  # never the key's value


def test_a_tanh_problem_without_decimals_is_rounded_to_the_default(cli, tmp_path):
    path = tmp_path / "tanh.toml"
    path.write_text('[[problem]]\nexpression = "(tanh(w*x) - y)**2"\nwrt = "w"\n'
                    "[problem.vary]\nw = [-2, 2]\nx = [1, 2]\ny = [0, 1]\n")
    manifest = _handout(cli, path, tmp_path / "out", "txt", variants="6", seed="3")
    formula = (sympy.tanh(w * x) - y) ** 2
    rounded_variants = 0
    for data in manifest["variants"]:
        problem = data["problems"][0]
        point = {sympy.Symbol(k): sympy.Rational(v) for k, v in problem["inputs"].items()}
        assert same_value(problem["answers"]["w"], sympy.diff(formula, w).subs(point))
        sheet = " ".join((tmp_path / "out" / f"tanh-{data['id']}.txt").read_text().split())
        if problem["inputs"]["w"] != "0":  # tanh(w·x) is exact only at 0
            rounded_variants += 1
            assert {q.get("decimals") for q in problem["quantities"].values()} == {None, 4}
            assert "Write a value that is not exact rounded to 4 decimal places" in sheet
        else:
            assert "decimal places" not in sheet
    assert rounded_variants >= 3


@pytest.mark.parametrize("value", [
    1 / (1 + sympy.exp(-1)), -1 / (1 + sympy.exp(sympy.Rational(-3, 2))), sympy.exp(-5), sympy.log(3),
    sympy.tanh(sympy.Rational(1, 2)) ** 2 * 1000, -sympy.pi / 7, sympy.Rational(1, 3), sympy.Rational(-2, 3),
    sympy.Rational(1, 20000), sympy.Rational(-1, 20000), sympy.Rational(123456789, 10**5),
    sympy.Rational(12345, 10**5) + sympy.pi * sympy.Rational(1, 10**40),  # a hair above a tie
    sympy.Rational(12345, 10**5) - sympy.pi * sympy.Rational(1, 10**40),  # a hair below it
])
@pytest.mark.parametrize("places", [1, 4, 8])
def test_rounding_is_the_oracle_half_away_from_zero(value, places):
    assert rounded(value, places) == rounded_oracle(value, places)


def test_an_answer_rounds_alike_or_is_one_unit_off_when_written_to_all_places():
    sigma = 1 / (1 + sympy.exp(-1))  # 0.731058…
    for text, verdict in [("0.7311", True), ("0.73106", True), ("0.7310", True), ("0.7312", True),
                          ("0.7313", False), ("0.731", False), ("0.73", False), ("1/2", False)]:
        assert alike(sympy.Rational(text), sigma, 4, text) is verdict, text
    assert units(sympy.Rational(-1, 20000), 4) == -1 and units(sympy.Rational(1, 20000), 4) == 1
