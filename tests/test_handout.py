"""worksheet handout: problem sets in TOML → student sheets with numbered blanks, keys, a manifest."""

import csv
import io
import json
import re
import shutil
import subprocess
from fractions import Fraction

import pytest
import sympy
from conftest import SAMPLES, latex_available
from rounding_oracle import same_value

SET = SAMPLES / "backprop_set.toml"

# the sample set's problems, written independently for sympy (trusted test text, not user input)
w, b, x, y = sympy.symbols("w b x y")
ORACLE = [
    (w * x + b - y) ** 2,
    (1 / (1 + sympy.exp(-(w * x + b))) - y) ** 2,
    (w * x + w * w - y) ** 2,
]


def _handout(cli, out, *options):
    result = cli("handout", str(SET), "-o", str(out), *options)
    assert result.code == 0, result.err
    return json.loads((out / "manifest.json").read_text())


def test_manifest_answers_match_sympy(cli, tmp_path):
    manifest = _handout(cli, tmp_path, "--variants", "3", "--seed", "7", "-f", "md")
    assert manifest["seed"] == 7 and [v["id"] for v in manifest["variants"]] == ["v01", "v02", "v03"]
    for variant in manifest["variants"]:
        assert len(variant["problems"]) == len(ORACLE)
        for formula, problem in zip(ORACLE, variant["problems"]):
            point = {sympy.Symbol(k): sympy.Rational(v) for k, v in problem["inputs"].items()}
            for name, answer in problem["answers"].items():
                expected = sympy.simplify(sympy.diff(formula, sympy.Symbol(name)).subs(point))
                assert same_value(answer, expected), (variant["id"], name)  # exact, also where σ is not
                if expected.is_Rational:
                    assert sympy.Rational(answer).q in (1, 2, 4, 5, 10, 20, 25, 50, 100)
            assert problem["blanks"]  # every problem hides something


def test_blank_numbers_run_in_reading_order(cli, tmp_path):
    manifest = _handout(cli, tmp_path, "--variants", "1", "--seed", "3", "-f", "md", "--key")
    numbers = [int(n) for p in manifest["variants"][0]["problems"] for n in p["blanks"]]
    assert numbers == list(range(1, len(numbers) + 1))
    sheet = (tmp_path / "backprop_set-v01.md").read_text()
    key = (tmp_path / "backprop_set-v01-key.md").read_text()
    assert f"_{{({numbers[-1]})}}" in sheet and "\\qquad\\qquad" in sheet
    assert "Variant v01, seed 3" in sheet and "## Problem 3" in sheet
    assert "\\qquad\\qquad" not in key and "full derivation" in key


def test_same_seed_same_manifest(cli, tmp_path):
    _handout(cli, tmp_path / "a", "--variants", "3", "--seed", "11", "-f", "md")
    _handout(cli, tmp_path / "b", "--variants", "3", "--seed", "11", "-f", "md")
    _handout(cli, tmp_path / "c", "--variants", "3", "--seed", "12", "-f", "md")
    first = (tmp_path / "a" / "manifest.json").read_bytes()
    assert first == (tmp_path / "b" / "manifest.json").read_bytes()
    assert first != (tmp_path / "c" / "manifest.json").read_bytes()
    assert (tmp_path / "a" / "backprop_set-v02.md").read_bytes() == (tmp_path / "b" / "backprop_set-v02.md").read_bytes()


def test_tex_compiles(cli, tmp_path):
    _handout(cli, tmp_path, "--variants", "3", "--seed", "5", "-f", "tex", "--key")
    names = sorted(p.name for p in tmp_path.glob("*.tex"))
    assert len(names) == 6
    latex_available()
    for name in ("backprop_set-v01.tex", "backprop_set-v01-key.tex"):
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]


def _integers(problem) -> list[str]:
    return [v for v in problem["answers"].values() if "/" not in v and v not in ("0", "1", "2", "3", "4")]


def test_pdf_key_holds_the_answers(cli, tmp_path):
    manifest = _handout(cli, tmp_path, "--variants", "3", "--seed", "7", "--key")
    for variant in manifest["variants"]:
        sheet = tmp_path / f"backprop_set-{variant['id']}.pdf"
        key = tmp_path / f"backprop_set-{variant['id']}-key.pdf"
        assert sheet.read_bytes().startswith(b"%PDF") and key.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed")

    def text(path):
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        return out.replace("−", "-")

    checked = 0
    for variant in manifest["variants"]:
        sheet = text(tmp_path / f"backprop_set-{variant['id']}.pdf")
        key = text(tmp_path / f"backprop_set-{variant['id']}-key.pdf")
        assert f"Variant {variant['id']}" in sheet and "seed 7" in sheet
        first = variant["problems"][0]  # the README problem, all hidden on the sheet
        for value in first["blanks"].values():  # b steps by 0.5: the set writes decimals, so does the key
            assert (value if "/" not in value else repr(float(Fraction(value)))) in key
        for value in _integers(first):
            checked += 1
            assert value in key
            # the sheet's backward pass and result of problem 1 are all blanks: no answer in them
            backward = re.sub(r"\(\d+\)", "", sheet.split("Backward pass")[1].split("Problem 2")[0])
            assert not re.search(rf"(?<![\d.]){re.escape(value)}(?![\d.])", backward), value
    assert checked


@pytest.mark.parametrize("content, message", [
    ("title = [", "set.toml: not valid TOML"),
    ('title = "t"\ncolour = 1\n[[problem]]\nexpression = "x"\n', "set.toml: unknown key 'colour'"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\n[problem.vary]\nw = [-3, 3]\nx = [1]\n',
     "set.toml: problem 1: vary.x: expected [min, max] with two integers"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\nat = "x=1,w=2"\n[[problem]]\nexpression = "x*w"\nwrt = "w"\n'
     '[problem.vary]\nw = {min = 1, max = 0}\nx = [1, 2]\n', "set.toml: problem 2: vary.w: min 1 is larger than max 0"),
    ('[[problem]]\nexpression = "__import__(\'os\')"\nwrt = "w"\n', "set.toml: problem 1: expression"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\nat = "x=1"\ncolour = 2\n', "set.toml: problem 1: colour: unknown key"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\nat = "x=1"\nblanks = ["all"]\n', "set.toml: problem 1: blanks"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\n[problem.vary]\nw = [1, 3]\n',
     "set.toml: problem 1: no value for x"),
    ('[[problem]]\nexpression = "w/x"\nwrt = "w,x"\n[problem.vary]\nw = [1, 2]\nx = [3, 3]\n',
     "set.toml: problem 1: no draw with nice numbers"),  # 1/3 is exact, and not nice: no rounding without decimals
    ('[[problem]]\nexpression = "log(x)*w"\nwrt = "w"\n[problem.vary]\nw = [1, 3]\nx = [-3, -1]\n',
     "set.toml: problem 1: no draw with nice numbers"),
    ('[[problem]]\nexpression = "x*w"\nwrt = "w"\nat = "x=1"\ndecimals = 0\n',
     "set.toml: problem 1: decimals: expected a whole number of decimal places from 1 to 8"),
    ('decimals = "4"\n[[problem]]\nexpression = "x*w"\nwrt = "w"\nat = "x=1"\n',
     "set.toml: decimals: expected a whole number"),
    ('[[problem]]\nprogram = "../outside.ws"\nwrt = "w"\n', "set.toml: problem 1: program"),
])
def test_bad_sets_fail_in_one_line(cli, tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "set.toml").write_text(content)
    result = cli("handout", "set.toml", "--variants", "2", "-f", "md", "-o", "out")
    assert result.code == 2
    assert result.err.count("\n") == 1 and message in result.err, result.err
    assert not (tmp_path / "out").exists()


def test_program_file_beside_the_set_and_chosen_blanks(cli, tmp_path):
    (tmp_path / "model.ws").write_text("param w = 1\ny_pred = w*x\nL = (y_pred - y)**2\n")
    (tmp_path / "set.toml").write_text(
        'title = "Files"\n[[problem]]\nprogram = "model.ws"\nat = "x=2,y=1"\nblanks = ["gradients"]\n'
        '[problem.vary]\nw = {min = -1, max = 1, step = 0.5}\n')
    result = cli("handout", str(tmp_path / "set.toml"), "-n", "2", "-s", "4", "-f", "txt", "-o", str(tmp_path / "out"))
    assert result.code == 0, result.err
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    for variant in manifest["variants"]:
        (problem,) = variant["problems"]
        w = sympy.Rational(problem["inputs"]["w"])
        assert problem["answers"] == {"w": str(2 * (2 * w - 1) * 2)}
        # only the gradient is blank: ∂L/∂w in the backward pass and in the result
        assert list(problem["blanks"].values()) == [problem["answers"]["w"]] * 2
    sheet = (tmp_path / "out" / "set-v01.txt").read_text()
    assert "FILES" in sheet and "(1)______" in sheet and "(2)______" in sheet and "(3)" not in sheet


def test_a_problem_set_saved_with_a_byte_order_mark_is_read(cli, tmp_path):
    """Windows Notepad starts UTF-8 files with U+FEFF; it is no part of the TOML."""
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbftitle = "BOM"\n[[problem]]\nexpression = "w*x"\nwrt = "w"\nat = "x=2"\n'
                     b'[problem.vary]\nw = [1, 3]\n')
    result = cli("handout", str(path), "-o", str(tmp_path / "out"), "-f", "md")
    assert result.code == 0, result.err
    assert "# BOM" in next((tmp_path / "out").glob("bom-v01.md")).read_text()


MODEL = """param w = [1, 2]
param b = 0
data  x = [[1, 2], [3, 4]]
data  y = [3, 7]
y_pred = x @ w + b
loss = mse(y_pred, y)
"""


def _model_handout(cli, tmp_path, *extra):
    (tmp_path / "model.ws").write_text(MODEL)
    (tmp_path / "set.toml").write_text('title = "Linear model"\n[[problem]]\nprogram = "model.ws"\n'
                                       "[problem.vary]\nw = [-2, 2]\n")
    out = tmp_path / "out"
    result = cli("handout", str(tmp_path / "set.toml"), "-o", str(out), "-n", "4", "--key", *extra)
    assert result.code == 0, result.err
    return out, json.loads((out / "manifest.json").read_text())


def test_a_model_handout_draws_every_element_and_its_key_matches_torch(cli, tmp_path):
    """[problem.vary] w = [-2, 2] draws each element of w; every blank of the key is the value
    PyTorch computes (forward values, the VJPs, ∂loss/∂w and ∂loss/∂b)."""
    torch = pytest.importorskip("torch")
    out, manifest = _model_handout(cli, tmp_path, "-f", "md")
    drawn = set()
    for variant in manifest["variants"]:
        entry = variant["problems"][0]
        inputs = {k: torch.tensor(json.loads(v), dtype=torch.float64) for k, v in entry["inputs"].items()}
        assert all(-2 <= float(e) <= 2 and float(e).is_integer() for e in inputs["w"]), entry["inputs"]["w"]
        drawn.add(entry["inputs"]["w"])
        w, b = inputs["w"].requires_grad_(), inputs["b"].requires_grad_()
        v1 = inputs["x"] @ w
        y_pred = v1 + b
        y_pred.retain_grad()
        loss = torch.nn.functional.mse_loss(y_pred, inputs["y"])
        loss.backward()
        blanks = {n: json.loads(v) for n, v in entry["blanks"].items()}
        assert blanks["1"] == loss.item() and blanks["2"] == v1.tolist() and blanks["3"] == y_pred.tolist()
        assert blanks["4"] == y_pred.grad.tolist() and blanks["6"] == b.grad.item()
        assert json.loads(entry["answers"]["w"]) == w.grad.tolist() and blanks["8"] == w.grad.tolist()
        key = (out / f"set-{variant['id']}-key.md").read_text()
        assert "\\begin{bmatrix}" in key and "_{(8)}" in key
    assert len(drawn) > 1  # the variants differ


def test_a_model_handouts_blanks_are_graded_element_by_element(cli, tmp_path):
    out, manifest = _model_handout(cli, tmp_path, "-f", "txt")
    entry = manifest["variants"][0]["problems"][0]
    rows = [["ann", "v01", n, v] for n, v in entry["blanks"].items()]
    wrong = json.loads(entry["blanks"]["8"])
    wrong[0] += 1
    rows += [["bob", "v01", "8", json.dumps(wrong)], ["bob", "v01", "2", "-3"], ["bob", "v01", "3", "[[1, 2]]"]]
    subs = tmp_path / "subs.csv"
    with subs.open("w", newline="") as f:
        csv.writer(f).writerows([["student", "variant", "question", "answer"], *rows])
    result = cli("grade", str(out / "manifest.json"), str(subs))
    assert result.code == 0, result.err
    report = list(csv.DictReader(io.StringIO(result.out)))
    assert all(r["verdict"] == "correct" for r in report if r["student"] == "ann")
    bob = [r for r in report if r["student"] == "bob"]
    assert [r["verdict"] for r in bob] == ["incorrect", "invalid", "incorrect"]  # -3: not a vector
    assert "is a vector of 2; your answer is a 1×2 matrix" in bob[2]["feedback"]


def test_a_model_handouts_blanks_carry_a_wrong_vector_forward_as_torch_computes_it(cli, tmp_path):
    """A student who writes y_pred wrong and then computes every later blank correctly from it
    earns "consistent" on those blanks: the values are PyTorch's, run from the student's y_pred
    (an oracle that knows nothing of the sweep); one wrong element more is "incorrect"."""
    torch = pytest.importorskip("torch")
    from worksheet.assess.blanks import grade_blanks

    _, manifest = _model_handout(cli, tmp_path, "-f", "txt")
    entry = manifest["variants"][0]["problems"][0]
    quantities = entry["quantities"]
    inputs = {k: torch.tensor(json.loads(v), dtype=torch.float64) for k, v in entry["inputs"].items()}
    n_pred = next(n for n, q in quantities.items() if q == {"kind": "forward", "node": "y_pred"})
    mine = torch.tensor(json.loads(entry["blanks"][n_pred]), dtype=torch.float64) + torch.tensor([1.0, -2.0])
    y_pred = mine.clone().requires_grad_()
    loss = torch.nn.functional.mse_loss(y_pred, inputs["y"])
    loss.backward()
    g = y_pred.grad
    carried = {  # each later quantity from the student's y_pred, as PyTorch computes it
        ("forward", "loss"): loss.item(), ("product", "loss", "y_pred"): g.tolist(),
        ("product", "y_pred", "v1"): g.tolist(), ("product", "y_pred", "b"): g.sum().item(),
        ("product", "v1", "w"): (inputs["x"].T @ g).tolist(),
        ("gradient", "w"): (inputs["x"].T @ g).tolist(), ("gradient", "b"): g.sum().item(),
    }
    answers = dict(entry["blanks"], **{n_pred: json.dumps(mine.tolist())})
    later = {}
    for n, q in quantities.items():
        name = (q["kind"], *(q[k] for k in ("node", "input", "wrt") if k in q))
        if name in carried:
            later[n] = carried[name]
            answers[n] = json.dumps(carried[name])
    marks = grade_blanks(entry, answers)
    assert marks[n_pred].verdict == "incorrect"
    assert len(later) == 7 and all(marks[n].verdict == "consistent" for n in later), marks
    assert f"follows correctly from your value in blank ({n_pred})" in marks[next(
        n for n, q in quantities.items() if q == {"kind": "forward", "node": "loss"})].feedback
    n_w = next(n for n, q in quantities.items() if q == {"kind": "gradient", "wrt": "w"})
    wrong = list(later[n_w])
    wrong[1] += 1
    assert grade_blanks(entry, dict(answers, **{n_w: json.dumps(wrong)}))[n_w].verdict == "incorrect"


@pytest.mark.parametrize("program, vary, words", [
    ("param W = randn(9, 9, seed=0)\ndata x = ones(9)\nL = sum(W @ x)\n", "W = [-2, 2]",
     "vary.W: W has 81 elements; a handout's vector or matrix has at most 64"),
    ("param w = 1\ndata X = ones(10, 10)\nL = sum(w*X)\n", "w = [-2, 2]",
     "problem 1: a value of 100 elements is too large for a handout"),
])
def test_a_model_too_large_for_a_handout_is_refused_in_one_line(cli, tmp_path, program, vary, words):
    (tmp_path / "model.ws").write_text(program)
    (tmp_path / "set.toml").write_text(f'title = "Big"\n[[problem]]\nprogram = "model.ws"\n[problem.vary]\n{vary}\n')
    result = cli("handout", str(tmp_path / "set.toml"), "-o", str(tmp_path / "out"), "-f", "txt")
    assert result.code == 2 and result.err.count("\n") == 1 and words in result.err, result.err
    assert not (tmp_path / "out").exists()
