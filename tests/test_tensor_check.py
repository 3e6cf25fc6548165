"""check and grade of a model's gradient: vector and matrix answers, as numbers or as formulas
in the program's names, judged element by element against PyTorch's autograd (float64)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from conftest import SAMPLES, optional_torch
from worksheet.assess.check import question
from worksheet.assess.tensor_check import TensorQuestion

torch = optional_torch()

BCE = (SAMPLES / "linear_bce.ws").read_text()


def _torch_gradients() -> dict[str, np.ndarray]:
    """linear_bce.ws in PyTorch: z = x @ W + b, loss = bce_with_logits(z, y), at the program's W and b."""
    asked = question(BCE, "b")
    point = {k: np.asarray(v, dtype=float) for k, v in asked.trace.point.items()}
    if torch is None:
        pytest.skip("torch is not installed")
    W = torch.tensor(point["W"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(point["b"], dtype=torch.float64, requires_grad=True)
    z = torch.tensor(point["x"], dtype=torch.float64) @ W + b
    torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(point["y"], dtype=torch.float64)).backward()
    return {"W": W.grad.numpy(), "b": b.grad.numpy()}


def _listed(values: np.ndarray, digits: int = 5) -> str:
    return json.dumps(np.vectorize(lambda v: float(f"{v:.{digits}g}"))(values).tolist())


def test_numbers_rounded_from_torch_are_correct_and_each_mistake_is_named():
    grads = _torch_gradients()
    b, W = question(BCE, "b"), question(BCE, "W")
    assert isinstance(b, TensorQuestion) and isinstance(W, TensorQuestion)
    assert b.judge(_listed(grads["b"])).verdict == "correct"
    assert W.judge(_listed(grads["W"])).verdict == "correct"
    assert b.judge(_listed(grads["b"], 12)).verdict == "correct"  # more digits, each within its rounding
    assert b.judge(_listed(-grads["b"])).diagnosis == ("sign",)
    assert b.judge(_listed(3 * grads["b"])).diagnosis == ("constant_factor",)
    assert W.judge(_listed(grads["W"].T)).diagnosis == ("transpose",)
    assert b.judge(_listed(grads["b"][:2])).diagnosis == ("shape",)
    wrong = grads["b"].copy()
    wrong[1] += 0.01
    verdict = b.judge(_listed(wrong))
    assert verdict.verdict == "incorrect" and "element [1] differs" in verdict.feedback
    cut = [_cut(v, 4) for v in grads["b"]]  # 4 significant digits, cut off rather than rounded
    off = [i for i, v in enumerate(grads["b"]) if _cut(v, 4) != f"{v:.4g}"]
    assert off, "the sample should have an element whose cut-off differs from its rounding"
    verdict = b.judge("[" + ", ".join(cut) + "]")
    assert verdict.diagnosis == ("rounding",) and all(f"[{i}]" in verdict.feedback for i in off), verdict


def _cut(value: float, digits: int) -> str:
    import decimal

    exact = decimal.Decimal(value)
    quantum = decimal.Decimal(1).scaleb(exact.adjusted() - digits + 1)
    return str(exact.quantize(quantum, rounding=decimal.ROUND_DOWN))


def test_formulas_in_the_programs_names_are_computed_at_its_values():
    grads = _torch_gradients()
    b = question(BCE, "b")
    assert b.judge("(sigmoid(z) - y)/3").verdict == "correct"  # d bce/dz = (σ(z) − y)/N, N = 3
    assert np.allclose(grads["b"], np.asarray(b.expected, dtype=float), rtol=1e-12)
    factor = b.judge("sigmoid(z) - y")
    assert factor.diagnosis == ("constant_factor",) and "3 times" in factor.feedback
    assert b.judge("-(sigmoid(z) - y)/3").diagnosis == ("sign",)
    assert b.judge("(sigmoid(z) - y)/3 + 0*sum(z)").verdict == "correct"


@pytest.mark.parametrize("answer, words", [
    ("(sigmoid(q) - y)/3", "q is not a name of the program"),
    ("__import__('os')", "cannot be read"),
    ("(sigmoid(z) - y)/3 +", "answer:1:21"),
    ("[1, 2]\n[3]", "one line"),
    ("", "empty"),
])
def test_an_answer_that_cannot_be_judged_is_invalid_with_the_reason(answer, words):
    verdict = question(BCE, "b").judge(answer)
    assert verdict.verdict == "invalid" and words in verdict.feedback, verdict.feedback


def test_check_and_grade_take_vector_answers(cli, tmp_path):
    program = str(SAMPLES / "linear_bce.ws")
    result = cli("check", program, "--wrt", "b", "--answer", "(sigmoid(z) - y)/3")
    assert result.code == 0 and result.out.startswith("correct"), result.err
    result = cli("check", program, "--wrt", "b", "--answer", "[1, 2, 3]")
    assert result.code == 1 and result.out.startswith("incorrect")
    (tmp_path / "model.ws").write_text(BCE)
    (tmp_path / "key.toml").write_text('[[question]]\nid = "db"\nprogram = "model.ws"\nwrt = "b"\npoints = 2\n')
    (tmp_path / "subs.csv").write_text('student,question,answer\nann,db,(sigmoid(z) - y)/3\n'
                                       'bob,db,"[0.3111, 0.2328, 0.01306]"\ncid,db,sigmoid(z) - y\n')
    result = cli("grade", str(tmp_path / "key.toml"), str(tmp_path / "subs.csv"))
    assert result.code == 0, result.err
    rows = list(csv.reader(io.StringIO(result.out)))[1:]
    assert [(r[0], r[5]) for r in rows] == [("ann", "2"), ("bob", "2"), ("cid", "0")]
