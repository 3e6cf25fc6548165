"""worksheet handout: problem sets in TOML → student sheets with numbered blanks, keys, a manifest."""

import json
import re
import shutil
import subprocess
from fractions import Fraction

import pytest
import sympy
from conftest import SAMPLES, latex_available

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
                assert sympy.Rational(answer) == expected, (variant["id"], name)
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
    ('[[problem]]\nexpression = "log(x)*w"\nwrt = "w,x"\n[problem.vary]\nw = [1, 3]\nx = [2, 3]\n',
     "set.toml: problem 1: no draw with nice numbers"),
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


def test_a_model_program_is_refused_in_one_line_not_an_internal_error(cli, tmp_path):
    """A handout of a model needs matrix blanks (issue 14); until then a model program is refused."""
    (tmp_path / "model.ws").write_text((SAMPLES / "nn_linear.ws").read_text())
    (tmp_path / "set.toml").write_text('title = "Model"\n[[problem]]\nprogram = "model.ws"\n')
    result = cli("handout", str(tmp_path / "set.toml"), "-o", str(tmp_path / "out"), "-f", "md")
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "problem 1: handouts are for scalar formulas" in result.err and "internal error" not in result.err
    assert not (tmp_path / "out").exists()
