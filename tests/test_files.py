"""Files as a careful tool treats them (issue 12): an output never replaces an input, two
outputs never share a path, a set of outputs is written whole or not at all, a replaced file
keeps its permissions, and a write that fails is one line naming the path."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SAMPLES

KEY = '[[question]]\nid = "q1"\nexpression = "x**2"\nwrt = "x"\npoints = 1\nat = "x=3"\n'
SUBMISSIONS = "student,question,answer\nann,q1,6\nbob,q1,2*x\n"


@pytest.fixture
def grading(tmp_path):
    key, subs = tmp_path / "key.toml", tmp_path / "subs.csv"
    key.write_text(KEY)
    subs.write_text(SUBMISSIONS)
    return key, subs


def test_derive_and_graph_never_replace_their_program(cli, tmp_path):
    program = tmp_path / "prog.ws"
    program.write_text("param x = 2\nL = x*x\n")
    link = tmp_path / "link.md"
    link.symlink_to(program)
    for args in (["derive", str(program), "-o", str(program), "-f", "md"],
                 ["derive", str(program), "-o", str(link)],
                 ["graph", str(program), "-o", str(program), "-f", "svg"]):
        result = cli(*args)
        assert result.code == 2 and "is an input" in result.err, args
        assert result.err.count("\n") == 1
    assert program.read_text() == "param x = 2\nL = x*x\n"


def test_grade_never_replaces_the_submissions_nor_writes_two_outputs_on_one_path(cli, grading, tmp_path):
    key, subs = grading
    result = cli("grade", str(key), str(subs), "-o", str(subs))
    assert result.code == 2 and "is an input" in result.err
    assert subs.read_text() == SUBMISSIONS
    report = tmp_path / "r.csv"
    result = cli("grade", str(key), str(subs), "-o", str(report), "--totals", str(report))
    assert result.code == 2 and "--totals" in result.err and not report.exists()


def test_a_report_and_its_totals_are_written_together_or_not_at_all(cli, grading, tmp_path):
    key, subs = grading
    report = tmp_path / "r.csv"
    report.write_text("the old report\n")
    result = cli("grade", str(key), str(subs), "-o", str(report), "--totals", str(tmp_path / "no" / "t.csv"))
    assert result.code == 2 and "no such directory" in result.err
    assert report.read_text() == "the old report\n"  # the failing totals path left it as it was
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    totals = tmp_path / "t.csv"
    assert cli("grade", str(key), str(subs), "-o", str(report), "--totals", str(totals)).code == 0
    assert report.read_text().startswith("student,variant,question,answer,verdict") and "ann,,1,1,1" in totals.read_text()


def test_a_replaced_output_keeps_its_permissions(cli, tmp_path):
    out = tmp_path / "private.md"
    out.write_text("old")
    out.chmod(0o600)
    assert cli("derive", "x*x", "--at", "x=2", "-o", str(out)).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "partial L" in out.read_text()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_is_one_line_naming_the_path(cli):
    for args in (["derive", "x*x", "--at", "x=2", "-f", "txt"], ["graph", "x*x", "--at", "x=2", "-f", "png"]):
        result = cli(*args, "-o", "/dev/full")
        assert result.code == 2 and "cannot write /dev/full" in result.err and "internal error" not in result.err
        assert result.err.count("\n") == 1


@pytest.mark.parametrize("args", [
    ["derive", "1/min(x,y)", "-f", "md"], ["derive", "max(x,y)**2", "-f", "tex"],
    ["derive", "sqrt(x)", "--at", "x=10**(10**5)", "-f", "md"],
    ["check", "sinh(w/0)", "--wrt", "w", "--answer", "1"],
])
def test_issue_12_inputs_that_were_internal_errors(cli, args):
    result = cli(*args)
    assert result.code in (0, 2) and "internal error" not in result.err, result.err
    if result.code == 2:
        assert result.err.count("\n") == 1 and "undefined" in result.err
    else:
        assert "max" in result.out or "min" in result.out or "10^{-50001}" in result.out


def test_a_quoted_line_break_is_one_invalid_row_not_phantom_students(cli, grading, tmp_path):
    key, _ = grading
    subs = tmp_path / "breaks.csv"
    subs.write_text('student,question,answer\n"ann\nbob",q1,6\ncid,q1,"6\n7"\ndan,q1,6\n')
    totals = tmp_path / "t.csv"
    result = cli("grade", str(key), str(subs), "--totals", str(totals))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 4 and "line 2" in lines[1] and lines[2].startswith("cid,,q1,,invalid")  # no answer echoed
    assert "line 4" in lines[2] and lines[3].startswith("dan,,q1,6,correct")
    assert [row.split(",")[0] for row in totals.read_text().splitlines()[1:]] == ["cid", "dan"]


def test_values_beyond_the_doubles_are_refused_by_train_and_the_torch_export(cli, tmp_path):
    program = tmp_path / "t.ws"
    program.write_text("param w = 1\ndata x = [1, 2]\ndata y = [2, 4]\nL = mean((w*x - y)**2)\n")
    result = cli("train", str(program), "--lr", "10**400")
    assert result.code == 2 and result.err.startswith("worksheet: error: --lr:") and "internal" not in result.err
    big = tmp_path / "big.ws"
    big.write_text("param w = 1e300\nL = w*w*w\n")
    out = tmp_path / "big.py"
    result = cli("derive", str(big), "-f", "torch", "-o", str(out))
    assert result.code == 2 and "float64" in result.err and not out.exists()


def _set_state(directory: Path) -> set[str]:
    """The seeds the files of a handout set say they belong to (one seed: a whole set)."""
    seeds = {f"seed {__import__('json').loads((directory / 'manifest.json').read_text())['seed']}"}
    for sheet in directory.glob("*.md"):
        seeds |= set(re.findall(r"seed \d+", sheet.read_text())[:1])
    return seeds


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_handout_leaves_the_whole_old_set_or_the_whole_new_one(tmp_path, signal_number):
    """A handout killed at any moment (here: at 10 moments over its run) leaves the set it
    replaces, or the new set, whole; never a mix, never a temporary file."""
    out = tmp_path / "set"
    command = [sys.executable, "-m", "worksheet", "handout", str(SAMPLES / "backprop_set.toml"),
               "-o", str(out), "-f", "md", "-n", "4", "--key"]
    subprocess.run(command + ["--seed", "1"], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(command + ["--seed", "2"], check=True, capture_output=True)
    whole = time.perf_counter() - started
    for k in range(10):
        subprocess.run(command + ["--seed", "1"], check=True, capture_output=True)
        process = subprocess.Popen(command + ["--seed", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(whole * (0.5 + k / 15))
        process.send_signal(signal_number)
        process.wait(timeout=60)
        state = _set_state(out)
        assert state in ({"seed 1"}, {"seed 3"}), (k, process.returncode)
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_renames_waits_until_every_file_is_in_place(tmp_path, signal_number):
    """A signal's Python handler runs between two renames (the interpreter runs it at its next
    check, which may fall there): every file of the new set is put in place, and only then does
    the run stop as Ctrl-C stops it."""
    import os

    from worksheet import cli

    files = [(f"new {k}\n", tmp_path / f"{k}.md") for k in range(5)]
    for _, path in files:
        path.write_text("old\n")
    renamed = []
    real_replace = os.replace

    def replace(source, target):
        real_replace(source, target)
        renamed.append(target)
        if len(renamed) == 1:  # a signal that came just before: its Python handler runs now
            signal.getsignal(signal_number)(signal_number, None)

    cli.os.replace = replace
    previous = signal.signal(signal.SIGTERM, cli._interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            cli._emit_all(files)
    finally:
        cli.os.replace = real_replace
        signal.signal(signal.SIGTERM, previous)
    assert [path.read_text() for _, path in files] == [text for text, _ in files]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{k}.md" for k in range(5)]
