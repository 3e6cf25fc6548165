"""The command line as a user runs it: the README example, formats, files, options."""

import json
import re

import pytest

from conftest import README_ARGS, ROOT, SAMPLES, run_process


def test_readme_example(cli):
    result = cli(*README_ARGS, "--format", "txt")
    assert result.code == 0 and result.err == ""
    for row in ("v1      multiply   v1 = w·x", "v2      add        v2 = v1 + b", "v3      subtract   v2 − y",
                "L       power      L = v3²"):
        assert row.split()[0] in result.out
    assert "∂L/∂w = 2v3·x = 2(w·x + b − y)·x = −8" in result.out
    assert "∂L/∂b = 2v3 = 2(w·x + b − y) = −4" in result.out


def test_let_names_the_result(cli):
    result = cli(*README_ARGS, "--let", "y_pred=w*x+b", "-f", "txt")
    assert result.code == 0
    assert "∂L/∂w = 2v2·x = 2(y_pred − y)·x = 2(w·x + b − y)·x = −8" in result.out


def test_program_file_keeps_names(cli, tmp_path):
    program = tmp_path / "model.ws"
    program.write_text("# linear model\ny_pred = w*x + b\nL = (y_pred - y)**2\n")
    result = cli("derive", str(program), "--wrt", "w,b", "--at", "w=1,b=0,x=2,y=4", "-f", "json")
    data = json.loads(result.out)
    assert [n["name"] for n in data["nodes"] if n["op"] != "input"] == ["v1", "y_pred", "v2", "L"]
    assert data["gradients"]["w"]["expr_in_nodes"] == "2*(y_pred - y)*x"
    assert data["gradients"]["w"]["value"] == "-8" and data["gradients"]["b"]["value"] == "-4"


def test_program_from_standard_input():
    result = run_process("derive", "-", "--at", "w=1,b=0,x=2,y=4", "-f", "txt",
                         stdin="y_pred = w*x + b\nL = (y_pred - y)**2\n")
    assert result.code == 0, result.err
    assert "= −8" in result.out and "<stdin>" not in result.out


def test_semicolons_separate_statements(cli):
    result = cli("derive", "u = w*x; L = u**2", "--at", "w=3,x=2", "-f", "json")
    data = json.loads(result.out)
    assert data["target"] == "L" and data["gradients"]["w"]["value"] == "24"


def test_target_picks_an_assignment(cli):
    result = cli("derive", "u = w*x; L = u**2", "--target", "u", "--at", "w=3,x=2", "-f", "json")
    assert json.loads(result.out)["gradients"]["w"]["value"] == "2"


def test_format_from_the_output_extension(cli, tmp_path):
    for suffix, marker in ((".md", "# Backpropagation worksheet"), (".tex", "\\documentclass"),
                           (".txt", "BACKPROPAGATION WORKSHEET"), (".json", '{\n  "schema"')):
        path = tmp_path / f"ws{suffix}"
        result = cli(*README_ARGS, "-o", str(path))
        assert result.code == 0 and result.out == ""
        assert path.read_text(encoding="utf-8").lstrip().startswith(marker)


def test_markdown_is_the_default(cli):
    assert cli(*README_ARGS).out.startswith("# Backpropagation worksheet")


def test_symbolic_without_values(cli):
    result = cli("derive", "(w*x+b-y)**2", "--wrt", "w", "-f", "txt")
    assert result.code == 0
    assert "symbolically" in result.out and "∂L/∂w = 2v3·x = 2(w·x + b − y)·x" in result.out
    assert "value" not in result.out.split("2. Backward")[0].split("node")[1].split("\n")[0]


def test_default_wrt_is_every_variable_or_the_params(cli):
    data = json.loads(cli("derive", "a*b", "-f", "json").out)
    assert data["wrt"] == ["a", "b"]
    data = json.loads(cli("derive", str(SAMPLES / "linear_one_sample.ws"), "-f", "json").out)
    assert data["wrt"] == ["w", "b"]


def test_digits_controls_rounding(cli):
    out = cli("derive", "sin(x)", "--at", "x=1", "-f", "txt", "--digits", "3").out
    assert "≈ 0.54" in out and "0.5403" not in out


def test_help_and_version():
    result = run_process("--help")
    assert result.code == 0 and "derive" in result.out
    result = run_process("derive", "--help")
    assert result.code == 0 and "--wrt" in result.out and "--at" in result.out
    assert run_process("--version").out.startswith("worksheet ")


def test_usage_errors_are_one_line():
    for args in (["derive", "x", "--bogus"], ["derive", "x", "--format", "pdfx"], ["frobnicate"]):
        result = run_process(*args)
        assert result.code == 2
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert "Traceback" not in result.err


def test_console_script_and_module_agree():
    result = run_process(*README_ARGS, "-f", "json")
    assert result.code == 0 and json.loads(result.out)["gradients"]["w"]["value"] == "-8"
    assert (ROOT / "pyproject.toml").read_text().count('worksheet = "worksheet.cli:console"') == 1


def test_output_to_a_device_writes_through_and_keeps_the_device(cli):
    """-o /dev/null must not replace the device with a file (an atomic rename would, as root)."""
    import os
    import stat

    result = cli("derive", "x**2", "--at", "x=1", "-f", "md", "-o", os.devnull)
    assert result.code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_output_files_get_the_usual_permissions(cli, tmp_path):
    """Written atomically through a temporary file, but readable as open() would make it."""
    import os

    out = tmp_path / "ws.md"
    assert cli("derive", "x**2", "--at", "x=1", "-o", str(out)).code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


NLL = "-(y*log(sigmoid(z)) + (1-y)*log(1-sigmoid(z)))"  # the negative log-likelihood


def test_a_formula_that_starts_with_a_minus_is_the_formula_not_an_option(cli):
    import sympy

    y, z = sympy.symbols("y z")
    oracle = sympy.diff(-(y * sympy.log(1 / (1 + sympy.exp(-z))) + (1 - y) * sympy.log(1 - 1 / (1 + sympy.exp(-z)))), z)
    result = cli("derive", NLL, "--wrt", "z", "--at", "y=1,z=2", "-f", "json")
    assert result.code == 0, result.err
    value = json.loads(result.out)["gradients"]["z"]["value_float"]
    assert abs(value - float(oracle.subs({y: 1, z: 2}))) < 1e-15
    result = cli("derive", "-x^2 + 3x", "--at", "x=1", "-f", "json")
    assert result.code == 0 and json.loads(result.out)["gradients"]["x"]["value"] == "1"  # −2x + 3 at 1
    assert cli("check", "-x^2", "--wrt", "x", "--answer", "-2x").code == 0
    result = cli("derive", "-(x")
    assert result.code == 2 and result.err.startswith("worksheet: error: 1:4:")  # columns as typed
    assert cli("derive", "x*x", "-f", "txt").code == 0 and cli("derive", "x*x", "-z").code == 2  # options stay options
    result = cli("derive", "x*y", "--seed-grad", "-(1")  # an option's value is its value, as typed
    assert result.code == 2 and "--seed-grad:1:4: '(' at 1:2" in result.err


def test_help_version_usage_and_syntax_errors_load_neither_sympy_nor_numpy():
    """They answer at once: SymPy and NumPy take seconds to import, and none of these needs them."""
    import subprocess
    import sys

    probe = ("import sys, contextlib, io\nfrom worksheet.cli import main\n"
             "for args in (['--version'], ['--help'], ['derive', '--help'], ['derive', 'x', '--nope'],\n"
             "             ['derive', 'x +'], ['graph', 'sin(x'], ['check', 'x**', '--wrt', 'x', '--answer', '1'],\n"
             "             ['derive', 'λ*w^2 + [x > 0']):\n"
             "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
             "        main(args)\n"
             "print(sorted(m for m in ('sympy', 'numpy', 'flint') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_formulas_worksheet_loads_no_numpy_and_a_models_does():
    """NumPy is a model's (its arrays); a formula's values are SymPy numbers, in every format."""
    import subprocess
    import sys

    formats = ["md", "txt", "tex", "json", "html", "typ", "torch"]
    probe = ("import sys, contextlib, io\nfrom worksheet.cli import main\n"
             f"for f in {formats!r}:\n"
             "    with contextlib.redirect_stdout(io.StringIO()):\n"
             "        assert main(['derive', '(w*x+b-y)**2', '--wrt', 'w,b', '--at', 'w=1,b=0,x=2,y=4', '-f', f]) == 0\n"
             "print('numpy' in sys.modules)\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    assert main(['derive', 'param w = [1, 2]\\nL = sum(w*w)']) == 0\n"
             "print('numpy' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_the_renderers_package_is_the_render_function_too():
    import worksheet
    from worksheet import FORMATS, derive, render

    trace = derive("x*x", at="x=3")
    assert render(trace, "txt") == worksheet.render(trace, "txt") == worksheet.render.render(trace, "txt")
    assert "md" in FORMATS and render(trace, "txt").rstrip().endswith("= 6")  # ∂(x·x)/∂x at 3


def test_usage_errors_point_to_the_commands_own_help(cli):
    result = cli("derive", "x", "--nope")
    assert result.code == 2 and result.err.rstrip().endswith("(see worksheet derive --help)")
    result = cli("nope")
    assert result.code == 2 and result.err.rstrip().endswith("(see worksheet --help)")


def test_help_shows_toml_table_names_as_written(cli):
    result = cli("grade", "--help")
    assert result.code == 0 and "[[question]]" in result.out


@pytest.mark.parametrize("command", ["derive", "graph", "train", "handout", "check", "grade"])
def test_help_fits_80_columns_and_names_values_not_types(cli, command):
    """Each option reads `-f, --format FORMAT` or a bare flag, in 80 columns, words whole."""
    text = cli(command, "--help").out
    assert not re.search(r"<(str|bool|int|path|file)[^>]*>", text), text
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert not re.search(r"\w-\n", text), "a word split at a hyphen"
    options = text.split("\nOptions:\n")[1]
    flags = re.findall(r"^  (?:-\w, )?(--[\w-]+(?: / --[\w-]+)?)(?: ([A-Z][A-Z_=]*))?\s", options, re.M)
    assert flags and all(value == "" for name, value in flags if name in FLAGS), flags
    assert all(value for name, value in flags if name not in FLAGS), flags


FLAGS = {"--help", "--per-sample", "--zero-grad / --no-zero-grad", "--exact", "--key", "--bom",
         "--check-numeric"}


def test_typeset_names_in_options_are_the_formulas_names(cli):
    """--wrt λ and --at λ=… name lambda, as λ in the formula does: ∂(λw²)/∂λ = w² = 4 at w = 2."""
    result = cli("derive", "λ*w^2", "--at", "λ=1,w=2", "--wrt", "λ", "-f", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["wrt"] == ["lambda"] and data["gradients"]["lambda"]["value"] == "4"


def test_the_documented_python_api_is_importable_where_the_readme_says():
    """The README's Python paths stay, whatever package a module moves to."""
    from worksheet import derive, render
    from worksheet.blanks import load_manifest
    from worksheet.figure import draw
    from worksheet.problems import load

    readme = (ROOT / "README.md").read_text()
    for path in ("worksheet.blanks.load_manifest", "worksheet.problems.load", "worksheet.figure.draw",
                 "from worksheet import derive, render"):
        assert path in readme, path
    trace = derive("x*y", at="x=2,y=3")
    assert "∂L/∂x" in render(trace, "txt") and draw("x*y", "x", "x=2,y=3").nodes
    assert callable(load) and callable(load_manifest)
