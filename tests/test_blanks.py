"""Grading a handout's blanks one by one, with error carried forward (worksheet.assess.blanks).

The oracle is independent of the module: each problem's nodes are written here as sympy
lambdas of their arguments; forward values, local derivatives (``sympy.diff``) and the reverse
sweep are computed here, optionally from a student's wrong forward value.
"""

import json
from fractions import Fraction

import pytest
import sympy
from conftest import SAMPLES
from rounding_oracle import rounded_oracle, same_value

from worksheet.assess import blanks
from worksheet.assess.blanks import Policy, grade_blanks, load_manifest
from worksheet.errors import WorksheetError

SET = SAMPLES / "backprop_set.toml"
A, B = sympy.symbols("A B")

# name → (function of the arguments, argument names or numbers): the graphs the user wrote
NODES = {
    1: [("v1", lambda a, b: a * b, ["w", "x"]), ("v2", lambda a, b: a + b, ["v1", "b"]),
        ("v3", lambda a, b: a - b, ["v2", "y"]), ("L", lambda a: a**2, ["v3"])],
    2: [("v1", lambda a, b: a * b, ["w", "x"]), ("v2", lambda a, b: a + b, ["v1", "b"]),
        ("v3", lambda a: 1 / (1 + sympy.exp(-a)), ["v2"]), ("v4", lambda a, b: a - b, ["v3", "y"]),
        ("L", lambda a: a**2, ["v4"])],
    3: [("v1", lambda a, b: a * b, ["w", "x"]), ("v2", lambda a, b: a * b, ["w", "w"]),
        ("y_pred", lambda a, b: a + b, ["v1", "v2"]), ("v3", lambda a, b: a - b, ["y_pred", "y"]),
        ("L", lambda a: a**2, ["v3"])],
}
FANOUT_NODES = [("v1", lambda a, b: a * b, ["w", "x"]), ("h", lambda a, b: a + b, ["v1", "b"]),
                ("L", lambda a, b: a * b, ["h", "h"])]
FANOUT_SET = '''title = "Fan-out"
{grading}
[[problem]]
program = """
h = w*x + b
L = h*h
"""
wrt = "w,b"
[problem.vary]
w = [-3, 3]
x = [1, 3]
b = [-2, 2]
'''


def oracle(nodes, inputs, wrt, override=None):
    """Every quantity's value, by descriptor identity; ``override``: (node, a wrong forward value)
    that the student carries forward consistently."""
    symbols = [sympy.Symbol(f"a{i}") for i in range(2)]
    forward = {k: sympy.Rational(v) for k, v in inputs.items()}
    out = {}
    for name, f, args in nodes:
        forward[name] = settled(f(*[forward[a] for a in args]))
        if override and override[0] == name:
            forward[name] = sympy.Rational(override[1])
        out[("forward", name)] = forward[name]
    target = nodes[-1][0]
    grad = {target: sympy.Integer(1)}
    for name, f, args in reversed(nodes):
        if name not in grad:
            continue
        up = grad[name]
        for i, arg in enumerate(args):
            local = sympy.diff(f(*symbols[:len(args)]), symbols[i]).subs(
                dict(zip(symbols, [forward[a] for a in args])))
            local = settled(local)
            key = (name, arg, i)
            out[("local", *key)], out[("upstream", *key)], out[("product", *key)] = local, up, up * local
            grad[arg] = grad.get(arg, 0) + up * local
    for name in grad:
        out[("sum", name)] = grad[name]
    for name in wrt:
        out[("gradient", name)] = grad.get(name, sympy.Integer(0))
    return out


def settled(x):
    """A rational as sympy's exact rational; σ(1)'s closed form left as it is."""
    return sympy.nsimplify(x) if x.is_rational else x


def identity(q):
    return (q["kind"], *(q[k] for k in ("node", "input", "position", "wrt") if k in q))


def handout(cli, out, toml=SET, variants="2", seed="7"):
    result = cli("handout", str(toml), "-o", str(out), "--variants", variants, "--seed", seed, "-f", "md")
    assert result.code == 0, result.err
    return out / "manifest.json"


@pytest.fixture
def manifest_path(cli, tmp_path):
    return handout(cli, tmp_path)


@pytest.fixture
def fanout_path(cli, tmp_path):
    (tmp_path / "set.toml").write_text(FANOUT_SET.format(grading="[grading]\npoints = 2\nconsistent = 0.5"))
    return handout(cli, tmp_path / "out", tmp_path / "set.toml", variants="3", seed="1")


def expected_values(problem, nodes, override=None):
    values = oracle(nodes, problem["inputs"], problem["wrt"], override)
    return {n: values[identity(q)] for n, q in problem["quantities"].items()}


def test_manifest_describes_every_blank_and_its_value_matches_the_oracle(manifest_path):
    data = json.loads(manifest_path.read_text())
    assert data["policy"] == {"points": 1, "consistent": 1}
    for variant in data["variants"]:
        for number, problem in enumerate(variant["problems"], start=1):
            assert problem["problem"] == number and problem["wrt"]
            assert set(problem["quantities"]) == set(problem["blanks"])
            for n, value in expected_values(problem, NODES[number]).items():
                assert same_value(problem["blanks"][n], value), (number, n, problem["quantities"][n])
    assert data["variants"][0]["problems"][2]["source"] == "y_pred = w*x + w*w\nL = (y_pred - y)**2\n"


def test_all_correct_answers_are_correct(manifest_path, fanout_path):
    for path in (manifest_path, fanout_path):
        manifest = load_manifest(path)
        for variant in manifest.variants:
            for problem in variant.problems:
                marks = grade_blanks(problem, problem["blanks"], manifest.policy)
                assert list(marks) == sorted(problem["blanks"], key=int)
                assert {m.verdict for m in marks.values()} == {"correct"}
                assert all(m.credit == 1 and m.expected == problem["blanks"][n] for n, m in marks.items())
    # equivalent forms of the numbers count too: a fraction, an integer written 3.0, and (the
    # sigmoid problem's values that cannot be exact) the value rounded to the problem's decimals
    for problem in load_manifest(manifest_path).variants[0].problems:
        truth = expected_values(problem, NODES[problem["problem"]])
        answers = {}
        for n, v in problem["blanks"].items():
            places = problem["quantities"][n].get("decimals")
            answers[n] = rounded_oracle(truth[n], places) if places else f"({v})*2/2" if "/" in v else f"{v}.0"
        assert {m.verdict for m in grade_blanks(problem, answers).values()} == {"correct"}, answers


def _carried_forward(problem, nodes, wrong_node, policy=Policy()):
    """The student writes a wrong forward value of ``wrong_node`` and works on from it."""
    truth = expected_values(problem, nodes)
    wrong = truth[next(n for n, q in problem["quantities"].items() if q == {"kind": "forward", "node": wrong_node})] + 1
    ecf = expected_values(problem, nodes, override=(wrong_node, wrong))
    answers = {n: str(v) for n, v in ecf.items()}
    return truth, ecf, answers, grade_blanks(problem, answers, policy)


@pytest.mark.parametrize("number, wrong_node", [(1, "v1"), (1, "v3"), (3, "v2"), (3, "v1")])
def test_a_wrong_forward_value_carried_forward_is_consistent(manifest_path, number, wrong_node):
    problem = load_manifest(manifest_path).variants[0].problems[number - 1]
    truth, ecf, answers, marks = _carried_forward(problem, NODES[number], wrong_node)
    first = next(n for n, q in problem["quantities"].items() if q == {"kind": "forward", "node": wrong_node})
    assert marks[first].verdict == "incorrect" and marks[first].credit == 0
    assert wrong_node in marks[first].feedback and problem["blanks"][first] not in marks[first].feedback.split()
    for n, mark in marks.items():
        if n == first:
            continue
        if ecf[n] == truth[n]:
            assert mark.verdict == "correct", (n, problem["quantities"][n])
        else:
            assert mark.verdict == "consistent", (n, problem["quantities"][n], mark)
            assert mark.credit == 1 and "follows correctly from your value" in mark.feedback
    verdicts = [m.verdict for m in marks.values()]
    assert verdicts.count("consistent") >= 3 and "correct" in verdicts


def test_fan_out_gradient_is_the_sum_of_the_students_paths(manifest_path):
    """Problem 3: w feeds v1 once and v2 twice; ∂L/∂w = the sum of the three products is a blank
    of its own, and the result's ∂L/∂w follows from it."""
    problem = load_manifest(manifest_path).variants[0].problems[2]
    q = problem["quantities"]
    truth = expected_values(problem, NODES[3])
    products = [n for n, d in q.items() if d["kind"] == "product" and d["input"] == "w"]
    total = next(n for n, d in q.items() if d == {"kind": "sum", "node": "w"})
    gradient = next(n for n, d in q.items() if d["kind"] == "gradient")
    assert len(products) == 3 and int(products[-1]) < int(total) < int(gradient)
    assert truth[total] == sum(truth[p] for p in products) == truth[gradient]
    answers = {n: str(v) for n, v in truth.items()}
    answers[products[1]] = str(truth[products[1]] + 5)  # one wrong path
    answers[total] = answers[gradient] = str(sum(truth[p] for p in products) + 5)  # summed correctly from it
    marks = grade_blanks(problem, answers)
    assert marks[products[1]].verdict == "incorrect"
    assert marks[total].verdict == "consistent" and f"({products[1]})" in marks[total].feedback
    assert marks[gradient].verdict == "consistent" and f"({total})" in marks[gradient].feedback
    answers[total] = str(sum(truth[p] for p in products) + 6)  # neither the key nor from their values
    assert grade_blanks(problem, answers)[total].verdict == "incorrect"


def test_sum_blanks_and_policy_from_the_grading_table(fanout_path):
    data = json.loads(fanout_path.read_text())
    assert data["policy"] == {"points": 2, "consistent": 0.5}
    manifest = load_manifest(fanout_path)
    assert manifest.policy == Policy(Fraction(2), Fraction(1, 2))
    checked = 0
    for variant in manifest.variants:
        problem = variant.problems[0]
        sums = [n for n, d in problem["quantities"].items() if d["kind"] == "sum"]
        assert sums and all(problem["quantities"][n]["node"] == "h" for n in sums)
        for n, v in expected_values(problem, FANOUT_NODES).items():
            assert sympy.Rational(problem["blanks"][n]) == v
        truth, ecf, answers, marks = _carried_forward(problem, FANOUT_NODES, "h", manifest.policy)
        for n in sums:
            if ecf[n] != truth[n]:
                checked += 1
                assert marks[n].verdict == "consistent" and marks[n].credit == Fraction(1, 2)
        earned, possible = blanks.score(marks, manifest.policy)
        assert possible == 2 * len(marks) and earned < possible
        # a wrong local derivative into the sum: the sum of the student's products is consistent
        answers = {n: str(v) for n, v in truth.items()}
        locals_ = [n for n, d in problem["quantities"].items() if d["kind"] == "local" and d["node"] == "L"]
        answers[locals_[0]] = str(truth[locals_[0]] + 1)
        answers[sums[0]] = str(truth[sums[0]] + 1)
        marks = grade_blanks(problem, answers, manifest.policy)
        assert marks[locals_[0]].verdict == "incorrect" and marks[sums[0]].verdict == "consistent"
    assert checked


def test_a_wrong_value_that_is_not_carried_forward_is_incorrect(manifest_path):
    problem = load_manifest(manifest_path).variants[0].problems[0]
    truth, ecf, answers, _ = _carried_forward(problem, NODES[1], "v1")
    v2 = next(n for n, q in problem["quantities"].items() if q == {"kind": "forward", "node": "v2"})
    answers[v2] = str(ecf[v2] + 3)
    marks = grade_blanks(problem, answers)
    assert marks[v2].verdict == "incorrect" and "forward value of v2" in marks[v2].feedback
    assert problem["blanks"][v2] not in marks[v2].feedback.split()
    # the blanks after it now carry the student's v2 forward
    v3 = next(n for n, q in problem["quantities"].items() if q == {"kind": "forward", "node": "v3"})
    assert marks[v3].verdict == "incorrect"
    answers[v3] = str(ecf[v2] + 3 - sympy.Rational(problem["inputs"]["y"]))
    mark = grade_blanks(problem, answers)[v3]
    assert mark.verdict == "consistent" and f"({v2})" in mark.feedback


def test_rounded_too_far_says_so():
    problem = {"inputs": {"x": "1"}, "blanks": {"1": "0.2346", "2": "-8"}}  # an older entry: no ECF
    marks = grade_blanks(problem, {"1": "0.23", "2": "-8.0"})
    assert marks["1"].verdict == "incorrect" and "significant digits" in marks["1"].feedback
    assert "0.2346" not in marks["1"].feedback and marks["2"].verdict == "correct"
    assert grade_blanks(problem, {"1": "0.235"})["1"].verdict == "correct"


@pytest.mark.parametrize("text, verdict", [
    ("diff(x)", "invalid"), ("__import__('os')", "invalid"), ("1/0", "invalid"), ("", "unanswered"),
    ("   ", "unanswered"), ("[1, 2]", "invalid"), ("x", "invalid"), ("9**9**9", "invalid"),
    ("(" * 500 + "1" + ")" * 500, "invalid"), ("1" * 30000, "invalid"), ("lambda: 0", "invalid"),
    ("0e999999999", "incorrect"), ("1e999999999", "invalid"), ("exp(exp(exp(20)))", "invalid"),
])
def test_garbage_answers_are_marked_never_raised(manifest_path, text, verdict):
    problem = load_manifest(manifest_path).variants[0].problems[0]
    marks = grade_blanks(problem, {"1": text, "5": text})
    for n in ("1", "5"):
        assert marks[n].verdict == verdict and marks[n].credit == 0
        assert "\n" not in marks[n].feedback and marks[n].feedback
    assert marks["2"].verdict == "unanswered"


def test_non_text_answers_are_invalid(manifest_path):
    problem = load_manifest(manifest_path).variants[0].problems[0]
    marks = grade_blanks(problem, {"1": 5, "2": None})
    assert marks["1"].verdict == "invalid" and marks["2"].verdict == "unanswered"


def test_old_manifest_without_the_new_keys_grades_against_the_key(manifest_path, tmp_path):
    data = json.loads(manifest_path.read_text())
    del data["policy"]
    for variant in data["variants"]:
        for problem in variant["problems"]:
            for key in ("problem", "source", "wrt", "quantities"):
                del problem[key]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    manifest = load_manifest(old)
    assert manifest.policy == Policy()
    new_problem = load_manifest(manifest_path).variants[0].problems[0]
    truth, ecf, answers, new_marks = _carried_forward(new_problem, NODES[1], "v1")
    marks = grade_blanks(manifest.variants[0].problems[0], answers, manifest.policy)
    assert "consistent" in {m.verdict for m in new_marks.values()}
    for n, mark in marks.items():
        assert mark.verdict == ("correct" if ecf[n] == truth[n] else "incorrect"), n
        assert "\n" not in mark.feedback


def test_blanks_without_a_quantity_are_compared_with_the_key(manifest_path):
    problem = json.loads(manifest_path.read_text())["variants"][0]["problems"][0]
    del problem["quantities"]["2"]
    truth, ecf, answers, _ = _carried_forward(load_manifest(manifest_path).variants[0].problems[0], NODES[1], "v1")
    marks = grade_blanks(problem, answers)
    assert marks["2"].verdict == "incorrect" and marks["2"].feedback == "blank (2) is not right: check it."
    assert marks["3"].verdict == "incorrect"  # blank (2) is not known to be v2: v3 = v2 − y at the true v2
    assert marks["4"].verdict == "consistent" and "(3)" in marks["4"].feedback  # L = v3² from the student's v3


def _mutated(path, change):
    data = json.loads(path.read_text())
    change(data)
    return data


def _problem(data):
    return data["variants"][1]["problems"][0]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(schema="other/1"), "manifest.json: schema: expected"),
    (lambda d: d.update(variants={}), "manifest.json: variants: expected a list"),
    (lambda d: d.update(seed="7"), "manifest.json: seed: expected an integer"),
    (lambda d: d.update(policy={"points": 0}), "manifest.json: policy.points: expected a positive number"),
    (lambda d: d.update(policy={"consistent": 2}), "manifest.json: policy.consistent: expected a number from 0 to 1"),
    (lambda d: d.update(policy={"consistent": True}), "manifest.json: policy.consistent: expected a number"),
    (lambda d: _problem(d).update(blanks=["1"]), "manifest.json: variants[1].problems[0].blanks: expected an object"),
    (lambda d: _problem(d)["blanks"].update({"1": 5}), "manifest.json: variants[1].problems[0].blanks.1: expected"),
    (lambda d: _problem(d)["blanks"].update({"x1": "5"}), "variants[1].problems[0].blanks: 'x1' is not a blank"),
    (lambda d: _problem(d).update(inputs={"os.system": "1"}), "variants[1].problems[0].inputs: 'os.system'"),
    (lambda d: _problem(d).update(wrt="w"), "variants[1].problems[0].wrt: expected a list"),
    (lambda d: _problem(d).update(source=["x"]), "variants[1].problems[0].source: expected a non-empty text"),
    (lambda d: _problem(d)["quantities"].update({"1": {"kind": "eval"}}),
     "variants[1].problems[0].quantities.1.kind: expected one of"),
    (lambda d: _problem(d)["quantities"].update({"5": {**_problem(d)["quantities"]["5"], "position": "0"}}),
     "variants[1].problems[0].quantities.5.position: expected"),
    (lambda d: _problem(d)["quantities"].update({"999": {"kind": "forward", "node": "v1"}}),
     "variants[1].problems[0].quantities: '999' is not a blank"),
    (lambda d: _problem(d).update(problem=True), "variants[1].problems[0].problem: expected a positive integer"),
    (lambda d: d["variants"].extend([d["variants"][0]] * 600), "manifest.json: variants: more than 500"),
])
def test_hostile_manifests_are_refused_in_one_line(manifest_path, tmp_path, change, message):
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps(_mutated(manifest_path, change)))
    with pytest.raises(WorksheetError) as error:
        load_manifest(bad)
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ('{"schema": NaN}', "not valid JSON"),
    ("\xff\xfe", "not UTF-8"),
    ("[]", "expected an object"),
    ('{"a": 1' + "0" * 5000 + "}", "not valid JSON"),
])
def test_hostile_manifest_texts_are_refused_in_one_line(tmp_path, text, message):
    bad = tmp_path / "manifest.json"
    bad.write_bytes(text.encode("latin-1"))
    with pytest.raises(WorksheetError) as error:
        load_manifest(bad)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_huge_manifest_is_refused_before_reading(manifest_path, monkeypatch, tmp_path):
    from worksheet.assess import manifest

    monkeypatch.setattr(manifest, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(WorksheetError, match="larger than 1,000 bytes"):
        load_manifest(manifest_path)
    with pytest.raises(WorksheetError, match="no-such"):
        load_manifest(tmp_path / "no-such.json")


@pytest.mark.parametrize("change, message", [
    (lambda p: p["blanks"].update({"1": "__import__('os')"}), "problem 1.blanks.1: the key's value is not a number"),
    (lambda p: p["blanks"].update({"1": "77"}), "quantities.1: the key of blank (1) is not the value"),
    (lambda p: p["quantities"].update({"1": {"kind": "forward", "node": "zz"}}), "quantities.1: no such forward"),
    (lambda p: p.update(source="__import__('os')"), "problem 1.source: its source does not rebuild"),
    (lambda p: p.update(source="(w*x+b-y)**2 * " * 3000 + "1"), "problem 1.source: its source does not rebuild"),
    (lambda p: p.update(source="data v = [1, 2]\nL = sum(v*w) + (w*x+b-y)**2"), "quantities.1: the key of blank (1) is not the value of its quantity"),
])
def test_tampered_problems_are_refused_at_grading(manifest_path, change, message):
    problem = json.loads(manifest_path.read_text())["variants"][0]["problems"][0]
    change(problem)
    with pytest.raises(WorksheetError) as error:
        grade_blanks(problem, {"1": "1"})
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_zero_consistent_share(cli, tmp_path):
    (tmp_path / "set.toml").write_text(FANOUT_SET.format(grading="[grading]\nconsistent = 0"))
    manifest = load_manifest(handout(cli, tmp_path / "out", tmp_path / "set.toml", variants="1"))
    assert manifest.policy == Policy(Fraction(1), Fraction(0))
    problem = manifest.variants[0].problems[0]
    _, _, _, marks = _carried_forward(problem, FANOUT_NODES, "v1", manifest.policy)
    consistent = [m for m in marks.values() if m.verdict == "consistent"]
    assert consistent and all(m.credit == 0 for m in consistent)


@pytest.mark.parametrize("grading, message", [
    ("grading = 3", "set.toml: grading: expected a table"),
    ("[grading]\npoints = 0", "set.toml: grading.points: expected a positive number"),
    ("[grading]\npoints = -1.5", "set.toml: grading.points: expected a positive number"),
    ('[grading]\npoints = "2"', "set.toml: grading.points: expected a number"),
    ("[grading]\nconsistent = 1.5", "set.toml: grading.consistent: expected a number from 0 to 1"),
    ("[grading]\nconsistent = true", "set.toml: grading.consistent: expected a number"),
    ("[grading]\nconsistent = nan", "set.toml: grading.consistent: expected a finite number"),
    ("[grading]\ncolour = 1", "set.toml: grading: unknown key 'colour'"),
])
def test_bad_grading_tables_fail_in_one_line(cli, tmp_path, monkeypatch, grading, message):
    monkeypatch.chdir(tmp_path)
    text = FANOUT_SET.format(grading=grading)
    if not grading.startswith("["):  # a plain key must come before the first table
        text = grading + "\n" + FANOUT_SET.format(grading="")
    (tmp_path / "set.toml").write_text(text)
    result = cli("handout", "set.toml", "--variants", "1", "-f", "md", "-o", "out")
    assert result.code == 2
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert not (tmp_path / "out").exists()


def test_undefined_expectation_is_incorrect_not_an_error(cli, tmp_path):
    (tmp_path / "set.toml").write_text('[[problem]]\nexpression = "w/(x-y)"\nwrt = "w"\nat = "x=3,y=1"\n'
                                       '[problem.vary]\nw = [1, 3]\n')
    problem = load_manifest(handout(cli, tmp_path / "out", tmp_path / "set.toml", variants="1")).variants[0].problems[0]
    blank = {(q["kind"], q.get("node")): n for n, q in problem["quantities"].items()}
    answers = {n: "7" for n in problem["blanks"]}
    answers[blank["forward", "v1"]] = "0"  # the student's x − y is 0: w/(x − y) and its derivative are undefined
    marks = grade_blanks(problem, answers)
    for key in [("forward", "v1"), ("forward", "L"), ("local", "L")]:
        assert marks[blank[key]].verdict == "incorrect", key
    assert marks[blank["gradient", None]].verdict == "consistent"  # ∂L/∂w is their local derivative, 7
