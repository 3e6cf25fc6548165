"""Shared helpers: run the command line in-process or as a real process."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
LATEX_PACKAGES = ("amsmath.sty", "array.sty", "booktabs.sty", "longtable.sty", "geometry.sty", "tikz.sty", "lmodern.sty")
"""What the LaTeX output uses (Debian: texlive-latex-base, texlive-latex-recommended,
texlive-pictures, lmodern)."""



def optional_torch():
    """PyTorch, the tests' oracle for models: the module, or None where it is not installed
    (those tests then skip); under CI it is required, and its absence fails."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            raise
        return None
    return torch


class CpuTime:
    """CPU seconds spent by this process and its finished children inside ``with``: a bound on
    work that a hang or a blow-up breaks and a loaded machine does not (wall-clock targets
    belong in benchmarks/, not in tests)."""

    def __enter__(self) -> CpuTime:
        self.start = _cpu()
        return self

    def __exit__(self, *_) -> None:
        self.seconds = _cpu() - self.start


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def latex_available() -> bool:
    """pdflatex and every package of the LaTeX output: else the test is skipped, saying what is
    missing (in CI, where .ci/run installs them, it fails)."""
    if not shutil.which("pdflatex"):
        missing = "pdflatex is not installed"
    else:
        absent = [name for name in LATEX_PACKAGES if shutil.which("kpsewhich") and subprocess.run(
            ["kpsewhich", name], capture_output=True, text=True).returncode != 0]
        if not absent:
            return True
        missing = f"pdflatex has no {', '.join(absent)}"
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: .ci/run installs TeX Live")
    pytest.skip(f"{missing} (Debian: texlive-latex-base texlive-latex-recommended texlive-pictures lmodern)")
README_FORMULA = "(w*x+b-y)**2"
README_ARGS = ["derive", README_FORMULA, "--wrt", "w,b", "--at", "w=1,b=0,x=2,y=4"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run ``worksheet ARGS…`` in this process; returns exit code, stdout, stderr."""
    from worksheet.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_process(*args: str, stdin: str | None = None, timeout: float = 60) -> Result:
    """Run ``python -m worksheet ARGS…`` as a new process, as a user would."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("WORKSHEET_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "worksheet", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )
    return Result(done.returncode, done.stdout, done.stderr)


RUN_ALL = """
import contextlib, io, runpy, sys
for path in sys.argv[1:]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        code = 0
    except SystemExit as done:
        code = done.code
    print(code, path, out.getvalue().replace(chr(10), " | "), sep=chr(9))
"""


def run_scripts(paths: list[str], timeout: float = 300) -> list[str]:
    """Run Python scripts in one new process (one torch import for all); one line per script:
    its exit code, its path and its output, tab-separated."""
    done = subprocess.run([sys.executable, "-c", RUN_ALL, *paths], check=False, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def cli_runner(tmp_path_factory):
    """``cli`` for hypothesis tests (one fixture for all examples): exit code, stdout, stderr,
    with a scratch directory ``.tmp``."""
    import contextlib
    import io

    from worksheet.cli import main

    def run(*args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return Result(code, out.getvalue(), err.getvalue())

    run.tmp = tmp_path_factory.mktemp("fuzz")
    return run
