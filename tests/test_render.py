"""Every format renders; the README example matches its golden output; the LaTeX compiles."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import README_ARGS, ROOT, SAMPLES, latex_available
from worksheet import FORMATS, derive, render

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # UPDATE_GOLDEN=1 uv run pytest  rewrites them


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])  # the PDF: tests/test_typst.py
def test_readme_example_matches_golden_output(cli, fmt):
    result = cli(*README_ARGS, "--format", fmt)
    assert result.code == 0
    golden = GOLDEN / f"readme.{fmt}"
    if UPDATE:
        golden.write_text(result.out, encoding="utf-8")
    assert result.out == golden.read_text(encoding="utf-8")


def test_json_schema_fields():
    data = json.loads(render(derive("(w*x+b-y)**2", wrt="w,b", at="w=1,b=0,x=2,y=4"), "json"))
    assert data["schema"] == "worksheet.derive/1"
    assert {"target", "expression", "wrt", "at", "nodes", "backward", "gradients"} <= data.keys()
    assert data["nodes"][0] == {"name": "w", "op": "input", "kind": "input", "inputs": [], "expr": None,
                                "value": "1", "value_float": 1.0}
    assert {"node", "input", "local", "local_value", "upstream", "product"} <= data["backward"][0].keys()
    assert data["gradients"]["w"] == {
        "expr": "2*(w*x + b - y)*x", "expr_in_nodes": "2*(w*x + b - y)*x", "expr_in_trace": "2*v3*x",
        "value": "-8", "value_float": -8.0,
    }


def test_json_functions_by_name_and_relu_as_heaviside():
    data = json.loads(render(derive("relu(w*x) + sigmoid(w)", wrt="w", at="w=0.5,x=3"), "json"))
    expr = data["gradients"]["w"]["expr"]
    assert "Heaviside(w*x, 0)" in expr and "sigmoid(w)" in expr
    assert data["gradients"]["w"]["value_float"] == pytest.approx(3 + 0.2350037122015945, rel=1e-12)


def test_json_exact_rationals():
    data = json.loads(render(derive("0.3*w*w", at="w=0.5"), "json"))
    assert data["gradients"]["w"]["value"] == "3/10" and data["gradients"]["w"]["value_float"] == 0.3


@pytest.mark.parametrize("fmt", ["md", "tex", "txt", "json"])
@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.ws")))
def test_every_sample_renders_in_every_format(sample, fmt):
    text = (SAMPLES / sample).read_text()
    at = {"x": 1, "y": 2} if sample == "per_sample.ws" else None  # one sample: its loss is per sample
    out = render(derive(text, at=at, filename=sample), fmt)
    assert len(out) > 200 and "nan" not in out.lower().split() and "zoo" not in out


@pytest.mark.parametrize(
    "formula, options",
    [
        ("(w*x+b-y)**2", dict(wrt="w,b", at="w=1,b=0,x=2,y=4")),
        ("(w*x+b-y)**2", dict(wrt="w,b", let="y_pred=w*x+b")),
        ("x*x + sin(x)/x - sqrt(x) + relu(x - 1) + abs(x) + max(x, 2)", dict(at="x=2")),
        ("sigmoid(w*x + b)^2 + 0.01*w^2 + tanh(b) - ln(x) + e^b", dict(at="w=0.5,b=-1,x=3")),
        ((SAMPLES / "batch_mean.ws").read_text(), dict()),
    ],
)
def test_latex_compiles(formula, options, tmp_path):
    latex_available()
    source = tmp_path / "worksheet.tex"
    source.write_text(render(derive(formula, **options, filename="f.ws"), "tex"), encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "worksheet.pdf").stat().st_size > 1000


def test_latex_tests_skip_naming_a_package_that_is_missing(monkeypatch):
    """pdflatex without TikZ or Latin Modern skips the LaTeX tests with the reason, not a failure."""
    import conftest

    if not shutil.which("pdflatex") or not shutil.which("kpsewhich"):
        pytest.skip("needs pdflatex and kpsewhich to pretend one package is missing")
    monkeypatch.setattr(conftest, "LATEX_PACKAGES", conftest.LATEX_PACKAGES + ("no-such-package.sty",))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-package.sty"):
        conftest.latex_available()


# ── notation that does not contradict or repeat itself ───────────────────────────────────

def test_the_outputs_local_derivative_is_named_on_its_definition():
    """L = a·b + a: ∂L/∂a is −2 (sympy.diff), so the path straight out of L is ∂(v1 + a)/∂a = 1,
    never a second ∂L/∂a that means 1."""
    import sympy

    a, b = sympy.symbols("a b")
    expected = sympy.diff(a * b + a, a).subs({a: 2, b: -3})
    text = render(derive("a*b + a", at="a=2,b=-3"), "txt")
    assert "  ∂(v1 + a)/∂a = 1\n" in text
    assert f"∂L/∂a = ∂L/∂v1 · ∂v1/∂a + ∂(v1 + a)/∂a = b + 1 = −3 + 1 = {expected}".replace("-", "−") in text
    gradients = [line.strip() for line in text.splitlines() if line.strip().startswith("∂L/∂a")]
    assert all(line.endswith("= −2") for line in gradients), gradients
    latex = render(derive("a*b + a", at="a=2,b=-3"), "md")
    assert r"\frac{\partial \left(v_{1} + a\right)}{\partial a}" in latex
    assert r"\frac{\partial L}{\partial L} \cdot" not in latex


@pytest.mark.parametrize("formula, at", [
    ("1/x", "x=2"), ("log(x1) + y", "x1=2,y=1"), ("x/3*y + x/4", "x=1,y=2"), ("a*b + a", "a=2,b=-3"),
    ("sigmoid(w*x + b)", "w=0.5,x=2,b=-1"), ("(w*x+b-y)**2", "w=1,b=0,x=2,y=4"), ("exp(x*y)", "x=1,y=2"),
])
def test_no_step_says_the_same_twice(formula, at):
    """1/x = 1/2, not 1/x = 1/2 = 1/2; 1 · 1/2 = 1/2, not 1 · 1/2 = 1 · (1/2); −1/2², not −1/(2)²."""
    for fmt in ("txt", "md", "typ"):
        text = render(derive(formula, at=at), fmt)
        for line in text.splitlines():
            sides = [s.strip(" &$") for s in line.replace("≈", "=").replace(r"\approx", "=").split("=")]
            assert all(x != y for x, y in zip(sides, sides[1:]) if x), (fmt, line)
    assert "−1/2² = −1/4" in render(derive("1/x", at="x=2"), "txt")


def test_plain_text_writes_e_to_a_power_as_exp_without_a_caret():
    text = render(derive("e^x + 2^y", at="x=1,y=3"), "txt")
    assert "exp(x) = 1 · exp(1) ≈" in text and "e^" not in text
    assert "2^y·ln(2) = 1 · 2³·ln(2)" in text  # an integer put into an exponent is a superscript


def test_typeset_exponentials_read_e_to_the():
    assert "e^(v_1)" in render(derive("exp(x*y)"), "typ") and "exp(" not in render(derive("exp(x*y)"), "typ").split("#figure")[0]


def test_a_lone_factor_over_a_fraction_bar_has_no_parentheses():
    """\\frac{a + b}{c}, not \\frac{\\left(a + b\\right)}{c}: the bar groups it (as Typst's frac does)."""
    import sympy

    from worksheet.notation.latex import LatexNotation

    out = render(derive("(a+b)/c + 1/(x+1)", at={"a": 1, "b": 2, "c": 3, "x": 1}), "md")
    assert r"\frac{a + b}{c}" in out and r"\frac{1}{x + 1}" in out and r"\frac{\left(" not in out
    a, b = sympy.symbols("a b", real=True)  # two factors over the bar keep theirs
    assert LatexNotation()._print(sympy.Mul(a + b, b + 1, sympy.Pow(3, -1), evaluate=False)).startswith(r"\frac{\left(")
