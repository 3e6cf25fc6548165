"""Jupyter (issue 16): a notebook that imports worksheet and calls derive, train, check and figure,
executed by a real kernel (ipykernel, running this interpreter), shows each result: HTML, Markdown
and text for a worksheet, a training trace and a verdict, SVG for a figure — with the values of an
independent oracle (sympy.diff; the SGD updates computed here)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest
import sympy

from conftest import SAMPLES

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (uv sync installs the dev group)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (uv sync installs the dev group)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (uv sync installs the dev group)")
lxml_html = pytest.importorskip("lxml.html")

FORMULA, WRT, AT = "(w*x+b-y)**2", "w,b", {"w": 1, "b": 0, "x": 2, "y": 4}
PROGRAM = "param w = 1\ndata x = 2\ndata y = 4\nL = (w*x - y)**2\n"
LR, EPOCHS = sympy.Rational(1, 10), 2
CELLS = [
    "from worksheet import derive, train, check, figure",
    f"derive({FORMULA!r}, wrt={WRT!r}, at={','.join(f'{k}={v}' for k, v in AT.items())!r})",
    f"train({PROGRAM!r}, lr='{float(LR)}', epochs={EPOCHS})",
    f"check({FORMULA!r}, wrt='w', answer='2*(w*x+b-y)*x', at='x=2,y=4')",
    f"check({FORMULA!r}, wrt='w', answer='2*(w*x+b-y)', at='x=2,y=4')",
    f"figure({FORMULA!r}, at={','.join(f'{k}={v}' for k, v in AT.items())!r})",
    "import sys; 'sympy' in sys.modules, sys.executable",
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each cell's display data, the notebook run by a kernel of this interpreter."""
    home = tmp_path_factory.mktemp("jupyter")
    kernels = home / "kernels" / "worksheet-test"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "worksheet (this interpreter)", "language": "python",
    }))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(home))
        patch.setenv("JUPYTER_DATA_DIR", str(home))
        patch.setenv("IPYTHONDIR", str(home / "ipython"))
        client = nbclient.NotebookClient(notebook, kernel_name="worksheet-test", timeout=300,
                                         resources={"metadata": {"path": str(SAMPLES)}})
        client.execute()
    shown = []
    for cell in notebook.cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        shown.append(results[0]["data"] if results else {})
    return shown


def _oracle() -> dict[str, sympy.Expr]:
    w, x, b, y = sympy.symbols("w x b y")
    loss = (w * x + b - y) ** 2
    point = {w: AT["w"], x: AT["x"], b: AT["b"], y: AT["y"]}
    return {name: sympy.diff(loss, symbol).subs(point) for name, symbol in (("w", w), ("b", b))}


def test_the_kernel_runs_this_interpreter_and_imports_lazily(outputs):
    loaded, executable = ast.literal_eval(outputs[-1]["text/plain"])
    assert executable == sys.executable and loaded is True  # sympy came in with derive, not before
    assert outputs[0] == {}
    light = subprocess.run([sys.executable, "-c", "import sys, worksheet; print('sympy' in sys.modules)"],
                           capture_output=True, text=True, check=True)
    assert light.stdout.strip() == "False"


def test_a_derivation_shows_its_worksheet(outputs):
    data, gradients = outputs[1], _oracle()
    assert {"text/html", "text/markdown", "text/plain"} <= data.keys()
    html = data["text/html"]
    assert html.startswith('<div class="worksheet" id="worksheet-') and "<html" not in html and "<body" not in html
    tree = lxml_html.fragment_fromstring(html)
    assert tree.tag == "div" and tree.find("style") is not None and tree.find("script") is not None
    assert tree.find(".//svg") is not None and len(tree.findall(".//math")) > 20
    for name, value in gradients.items():
        row = tree.xpath(f'//h2[contains(., "Result")]/following-sibling::div[1]/div[@data-node="{name}"]')[0]
        assert row.text_content().endswith(f"={_text(value)}")
    result = data["text/markdown"].split("## 3. Result")[1]
    for name, value in gradients.items():
        assert re.search(rf"\\frac{{\\partial L}}{{\\partial {name}}} = .* = {value}\n", result)
    text = data["text/plain"].split("3. Result")[1]
    for name, value in gradients.items():
        assert re.search(rf"∂L/∂{name} = .* = {_text(value)}$", text, re.M)


def test_a_training_run_shows_its_steps(outputs):
    data = outputs[2]
    assert {"text/html", "text/markdown", "text/plain"} <= data.keys()
    w, x, y = sympy.symbols("w x y")
    gradient, value = sympy.diff((w * x - y) ** 2, w), sympy.Integer(1)
    for _ in range(EPOCHS):  # SGD, step by step
        value -= LR * gradient.subs({w: value, x: 2, y: 4})
    shown = re.search(r"^  w [=≈] (\S+)$", data["text/plain"].split("After training:")[1], re.M).group(1)
    assert abs(float(shown) - float(value)) < 1e-6  # float64, 6 significant digits
    tree = lxml_html.fragment_fromstring(data["text/html"])
    assert tree.find(".//h1").text == "Training trace"
    final = tree.xpath('//h2[contains(., "Result")]/following-sibling::div[@class="equations"][1]')[0]
    assert final.text_content().strip() == f"w={shown}"
    assert f"= {shown}" in data["text/markdown"].split("After training:")[1]


def test_a_checked_answer_shows_its_verdict(outputs):
    right, wrong = outputs[3], outputs[4]
    for data in (right, wrong):
        assert {"text/html", "text/markdown", "text/plain"} <= data.keys()
    assert right["text/plain"].startswith("correct\n") and wrong["text/plain"].startswith("incorrect (")
    assert "<strong" in right["text/html"] and ">correct</strong>" in right["text/html"]
    assert "missing_chain_factor" in wrong["text/html"] and "**incorrect**" in wrong["text/markdown"]
    assert "<code>2*(w*x+b-y)</code>" in wrong["text/html"] and "<math" in wrong["text/html"]


def test_a_figure_shows_as_svg(outputs):
    data, gradients = outputs[5], _oracle()
    assert "image/svg+xml" in data and "text/html" not in data  # Jupyter shows the SVG itself
    svg = data["image/svg+xml"]
    assert "<svg" in svg and "</svg>" in svg
    labels = re.findall(r'class="grad"[^>]*>([^<]+)<', svg)
    assert _text(gradients["w"]) in labels  # ∂L/∂w along the arrow out of w
    assert data["text/plain"].startswith("flowchart LR")


def _text(value) -> str:
    """A number as the worksheets write it, in MathML and text alike: −8."""
    return str(value).replace("-", "−")
