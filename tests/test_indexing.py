"""Indexing and slicing (x[0], W[:, 0], x[1:3], out[0][0]), outer(a, b), dot(a, b), and the values
eye(n) and arange(…): each model written again in PyTorch (float64 autograd, every gradient to
rtol 1e-12), a finite-difference check, the ``--format torch`` script run as a process, and every
refusal one located line with exit status 2.

PyTorch is optional: without it these tests skip, except under CI, where they fail."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from conftest import optional_torch, run_scripts

from worksheet import derive, render
from worksheet.lang.parse import parse_expression
from worksheet.lang.syntax import Apply
from worksheet.tensors import to_float

torch = optional_torch()
if torch is None:
    pytest.skip("PyTorch is not installed (pip install torch)", allow_module_level=True)

RTOL, ATOL = 1e-12, 1e-15
F64 = torch.float64


def agrees_with_torch(program: str, model) -> None:
    """The worksheet's output value and every gradient equal PyTorch's for ``model`` (a function
    of the inputs as float64 tensors, the differentiated ones requiring a gradient)."""
    trace = derive(program, filename="model.ws")
    wrt = {g.wrt for g in trace.gradients}
    inputs = {name: torch.tensor(to_float(value), dtype=F64, requires_grad=name in wrt)
              for name, value in trace.point.items()}
    output = model(inputs)
    torch.testing.assert_close(torch.tensor(float(trace.values[trace.target][()]), dtype=F64),
                               output.detach(), rtol=RTOL, atol=ATOL)
    output.backward()
    for g in trace.gradients:
        want = inputs[g.wrt].grad
        torch.testing.assert_close(torch.from_numpy(to_float(g.value)), want, rtol=RTOL, atol=ATOL,
                                   msg=lambda text, w=g.wrt: f"d/d{w}: {text}")


MODELS = {
    "a scalar loss of indexed elements": (
        "param x = [1.5, -2, 3]\nparam w = 0.5\ndata y = [4, 5]\nloss = (x[0]*w - y[1])**2",
        lambda t: (t["x"][0] * t["w"] - t["y"][1]) ** 2,
    ),
    "negative indices and a scalar into arithmetic": (
        "param x = [1, 2, 3, 4]\ndata y = 2\nL = (x[-1] - y)**2 + x[-2] * 3",
        lambda t: (t["x"][-1] - t["y"]) ** 2 + t["x"][-2] * 3,
    ),
    "slices feeding sums": (
        "param x = [1, -2, 3, 0.5, 7]\nL = sum(x[1:3] ** 2) + sum(x[:2]) + sum(x[::2] * x[1::2][0])",
        lambda t: torch.sum(t["x"][1:3] ** 2) + torch.sum(t["x"][:2]) + torch.sum(t["x"][::2] * t["x"][1::2][0]),
    ),
    "a column, a row and an element of a matrix": (
        "param W = [[1, 2, 3], [4, 5, 6]]\ndata v = [0.5, -1]\n"
        "L = sum(W[:, 0] * v) + W[0, 1] ** 2 + sum(W[0]) * W[-1, -1] + sum(W[::2, 1:])",
        lambda t: (torch.sum(t["W"][:, 0] * t["v"]) + t["W"][0, 1] ** 2 + torch.sum(t["W"][0]) * t["W"][-1, -1]
                   + torch.sum(t["W"][::2, 1:])),
    ),
    "two index nodes of the same element add": (
        "param x = [3, -1]\nL = x[0] * x[1] + x[0] ** 2 + x[0]",
        lambda t: t["x"][0] * t["x"][1] + t["x"][0] ** 2 + t["x"][0],
    ),
    "out[0][0] of a matrix product": (
        "param A = [[1, 2], [3, 4]]\nparam B = [[0.5, -1], [2, 1]]\nout = A @ B\nL = out[0][0] + 2 * out[1, 0] ** 2",
        lambda t: (lambda out: out[0][0] + 2 * out[1, 0] ** 2)(t["A"] @ t["B"]),
    ),
    "an element after a transcendental function": (
        "param W = [[0.5, -1], [2, 0.25], [1, 1]]\ndata x = [1, 2]\np = sigmoid(W @ x)\n"
        "L = -log(p[0]) + sum(p[1:]) * p[-1]",
        lambda t: (lambda p: -torch.log(p[0]) + torch.sum(p[1:]) * p[-1])(torch.sigmoid(t["W"] @ t["x"])),
    ),
    "outer product": (
        "param a = [1, 2, 3]\nparam b = [0.5, -1]\ndata C = [[1, 2], [3, 4], [5, 6]]\nL = sum(outer(a, b) * C)",
        lambda t: torch.sum(torch.outer(t["a"], t["b"]) * t["C"]),
    ),
    "outer product, squared": (
        "param a = [1, -2]\nparam b = [3, 0.5, 1]\nM = outer(a, b)\nL = sum(M * M) + M[1, 2]",
        lambda t: (lambda M: torch.sum(M * M) + M[1, 2])(torch.outer(t["a"], t["b"])),
    ),
    "dot of two vectors and of a matrix and a vector": (
        "param a = [1, 2, 3]\nparam b = [-1, 0.5, 2]\nparam W = [[1, 0, 2], [0.5, 1, -1]]\n"
        "L = dot(a, b) ** 2 + sum(dot(W, a)) + a.dot(b)",
        lambda t: torch.dot(t["a"], t["b"]) ** 2 + torch.sum(torch.mv(t["W"], t["a"])) + t["a"].dot(t["b"]),
    ),
    "eye and arange as data": (
        "data I = eye(3)\ndata r = arange(0, 1, 0.25)\ndata k = arange(3)\nparam x = [1, 2, 3]\n"
        "param w = [1, -1, 2, 0.5]\nL = sum((I @ x) * k) + dot(w, r) ** 2",
        lambda t: torch.sum((t["I"] @ t["x"]) * t["k"]) + torch.dot(t["w"], t["r"]) ** 2,
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_every_gradient_agrees_with_pytorch(name):
    program, model = MODELS[name]
    agrees_with_torch(program, model)


def test_an_index_sends_the_gradient_to_its_element_and_zeros_elsewhere():
    trace = derive("param x = [1, 2, 3]\nL = 5 * x[1]", filename="model.ws")
    assert np.asarray(trace.gradients[0].value).tolist() == [0, 5, 0]
    assert all(isinstance(v, Fraction) for v in np.ravel(trace.gradients[0].value))


def test_two_reads_of_one_element_are_a_sum_of_two_scatters():
    trace = derive("param x = [3, -1]\nL = x[0] * x[1] + x[0]", filename="model.ws")
    gradient = trace.gradients[0]
    text = render(trace, "txt")
    assert text.count("at x[0], 0 elsewhere") >= 2 and "at x[1], 0 elsewhere" in text
    assert np.asarray(gradient.value).tolist() == [0, 3]  # ∂/∂x₀ = x₁ + 1 = 0, ∂/∂x₁ = x₀ = 3


def test_indexing_agrees_with_finite_differences():
    """The gradient of a model with indexing and sigmoid against central differences of its value."""
    def program(x):
        return f"param x = {x}\ndata y = [1, 0]\np = sigmoid(x[1:] * x[0])\nL = sum((p - y) ** 2) + x[-1] * x[0]"

    x0 = [0.5, -1.25, 2.0]
    gradient = to_float(derive(program(x0), filename="model.ws").gradients[0].value)
    h = 1e-6
    for i in range(len(x0)):
        up, down = list(x0), list(x0)
        up[i] += h
        down[i] -= h
        value = [float(derive(program(v), filename="model.ws").values["L"][()]) for v in (up, down)]
        assert abs((value[0] - value[1]) / (2 * h) - gradient[i]) < 1e-6


def test_eye_and_arange_are_exact():
    trace = derive("data I = eye(3)\ndata E = eye(2, 3)\ndata r = arange(0, 1, 0.25)\ndata k = arange(4)\n"
                   "data s = arange(2, 8, 2)\ndata d = arange(3, 0, -1)\ndata f = arange(-1, 1, 1/3)\n"
                   "param w = 1\nL = w * (sum(I) + sum(E) + sum(r) + sum(k) + sum(s) + sum(d) + sum(f))",
                   filename="model.ws")
    point = {name: np.asarray(value).tolist() for name, value in trace.point.items()}
    assert point["I"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert point["E"] == [[1, 0, 0], [0, 1, 0]]
    assert point["r"] == [0, Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)]
    assert point["k"] == [0, 1, 2, 3] and point["s"] == [2, 4, 6] and point["d"] == [3, 2, 1]
    assert point["f"] == [Fraction(k, 3) for k in range(-3, 3)]
    assert all(isinstance(v, Fraction) for name in point for v in np.ravel(trace.point[name]))


def test_torch_names_and_makers_under_a_module():
    trace = derive("data I = torch.eye(2)\ndata k = np.arange(2)\nparam a = [1, 2]\nL = sum(torch.outer(a, k) * I)",
                   filename="model.ws")
    assert np.asarray(trace.gradients[0].value).tolist() == [0, 1]


def test_the_index_travels_in_the_op_name_as_written():
    for text, op in [("x[0]", "index[0]"), ("x[-1]", "index[-1]"), ("W[0, 1]", "index[0, 1]"),
                     ("x[1:3]", "index[1:3]"), ("x[:2]", "index[:2]"), ("W[:, 0]", "index[:, 0]"),
                     ("x[::2]", "index[::2]"), ("x[1:]", "index[1:]"), ("x[007]", "index[7]")]:
        tree = parse_expression(text)
        assert isinstance(tree, Apply) and tree.op == op, text
    outer, inner = parse_expression("out[0][1]"), None
    inner = outer.args[0]
    assert outer.op == "index[1]" and inner.op == "index[0]"


def test_json_figures_and_detail_show_the_index(cli, tmp_path):
    program = "param W = [[1, 2], [3, 4]]\nparam x = [1, -1]\nh = W @ x\nL = h[0] * W[1, 0] + sum(outer(x, x))"
    trace = derive(program, filename="model.ws")
    data = json.loads(render(trace, "json"))
    nodes = {n["name"]: n for n in data["nodes"]}
    indexed = [n for n in nodes.values() if n["op"].startswith("index[")]
    assert {n["expr"] for n in indexed} == {"h[0]", "W[1, 0]"}
    assert any("0 elsewhere" in s["vjp"] for s in data["backward"])
    for form in ("md", "tex", "typ", "txt", "html"):
        assert "[1, 0]" in render(trace, form)
    assert "indexing rule" in render(trace, "md", detail="full")
    path = tmp_path / "model.ws"
    path.write_text(program + "\n")
    for form in ("mermaid", "svg", "tikz"):
        result = cli("graph", str(path), "--format", form)
        assert result.code == 0 and "1, 0" in result.out, (form, result.err)


def test_torch_scripts_of_indexing_models_run_and_agree(tmp_path):
    paths = []
    for i, (program, _) in enumerate(MODELS.values()):
        path = tmp_path / f"model_{i}.py"
        path.write_text(render(derive(program, filename="model.ws"), "torch"), encoding="utf-8")
        paths.append(str(path))
    lines = run_scripts(paths)
    failed = [line for line in lines if line.split("\t")[0] != "0"]
    assert len(lines) == len(paths) and not failed, "\n".join(failed or lines)
    assert all("All gradients agree with PyTorch." in line for line in lines), lines


REFUSED = [
    ("L = sum(x[i])", "4:11", "not the variable i"),
    ("L = x[5]", "4:6", "the index 5 is out of range for a vector of 3"),
    ("L = x[-4]", "4:6", "out of range for a vector of 3"),
    ("L = W[2, 0]", "4:6", "out of range for a 2×2 matrix"),
    ("L = x[1.5]", "4:7", "a whole number, not 1.5"),
    ("L = x[1e0]", "4:7", "a whole number"),
    ("L = W[0, 0, 0]", "4:6", "3 indices but a 2×2 matrix has only 2 axes"),
    ("L = sum(x[::0])", "4:11", "step must be positive"),
    ("L = sum(x[::-1])", "4:11", "step must be positive"),
    ("L = x[]", "4:7", "an index is a constant integer"),
    ("L = x[1+1]", "4:8", "an index is a constant integer"),
    ("L = x[0", "4:8", "never closed"),
    ("L = sum(x[1:1])", "4:10", "selects no elements"),
    ("L = w[0]", "4:6", "a scalar has no elements"),
    ("L = x[0][0]", "4:9", "a scalar has no elements"),
    ("L = x[12345678901234567]", "4:7", "at most 15 digits"),
    ("L = sum(outer(W, x))", "4:9", "outer multiplies two vectors"),
    ("data z = arange(0, 1, 0)\nL = sum(z)", "4:10", "step must not be 0"),
    ("data z = arange(10**9)\nL = sum(z)", "4:10", "the limit is"),
    ("data z = eye(10**5)\nL = sum(z)", "4:10", "the limit is"),
    ("data z = arange(2, 1)\nL = sum(z)", "4:10", "no elements"),
    ("data z = arange(1, 2, 3, 4)\nL = sum(z)", "4:10", "one to three numbers"),
    ("data z = arange(pi)\nL = sum(z)", "4:17", "exact numbers"),
    ("data z = eye(2, 2, 2)\nL = sum(z)", "4:10", "one or two sizes"),
]


@pytest.mark.parametrize("line, place, fragment", REFUSED)
def test_each_refusal_is_one_located_line(cli, tmp_path, line, place, fragment):
    path = tmp_path / "model.ws"
    path.write_text(f"param x = [1, 2, 3]\nparam W = [[1, 2], [3, 4]]\nparam w = 2\n{line}\n")
    result = cli("derive", str(path))
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert f"model.ws:{place}:" in result.err and fragment in result.err, result.err
