"""Forward mode, the adjoint trace and finite differences (``--mode``, ``--check-numeric``).

Oracles, as in test_oracle.py (whose corpus is reused here: the hand-picked formulas and
the hypothesis generator, each with its meaning written directly in SymPy):

* forward mode against reverse mode: the same gradients on every formula of the corpus,
  exactly (equal, or equal to 40 digits where they are closed forms built in another order;
  to 25 digits where both were carried as 30-digit decimals), and at no point in the forms
  that ``sympy.diff`` of the oracle gives;
* the central difference against the exact gradient, to 1e-6 relative (of max(1, |g|));
  the "by hand" column against ``sympy.diff`` of the oracle;
* the example of Baydin et al. (Table 2), ln(x1) + x1·x2 − sin(x2) at (2, 5): ∂/∂x1 = 11/2
  and ∂/∂x2 = 2 − cos 5 ≈ 1.716, in every format, from the command line.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import unicodedata
import zlib

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from sympy import Rational, cos

from conftest import README_ARGS, SAMPLES
from test_oracle import (
    FD_TOLERANCE, FORM_TOLERANCE, GENERATED_EXAMPLES, HAND_PICKED, Case, assert_value_matches, close, fit_points,
    generated_cases, guards_of, mathematical, numeric, sym,
)
from conftest import latex_available
from worksheet import WorksheetError, derive, render
from worksheet.engine.numeric import TOLERANCE, agrees
from worksheet.document.modes import verdict
from worksheet.render.text import shown_width
from worksheet.ops import RULES

BAYDIN = "ln(x1) + x1*x2 - sin(x2)"
BAYDIN_AT = "x1=2,x2=5"
MODES_EXAMPLES = GENERATED_EXAMPLES  # as many as the oracle suite checks
"""How many random formulas of test_oracle's generator are checked here (forward = reverse,
and the central difference)."""


# ── the same value two ways ──────────────────────────────────────────────────────────────

def assert_same_value(forward, reverse, what: str) -> None:
    """Forward and reverse mode's values of one gradient: equal — exactly, when exact."""
    assert forward is not None and reverse is not None, what
    if forward == reverse:
        return
    exact = not (forward.has(sympy.Float) or reverse.has(sympy.Float))
    assert not (forward.is_Rational and reverse.is_Rational), f"{what}: {forward} ≠ {reverse}"
    digits, tolerance = (60, mpmath.mpf(10) ** -40) if exact else (40, mpmath.mpf(10) ** -25)
    with mpmath.workdps(digits):
        a, b = mpmath.mpf(forward.evalf(digits)), mpmath.mpf(reverse.evalf(digits))
        assert abs(a - b) <= tolerance * max(1, abs(a), abs(b)), f"{what}: forward {forward} ≠ reverse {reverse}"


def check_modes(case: Case) -> None:
    """Forward = reverse mode (values and forms), and the central difference, for one formula."""
    trace = derive(case.text, wrt=case.wrt, at=case.at, mode="both", check_numeric=True)
    modes = trace.modes
    point = {sym(name): value for name, value in trace.point.items()}
    for g in trace.gradients:
        what = f"{case.text!r}: ∂{trace.target}/∂{g.wrt}"
        tangent = modes.forward.gradients[g.wrt]
        assert_same_value(tangent.value, g.value, what)
        assert modes.forward_agrees[g.wrt], what
        derivative = sympy.diff(case.oracle, sym(g.wrt))
        estimate = modes.estimates[g.wrt]
        if case.at_kink:
            continue
        assert_value_matches(tangent.value, derivative.xreplace(point), False, f"{what} (forward)")
        assert estimate.value is not None, f"{what}: no central difference"
        assert close(numeric(estimate.value), numeric(derivative.xreplace(point)), FD_TOLERANCE, scale=1), (
            f"{what}: central difference {estimate.value}, sympy.diff {derivative.xreplace(point)}"
        )
        assert estimate.agrees, f"{what}: flagged, {estimate.value} against {g.value}"
        if estimate.symbolic is not None:
            assert_value_matches(estimate.symbolic, derivative.xreplace(point), False, f"{what} (by hand)")
    _check_symbolic_forward(case, trace)


def _check_symbolic_forward(case: Case, trace) -> None:
    """Forward mode without a point: each gradient's form equals sympy.diff of the oracle."""
    if trace.graph.defaults:
        return
    symbolic = derive(case.text, wrt=case.wrt, mode="forward")
    forward = symbolic.modes.forward
    names = [node.name for node in symbolic.graph.inputs]
    guards = guards_of(case.oracle) if case.guards is None else case.guards
    seed = zlib.crc32(case.text.encode()) if case.seed is None else case.seed
    points = fit_points(random.Random(seed), names, guards, case.oracle, 2)
    if not case.at_kink:
        points.append({sym(name): value for name, value in trace.point.items()})
    inputs = {sym(n) for n in names}
    for x in forward.wrt:
        assert forward.gradients[x].value is None
        written = forward.written[x]
        if written is None:
            continue  # too large to write out
        assert written.free_symbols <= inputs, written
        derivative, form = sympy.diff(case.oracle, sym(x)), mathematical(written)
        for point in points:
            traced, oracle = numeric(form, point), numeric(derivative, point)
            assert traced is not None and oracle is not None, (written, point)
            assert close(traced, oracle, FORM_TOLERANCE), (
                f"{case.text!r}: forward ∂/∂{x} = {written} = {traced} at {point}, sympy.diff {oracle}"
            )


@pytest.mark.parametrize("case", HAND_PICKED, ids=lambda c: c.text.splitlines()[-1][:40])
def test_forward_and_reverse_mode_agree_on_the_hand_picked_corpus(case: Case):
    check_modes(case)


@settings(max_examples=MODES_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=generated_cases())
def test_forward_and_reverse_mode_agree_on_generated_formulas(case: Case):
    check_modes(case)


def test_forward_mode_on_an_intermediate_variable_and_a_fan_out():
    program = "y_pred = w*x + b\nL = (y_pred - y)**2 + w*y_pred"
    trace = derive(program, wrt="w,y_pred,b", at="w=1/2,b=1,x=3,y=2", mode="both")
    for g in trace.gradients:
        assert_same_value(trace.modes.forward.gradients[g.wrt].value, g.value, g.wrt)
    w, b, x, y, p = (sym(n) for n in ("w", "b", "x", "y", "y_pred"))
    point = {w: Rational(1, 2), b: 1, x: 3, y: 2}
    oracle = (w * x + b - y) ** 2 + w * (w * x + b)
    assert trace.gradients[0].value == sympy.diff(oracle, w).subs(point)
    partial = sympy.diff((p - y) ** 2 + w * p, p).subs({**point, p: Rational(5, 2)})
    assert trace.modes.forward.gradients["y_pred"].value == partial == trace.gradients[1].value


@pytest.mark.skipif("stop_gradient" not in RULES, reason="stop_gradient is not in this build")
def test_stop_gradient_is_held_in_every_method():
    trace = derive("w*stop_gradient(w) + w", at="w=3", mode="both", check_numeric=True)
    (g,) = trace.gradients
    assert g.value == 4
    assert trace.modes.forward.gradients["w"].value == 4
    estimate = trace.modes.estimates["w"]
    assert estimate.agrees and abs(float(estimate.value) - 4) < 1e-9
    assert estimate.symbolic == 4


# ── the example of the survey (Baydin et al., Table 2) from the command line ───────────────

def nfd(text: str) -> str:
    """Accented names compared letter + combining mark (ẋ is also one precomposed character)."""
    return unicodedata.normalize("NFD", text)


def test_baydin_example_in_text(cli):
    result = cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "both", "--check-numeric", "-f", "txt")
    assert result.code == 0, result.err
    out = nfd(result.out)
    assert "Forward mode: the evaluation trace" in out and "Reverse mode: the adjoint trace" in out
    table = [line.split() for line in out.splitlines() if line.startswith("  v2    v2 = x1·x2")]
    assert table == [nfd("v2 v2 = x1·x2 = 10 v̇2 = ẋ1·x2 + ẋ2·x1 1·5 + 0·2 = 5 0·5 + 1·2 = 2").split()]
    for line in ("v̇4 = ẋ2·cos(x2)     0·cos(5) = 0     1·cos(5) ≈ 0.283662",
                 "∂L/∂x1 = L̇ = 1/x1 + x2 = 11/2", "∂L/∂x2 = L̇ = x1 − cos(x2) ≈ 1.71634",
                 "x̄1 ← x̄1 + v̄1·∂v1/∂x1 = x̄1 + v̄1/x1 = 5 + 1/2 = 11/2", "∂L/∂x1 = x̄1 = 11/2"):
        assert nfd(line) in out, line
    rows = [line for line in out.splitlines() if line.startswith("  ∂L/∂x")]
    assert any(row.split()[1:] == ["11/2", "5.5", "11/2", "11/2", "agrees"] for row in rows), rows
    assert any(row.split()[1:] == ["1.71634"] * 4 + ["agrees"] for row in rows), rows
    assert "DIFFERS" not in out


def test_baydin_example_forward_table_is_aligned(cli):
    out = nfd(cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "forward", "-f", "txt").out)
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("node  primal"))
    column = shown_width(lines[header][: lines[header].index("for x2")])
    for line in lines[header + 2: header + 9]:
        last = re.split(r"\s{2,}", line.strip())[-1]  # the column of x2 (cells are parted by 2+ spaces)
        assert shown_width(line[: line.rindex(last)]) == column, line


def test_baydin_example_in_markdown(cli):
    result = cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "both", "-f", "md")
    assert result.code == 0, result.err
    out = result.out
    assert "| node | primal | tangent | for x1 | for x2 |" in out
    assert (r"| $\dot{v}_{2} = \dot{x}_{1} \cdot x_{2} + \dot{x}_{2} \cdot x_{1}$ | $1 \cdot 5 + 0 \cdot 2 = 5$ | "
            r"$0 \cdot 5 + 1 \cdot 2 = 2$ |") in out
    assert r"\frac{\partial L}{\partial x_{1}} = \dot{L} = \frac{1}{x_{1}} + x_{2} = \frac{11}{2}" in out
    assert r"\bar{x}_{1} \leftarrow \bar{x}_{1} + \bar{v}_{1} \cdot \frac{\partial v_{1}}{\partial x_{1}}" in out


def test_baydin_example_in_latex_compiles(cli, tmp_path):
    result = cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "both", "--check-numeric", "-f", "tex")
    assert result.code == 0, result.err
    assert r"\dot{L} = x_{1} - \cos{\left(x_{2} \right)} \approx 1.71634" in result.out
    assert all(ord(ch) < 128 for ch in result.out)
    latex_available()
    (tmp_path / "modes.tex").write_text(result.out, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "modes.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_baydin_example_in_json(cli):
    result = cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "both", "--check-numeric", "-f", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["schema"] == "worksheet.derive/1" and data["mode"] == "both"
    forward = data["forward"]
    assert forward["wrt"] == ["x1", "x2"]
    assert [n["name"] for n in forward["nodes"]] == ["x1", "x2", "v1", "v2", "v3", "v4", "L"]
    v2 = forward["nodes"][3]
    assert v2["value"] == "10" and v2["chain"] == "dot(x1)*x2 + dot(x2)*x1"
    assert v2["tangents"]["x1"] == {"expr": "x2", "value": "5", "value_float": 5.0}
    assert forward["nodes"][0]["tangents"] == {"x1": {"expr": "1", "value": "1", "value_float": 1.0},
                                               "x2": {"expr": "0", "value": "0", "value_float": 0.0}}
    assert forward["gradients"]["x1"]["value"] == "11/2" and forward["gradients"]["x1"]["value_float"] == 5.5
    assert forward["gradients"]["x2"]["value"] == "2 - cos(5)"
    assert forward["gradients"]["x2"]["agrees_with_reverse"] is True
    g1, g2 = data["gradients"]["x1"], data["gradients"]["x2"]
    assert (g1["value"], g2["value"]) == ("11/2", "2 - cos(5)")
    assert g1["numeric_float"] == pytest.approx(5.5, rel=1e-10) and g1["numeric_agrees"] is True
    assert g2["numeric_float"] == pytest.approx(2 - float(cos(5)), rel=1e-10) and g2["numeric_agrees"]
    assert g2["symbolic"] == "2 - cos(5)" and g1["numeric_step"] == pytest.approx(2e-12)


def test_forward_mode_alone(cli):
    out = cli("derive", BAYDIN, "--at", BAYDIN_AT, "--mode", "forward", "-f", "txt").out
    assert out.startswith("FORWARD-MODE WORKSHEET")
    assert "1. Forward mode: the evaluation trace" in out and "2. Result" in out
    assert "Backward pass" not in out and "adjoint" not in out


def test_mode_options_leave_the_plain_worksheet_alone(cli):
    plain = json.loads(cli(*README_ARGS, "-f", "json").out)
    assert plain["mode"] == "reverse" and "forward" not in plain
    reverse = cli(*README_ARGS, "--mode", "reverse", "-f", "txt").out
    assert "Reverse mode: the adjoint trace" in reverse and "Forward mode" not in reverse
    assert reverse.startswith(cli(*README_ARGS, "-f", "txt").out.rstrip("\n"))
    data = json.loads(cli(*README_ARGS, "--mode", "reverse", "-f", "json").out)
    assert data["mode"] == "reverse" and "forward" not in data
    assert {"backward", "adjoints", "gradients"} <= data.keys()


def test_symbolic_forward_mode_and_fan_out_updates():
    trace = derive("x*x + sin(x)", wrt="x", mode="both")
    out = nfd(render(trace, "txt"))
    assert nfd("L̇ = v̇1 + v̇2") in out and nfd("x̄ ← x̄ + ") in out
    assert trace.modes.forward_agrees == {"x": True}
    written = trace.modes.forward.written["x"]
    x = sym("x")
    assert sympy.simplify(written - (2 * x + cos(x))) == 0


def test_tensor_programs_refuse_forward_mode(cli):
    for mode in ("forward", "both"):
        result = cli("derive", str(SAMPLES / "nn_linear.ws"), "--mode", mode)
        assert result.code == 2 and result.out == ""
        assert result.err.count("\n") == 1 and "forward mode is for scalar formulas" in result.err
    with pytest.raises(WorksheetError, match="forward mode is for scalar formulas"):
        derive((SAMPLES / "mlp_l2.ws").read_text(), mode="forward")


def test_check_numeric_needs_a_point(cli):
    result = cli("derive", "w*x", "--check-numeric")
    assert result.code == 2 and "--check-numeric" in result.err and "--at" in result.err


# ── finite differences ───────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("sample", ["nn_linear.ws", "mlp_l2.ws", "linear_bce.ws", "batch_vector.ws"])
def test_tensor_central_differences(sample):
    trace = derive((SAMPLES / sample).read_text(), filename=sample, check_numeric=True)
    data = json.loads(render(trace, "json"))
    assert data["mode"] == "reverse"
    for g in trace.gradients:
        estimate = trace.modes.estimates[g.wrt]
        assert estimate.agrees is True
        numbers = data["gradients"][g.wrt]["numeric_float"]
        assert np.shape(numbers) == g.value.shape
        exact = np.asarray(g.value, dtype=object).astype(float)
        assert np.allclose(np.asarray(numbers, dtype=float), exact, rtol=TOLERANCE, atol=TOLERANCE)
    out = render(trace, "txt")
    assert "central differences" in out and "agrees" in out and "DIFFERS" not in out


def test_agreement_flag():
    assert agrees(Rational(11, 2), 5.5 + 1e-9)
    assert not agrees(Rational(11, 2), 5.51)
    assert not agrees(Rational(0), 0.5)  # relu at its kink: the difference quotient averages
    assert agrees(np.array([Rational(1), Rational(-2)], dtype=object), np.array([1.0, -2.0000001]))
    assert not agrees(np.array([Rational(1), Rational(-2)], dtype=object), np.array([1.0, -2.1]))
    assert (verdict(True), verdict(False), verdict(None)) == ("agrees", "DIFFERS", "undefined")


def test_differs_is_flagged_at_a_kink():
    trace = derive("relu(x) + x", at="x=0", check_numeric=True)
    estimate = trace.modes.estimates["x"]
    assert trace.gradients[0].value == 1 and float(estimate.value) == pytest.approx(1.5)
    assert estimate.agrees is False
    out = render(trace, "txt")
    assert "DIFFERS" in out and "kink" in out
    assert json.loads(render(trace, "json"))["gradients"]["x"]["numeric_agrees"] is False


def test_undefined_central_difference():
    trace = derive("sqrt(x) + x", wrt="x", at="x=1/10000000000000", check_numeric=True)
    estimate = trace.modes.estimates["x"]
    assert estimate.value is None and estimate.agrees is None
    assert "undefined" in render(trace, "txt")
    assert json.loads(render(trace, "json"))["gradients"]["x"]["numeric_float"] is None


def test_a_central_difference_on_an_exponent_stays_small():
    """y ± h with h = 2⁻⁶⁰ is an exponent with a denominator of 2⁶⁰: SymPy would take 54^(y + h)
    apart into 2^(2⁶⁰ + 1)·… (filling the memory); it is computed in balls, and agrees with
    mpmath's ∂(x^y)/∂y = x^y·ln x."""
    from conftest import CpuTime

    with CpuTime() as spent:
        trace = derive("x^y", at="x=54, y=1.5", check_numeric=True)
    assert spent.seconds < 30
    with mpmath.workdps(40):
        exact = mpmath.mpf(54) ** 1.5 * mpmath.log(54)
        for name, want in {"y": exact, "x": 1.5 * mpmath.sqrt(54)}.items():
            estimate = trace.modes.estimates[name]
            assert estimate.agrees and abs(mpmath.mpf(sympy.N(estimate.value, 30)) - want) < 1e-9 * want
    with CpuTime() as spent:  # a base that is a number times a root: 54·√2
        trace = derive("sqrt(x)^y", at="x=5832, y=1.5", check_numeric=True)
    assert spent.seconds < 30 and all(e.agrees for e in trace.modes.estimates.values())
