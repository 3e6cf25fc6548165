"""--detail brief|standard|full: brief is the tables and results, standard today's worksheet
(the golden files), full names the rule of every local derivative."""

import subprocess

import pytest
from sympy import Integer

from conftest import README_ARGS
from conftest import latex_available
from test_render import GOLDEN
from worksheet import FORMATS, WorksheetError, derive, render
from worksheet.document import DETAILS, worksheet
from worksheet.ops import RULES

README = dict(wrt="w,b", at="w=1,b=0,x=2,y=4")
MIXED = "sigmoid(w*x)/b + x**2 + log(a) - 3*exp(w)"
MIXED_AT = "w=1,x=2,b=3,a=2"


@pytest.mark.parametrize("fmt", ["md", "tex", "txt", "typ"])
def test_standard_is_the_default_and_the_golden_output(cli, fmt):
    default = cli(*README_ARGS, "--format", fmt)
    standard = cli(*README_ARGS, "--format", fmt, "--detail", "standard")
    assert default.code == standard.code == 0
    assert standard.out == default.out == (GOLDEN / f"readme.{fmt}").read_text(encoding="utf-8")


def test_brief_is_shorter_and_keeps_every_gradient():
    trace = derive(MIXED, at=MIXED_AT)
    brief, standard = render(trace, "txt", detail="brief"), render(trace, "txt")
    assert len(brief) < len(standard)
    backward = brief.split("2. Backward pass")[1].split("3. Result")[0]
    assert "Seed" not in backward and " · ∂" not in backward
    # every ∂L/∂u of the sweep is a line of its own, and the result section is kept
    for name, adjoint in trace.adjoints.items():
        lines = [line.strip() for line in brief.splitlines() if line.strip().startswith(f"∂L/∂{name} ")]
        assert lines, name
    for gradient in trace.gradients:
        assert render(trace, "txt").split("3. Result")[1] == brief.split("3. Result")[1]
        assert f"∂L/∂{gradient.wrt}" in brief


def test_brief_readme_example():
    brief = render(derive("(w*x+b-y)**2", **README), "txt", detail="brief")
    backward = brief.split("2. Backward pass")[1].split("3. Result")[0]
    assert [line.strip() for line in backward.splitlines() if line.strip().startswith("∂")] == [
        "∂L/∂L = 1", "∂L/∂v3 = −4", "∂L/∂v2 = −4", "∂L/∂v1 = −4", "∂L/∂w = −8", "∂L/∂b = −4"]
    assert "mermaid" not in render(derive("(w*x+b-y)**2", **README), "md", detail="brief")


def test_brief_symbolic_gives_the_forms():
    brief = render(derive("(w*x+b-y)**2", wrt="w,b"), "txt", detail="brief")
    assert "∂L/∂w = 2v3·x" in brief or "∂L/∂w = " in brief


def test_full_names_the_rules():
    full = render(derive("w*x + a/b + u**2 + sigmoid(z)", at="w=1,x=2,a=3,b=4,u=5,z=0"), "txt", detail="full")
    assert "Rule: ∂v1/∂w, ∂v1/∂x: constant multiple rule." in full  # the other factor held fixed
    assert "Rules: ∂v2/∂a: constant multiple rule; ∂v2/∂b: quotient rule." in full  # ∂(a/b)/∂a = 1/b
    assert "Rule: ∂(v5 + v6)/∂v5, ∂(v5 + v6)/∂v6: sum rule." in full  # the output's, on its definition
    assert "product rule" not in full and "power rule" in full and "sum rule" in full
    assert "chain rule, σ′(u) = σ(u)(1 − σ(u))" in full
    assert "constant multiple rule" not in render(derive("w*x", at="w=1,x=2"), "txt")  # standard: no rule names


def test_rules_per_argument():
    u, w = derive("u*w").graph.node("L").args
    assert RULES["mul"].rule_of(0, u, w) == RULES["mul"].rule_of(1, u, w) == "constant multiple rule"  # ∂(uw)/∂u = w
    assert RULES["mul"].rule_of(0, u, Integer(3)) == "constant multiple rule"  # d(3u)/du
    assert RULES["div"].rule_of(0, u, Integer(3)) == "constant multiple rule"  # d(u/3)/du
    assert RULES["div"].rule_of(0, u, w) == "constant multiple rule"  # ∂(u/w)/∂u = 1/w, w held fixed
    assert RULES["pow"].rule_of(0, u, w) == "power rule" and RULES["pow"].rule_of(1, u, w) == "exponential rule"
    assert RULES["div"].rule_of(1, u, w) == "quotient rule"
    for op in ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sigmoid", "relu",
               "softplus", "silu", "elu", "leaky_relu", "gelu", "abs", "max", "min", "add", "sub", "neg", "id"):
        assert RULES[op].rule_of(0, u, w), op


@pytest.mark.parametrize("detail", list(DETAILS))
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("json", "torch")])
def test_every_format_renders(detail, fmt):
    out = render(derive(MIXED, at=MIXED_AT), fmt, detail=detail)
    assert len(out) > 200
    if fmt == "pdf":
        assert out.startswith(b"%PDF")


@pytest.mark.parametrize("detail", ["brief", "full"])
def test_latex_compiles(detail, tmp_path):
    latex_available()
    source = tmp_path / "worksheet.tex"
    text = render(derive(MIXED + " + sqrt(a) + tanh(x)", at=MIXED_AT), "tex", detail=detail)
    assert "?" not in text.split("\\begin{document}")[1].replace("?}", "")  # no character lost
    source.write_text(text, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_modes_and_cli(cli):
    full = render(derive("w*x", at="w=1,x=2", mode="both"), "txt", detail="full")
    assert "constant multiple rule" in full
    result = cli("derive", "w*x", "--at", "w=1,x=2", "--detail", "full", "--format", "txt")
    assert result.code == 0 and "constant multiple rule" in result.out
    assert cli("derive", "w*x", "--detail", "most").code != 0


def test_bad_detail_and_models():
    with pytest.raises(ValueError):
        worksheet(derive("w*x"), detail="most")
    with pytest.raises(WorksheetError):
        render(derive("W = randn(2, 2)\nx = ones(2)\nL = sum(W @ x)"), "md", detail="brief")
