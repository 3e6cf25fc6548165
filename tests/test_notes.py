"""Notes for the reader: how the program was read (``Graph.notes``) under the problem in every
format, ∂L/∂y = 0 for a --wrt variable the formula does not use (as JAX's grad gives), and a
learning rate of 0 or below in a training trace — its numbers checked against PyTorch's loop."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction

import numpy as np
import pytest
import sympy

from conftest import SAMPLES, latex_available, optional_torch
from worksheet import derive, render
from worksheet.engine.train import train
from worksheet.render import render_training

torch = optional_torch()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SHADOWED = "param w = 1\ndata x = 2\ne = w*x\nL = e**2\n"  # line 3 assigns e, the constant's name
NOTE = "e = w*x assigns the name e: from there on e is that value, not the constant e"
ONE_SAMPLE = (SAMPLES / "linear_one_sample.ws").read_text()  # w = 1, b = 0, x = 2, y_true = 4


def one_line_error(result, words: str) -> None:
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("worksheet: error: "), result.err
    assert words in result.err and "Traceback" not in result.err


# ── how the program was read ─────────────────────────────────────────────────────────────

@pytest.mark.parametrize("fmt", ["md", "txt", "tex", "typ", "html"])
def test_a_graph_note_is_a_paragraph_right_after_the_problem_statement(fmt):
    out = render(derive(SHADOWED), fmt)
    statement, note = out.index("Find the gradient"), out.index(NOTE[7:])  # after "e = w*x", escaped per format
    first_section = out.index("Computational graph")
    assert statement < note < first_section and out.count(NOTE[7:]) == 1


def test_a_graph_note_is_escaped_as_text_in_latex():
    out = render(derive(SHADOWED), "tex")
    assert "not the constant e = 2.71828...." in out  # the ellipsis as ASCII, not pdflatex's "?"


def test_the_json_of_a_derivation_lists_the_notes_and_has_no_key_without_them():
    data = json.loads(render(derive(SHADOWED), "json"))
    assert data["notes"] == ["e = w*x assigns the name e: from there on e is that value, not the constant e = 2.71828…."]
    assert "notes" not in json.loads(render(derive("(w*x+b-y)**2", at="w=1,b=0,x=2,y=4"), "json"))


def test_a_latex_worksheet_with_notes_compiles(tmp_path):
    latex_available()
    source = tmp_path / "notes.tex"
    trace = derive(SHADOWED.replace("L = e**2", "L = e**2 + 0*y"), wrt="w,q", at="y=1,q=2")
    source.write_text(render(trace, "tex"), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_training_trace_says_a_graph_note_once_under_the_setting():
    training = train(SHADOWED, lr="0.1", epochs=2)
    out = render_training(training, "txt")
    assert out.count(NOTE[7:]) == 1 and out.index("Stochastic gradient descent") < out.index(NOTE) < out.index(
        "1. The update rule")
    assert json.loads(render_training(training, "json"))["notes"][0].startswith(NOTE)


# ── a --wrt variable the formula does not use ────────────────────────────────────────────

def test_an_unused_variable_has_gradient_zero_as_sympy_diff_gives(cli):
    result = cli("derive", "x**2", "--wrt", "x,y", "--at", "x=2,y=1", "-f", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    x, y = sympy.symbols("x y")
    by_hand = sympy.diff(x**2, y).subs({x: 2, y: 1})
    assert by_hand == 0 and data["gradients"]["y"]["value"] == str(by_hand)
    assert data["gradients"]["x"]["value"] == "4" and data["at"] == {"x": "2", "y": "1"}


@pytest.mark.parametrize("fmt", ["md", "txt"])
def test_an_unused_variable_gets_a_note_in_the_result(cli, fmt):
    result = cli("derive", "x**2", "--wrt", "x,y", "--at", "x=2,y=1", "-f", fmt)
    assert result.code == 0, result.err
    result_section = result.out[result.out.index("3. Result"):]
    assert "does not depend on" in result_section and "y = 1" in result.out


def test_an_unused_variable_symbolically_and_from_python():
    trace = derive("x**2", wrt=["x", "y"])
    assert [str(g.in_inputs) for g in trace.gradients] == ["2*x", "0"]
    assert "L does not depend on y: ∂L/∂y = 0." in render(trace, "txt")


def test_an_unused_variable_given_a_vector_has_a_zero_gradient_of_its_shape():
    data = json.loads(render(derive("x**2", wrt="x,y", at={"x": 2, "y": [1, 2, 3]}), "json"))
    assert data["gradients"]["y"]["shape"] == [3] and data["gradients"]["y"]["value"] == ["0", "0", "0"]
    model = json.loads(render(derive((SAMPLES / "batch_vector.ws").read_text(), wrt="w,q", at="q=[[1,2],[3,4]]"), "json"))
    assert model["gradients"]["q"]["value"] == [["0", "0"], ["0", "0"]]
    assert model["gradients"]["w"]["value"] == "-30"


def test_an_unused_variable_agrees_four_ways():
    trace = derive("x**2*z", wrt="x,y", at="x=2,y=1,z=3", check_numeric=True)
    estimate = trace.modes.estimates["y"]
    assert estimate.agrees and estimate.symbolic == 0 and estimate.value == 0


@pytest.mark.parametrize("args, words", [
    (["--wrt", "x,1y"], "is not a variable name"),
    (["--wrt", "x,pi"], "pi does not occur"),  # a word of the language is no variable
    (["--wrt", "x,y", "--at", "x=2,z=1"], "z is not a variable of the formula"),  # z is not in --wrt
    (["--wrt", "x", "--at", "x=2,y=1"], "y is not a variable of the formula"),
])
def test_a_bad_name_or_a_value_of_an_unused_variable_not_in_wrt_is_refused(cli, args, words):
    one_line_error(cli("derive", "x**2", *args), words)


# ── a learning rate of 0 or below ────────────────────────────────────────────────────────

def torch_loop(lr: float, steps: int, zero_grad: bool):
    """micrograd's loop in PyTorch, float64: backward(), then p.data -= lr * p.grad by hand."""
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    history = []
    for _ in range(steps):
        loss = (w * 2 + b - 4) ** 2
        loss.backward()
        w.data -= lr * w.grad
        b.data -= lr * b.grad
        history.append((loss.item(), w.grad.item(), b.grad.item(), w.item(), b.item()))
        if zero_grad:
            w.grad.zero_()
            b.grad.zero_()
    return history


def rows(training):
    return [(float(s.loss[()]), float(s.grads["w"][()]), float(s.grads["b"][()]),
             float(s.params["w"][()]), float(s.params["b"][()])) for s in training.steps]


@needs_torch
def test_learning_rate_zero_without_zero_grad_adds_the_gradients_up_as_torch():
    training = train(ONE_SAMPLE, lr="0", epochs=2, zero_grad=False)
    history = torch_loop(0.0, 2, zero_grad=False)
    np.testing.assert_allclose(rows(training), history, rtol=1e-12, atol=1e-15)
    assert history[1][1:3] == (2 * history[0][1], 2 * history[0][2]) == (-16.0, -8.0)  # two backward(): twice
    assert float(training.final["w"][()]) == 1.0 and float(training.final["b"][()]) == 0.0
    out = render_training(training, "txt")
    assert "The learning rate is 0: the params do not change" in " ".join(out.split())


@needs_torch
def test_a_negative_learning_rate_is_gradient_ascent_as_micrograd():
    training = train(ONE_SAMPLE, lr="-0.01", epochs=5)
    history = torch_loop(-0.01, 5, zero_grad=True)  # w.data += 0.01 * w.grad
    np.testing.assert_allclose(rows(training), history, rtol=1e-12, atol=1e-15)
    losses = [row[0] for row in history]
    assert losses == sorted(losses) and losses[0] < losses[-1]  # up the gradient: the loss grows
    text = " ".join(render_training(training, "txt").split())
    assert "The learning rate is negative (−0.01): each update moves the params up the gradient" in text
    assert json.loads(render_training(training, "json"))["notes"] == [
        "The learning rate is negative (−0.01): each update moves the params up the gradient (gradient ascent), "
        "increasing the loss."]


def test_a_positive_learning_rate_has_no_note():
    training = train(ONE_SAMPLE, lr="0.1", epochs=1)
    assert "notes" not in json.loads(render_training(training, "json"))
    assert "The learning rate is" not in render_training(training, "md")


@pytest.mark.parametrize("lr, words", [("abc", "expected a number"), ("sqrt(-1)", "undefined")])
def test_a_learning_rate_that_is_no_real_number_is_refused(cli, lr, words):
    one_line_error(cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", lr), words)


def test_a_negative_learning_rate_in_exact_fractions():
    training = train(ONE_SAMPLE, lr="-1/10", epochs=1, exact=True)
    assert training.final["w"][()] == Fraction(1, 5)  # 1 − (−1/10)·(−8)
