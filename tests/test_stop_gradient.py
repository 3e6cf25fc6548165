"""stop_gradient / detach, several outputs (--target loss,z), --aux and --seed-grad, against
independent oracles: sympy.diff of the formula with the detached part replaced by a constant,
and PyTorch autograd in float64 (``.detach()``, ``(loss + z.sum()).backward()``,
``z.backward(gradient=g)``). The exact statements of samples/linear_bce_aux.ws are checked
in exact fractions where the numbers are rational.

PyTorch is optional: without it the PyTorch tests skip, except under CI, where they fail."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction

import numpy as np
import pytest
import sympy
from sympy import Rational, Symbol, exp, sin, tanh

from conftest import SAMPLES, latex_available, optional_torch, run_scripts

from worksheet import WorksheetError, derive
from worksheet.functions import stop_gradient
from worksheet.render import render
from worksheet.tensors import to_float

torch = optional_torch()

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch)")
RTOL, ATOL = 1e-9, 1e-12
SAMPLE = "linear_bce_aux.ws"

w, x, b, y, c, d = (Symbol(n, real=True) for n in "wxbycd")


def sample_text() -> str:
    return (SAMPLES / SAMPLE).read_text()


def gradients(trace) -> dict:
    return {g.wrt: g.value for g in trace.gradients}


def flat(text: str) -> str:
    """The text with its lines rewrapped into one: phrases are checked across line breaks."""
    return " ".join(text.split())


def close(a, b) -> bool:
    return abs(sympy.N(sympy.sympify(a) - sympy.sympify(b), 40)) < 1e-25


# ── scalar formulas against sympy.diff ───────────────────────────────────────────────────

def sigmoid_oracle(u):
    return 1 / (1 + exp(-u))


SCALAR_CASES = [
    # formula, the oracle with each detached part a constant (c, d), their values, the point
    ("w*stop_gradient(w*x)", w * c, {c: w * x}, {w: 2, x: 3}),
    ("(w*x + b - stop_gradient(y*w))**2", (w * x + b - c) ** 2, {c: y * w}, {w: 1, x: 2, b: Rational(1, 2), y: 4}),
    ("sin(w)*detach(sin(w)) + x*w", sin(w) * c + x * w, {c: sin(w)}, {w: Rational(1, 3), x: 5}),
    ("sigmoid(w*x)*stop_gradient(sigmoid(w*x)) + stop_gradient(w)**2",
     sigmoid_oracle(w * x) * c + d**2, {c: sigmoid_oracle(w * x), d: w}, {w: Rational(1, 2), x: 2}),
    ("stop_gradient(w*stop_gradient(x)) + x*w", c + x * w, {c: w * x}, {w: 3, x: -2}),
    ("tanh(w) - detach(tanh(w)) + 1", tanh(w) - c + 1, {c: tanh(w)}, {w: Rational(3, 4)}),
    ("u = w*x; v = stop_gradient(u); L = u*v + v*w", w * x * c + c * w, {c: w * x}, {w: 2, x: -1}),
]


@pytest.mark.parametrize("formula, oracle, detached, point", SCALAR_CASES)
def test_scalar_stop_gradient_against_sympy_diff(formula, oracle, detached, point):
    names = [str(s) for s in point]
    trace = derive(formula, wrt=names, at={str(k): v for k, v in point.items()})
    constants = {k: v.subs(point) for k, v in detached.items()}
    for name, value in gradients(trace).items():
        want = sympy.diff(oracle, Symbol(name, real=True)).subs(constants).subs(point)
        assert close(value, want), (formula, name, value, want)
    stopped = {node for node, _ in trace.stops}
    assert stopped and stopped <= {n.name for n in trace.graph.operations if n.op == "stop_gradient"}
    assert not any(step.node in stopped for step in trace.steps)  # no step through a stop


@pytest.mark.parametrize("formula, oracle, detached, point", SCALAR_CASES)
def test_scalar_stop_gradient_symbolic(formula, oracle, detached, point):
    """Without values, each gradient is the oracle's with the constants written out again."""
    trace = derive(formula, wrt=[str(s) for s in point])
    for g in trace.gradients:
        want = sympy.diff(oracle, Symbol(g.wrt, real=True)).subs(detached)
        got = g.in_inputs.replace(stop_gradient, lambda u: u)
        got = got.replace(lambda e: isinstance(e, sympy.Function) and e.func.__name__ == "sigmoid",
                          lambda e: sigmoid_oracle(e.args[0]))
        assert sympy.simplify(got - want) == 0, (formula, g.wrt, got, want)


def test_detach_is_an_alias_and_folds_numbers():
    a = derive("w*stop_gradient(w*x)", at="w=2,x=3")
    d = derive("w*detach(w*x)", at="w=2,x=3")
    assert gradients(a) == gradients(d) == {"w": 6, "x": 0}
    assert [n.op for n in d.graph.operations] == ["mul", "stop_gradient", "mul"]
    assert gradients(derive("w*stop_gradient(2)", at="w=1")) == {"w": 2}


def test_worksheet_says_the_gradient_stops():
    trace = derive("u = w*x; s = stop_gradient(u); L = s*u", at="w=2,x=3")
    assert gradients(trace) == {"w": 18, "x": 12}  # s·x·... with s = 6 a constant
    assert trace.stops == (("s", "u"),)
    text = flat(render(trace, "txt"))
    assert "∂L/∂u gets nothing through s = stop_gradient(u)" in text
    assert "stop gradient" in text  # the forward table's operation
    data = json.loads(render(trace, "json"))
    assert data["stopped"] == [{"node": "s", "input": "u"}]
    assert [s["node"] for s in data["backward"]].count("s") == 0
    only = derive("L = stop_gradient(w*x)", at="w=2,x=3")
    text = flat(render(only, "txt"))
    assert "gets nothing through L = stop_gradient(v1)" in text
    assert "w and x affect L only through stop_gradient, so their gradients are 0." in text


# ── tensor programs against PyTorch ──────────────────────────────────────────────────────

def tensors_of(trace, **extra) -> dict:
    wrt = {g.wrt for g in trace.gradients}
    return {name: torch.tensor(to_float(value), dtype=torch.float64, requires_grad=name in wrt)
            for name, value in trace.point.items()}


def assert_grads(trace, t: dict) -> None:
    for g in trace.gradients:
        want = t[g.wrt].grad if t[g.wrt].grad is not None else torch.zeros_like(t[g.wrt])
        torch.testing.assert_close(torch.from_numpy(to_float(g.value)), want, rtol=RTOL, atol=ATOL,
                                   msg=lambda m, n=g.wrt: f"d/d{n}: {m}")


def linear(t):
    z = t["x"] @ t["W"] + t["b"]
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, t["y"])
    return z, loss


TENSOR_STOPS = [
    ("param W = randn(3, 2, seed=0)\ndata x = [1, 2]\nh = tanh(W @ x)\nL = sum(h * stop_gradient(h)) + mean(detach(W) * W)",
     lambda t: (torch.tanh(t["W"] @ t["x"]) * torch.tanh(t["W"] @ t["x"]).detach()).sum()
     + torch.mean(t["W"].detach() * t["W"])),
    ("param W = randn(2, 3, seed=4)\nparam v = [1, -1]\ndata X = randn(4, 2, seed=5)\n"
     "o = sigmoid(X @ W)\nL = mse(o, stop_gradient(o) + 1) + sum(v * detach(v))",
     lambda t: torch.nn.functional.mse_loss(torch.sigmoid(t["X"] @ t["W"]),
                                            torch.sigmoid(t["X"] @ t["W"]).detach() + 1)
     + (t["v"] * t["v"].detach()).sum()),
    ("param A = [[1, 2], [3, 4]]\nB = stop_gradient(A) @ A\nL = sumsq(B) / 10",
     lambda t: ((t["A"].detach() @ t["A"]) ** 2).sum() / 10),
]


@needs_torch
@pytest.mark.parametrize("program, model", TENSOR_STOPS)
def test_tensor_stop_gradient_against_torch(program, model):
    trace = derive(program)
    t = tensors_of(trace)
    model(t).backward()
    assert_grads(trace, t)
    stopped = {node for node, _ in trace.stops}
    assert stopped and not any(step.node in stopped for step in trace.steps)
    text = flat(render(trace, "txt"))
    assert "gets nothing through" in text and "stop_gradient passes the value forward" in text


@needs_torch
def test_two_outputs_against_torch():
    """--target loss,z: (loss + z.sum()).backward(), the sum of the outputs."""
    trace = derive(sample_text(), target="loss,z", filename=SAMPLE)
    t = tensors_of(trace)
    z, loss = linear(t)
    (loss + z.sum()).backward()
    assert_grads(trace, t)
    assert trace.target == "L_total" and trace.graph.outputs == ("loss", "z")
    torch.testing.assert_close(torch.tensor(float(to_float(trace.values["L_total"])), dtype=torch.float64),
                               (loss + z.sum()).detach(), rtol=RTOL, atol=ATOL)


@needs_torch
def test_two_tensor_outputs_of_the_mlp_against_torch():
    text = (SAMPLES / "mlp_l2.ws").read_text()
    trace = derive(text, target=["J", "h", "z"], filename="mlp_l2.ws")
    t = tensors_of(trace)
    t["y"] = torch.tensor(int(to_float(trace.point["y"])))
    zz = t["W1"] @ t["x"]
    h = torch.relu(zz)
    J = torch.nn.functional.cross_entropy(t["W2"] @ h, t["y"]) + t["lambda"] / 2 * (
        (t["W1"] ** 2).sum() + (t["W2"] ** 2).sum())
    (J + h.sum() + zz.sum()).backward()
    assert_grads(trace, t)


def test_two_scalar_outputs_against_sympy_diff():
    trace = derive("u = w*x; L = (u - y)**2", wrt="w,x", at="w=1,x=2,y=5", target="L,u")
    oracle = (w * x - y) ** 2 + w * x
    point = {w: 1, x: 2, y: 5}
    assert gradients(trace) == {n: sympy.diff(oracle, Symbol(n, real=True)).subs(point) for n in "wx"}
    text = flat(render(trace, "txt"))
    assert "Seed ∂L_total/∂L_total = 1" in text
    assert "L_total = L + u" in text and "∂L_total/∂L = 1 and ∂L_total/∂u = 1" in text
    assert "∂L_total/∂w = " in text


@needs_torch
@pytest.mark.parametrize("options", [dict(target="loss,z_out"), dict(aux="z"), dict(aux=["z", "z_out"])])
def test_detached_or_auxiliary_second_output_equals_the_loss_alone(options):
    trace = derive(sample_text(), filename=SAMPLE, **options)
    t = tensors_of(trace)
    z, loss = linear(t)
    (loss + z.detach().sum()).backward()
    assert_grads(trace, t)


def test_aux_values_are_reported():
    trace = derive(sample_text(), filename=SAMPLE, aux="z,z_out")
    assert trace.target == "loss" and trace.graph.aux == ("z", "z_out")
    z = trace.values["z"]
    assert z.tolist() == trace.values["z_out"].tolist() == [Fraction(66, 25), Fraction(21, 25), Fraction(-16, 5)]
    data = json.loads(render(trace, "json"))
    assert data["aux"] == {"z": ["66/25", "21/25", "-16/5"], "z_out": ["66/25", "21/25", "-16/5"]}
    assert data["aux_float"]["z"] == [2.64, 0.84, -3.2]
    assert data["outputs"] == ["loss"] and data["target"] == "loss"
    text = flat(render(trace, "txt"))
    assert "Auxiliary outputs (not differentiated):" in text
    scalar = derive("u = w*x; s = sin(u); L = u**2", at="w=1,x=2", aux="s")
    assert json.loads(render(scalar, "json"))["aux"] == {"s": "sin(2)"}
    assert "s = sin(u) ≈ 0.909297" in render(scalar, "txt")
    symbolic = derive("u = w*x; s = sin(u); L = u**2", aux="s")
    assert json.loads(render(symbolic, "json"))["aux"] == {"s": "sin(w*x)"}


def test_two_outputs_json_and_worksheet():
    trace = derive(sample_text(), target="loss,z", filename=SAMPLE)
    data = json.loads(render(trace, "json"))
    assert data["target"] == "L_total" and data["outputs"] == ["loss", "z"]
    node = data["nodes"][-1]
    assert node["name"] == "L_total" and node["op"] == "outputs" and node["expr"] == "loss + sum(z)"
    assert node["inputs"] == ["loss", "z"] and node["shape"] == []
    text = flat(render(trace, "txt"))
    assert "The program has several outputs, loss and z." in text
    assert "L_total = loss + sum(z)" in text and "∂L_total/∂z = 𝟏" in text
    assert "Seed ∂L_total/∂L_total = 1" in text


# ── the sample's statements, exactly ─────────────────────────────────────────────────────

def test_sample_two_outputs_differ_by_exactly_one_per_element():
    alone = gradients(derive(sample_text(), filename=SAMPLE))
    both = gradients(derive(sample_text(), target="loss,z", filename=SAMPLE))
    for name in ("W", "b"):
        assert both[name].shape == alone[name].shape
        # the same double: the worksheet adds the exact 1 to the loss's gradient of z
        assert (both[name] == alone[name] + 1).all(), name
        assert np.allclose(to_float(both[name]) - to_float(alone[name]), 1, rtol=0, atol=1e-15)
    for options in (dict(target="loss,z_out"), dict(aux="z")):
        same = gradients(derive(sample_text(), filename=SAMPLE, **options))
        assert all((same[n] == alone[n]).all() for n in ("W", "b")), options


def test_exactly_one_per_element_in_fractions():
    """The same layer with a rational loss (mse), where every number is an exact fraction."""
    program = sample_text().replace("bce_with_logits(z, y)", "mse(z, y)")
    alone = gradients(derive(program))
    both = gradients(derive(program, target="loss,z"))
    for name in ("W", "b"):
        assert all(isinstance(v, Fraction) for v in np.ravel(both[name]))
        assert all(d == 1 for d in np.ravel(both[name] - alone[name])), name
    detached = gradients(derive(program, target="loss,z_out"))
    assert all((detached[n] == alone[n]).all() for n in ("W", "b"))


# ── --seed-grad ──────────────────────────────────────────────────────────────────────────

def test_seed_grad_exact():
    trace = derive(sample_text(), target="z", seed_grad="[1, 0, 2]", filename=SAMPLE)
    g = gradients(trace)
    assert g["b"].tolist() == [1, 0, 2]
    assert g["W"].tolist() == [[1, 0, 2]] * 5  # x gᵀ with x = ones(5)
    text = flat(render(trace, "txt"))
    assert "Seed ∂z/∂z = g, the tensor given with --seed-grad" in text
    data = json.loads(render(trace, "json"))
    assert data["seed"] == ["1", "0", "2"] and data["seed_float"] == [1.0, 0.0, 2.0]


@needs_torch
@pytest.mark.parametrize("sample, target, seed", [
    (SAMPLE, "z", "[1, 0, 2]"),
    (SAMPLE, "z_out", "[1, 1, 1]"),
    ("nn_linear.ws", "y_pred", "[[1], [-2]]"),
    ("mlp_l2.ws", "h", "[0.5, -1, 2, 3]"),
])
def test_seed_grad_against_torch(sample, target, seed):
    text = (SAMPLES / sample).read_text()
    trace = derive(text, target=target, seed_grad=seed, filename=sample)
    t = tensors_of(trace)
    if sample == "mlp_l2.ws":
        out = torch.relu(t["W1"] @ t["x"])
    elif sample == "nn_linear.ws":
        out = t["x"] @ t["W"].T + t["b"]
    else:
        out = t["x"] @ t["W"] + t["b"]
        if target == "z_out":
            out = out.detach().requires_grad_()  # nothing reaches W or b
    gradient = torch.tensor(to_float(trace.seed), dtype=torch.float64)
    out.backward(gradient=gradient)
    assert_grads(trace, t)


# ── errors: one line, exit status 2 ──────────────────────────────────────────────────────

@pytest.mark.parametrize("args, fragments", [
    (["--target", "z"], ["z is a vector of 3", "backward starts from a scalar", "--seed-grad"]),
    (["--target", "z", "--seed-grad", "[1, 2]"], ["--seed-grad", "vector of 2", "vector of 3", "shape"]),
    (["--target", "z", "--seed-grad", "[[1, 2, 3]]"], ["--seed-grad", "1×3", "vector of 3"]),
    (["--seed-grad", "[1, 2, 3]"], ["--seed-grad", "loss is a scalar"]),
    (["--target", "loss,z", "--seed-grad", "[1, 2, 3]"], ["--seed-grad", "sum of the outputs"]),
    (["--aux", "nope"], ["--aux", "no assignment named 'nope'", "assigned: z, z_out, loss"]),
    (["--aux", "x"], ["--aux", "no assignment named 'x'"]),
    (["--aux", "loss"], ["--aux", "loss is an output"]),
    (["--target", "loss,nope"], ["--target", "no assignment named 'nope'"]),
    (["--target", "loss,"], ["--target", "'' is not a variable name"]),
])
def test_errors_are_one_line(cli, args, fragments):
    result = cli("derive", str(SAMPLES / SAMPLE), *args)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith("worksheet: error: ") and result.err.count("\n") == 1, result.err
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)


def test_seed_grad_on_a_scalar_formula_is_refused(cli):
    result = cli("derive", "w*x", "--at", "w=1,x=2", "--seed-grad", "2")
    assert result.code == 2 and result.err.count("\n") == 1 and "--seed-grad" in result.err


def test_cli_options(cli):
    result = cli("derive", str(SAMPLES / SAMPLE), "--target", "loss,z", "--aux", "z_out", "-f", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["outputs"] == ["loss", "z"] and list(data["aux"]) == ["z_out"]
    result = cli("derive", str(SAMPLES / SAMPLE), "--target", "z", "--seed-grad", "[1, 0, 2]", "-f", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["gradients"]["b"]["value"] == ["1", "0", "2"]
    help_text = cli("derive", "--help").out
    assert "--aux" in help_text and "--seed-grad" in help_text


def test_api_errors_are_worksheet_errors():
    with pytest.raises(WorksheetError, match="seed-grad"):
        derive(sample_text(), target="z")


# ── the PyTorch script and LaTeX ─────────────────────────────────────────────────────────

EXPORTS = [
    ("w*stop_gradient(w*x) + detach(x)*x", dict(at="w=2,x=3")),
    ("L = stop_gradient(w*x)", dict(at="w=2,x=3")),  # nothing reaches L: no backward() at all
    ("u = w*x; L = (u - y)**2", dict(at="w=1,x=2,y=5", target="L,u")),
    (SAMPLE, dict()),
    (SAMPLE, dict(target="loss,z")),
    (SAMPLE, dict(target="loss,z_out", aux="z")),
    (SAMPLE, dict(target="z", seed_grad="[1, 0, 2]")),
    (TENSOR_STOPS[0][0], dict()),
    (TENSOR_STOPS[1][0], dict()),
]

def exported(formula: str, options: dict):
    text = sample_text() if formula == SAMPLE else formula
    return derive(text, filename=SAMPLE if formula == SAMPLE else None, **options)


@needs_torch
def test_torch_export_runs_and_agrees(tmp_path):
    paths = []
    for i, (formula, options) in enumerate(EXPORTS):
        script = render(exported(formula, options), "torch")
        if "stop_gradient" in formula or "detach" in formula:
            assert ".detach()" in script
        path = tmp_path / f"check_{i}.py"
        path.write_text(script, encoding="utf-8")
        paths.append(str(path))
    assert "backward(gradient=torch.tensor([1.0, 0.0, 2.0]))" in (tmp_path / "check_6.py").read_text()
    assert "L_total = loss + torch.sum(z)" in (tmp_path / "check_4.py").read_text()
    lines = run_scripts(paths)
    failed = [line for line in lines if line.split("\t")[0] != "0" or "All gradients agree" not in line]
    assert len(lines) == len(EXPORTS) and not failed, "\n".join(failed or lines)


@pytest.mark.parametrize("formula, options", EXPORTS[:1] + EXPORTS[2:3] + EXPORTS[5:7])
def test_latex_compiles(formula, options, tmp_path):
    latex_available()
    source = tmp_path / "worksheet.tex"
    source.write_text(render(exported(formula, options), "tex"), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize("fmt", ["md", "tex", "txt", "json"])
def test_every_feature_renders(fmt):
    for formula, options in EXPORTS:
        out = render(exported(formula, options), fmt)
        assert len(out) > 200 and "nan" not in out.lower().split()
