"""silu, elu, leaky_relu, gelu, log_softmax and logsumexp, against oracles of their own: SymPy's
``diff`` of each function written here from its textbook definition, evaluated by mpmath at 40
digits; PyTorch's float64 autograd (its kink conventions included); and the ``--format torch``
script. (They are also in the generated formulas of test_oracle.py and the generated models of
test_torch_oracle.py.)"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction

import mpmath
import pytest
import sympy
from sympy import Piecewise, Rational, erf, exp, sqrt

from worksheet import derive, render
from worksheet.tensors import to_float

from conftest import optional_torch

torch = optional_torch()
F = torch.nn.functional if torch is not None else None


u, a = sympy.symbols("u a", real=True)
ORACLES = {  # the formula as written, its textbook definition in u, PyTorch's function
    "silu(u)": (u / (1 + exp(-u)), lambda t: F.silu(t)),
    "elu(u)": (Piecewise((u, u > 0), (exp(u) - 1, True)), lambda t: F.elu(t)),
    "leaky_relu(u, 0.2)": (Piecewise((u, u > 0), (Rational(1, 5) * u, True)), lambda t: F.leaky_relu(t, 0.2)),
    "gelu(u)": (u * (1 + erf(u / sqrt(2))) / 2, lambda t: F.gelu(t)),
    "normal_cdf(u)": ((1 + erf(u / sqrt(2))) / 2, lambda t: torch.special.ndtr(t)),
    "normal_pdf(u)": (exp(-u**2 / 2) / sqrt(2 * sympy.pi), lambda t: torch.exp(-t * t / 2) / math.sqrt(2 * math.pi)),
}
POINTS = ["-3", "-1/2", "1/3", "2", "7/2", "-0.75"]
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch)")


def digits40(value) -> mpmath.mpf:
    return mpmath.mpf(str(sympy.N(value, 45)))


@pytest.mark.parametrize("formula", sorted(ORACLES))
@pytest.mark.parametrize("point", POINTS)
def test_value_and_gradient_match_sympy_diff_at_40_digits(formula, point):
    definition, _ = ORACLES[formula]
    trace = derive(formula, at=f"u={point}")
    x = sympy.nsimplify(point)
    with mpmath.workdps(40):
        want_value = digits40(definition.subs(u, x))
        want_slope = digits40(sympy.diff(definition, u).subs(u, x))
        got_value, got_slope = digits40(trace.values["L"]), digits40(trace.gradients[0].value)
        assert abs(got_value - want_value) <= mpmath.mpf(10) ** -35 * max(1, abs(want_value)), formula
        assert abs(got_slope - want_slope) <= mpmath.mpf(10) ** -35 * max(1, abs(want_slope)), formula


@pytest.mark.parametrize("formula, value, slope", [
    ("silu(u)", 0, Rational(1, 2)), ("gelu(u)", 0, Rational(1, 2)),
    ("elu(u)", 0, sympy.S.One), ("leaky_relu(u, 0.2)", 0, Rational(1, 5)),  # PyTorch's side at the kink
    ("normal_cdf(u)", Rational(1, 2), 1 / sqrt(2 * sympy.pi)), ("normal_pdf(u)", 1 / sqrt(2 * sympy.pi), sympy.S.Zero),
])
def test_exact_at_zero(formula, value, slope):
    trace = derive(formula, at="u=0")
    assert sympy.simplify(trace.values["L"] - value) == 0 and sympy.simplify(trace.gradients[0].value - slope) == 0
    if slope.is_Rational:
        assert json.loads(render(trace, "json"))["gradients"]["u"]["value"] == str(slope)


@needs_torch
@pytest.mark.parametrize("formula", sorted(ORACLES))
def test_gradient_matches_pytorch_float64_including_the_kink(formula):
    _, function = ORACLES[formula]
    for point in POINTS + ["0"]:
        t = torch.tensor(float(Fraction(point)), dtype=torch.float64, requires_grad=True)
        function(t).backward()
        got = float(derive(formula, at=f"u={point}").gradients[0].value)
        assert got == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15), (formula, point)


@needs_torch
def test_leaky_relu_slope_as_a_parameter_matches_pytorch():
    """leaky_relu(z, a) with a learned slope: ∂/∂a = min(z, 0), and the script uses torch.where."""
    program = "param W = [[0.5, -1], [2, 0.25]]\nparam a = 0.1\ndata x = [1, -2]\nL = sum(leaky_relu(W @ x, a))\n"
    trace = derive(program)
    W = torch.tensor([[0.5, -1], [2, 0.25]], dtype=torch.float64, requires_grad=True)
    slope = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    z = W @ torch.tensor([1.0, -2.0], dtype=torch.float64)
    torch.sum(torch.where(z > 0, z, slope * z)).backward()
    grads = {g.wrt: to_float(g.value) for g in trace.gradients}
    assert grads["a"] == pytest.approx(slope.grad.item(), rel=1e-12)
    torch.testing.assert_close(torch.from_numpy(grads["W"]), W.grad, rtol=1e-12, atol=1e-15)
    assert "torch.where(" in render(trace, "torch")


LOG_SOFTMAX = """param o = [[1.5, -0.5, 2], [0, 1, -1]]
data y = [[0, 1, 0], [1, 0, 0]]
param z = [3, -2, 0.5, 4]
data k = [1, 2, 3, 4]
q = log_softmax(o)
s = logsumexp(o)
L = -sum(y * q) + sum(s * s) + logsumexp(z) * sum(log_softmax(z) * k)
"""


@needs_torch
def test_log_softmax_and_logsumexp_match_pytorch():
    trace = derive(LOG_SOFTMAX)
    o = torch.tensor([[1.5, -0.5, 2], [0, 1, -1]], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([3, -2, 0.5, 4], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[0, 1, 0], [1, 0, 0]], dtype=torch.float64)
    q, s = torch.log_softmax(o, dim=-1), torch.logsumexp(o, dim=-1)
    weights = torch.tensor([1, 2, 3, 4], dtype=torch.float64)
    L = -torch.sum(y * q) + torch.sum(s * s) + torch.logsumexp(z, -1) * torch.sum(torch.log_softmax(z, -1) * weights)
    L.backward()
    assert float(to_float(trace.values["L"])) == pytest.approx(L.item(), rel=1e-12)
    torch.testing.assert_close(torch.from_numpy(to_float(trace.values["q"])), q.detach(), rtol=1e-12, atol=1e-14)
    grads = {g.wrt: torch.from_numpy(to_float(g.value)) for g in trace.gradients}
    torch.testing.assert_close(grads["o"], o.grad, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grads["z"], z.grad, rtol=1e-12, atol=1e-14)


def test_log_softmax_of_one_class_and_of_equal_logits_is_exact():
    trace = derive("param z = [5]\nparam w = [2, 2, 2]\nL = sum(log_softmax(z)) + logsumexp(w)\n")
    assert trace.values["v1"].tolist() == [0]
    assert float(trace.values["L"][()]) == pytest.approx(2 + math.log(3), rel=1e-15)  # w + ln K
    grads = {g.wrt: g.value.tolist() for g in trace.gradients}
    assert grads["z"] == [0] and grads["w"] == [Fraction(1, 3)] * 3


@needs_torch
def test_the_torch_script_of_every_new_operation_runs_and_agrees(tmp_path):
    program = tmp_path / "acts.ws"
    program.write_text("param W = [[0.5, -1], [2, 0.25]]\ndata x = [1, -2]\nz = W @ x\n"
                       "h = gelu(z) + silu(z) + elu(z) + leaky_relu(z, 0.1)\n"
                       "L = sum(h) + logsumexp(z) + sum(log_softmax(z))\n")
    script = tmp_path / "acts.py"
    done = subprocess.run([sys.executable, "-m", "worksheet", "derive", str(program), "-f", "torch", "-o", str(script)],
                          capture_output=True, text=True, check=True)
    text = script.read_text()
    for call in ("F.gelu(", "F.silu(", "F.elu(", "F.leaky_relu(", "torch.logsumexp(", "torch.log_softmax("):
        assert call in text, call
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "All gradients agree with PyTorch." in ran.stdout, done.stderr + ran.stdout + ran.stderr


def test_gelu_derivative_is_written_with_phi_in_every_notation():
    trace = derive("gelu(x*y)", at="x=1, y=2")
    assert "Φ(v1) + v1·φ(v1)" in render(trace, "txt")
    assert r"\Phi\left(v_{1}\right) + v_{1} \cdot \varphi\left(v_{1}\right)" in render(trace, "tex")
    assert "Phi(v_1) + v_1 dot.op phi(v_1)" in render(trace, "typ")


@pytest.mark.parametrize("formula, right, wrong", [
    ("silu(x)", "sigmoid(x)*(1 + x*(1 - sigmoid(x)))", "sigmoid(x)"),
    ("elu(x)", "step(x) + (1 - step(x))*exp(x)", "exp(x)"),
    ("leaky_relu(x, 0.1)", "0.1 + 0.9*step(x)", "step(x)"),
])
def test_check_judges_formula_answers_on_both_sides_of_the_kink(formula, right, wrong):
    from worksheet.assess.check import check

    assert check(formula, right, wrt="x").verdict == "correct"
    assert check(formula, wrong, wrt="x").verdict == "incorrect"


@pytest.mark.parametrize("answer, verdict", [
    ("Phi(x) + x*phi(x)", "correct"), ("Φ(x) + x·φ(x)", "correct"),  # gelu′ as the worksheet prints it
    ("normal_cdf(x) + x*normal_pdf(x)", "correct"), ("Phi(x)", "incorrect"),
])
def test_gelu_answers_read_back_as_printed(answer, verdict):
    from worksheet.assess.check import check

    assert check("gelu(x)", answer, wrt="x").verdict == verdict


def test_phi_stays_a_variable_unless_called():
    trace = derive("r*sin(phi) + φ", at="r=2, phi=0")
    assert {g.wrt: g.value for g in trace.gradients} == {"r": 0, "phi": 3}
