"""`worksheet train`: SGD traces with the tutorials' numbers, checked against PyTorch's own
training loop (torch.optim.SGD, with and without zero_grad) where torch is installed."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from conftest import SAMPLES, optional_torch
from worksheet import WorksheetError
from worksheet.render import render_training
from worksheet.tensors import to_float
from worksheet.engine.train import train

torch = optional_torch()
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def floats(values) -> dict:
    return {k: to_float(v) for k, v in values.items()}


# ── the tutorials' numbers ───────────────────────────────────────────────────────────────

def test_one_sample_model_100_steps(cli):
    result = cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "0.1", "--epochs", "100", "-f", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["schema"] == "worksheet.train/1" and len(data["steps"]) == 100
    assert data["final"]["w"] == pytest.approx(1.8, rel=1e-12) and data["final"]["b"] == pytest.approx(0.4, rel=1e-12)
    assert data["steps"][0] == {"epoch": 1, "sample": None, "loss": 4.0, "grads": {"w": -8.0, "b": -4.0},
                                "params": {"w": 1.8, "b": 0.4}}


def test_without_zero_grad_the_gradients_add_up(cli):
    result = cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "0.1", "--epochs", "2",
                 "--no-zero-grad", "--exact", "-f", "json")
    data = json.loads(result.out)
    assert data["final"] == {"w": 2.6, "b": 0.8}
    assert data["steps"][1]["grads"] == {"w": -8.0, "b": -4.0}  # step 2's own gradient is 0
    text = cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "0.1", "--epochs", "2",
               "--no-zero-grad", "-f", "txt").out
    assert "NOT zeroed" in text and "w = 2.6" in text and "b = 0.8" in text


def test_per_sample_loop_and_prediction(cli):
    training = train(sample("per_sample.ws"), lr="0.01", epochs=100, per_sample=True, predict="x=4")
    firsts = [float(s.grads["w"][()]) for s in training.steps[:3]]
    assert firsts == pytest.approx([-2, -7.84, -16.2288], rel=1e-12)
    assert [s.sample for s in training.steps[:4]] == [0, 1, 2, 0] and len(training.steps) == 300
    assert training.prediction.node == "y_hat"
    assert float(training.prediction.before[()]) == 4
    assert float(training.prediction.after[()]) == pytest.approx(8, abs=1e-6)
    text = cli("train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "100", "--per-sample",
               "--predict", "x=4", "-f", "md").out
    assert "−7.84" in text or "-7.84" in text
    assert "−16.2288" in text or "-16.2288" in text


def test_batch_mean_first_update_is_exact():
    training = train(sample("batch_vector.ws"), lr="0.01", epochs=1, exact=True)
    assert training.final == {"w": Fraction(3, 10), "b": Fraction(1, 10)}
    assert {p: g[()] for p, g in training.steps[0].grads.items()} == {"w": -30, "b": -10}


@pytest.mark.parametrize("fmt", ["md", "tex", "txt", "json"])
def test_every_format(fmt):
    training = train(sample("mlp_l2.ws"), lr="0.1", epochs=3, explain_steps=2)
    text = render_training(training, fmt)
    assert text.strip()
    if fmt != "json":
        assert "Step 1 in full" in text and "Step 2 in full" in text and "Every step" in text


def test_bad_training_requests_are_one_line():
    cases = [
        (dict(source="L = (w*x)**2", lr="0.1", epochs=1), "param"),
        (dict(source=sample("linear_one_sample.ws"), lr="0.1", epochs=1, per_sample=True), "data arrays"),
        (dict(source="param w = 1\ndata x = [1, 2]\ndata y = [1, 2, 3]\nL = sum(w*x)", lr="0.1", epochs=1,
              per_sample=True), "same number of samples"),
        (dict(source=sample("linear_one_sample.ws"), lr="abc", epochs=1), "expected a number"),
        (dict(source=sample("linear_one_sample.ws"), lr="0.1", epochs=10**6), "100,000"),
        (dict(source="param w = [1, 2]\nL = w*2", lr="0.1", epochs=1), "scalar"),
        (dict(source=sample("linear_one_sample.ws"), lr="0.1", epochs=1, predict="q=1"), "not an input"),
    ]
    for kwargs, fragment in cases:
        source = kwargs.pop("source")
        with pytest.raises(WorksheetError) as caught:
            train(source, **kwargs)
        assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_bad_request_from_the_command_line(cli):
    result = cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "0.1", "--per-sample")
    assert result.code == 2 and result.err.count("\n") == 1 and "Traceback" not in result.err


# ── against PyTorch's loop ──────────────────────────────────────────────────────────────

def torch_sgd(model, params: dict, lr: float, steps, zero_grad: bool = True):
    """PyTorch's loop: loss = model(params, batch); backward; step; zero_grad (or not)."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    optimizer = torch.optim.SGD(list(tensors.values()), lr=lr)
    history = []
    for batch in steps:
        loss = model(tensors, batch)
        loss.backward()
        optimizer.step()
        history.append((loss.item(), {k: t.detach().clone().numpy() for k, t in tensors.items()}))
        if zero_grad:
            optimizer.zero_grad()
    return history


@needs_torch
@pytest.mark.parametrize("zero_grad", [True, False])
def test_mlp_training_equals_torch(zero_grad):
    training = train(sample("mlp_l2.ws"), lr="0.05", epochs=6, zero_grad=zero_grad)
    start = floats(training.start)

    def model(t, _):
        x = torch.tensor(start["x"])
        h = torch.relu(t["W1"] @ x)
        o = t["W2"] @ h
        loss = torch.nn.functional.cross_entropy(o, torch.tensor(1))
        return loss + 0.1 / 2 * (torch.sum(t["W1"] ** 2) + torch.sum(t["W2"] ** 2))

    history = torch_sgd(model, {"W1": start["W1"], "W2": start["W2"]}, 0.05, range(6), zero_grad)
    for step, (loss, params) in zip(training.steps, history):
        assert float(step.loss[()]) == pytest.approx(loss, rel=1e-9)
        for name, value in params.items():
            np.testing.assert_allclose(to_float(step.params[name]), value, rtol=1e-9, atol=1e-12)


@needs_torch
def test_per_sample_batches_equal_torch():
    program = """param W = [[0.5, -0.25], [0.1, 0.2]]
param b = [0, 0.1]
data  X = [[1, 2], [3, 4], [-1, 0.5]]
data  Y = [[1, 0], [0, 1], [1, 1]]
out = sigmoid(W @ X + b)
loss = bce_with_logits(W @ X + b, Y) + 0.01 * sumsq(out)"""
    training = train(program, lr="0.2", epochs=4, per_sample=True)
    X = np.array([[1, 2], [3, 4], [-1, 0.5]])
    Y = np.array([[1.0, 0], [0, 1], [1, 1]])

    def model(t, i):
        z = t["W"] @ torch.tensor(X[i]) + t["b"]
        return (torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(Y[i]))
                + 0.01 * torch.sum(torch.sigmoid(z) ** 2))

    history = torch_sgd(model, {"W": [[0.5, -0.25], [0.1, 0.2]], "b": [0, 0.1]}, 0.2,
                        [i for _ in range(4) for i in range(3)])
    assert len(history) == len(training.steps) == 12
    for step, (loss, params) in zip(training.steps, history):
        assert float(step.loss[()]) == pytest.approx(loss, rel=1e-9)
        for name, value in params.items():
            np.testing.assert_allclose(to_float(step.params[name]), value, rtol=1e-9, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("zero_grad, epochs", [(True, 100), (False, 2), (False, 7)])
def test_one_sample_tutorial_equals_torch(zero_grad, epochs):
    training = train(sample("linear_one_sample.ws"), lr="0.1", epochs=epochs, zero_grad=zero_grad)

    def model(t, _):
        return (t["w"] * 2 + t["b"] - 4) ** 2

    history = torch_sgd(model, {"w": 1.0, "b": 0.0}, 0.1, range(epochs), zero_grad)
    for step, (loss, params) in zip(training.steps, history):
        assert float(step.loss[()]) == pytest.approx(loss, rel=1e-12, abs=1e-15)
        for name, value in params.items():
            assert float(step.params[name][()]) == pytest.approx(float(value), rel=1e-12, abs=1e-15)


@needs_torch
def test_per_sample_tutorial_equals_torch():
    training = train(sample("per_sample.ws"), lr="0.01", epochs=100, per_sample=True)
    xs, ys = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]

    def model(t, i):
        return (xs[i] * t["w"] - ys[i]) ** 2

    history = torch_sgd(model, {"w": 1.0}, 0.01, [i for _ in range(100) for i in range(3)])
    for step, (loss, params) in zip(training.steps, history):
        assert float(step.loss[()]) == pytest.approx(loss, rel=1e-12, abs=1e-15)
        assert float(step.params["w"][()]) == pytest.approx(float(params["w"]), rel=1e-12)


def test_a_diverging_run_says_so(cli):
    result = cli("train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "10", "--epochs", "200")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "diverges" in result.err and "smaller --lr" in result.err


def test_a_step_in_full_works_out_its_update_and_numbers_its_sections(cli):
    """w = w − η·∂loss/∂w with the numbers: 1 − 0.01·(−2) = 1.02 for the first sample (x = 1, y = 2)."""
    result = cli("train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "1", "--per-sample",
                 "--predict", "x=4", "-f", "txt")
    assert result.code == 0, result.err
    assert "w = 1 − 0.01 · (−2) = 1.02" in result.out
    headings = [line for line in result.out.splitlines() if line[:1].isdigit() and ". " in line[:5] or
                line[:3] in ("2.1", "2.2", "2.3")]
    numbers = [h.split()[0] for h in headings]
    assert numbers == ["1.", "2.", "2.1", "2.2", "2.3", "3.", "4."], numbers  # no second "3."
    lines = result.out.splitlines()
    before = next(line for line in lines if line.strip().startswith("before"))
    after = next(line for line in lines if line.strip().startswith("after "))
    assert before.split()[-1] == "4"  # 4·w at w = 1
    assert float(after.split()[-1]) == pytest.approx(4 * float(train(sample("per_sample.ws"), lr="0.01",
                                                                  epochs=1, per_sample=True).final["w"][()]))


def _step_rows(text: str) -> list[list[str]]:
    table = text.split("Every step")[1].split("Result")[0]
    return [line.split() for line in table.splitlines() if line.strip()[:1].isdigit() and " " in line.strip()]


def test_epochs_that_repeat_the_one_before_are_one_row(cli):
    """lr 0.5 on (x·w − y)² at x = 1, y = 2 jumps to w = 2 in one step (w − 0.5·2(w − 2) = 2):
    every later epoch has loss 0, gradient 0, w 2, and epochs 3–6 are one row saying so."""
    result = cli("train", str(SAMPLES / "linear_no_bias.ws"), "--lr", "0.5", "--epochs", "6", "-f", "txt")
    assert result.code == 0, result.err
    assert _step_rows(result.out) == [["1", "1", "1", "−2", "2"], ["2", "2", "0", "0", "2"],
                                      ["3–6", "3–6", "same", "same", "same"]]
    assert "Epochs 3–6 (steps 3–6) repeat epoch 2, to 6 significant digits." in result.out
    data = json.loads(cli("train", str(SAMPLES / "linear_no_bias.ws"), "--lr", "0.5", "--epochs", "6",
                          "-f", "json").out)
    assert len(data["steps"]) == 6 and {s["loss"] for s in data["steps"][1:]} == {0.0}  # JSON keeps them all


def test_a_run_that_keeps_moving_shows_every_step(cli):
    result = cli("train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "3", "--per-sample", "-f", "txt")
    rows = _step_rows(result.out)
    assert [r[0] for r in rows] == [str(i) for i in range(1, 10)] and "same" not in result.out
    training = train(sample("per_sample.ws"), lr="0.01", epochs=3, per_sample=True)
    assert [float(r[-1]) for r in rows] == pytest.approx(
        [float(s.params["w"][()]) for s in training.steps], rel=1e-5)
