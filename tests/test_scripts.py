"""Tutorial code as input: `worksheet derive|train SCRIPT.py` reads the script (never runs it).

The oracles: the tutorials' own printed numbers (micrograd's README, the PyTorch autograd
tutorial, the seeds' articles), and the benign scripts themselves run under real PyTorch in a
subprocess (float32, as they are written: compared to 1e-5). A hostile corpus is refused in
one line each, before anything is imported or run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CpuTime, optional_torch, run_process

SCRIPTS = Path(__file__).parent / "scripts"


def derive_json(cli, name: str, *options: str) -> dict:
    result = cli("derive", str(SCRIPTS / name), "-f", "json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def train_json(cli, name: str, *options: str) -> dict:
    result = cli("train", str(SCRIPTS / name), "-f", "json", *options)
    assert result.code == 0, result.err
    return json.loads(result.out)


def run_with_torch(name: str) -> list[str]:
    """The script's printed lines, run under real PyTorch (a benign script of ours)."""
    if optional_torch() is None:
        pytest.skip("PyTorch is not installed (pip install torch)")
    done = subprocess.run([sys.executable, str(SCRIPTS / name)], capture_output=True, text=True, timeout=120,
                          check=True)
    return done.stdout.splitlines()


def floats(node) -> list[float]:
    if isinstance(node, list):
        return [x for item in node for x in floats(item)]
    return [float(node)]


def close(a, b, rel=1e-5):
    a, b = floats(a), floats(b)
    assert len(a) == len(b) and all(abs(x - y) <= rel * max(1.0, abs(y)) for x, y in zip(a, b)), (a, b)


# ── the acceptance numbers ──

def test_micrograd_readme_gives_its_printed_numbers(cli):
    data = derive_json(cli, "micrograd_readme.py")
    values = {n["name"]: n for n in data["nodes"]}
    assert f"{float(values[data['target']]['value_float']):.4f}" == "24.7041"
    assert f"{data['gradients']['a']['value_float']:.4f}" == "138.8338"
    assert f"{data['gradients']['b']['value_float']:.4f}" == "645.5773"


def test_micrograd_readme_reads_reassignments_as_versions_and_e_as_a_name(cli):
    result = cli("derive", str(SCRIPTS / "micrograd_readme.py"), "-f", "txt")
    assert result.code == 0, result.err
    assert "c += c + 1" in result.out and "c′" in result.out and "g′" in result.out
    assert "∂g′/∂a" in result.out


def test_autograd_tutorial_backward_with_a_gradient(cli):
    data = derive_json(cli, "autograd_tutorial.py")
    assert floats(data["gradients"]["a"]["value_float"]) == [36.0, 81.0]
    assert floats(data["gradients"]["b"]["value_float"]) == [-12.0, -8.0]
    assert floats(data["seed_float"]) == [1.0, 1.0]


def test_seeds_per_sample_loop(cli):
    data = train_json(cli, "seeds_per_sample.py")
    assert (data["lr"], data["epochs"], data["per_sample"], data["zero_grad"]) == (0.01, 100, True, True)
    first = [step["grads"]["w"] for step in data["steps"][:3]]
    assert first == pytest.approx([-2.0, -7.84, -16.2288], rel=1e-12)
    assert data["final"]["w"] == pytest.approx(2.0, rel=1e-9)
    assert data["predict"]["before"] == pytest.approx(4.0) and data["predict"]["after"] == pytest.approx(8.0, rel=1e-9)
    printed = [line.split() for line in run_with_torch("seeds_per_sample.py") if line.strip().startswith("grad:")]
    close([step["grads"]["w"] for step in data["steps"]], [float(p[3]) for p in printed])


def test_seeds_batch_mean_first_update(cli):
    data = train_json(cli, "seeds_batch_mean.py")
    assert data["final"]["w"] == pytest.approx(0.3, rel=1e-12) and data["final"]["b"] == pytest.approx(0.1, rel=1e-12)
    exact = train_json(cli, "seeds_batch_mean.py", "--exact")
    assert (exact["final"]["w"], exact["final"]["b"]) == (0.3, 0.1)
    printed = run_with_torch("seeds_batch_mean.py")[-1]  # w = 0.30000001192092896, b = 0.10000000149011612
    close([data["final"]["w"], data["final"]["b"]], [float(p.split("=")[1]) for p in printed.split(",")])


def test_seeds_one_sample_optimizer_loop(cli):
    data = train_json(cli, "seeds_one_sample.py")
    assert data["epochs"] == 100 and not data["per_sample"]
    assert data["steps"][0]["grads"] == {"w": -8.0, "b": -4.0}
    printed = run_with_torch("seeds_one_sample.py")[-1].split()
    close([data["final"]["w"], data["final"]["b"]], [float(p) for p in printed])


def test_nn_linear_with_its_weights_set_agrees_with_torch(cli):
    data = train_json(cli, "nn_linear_weights.py")
    printed = run_with_torch("nn_linear_weights.py")
    for step, line in zip(data["steps"], printed):
        epoch, loss, rest = line.split(" ", 2)
        weight_grad, bias_grad = json.loads("[" + rest.replace("] [", "], [") + "]")
        close(step["loss"], float(loss))
        close(step["grads"]["W"], weight_grad)
        close(step["grads"]["b"], bias_grad)
    weight, bias = json.loads("[" + printed[-1].replace("] [", "], [") + "]")
    close(data["final"]["W"], weight)
    close(data["final"]["b"], bias)


def test_nn_linear_without_its_weights_says_how_to_set_them(cli):
    result = cli("derive", str(SCRIPTS / "seeds_nn_linear.py"))
    assert result.code == 2 and len(result.err.splitlines()) == 1
    assert "seeds_nn_linear.py:11:" in result.err and "random weights" in result.err
    assert "model.weight.data = torch.tensor(" in result.err


def test_qualified_names_methods_and_functional_losses_agree_with_torch(cli):
    data = derive_json(cli, "functional_losses.py")
    w_grad, b_grad = json.loads("[" + run_with_torch("functional_losses.py")[-1].replace("] ", "], ") + "]")
    close(data["gradients"]["w"]["value_float"], w_grad)
    close(data["gradients"]["b"]["value_float"], b_grad)


def test_the_worksheet_begins_with_the_program_beside_the_script(cli):
    result = cli("train", str(SCRIPTS / "seeds_per_sample.py"), "-f", "md")
    assert result.code == 0, result.err
    listing = result.out.split("```text\n", 1)[1].split("```", 1)[0]
    assert "# line  seeds_per_sample.py" in listing.splitlines()[0]
    row = next(line for line in listing.splitlines() if "w.data = w.data - 0.01 * w.grad.data" in line)
    assert "28" in row and "lr = 0.01" in row
    assert any(line.startswith("param w = 1.0") and "w = torch.Tensor([1.0])" in line for line in listing.splitlines())
    lines = listing.splitlines()
    call = next(i for i, line in enumerate(lines) if "l = loss(x, y)" in line)
    assert lines[call].startswith("y_pred = x * w") and lines[call + 1].startswith("l = (y_pred - y) ** 2")


def test_the_options_override_the_script(cli):
    data = train_json(cli, "seeds_one_sample.py", "--lr", "0.05", "--epochs", "2")
    assert (data["lr"], data["epochs"]) == (0.05, 2)


def test_a_script_that_does_not_train_is_refused_by_train(cli):
    result = cli("train", str(SCRIPTS / "autograd_tutorial.py"))
    assert result.code == 2 and "does not train" in result.err and "worksheet derive" in result.err


def test_an_error_in_the_program_is_told_at_the_script_line(cli, tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("import torch\nw = torch.tensor(1.0, requires_grad=True)\n\nloss = torch.log(w - 1)\n"
                      "loss.backward()\n")
    result = cli("derive", str(script))
    assert result.code == 2 and len(result.err.splitlines()) == 1
    assert "bad.py:4:" in result.err and "loss = torch.log(w - 1)" in result.err


# ── what is never run ──

HOSTILE = {
    "import_os": "import os\nos.system('touch {marker}')\n",
    "from_subprocess": "from subprocess import run\nrun(['touch', '{marker}'])\n",
    "dunder": "x = ().__class__.__bases__[0].__subclasses__()\n",
    "dunder_import": "__import__('os').system('touch {marker}')\n",
    "exec": "exec(\"open('{marker}', 'w')\")\n",
    "eval": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nloss = eval('w*2')\nloss.backward()\n",
    "open": "f = open('{marker}', 'w')\n",
    "getattr": "import torch\ng = getattr(torch, 'exp')\n",
    "while_true": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nwhile True:\n    w = w * 2\n",
    "huge_range": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nfor i in range(10**12):\n"
                  "    loss = w * 2\n    loss.backward()\n",
    "range_of_a_billion": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nfor i in range(1000000000):\n"
                          "    loss = w * 2\n    loss.backward()\n",
    "lambda": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nloss = (lambda: w * 2)()\nloss.backward()\n",
    "class": "import torch\nclass M(torch.nn.Module):\n    pass\n",
    "recursion": "import torch\ndef f(x):\n    return f(x)\nw = torch.tensor(1.0, requires_grad=True)\n"
                 "loss = f(w)\nloss.backward()\n",
    "torch_load": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nloss = w * torch.load('{marker}')\n"
                  "loss.backward()\n",
    "huge_list": "import torch\nw = torch.tensor([1.0]*100000000, requires_grad=True)\n",
    "nested": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "syntax": "import torch\nloss.backward(\n",
    "escape": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nloss = w # \x1b[2J\nloss.backward()\n",
    "attribute_write": "import torch\ntorch.exp = print\n",
    "global": "global x\n",
    "decorator": "import torch\n@torch.jit.script\ndef f(x):\n    return x\n",
    "compare": "import torch\nw = torch.tensor(1.0, requires_grad=True)\nloss = (w > 0) * w\nloss.backward()\n",
    "string_number": "import torch\nw = torch.tensor('1', requires_grad=True)\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_script_is_refused_in_one_line_and_nothing_runs(name, tmp_path):
    from worksheet.errors import WorksheetError
    from worksheet.script import read_script

    marker = tmp_path / "ran"
    text = HOSTILE[name].format(marker=marker)
    with pytest.raises(WorksheetError) as raised:
        with CpuTime() as took:
            read_script(text, "hostile.py")
    assert "\n" not in str(raised.value) and raised.value.line is not None
    assert took.seconds < 2  # CPU seconds: the reader refuses before any heavy work
    assert not marker.exists()


def test_hostile_scripts_from_the_command_line(tmp_path):
    marker = tmp_path / "ran"
    for name in ("import_os", "exec", "dunder", "huge_range"):
        script = tmp_path / f"{name}.py"
        script.write_text(HOSTILE[name].format(marker=marker))
        result = run_process("derive", str(script))
        assert result.code == 2 and len(result.err.splitlines()) == 1 and "Traceback" not in result.err, result.err
        assert f"{name}.py:" in result.err
        assert not result.out
    assert not marker.exists()


def test_the_reader_imports_nothing_of_the_script_and_no_sympy():
    code = ("import sys\nfrom worksheet.script import read_script\n"
            "read_script(open(sys.argv[1]).read(), sys.argv[1])\n"
            "print(sorted(m for m in ('sympy', 'numpy', 'micrograd', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(SCRIPTS / "micrograd_readme.py")],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_two_backward_calls_without_zero_grad_add_up_as_in_torch(cli):
    data = train_json(cli, "grad_accumulates.py")
    assert (data["lr"], data["epochs"], data["zero_grad"]) == (0, 2, False)
    printed = [list(map(float, line.split())) for line in run_with_torch("grad_accumulates.py")]
    close([[s["grads"]["w"], s["grads"]["b"]] for s in data["steps"]], printed)
    assert data["final"] == {"w": 1.0, "b": 0.0}  # a rate of 0: nothing moves


def test_micrograd_update_up_the_gradient_is_a_negative_rate(cli):
    data = train_json(cli, "micrograd_ascent.py")
    assert data["lr"] == -0.01 and data["epochs"] == 1
    # c = a·b + relu(a): ∂c/∂a = b + 1 = −2, ∂c/∂b = a = 2; a += 0.01·(−2), b += 0.01·2
    assert data["steps"][0]["grads"] == {"a": -2.0, "b": 2.0}
    assert data["final"]["a"] == pytest.approx(1.98, rel=1e-15) and data["final"]["b"] == pytest.approx(-2.98, rel=1e-15)


def test_an_update_in_no_grad_with_a_named_rate_and_cross_entropy_agrees_with_torch(cli):
    data = train_json(cli, "no_grad_update.py")
    assert (data["lr"], data["epochs"], data["zero_grad"]) == (0.5, 5, True)
    printed = run_with_torch("no_grad_update.py")
    close([s["loss"] for s in data["steps"]], [float(p) for p in printed[:-1]])
    close(data["final"]["logits_w"], json.loads(printed[-1]))


def test_graph_and_check_read_a_script_too(cli):
    graph = cli("graph", str(SCRIPTS / "seeds_one_sample.py"))
    assert graph.code == 0 and graph.out.startswith("flowchart LR"), graph.err
    right = cli("check", str(SCRIPTS / "seeds_one_sample.py"), "--wrt", "w", "--answer", "2*(w*x+b-y_true)*x")
    wrong = cli("check", str(SCRIPTS / "seeds_one_sample.py"), "--wrt", "w", "--answer", "2*(w*x+b-y_true)")
    assert (right.code, wrong.code) == (0, 1) and "missing" in wrong.out


def test_reports_are_read_and_ignored_a_loss_list_a_plot_an_if_that_prints(cli):
    data = train_json(cli, "seeds_with_reports.py")
    assert [step["grads"]["w"] for step in data["steps"][:3]] == pytest.approx([-2.0, -7.84, -16.2288], rel=1e-12)
    assert data["final"]["w"] == pytest.approx(2.0, rel=1e-9)
    listing = cli("train", str(SCRIPTS / "seeds_with_reports.py"), "-f", "md").out
    assert "#  18          print(…)" in listing and "plt.show()" in listing


def test_an_if_that_does_more_than_report_is_refused(tmp_path):
    from worksheet.errors import WorksheetError
    from worksheet.script import read_script

    text = ("import torch\nw = torch.tensor(1.0, requires_grad=True)\nif True:\n    w = w * 2\n"
            "loss = w ** 2\nloss.backward()\n")
    with pytest.raises(WorksheetError, match="an if statement is not read") as raised:
        read_script(text, "branch.py")
    assert raised.value.line == 3


def test_mse_loss_with_reduction_sum_agrees_with_torch(cli):
    data = train_json(cli, "mse_sum.py")
    printed = run_with_torch("mse_sum.py")
    close([s["loss"] for s in data["steps"]], [float(line.split()[1]) for line in printed[:-1]])
    weight, bias = map(float, printed[-1].split())
    close([data["final"]["W"], data["final"]["b"]], [[[weight]], bias])


@pytest.mark.parametrize("name, wanted", [
    ("d2l_autograd.py", {"x": [0.0, 4.0, 8.0, 12.0]}),  # d2l §2.5: x.grad == 4 * x
    ("autograd_mechanics.py", {"x": [[4.5, 4.5], [4.5, 4.5]]}),  # PyTorch's autograd tutorial: out = mean(3(x + 2)²)
])
def test_notebook_style_tutorials_give_their_printed_gradients(cli, name, wanted):
    data = derive_json(cli, name)
    assert {k: v["value_float"] for k, v in data["gradients"].items()} == wanted


def test_jax_grad_of_a_function_at_its_arguments_against_sympy(cli):
    import sympy

    data = derive_json(cli, "jax_grad.py")
    x, y = sympy.symbols("x y")
    f = sympy.sin(x) * y ** 2 + sympy.exp(x * y)
    point = {x: sympy.Rational(1, 2), y: 2}
    for name, symbol in (("x", x), ("y", y)):
        exact = sympy.N(sympy.diff(f, symbol).subs(point), 30)
        assert data["gradients"][name]["value_float"] == pytest.approx(float(exact), rel=1e-15)
    only_x = derive_json(cli, "jax_grad.py", "--wrt", "x")
    assert set(only_x["gradients"]) == {"x"}


def test_karpathys_micrograd_neuron_with_labels(cli):
    """The neuron of micrograd's lecture: o = tanh(x1·w1 + x2·w2 + b), b chosen so that tanh′ = ½;
    its printed grads are x1 −1.5, w1 1, x2 0.5, w2 0. Labels (Value(…, label=…), n.label = …)
    are read and ignored; the bias is taken exactly as written (6.8813735870195432)."""
    data = derive_json(cli, "micrograd_neuron.py")
    grads = {k: v["value_float"] for k, v in data["gradients"].items()}
    assert grads == pytest.approx({"x1": -1.5, "x2": 0.5, "w1": 1.0, "w2": 0.0, "b": 0.5}, abs=1e-12)
    import mpmath

    mpmath.mp.dps = 40
    n = mpmath.mpf(2) * -3 + mpmath.mpf("6.8813735870195432")
    assert grads["b"] == pytest.approx(float(1 - mpmath.tanh(n) ** 2), rel=1e-15)
