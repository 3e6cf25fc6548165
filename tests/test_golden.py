"""Frozen output: every sample and the tutorials' formulas × every text format × the options
that change a worksheet (--mode, --detail, --check-numeric, --target/--aux, --numbers), the
graph figures, training traces and a handout. Refactors keep these byte-identical; a change
on purpose rewrites them (UPDATE_GOLDEN=1 uv run pytest tests/test_golden.py) and shows in
the diff. JSON is a public contract (worksheet.derive/1): keys may be added, not changed."""

from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT, SAMPLES

GOLDEN = ROOT / "tests" / "golden" / "cases"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
TEXT = ("md", "tex", "txt", "json", "typ")
SCALAR_SAMPLES = ("batch_mean", "linear_one_sample", "linear_no_bias", "linear_with_bias", "quadratic_model")
TENSOR_SAMPLES = ("batch_vector", "gelu_mlp", "linear_bce", "linear_bce_aux", "mlp_l2", "nn_linear", "per_sample")
AT = {"per_sample": ["--at", "x=1,y=2"]}  # its loss is one per sample: derived for the first
FORMULAS = {  # the tutorials' and the README's formulas, with their points
    "squared_error": ["(w*x+b-y)**2", "--wrt", "w,b", "--at", "w=1,b=0,x=2,y=4"],
    "squared_error_let": ["(w*x+b-y)**2", "--wrt", "w,b", "--at", "w=1,b=0,x=2,y=4", "--let", "y_pred=w*x+b"],
    "squared_error_symbolic": ["(w*x+b-y)**2", "--wrt", "w,b"],
    "nll": ["-(y*log(sigmoid(z)) + (1-y)*log(1-sigmoid(z)))", "--wrt", "z", "--at", "y=1,z=0"],
    "neuron_decimals": ["sigmoid(w*x + b)", "--at", "w=0.5,x=1.5,b=0.25"],
    "fan_out": ["a*b + a", "--at", "a=2,b=-3"],
    "relu": ["relu(w*x - 1)", "--wrt", "w", "--at", "w=2,x=1"],
    "functions": ["tanh(x) + exp(x*y) + sqrt(y) + 1/x + abs(x - y) + max(x, y)", "--at", "x=1,y=4"],
    "typeset": ["λ*w² + σ(w)", "--at", "λ=0.1,w=2"],
}


def _derive_cases() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    for name in SCALAR_SAMPLES + TENSOR_SAMPLES:
        at = [str(SAMPLES / f"{name}.ws"), *AT.get(name, [])]
        for fmt in (*TEXT, "torch"):
            cases[f"{name}.{fmt}"] = ["derive", *at, "-f", fmt]
        cases[f"{name}.check_numeric.txt"] = ["derive", *at, "--check-numeric", "-f", "txt"]
        cases[f"{name}.check_numeric.json"] = ["derive", *at, "--check-numeric", "-f", "json"]
        for fmt in ("mermaid", "tikz", "svg"):
            cases[f"{name}.graph.{fmt}"] = ["graph", *at, "-f", fmt]
    for name in TENSOR_SAMPLES:
        at = [str(SAMPLES / f"{name}.ws"), *AT.get(name, [])]
        for detail in ("brief", "full"):
            cases[f"{name}.{detail}.txt"] = ["derive", *at, "--detail", detail, "-f", "txt"]
    for name in SCALAR_SAMPLES:
        path = str(SAMPLES / f"{name}.ws")
        for detail in ("brief", "full"):
            for fmt in ("md", "txt"):
                cases[f"{name}.{detail}.{fmt}"] = ["derive", path, "--detail", detail, "-f", fmt]
        for fmt in ("md", "txt", "json"):
            cases[f"{name}.mode_both.{fmt}"] = ["derive", path, "--mode", "both", "-f", fmt]
        cases[f"{name}.mode_forward.txt"] = ["derive", path, "--mode", "forward", "-f", "txt"]
        cases[f"{name}.exact_numbers.txt"] = ["derive", path, "--numbers", "decimal", "-f", "txt"]
    aux = str(SAMPLES / "linear_bce_aux.ws")
    for fmt in ("md", "txt", "json"):
        cases[f"linear_bce_aux.targets.{fmt}"] = ["derive", aux, "--target", "loss,z", "--aux", "z_out", "-f", fmt]
        cases[f"batch_vector.seed_grad.{fmt}"] = ["derive", str(SAMPLES / "batch_vector.ws"), "--target", "y_pred",
                                                  "--seed-grad", "[1, 0, 2, 1]", "-f", fmt]
    for name, args in FORMULAS.items():
        for fmt in (*TEXT, *(["torch"] if "--at" in args else [])):  # a PyTorch check needs values
            cases[f"formula_{name}.{fmt}"] = ["derive", *args, "-f", fmt]
        cases[f"formula_{name}.full.txt"] = ["derive", *args, "--detail", "full", "-f", "txt"]
        cases[f"formula_{name}.graph.mermaid"] = ["graph", *args, "-f", "mermaid"]
    return cases


def _train_cases() -> dict[str, list[str]]:
    per_sample = ["train", str(SAMPLES / "per_sample.ws"), "--lr", "0.01", "--epochs", "3", "--per-sample",
                  "--predict", "x=4"]
    one = ["train", str(SAMPLES / "linear_one_sample.ws"), "--lr", "0.1", "--epochs", "100"]
    cases = {f"train_per_sample.{fmt}": [*per_sample, "-f", fmt] for fmt in TEXT}
    cases |= {f"train_one_sample.{fmt}": [*one, "-f", fmt] for fmt in ("txt", "json")}
    cases["train_no_zero_grad.txt"] = [*one[:-1], "2", "--no-zero-grad", "-f", "txt"]
    cases["train_batch_exact.txt"] = ["train", str(SAMPLES / "batch_vector.ws"), "--lr", "0.01", "--exact", "-f", "txt"]
    cases["train_mlp.txt"] = ["train", str(SAMPLES / "mlp_l2.ws"), "--lr", "0.1", "--epochs", "3", "-f", "txt"]
    cases["train_converged.md"] = ["train", str(SAMPLES / "linear_no_bias.ws"), "--lr", "0.5", "--epochs", "6", "-f", "md"]
    return cases


CASES = {**_derive_cases(), **_train_cases()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_frozen(cli, name):
    result = cli(*CASES[name])
    assert result.code == 0, result.err
    _compare(name, _portable(result.out))


HANDOUTS = {"backprop_set": ("7", ""), "model_set": ("3", "model_set.")}  # seed, prefix of the golden names


@pytest.mark.parametrize("fmt", ["md", "txt"])
@pytest.mark.parametrize("problem_set", sorted(HANDOUTS))
def test_handout_is_frozen(cli, tmp_path, fmt, problem_set):
    seed, prefix = HANDOUTS[problem_set]
    out = tmp_path / "h"
    result = cli("handout", str(SAMPLES / f"{problem_set}.toml"), "-n", "2", "--seed", seed, "--key", "-f", fmt,
                 "-o", str(out))
    assert result.code == 0, result.err
    for path in sorted(out.iterdir()):
        _compare(f"handout.{fmt}.{prefix}{path.name}", _portable(path.read_text(encoding="utf-8")))


def _portable(text: str) -> str:
    """The output with this checkout's path written as <root>, so a clone elsewhere compares alike."""
    return text.replace(str(ROOT), "<root>")


def _compare(name: str, text: str) -> None:
    golden = GOLDEN / re.sub(r"[^\w.-]", "_", name)
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden output {golden.name}: UPDATE_GOLDEN=1 writes it"
    assert text == golden.read_text(encoding="utf-8"), f"{name} changed (UPDATE_GOLDEN=1 rewrites it on purpose)"
