"""Tensor programs without PyTorch: the language (lists, ones, zeros, randn, @, .T), shapes and
their errors, gradients against central finite differences of the worksheet's own forward
pass, the matrix-form steps, and every output format. (PyTorch is the oracle of
test_torch_oracle.py.)"""

from __future__ import annotations

import json
import math
import re
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from conftest import SAMPLES, latex_available
from worksheet import WorksheetError, derive, render
from worksheet.lang.parse import Apply, ListLit, Make, parse_program
from worksheet.notation import TextNotation
from worksheet.tensors import to_float

TENSOR_SAMPLES = ["linear_bce.ws", "mlp_l2.ws", "batch_vector.ws", "nn_linear.ws"]


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


# ── the language ─────────────────────────────────────────────────────────────────────────

def test_matmul_binds_like_multiplication_and_transpose_binds_tightest():
    (statement,) = parse_program("L = a * B @ c.T").statements
    assert isinstance(statement.expr, Apply) and statement.expr.op == "matmul"
    left, right = statement.expr.args
    assert left.op == "mul" and right.op == "transpose"


def test_values_are_lists_and_makers():
    program = parse_program("param W = randn(2, 3, seed=7)\ndata x = [[1, 2], [3, 4.5]]\ndata o = ones(3)")
    assert isinstance(program.statements[0].expr, Make)
    assert isinstance(program.statements[1].expr, ListLit)
    trace = derive("param W = [[1, 2], [3, 4.5]]\nL = sum(W)")
    assert trace.point["W"][1, 1] == Fraction(9, 2)


def test_randn_is_reproducible_and_written_in_hundredths():
    a = derive("param W = randn(3, 4, seed=7)\nL = sum(W)").point["W"]
    b = derive("param W = randn(3, 4, seed=7)\nL = sum(W)").point["W"]
    c = derive("param W = randn(3, 4, seed=8)\nL = sum(W)").point["W"]
    assert (a == b).all() and not (a == c).all()
    assert all(isinstance(v, Fraction) and (v * 100).denominator == 1 for v in a.flat)
    assert 0.3 < float(np.std(to_float(derive("param W = randn(40, 40, seed=1)\nL = sum(W)").point["W"]))) < 1.7


@pytest.mark.parametrize("program, fragments", [
    ("param W = randn(3, 2, seed=0)\ndata x = [1, 2, 3]\nL = sum(W @ x)", ["3:11", "3×2", "vector of 3", "2 ≠ 3"]),
    ("param z = ones(2, 2)\ndata b = [1, 2, 3]\nL = sum(z + b)", ["3:11", "2×2", "3", "broadcast"]),
    ("param W = ones(2, 2)\nL = W @ W", ["2:7", "a 2×2 matrix", "scalar"]),
    ("param w = 2\ndata x = [1, 2]\nL = sum(w @ x)", ["3:11", "@ multiplies vectors and matrices"]),
    ("param o = [1, 2, 3]\ndata c = 3\nL = cross_entropy(o, c)", ["3:5", "from 0 to 2"]),
    ("param o = [1, 2, 3]\ndata c = [1, 2]\nL = cross_entropy(o, c)", ["3:5", "vector of 3", "vector of 2"]),
    ("param p = [1, 2, 3]\ndata t = [1, 2]\nL = mse(p, t)", ["3:5", "do not broadcast"]),
    ("param W = randn(3, 2)\nL = sum(W)", ["1:11", "seed"]),
    ("param W = ones(0, 2)\nL = sum(W)", ["1:16", "≥ 1"]),
    ("param W = ones(2.5)\nL = sum(W)", ["1:16", "whole number"]),
    ("param W = zeros(2, seed=1)\nL = sum(W)", ["seed"]),
    ("param W = [[1, 2], [3]]\nL = sum(W)", ["1:11", "same length"]),
    ("param W = [[[1]]]\nL = sum(W)", ["nested at most two deep"]),
    ("param W = [1, 2]\nL = sum(W + [1, 2])", ["2:13", "a list is a value"]),
    ("param W = [1, x]\nL = sum(W)", ["variable x"]),
    ("param W = randn(1000, 1000, seed=0)\nL = sum(W)", ["1,000,000 elements"]),
    ("param A = ones(300, 300)\nB = A @ A\nC = B @ A\nL = sum(C @ A)", ["element operations"]),
    ("param W = [1, -2]\nL = sum(log(W))", ["2:9", "log(W)", "undefined"]),
    ("param W = [1, 2\nL = sum(W)", ["never closed"]),
    ("param W = [1, 2]]\nL = sum(W)", ["unmatched ']'"]),
    ("param W = [1, 2]\nL = sum(W.shape)", ["2:10", ".shape is not a method"]),
])
def test_bad_tensor_programs_are_one_located_line(program, fragments):
    with pytest.raises(WorksheetError) as caught:
        derive(program, filename="model.ws")
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_class_index_has_no_gradient():
    with pytest.raises(WorksheetError, match="class index"):
        derive("param o = [1, 2]\ndata c = 1\nL = cross_entropy(o, c)", wrt="c")


def test_shape_error_from_the_command_line(cli, tmp_path):
    path = tmp_path / "bad.ws"
    path.write_text("param W = randn(3, 2, seed=0)\ndata x = [1, 2, 3]\nL = sum(W @ x)\n")
    out = tmp_path / "out.md"
    result = cli("derive", str(path), "-o", str(out))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "3:11" in result.err and "3×2" in result.err
    assert "Traceback" not in result.err and not out.exists()


# ── gradients against finite differences of the forward pass ───────────────────────────

MODELS = {
    "mlp": """param W1 = randn(4, 3, seed=1)
param b1 = randn(4, seed=2)
param W2 = randn(2, 4, seed=3)
data x = [0.5, -1, 2]
data y = [1, 0]
h = tanh(W1 @ x + b1)
o = W2 @ h
L = mse(o, y) + 0.01 * sumsq(W1)""",
    "batch": """param W = randn(2, 3, seed=4)
param b = randn(2, seed=5)
data X = randn(5, 3, seed=6)
data t = [0, 1, 1, 0, 1]
Z = X @ W.T + b
L = cross_entropy(Z, t)""",
    "softmax": """param v = randn(4, seed=7)
data q = [0.1, 0.2, 0.3, 0.4]
param A = randn(4, 4, seed=8)
p = softmax(A @ v)
L = -sum(log(p) * q)""",
    "scalar in tensors": """param a = 1.5
param W = randn(3, 2, seed=9)
data x = [1, -2]
L = mean(sigmoid(a * (W @ x)) ** 2) + a * a""",
    "bce": """param W = randn(3, 3, seed=10)
data x = [1, 2, 3]
data y = [1, 0, 1]
L = bce_with_logits(W @ x / 4, y)""",
}


def _value_at(program: str, name: str, value: np.ndarray, wrt: str) -> float:
    """J at ``name = value`` (the worksheet's own forward pass, no backward)."""
    trace = derive(program, wrt=wrt, at={name: value.tolist() if value.shape else value[()]})
    return float(trace.values[trace.target][()])


@pytest.mark.parametrize("model", MODELS)
def test_gradients_equal_central_finite_differences(model):
    program = MODELS[model]
    trace = derive(program)
    assert trace.gradients
    for gradient in trace.gradients:
        base = to_float(trace.point[gradient.wrt])
        got = to_float(gradient.value)
        assert got.shape == base.shape
        for index in list(np.ndindex(*base.shape))[:6]:
            h = 1e-6
            up, down = base.copy(), base.copy()
            up[index] += h
            down[index] -= h
            estimate = (_value_at(program, gradient.wrt, up, gradient.wrt)
                        - _value_at(program, gradient.wrt, down, gradient.wrt)) / (2 * h)
            assert math.isclose(got[index], estimate, rel_tol=1e-5, abs_tol=1e-7), (gradient.wrt, index)


def test_exact_where_the_arithmetic_is_rational():
    trace = derive(sample("batch_vector.ws"))
    assert {g.wrt: g.value[()] for g in trace.gradients} == {"w": -30, "b": -10}
    trace = derive(sample("nn_linear.ws"))
    values = {g.wrt: g.value.tolist() for g in trace.gradients}
    assert values == {"W": [[-12, -17]], "b": [-5]}


# ── the matrix-form steps ───────────────────────────────────────────────────────────────

def _text(term) -> str:
    return TextNotation().term(term)


def test_matrix_form_of_the_d2l_mlp():
    trace = derive(sample("mlp_l2.ws"))
    steps = {(s.node, s.input): _text(s.vjp) for s in trace.steps}
    assert steps[("o", "W2")] == "(∂J/∂o) hᵀ"
    assert steps[("o", "h")] == "W2ᵀ (∂J/∂o)"
    assert steps[("h", "z")] == "∂J/∂h ⊙ [z > 0]"
    assert steps[("z", "W1")] == "(∂J/∂z) xᵀ"
    results = {g.wrt: (_text(g.in_trace), _text(g.in_names)) for g in trace.gradients}
    assert results["W2"] == ("(∂J/∂o) hᵀ + ∂J/∂v3 · 2W2", "(∂J/∂o) hᵀ + λ·W2")
    assert results["W1"] == ("(∂J/∂z) xᵀ + ∂J/∂v2 · 2W1", "(∂J/∂z) xᵀ + λ·W1")


def test_bce_linear_layer_gives_per_column_gradients():
    trace = derive(sample("linear_bce.ws"))
    (bce_step,) = [s for s in trace.steps if s.node == "loss"]
    assert _text(bce_step.vjp) == "(σ(z) − y)/3"
    z = to_float(trace.values["z"])
    expected = (1 / (1 + np.exp(-z)) - 0) / 3
    W = {g.wrt: to_float(g.value) for g in trace.gradients}["W"]
    assert W.shape == (5, 3)
    for row in W:  # x = ones(5): every row of ∂loss/∂W is (σ(z) − y)/3
        assert np.allclose(row, expected, rtol=1e-12)


def test_bias_added_to_each_row_sums_its_gradient_over_the_rows():
    trace = derive("param b = [1, 2]\ndata X = [[1, 2], [3, 4], [5, 6]]\nL = sum((X + b) ** 2)")
    (step,) = trace.steps[-1:]
    assert _text(step.vjp).startswith("Σ_rows(")
    assert step.value.tolist() == [2 * (1 + 1 + 3 + 1 + 5 + 1), 2 * (2 + 2 + 4 + 2 + 6 + 2)]


# ── output formats ──────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("name", TENSOR_SAMPLES)
@pytest.mark.parametrize("fmt", ["md", "tex", "txt", "json", "torch"])
def test_every_format_renders_every_tensor_sample(name, fmt):
    text = render(derive(sample(name), filename=name), fmt)
    assert text.strip()
    if fmt == "md":
        assert "\\begin{bmatrix}" in text and "\\mathbb{R}" in text
    if fmt == "txt":
        assert "⎡" in text or "[ " in text


def test_json_keeps_full_precision_and_nested_shapes():
    data = json.loads(render(derive(sample("mlp_l2.ws")), "json"))
    assert data["schema"] == "worksheet.derive/1" and data["tensor"] is True
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["W1"]["shape"] == [4, 3] and len(nodes["W1"]["value_float"]) == 4
    assert len(nodes["W1"]["value_float"][0]) == 3 and nodes["W1"]["value"][0][0] == "129/100"
    assert nodes["J"]["shape"] == [] and isinstance(nodes["J"]["value_float"], float)
    grad = data["gradients"]["W1"]
    assert grad["shape"] == [4, 3] and grad["expr"] == "(∂J/∂z) xᵀ + λ·W1"
    exact = float(grad["value"][0][0])
    assert exact == grad["value_float"][0][0]  # the shortest decimal that is the double itself
    assert len(grad["value"][0][0]) > 10  # not rounded to --digits


def test_digits_round_the_display_only():
    trace = derive(sample("mlp_l2.ws"))
    short, long = render(trace, "txt", digits=3), render(trace, "txt", digits=10)
    assert "1.63 " in short and "1.628547551" in long
    assert render(trace, "json", digits=3) == render(trace, "json", digits=10)


def test_a_large_matrix_is_elided_in_print_and_whole_in_json():
    program = "param W = randn(32, 16, seed=1)\ndata x = randn(16, seed=2)\nL = sum(sigmoid(W @ x))"
    trace = derive(program)
    text = render(trace, "txt")
    assert "⋯" in text and "⋮" in text
    assert max(len(line) for line in text.splitlines()) < 200
    data = json.loads(render(trace, "json"))
    assert len(data["gradients"]["W"]["value"]) == 32 and len(data["gradients"]["W"]["value"][0]) == 16


def test_tensor_latex_compiles(tmp_path):
    latex_available()
    for name in ("mlp_l2.ws", "linear_bce.ws"):
        tex = tmp_path / (name + ".tex")
        tex.write_text(render(derive(sample(name)), "tex"), encoding="utf-8")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]


def test_format_torch_is_picked_by_the_py_extension(cli, tmp_path):
    out = tmp_path / "check.py"
    result = cli("derive", str(SAMPLES / "nn_linear.ws"), "-o", str(out))
    assert result.code == 0
    script = out.read_text()
    assert "requires_grad=True" in script and ".backward()" in script
    assert re.search(r"F\.mse_loss", script)
    compile(script, "check.py", "exec")


# ── Arb's matrix product for balls ───────────────────────────────────────────────────────

def _exact(arf):
    import mpmath

    mantissa, exponent = arf.man_exp()
    return mpmath.ldexp(mpmath.mpf(int(mantissa)), int(exponent))


@pytest.mark.parametrize("shapes", [((3, 7), (7, 2)), ((7,), (7, 4)), ((4, 7), (7,)), ((7,), (7,)), ((2, 3), (3, 5))])
def test_matmul_and_outer_of_balls_enclose_the_true_products(shapes):
    """elements.matmul (Arb's C product past the closed-form size) and elements.outer keep
    NumPy's shapes, and every ball holds the product computed at 60 digits."""
    import mpmath

    from worksheet.arith import balls, elements

    rng = np.random.default_rng(7)

    def draw(shape):
        fractions = [Fraction(int(n), 64) for n in rng.integers(-200, 200, size=int(np.prod(shape)))]
        balls, truth = np.empty(len(fractions), dtype=object), np.empty(len(fractions), dtype=object)
        balls[:] = [elements.tanh(f) if i % 2 else f for i, f in enumerate(fractions)]
        truth[:] = [mpmath.tanh(mpmath.mpf(f.numerator) / f.denominator) if i % 2
                    else mpmath.mpf(f.numerator) / f.denominator for i, f in enumerate(fractions)]
        return balls.reshape(shape), truth.reshape(shape)

    with mpmath.workdps(60), balls.working(128):
        (a, ta), (b, tb) = draw(shapes[0]), draw(shapes[1])
        for ours, truth in [(elements.matmul(a, b), np.matmul(ta, tb)),
                            (elements.outer(a.ravel(), b.ravel()), np.outer(ta.ravel(), tb.ravel()))]:
            assert np.shape(ours) == np.shape(truth)
            for x, t in zip(np.ravel(ours), np.ravel(truth)):
                ball = elements.to_arb(x)
                assert abs(_exact(ball.mid()) - t) <= _exact(ball.rad()) + mpmath.mpf(10) ** -55
                assert ball.rel_accuracy_bits() >= 100


# ── --detail for models ───────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("name", ["mlp_l2", "nn_linear", "linear_bce", "batch_vector"])
def test_a_models_brief_worksheet_gives_every_gradient_as_central_differences_do(name):
    """brief: one line ∂J/∂v per node; the params' lines agree with central differences (an
    oracle that knows nothing of the sweep) to 1e-6."""
    from worksheet.document import Equations
    from worksheet.document import worksheet as model_worksheet
    from worksheet.terms import Partial

    trace = derive((SAMPLES / f"{name}.ws").read_text(), check_numeric=True)
    document = model_worksheet(trace, detail="brief")
    backward = document.blocks[[getattr(b, "text", "") for b in document.blocks].index("2. Backward pass") + 1]
    assert isinstance(backward, Equations)
    lines = {row.sides[0].wrt: row.sides[1] for row in backward.rows if isinstance(row.sides[0], Partial)}
    assert set(lines) == set(trace.adjoints) | {trace.target}
    for gradient in trace.gradients:
        value = np.asarray(lines[gradient.wrt].value, dtype=float)  # a Number or a Tensor term
        estimate = np.asarray(trace.modes.estimates[gradient.wrt].value, dtype=float)
        assert np.allclose(value, estimate, rtol=1e-6, atol=1e-8), (name, gradient.wrt)
    text = render(trace, "txt", detail="brief")
    assert "·" not in text.split("2. Backward pass")[1].split("3. Result")[0]  # no products in brief


def test_a_models_full_worksheet_names_each_vjps_rule():
    text = render(derive((SAMPLES / "mlp_l2.ws").read_text()), "txt", detail="full")
    assert "Rule: ∂o/∂W2, ∂o/∂h: matrix product rule." in text
    assert "Rule: ∂h/∂z: chain rule, relu′(u) = 1 for u > 0, else 0, elementwise." in text
    assert "softmax(o) − onehot(c)" in text  # the cross-entropy's gradient, (softmax(o) − onehot(y))
    standard = render(derive((SAMPLES / "mlp_l2.ws").read_text()), "txt")
    assert "Rule" not in standard and len(text) > len(standard)
