"""The source material's scalar examples (SEEDS.md §1–3), each checked three ways:
the tutorial's own numbers, sympy.diff of the model written independently, and the CLI."""

import json

import pytest
import sympy
from sympy import Rational, symbols

from conftest import SAMPLES
from worksheet import derive

w, b, w1, w2, x, y = symbols("w b w1 w2 x y", real=True)


def linear(point):
    return (w * point["x"] + b - point["y"]) ** 2


SAMPLE_CASES = {
    # sample: (independent SymPy loss, the point, the tutorial's gradients, the named form of dL/dw)
    "linear_one_sample.ws": ((w * 2 + b - 4) ** 2, {w: 1, b: 0}, {"w": -8, "b": -4},
                             "2*(y_pred - y_true)*x"),
    "linear_no_bias.ws": ((1 * w - 2) ** 2, {w: 1}, {"w": -2}, "2*(y_hat - y)*x"),
    "linear_with_bias.ws": ((2 * w + b - 4) ** 2, {w: 1, b: 0}, {"w": -8, "b": -4}, "2*(y_hat - y)*x"),
    "quadratic_model.ws": ((w1 * 4 + w2 * 2 + b - 4) ** 2, {w1: 1, w2: 1, b: 0},
                           {"w1": 16, "w2": 8, "b": 4}, None),
    "batch_mean.ws": (sum((w * xi + b - 2 * xi) ** 2 for xi in (1, 2, 3, 4)) / 4, {w: 0, b: 0},
                      {"w": -30, "b": -10}, None),
}


@pytest.mark.parametrize("sample", SAMPLE_CASES)
def test_sample_gradients(sample):
    loss, point, expected, named = SAMPLE_CASES[sample]
    trace = derive((SAMPLES / sample).read_text(), filename=sample)
    values = {g.wrt: g.value for g in trace.gradients}
    assert values == expected
    by_symbol = {str(s): s for s in point}
    for name, value in values.items():
        assert sympy.diff(loss, by_symbol[name]).subs(point) == value
    if named:
        assert sympy.sstr(trace.gradients[0].in_names, order="none") == named


TENSOR_SAMPLES = {"linear_bce.ws", "mlp_l2.ws", "batch_vector.ws", "nn_linear.ws",
                  "linear_bce_aux.ws", "gelu_mlp.ws"}  # test_torch_oracle.py (and test_stop_gradient.py)
TRAIN_SAMPLES = {"per_sample.ws"}  # test_train.py


def test_every_sample_is_covered():
    assert {p.name for p in SAMPLES.glob("*.ws")} == set(SAMPLE_CASES) | TENSOR_SAMPLES | TRAIN_SAMPLES


def test_batch_mean_first_sgd_step():
    """SEEDS §3: one SGD step with lr = 0.01 from w = b = 0 gives w = 0.3, b = 0.1."""
    trace = derive((SAMPLES / "batch_mean.ws").read_text(), filename="batch_mean.ws")
    lr = Rational(1, 100)
    updated = {g.wrt: trace.point[g.wrt] - lr * g.value for g in trace.gradients}
    assert updated == {"w": Rational(3, 10), "b": Rational(1, 10)}


@pytest.mark.parametrize("sample", SAMPLE_CASES)
def test_sample_from_the_command_line(cli, sample):
    result = cli("derive", str(SAMPLES / sample), "-f", "json")
    assert result.code == 0, result.err
    gradients = json.loads(result.out)["gradients"]
    assert {k: int(v["value"]) for k, v in gradients.items()} == SAMPLE_CASES[sample][2]
