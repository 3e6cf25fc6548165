"""Benchmark the largest inputs the limits admit (issue 12: every stage bounded), each against
the 10 s target and against the start-up floor measured in the same run.

    uv run python benchmarks/bench_hostile.py [--repeats N] [--check]

Every row is the wall time and peak memory of a whole process (`python -m worksheet ...`).
The inputs are built here: a 3,000-line program whose every line uses x (a fan-out across
3,000 columns of the figure), a 3,000-term sum, check questions near and over the size
limit, tensor programs and trainings at their work limits, and inputs over each limit (which
must be refused quickly). The floor is `python -m worksheet --help`, the start-up cost.

It is a report: the exit status is 0 unless --check is given and a row misses its target.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from bench_derive import PY, run

TARGET = 10.0  # seconds, on the 2-core machines of this project
WORKSHEET = [PY, "-m", "worksheet"]


def inputs(tmp: Path) -> list[tuple[str, list[str], int]]:
    """(label, arguments, the exit status expected)."""
    fan = tmp / "fan3000.ws"
    fan.write_text("\n".join(["a0 = x"] + [f"a{i} = a{i - 1}*x + {i}" for i in range(1, 3000)]) + "\n")
    terms = "+".join("sin(x)" if i % 2 else "x*y" for i in range(3000))
    near = "+".join(f"sin({i}*x)*y" if i % 2 else f"(x-{i})**2" for i in range(1, 280))
    over = "+".join(f"sin({i}*x)*y" if i % 2 else f"(x-{i})**2" for i in range(1, 701))
    elementwise = tmp / "elementwise.ws"  # 19 functions of a 100×100 matrix: 1.9 of the 2 million
    elementwise.write_text("\n".join(["param W = randn(100, 100, seed=1)"] + [
        f"h{i} = {['tanh', 'sigmoid', 'sin', 'cos'][i % 4]}({'W' if i == 0 else f'h{i - 1}'})" for i in range(19)
    ] + ["L = sum(h18)"]) + "\n")
    too_many = tmp / "elementwise45.ws"  # 45 functions of a 316×316 matrix (once 64 s, and 200 s / 15 GB in JSON)
    too_many.write_text("\n".join(["param W = randn(316, 316, seed=1)"] + [
        f"h{i} = {['tanh', 'sigmoid', 'sin', 'cos'][i % 4]}({'W' if i == 0 else f'h{i - 1}'})" for i in range(45)
    ] + ["L = sum(h44)"]) + "\n")
    product = tmp / "product.ws"  # exact fractions, 87×87 by 87×87: 1.98 of the 2 million
    product.write_text("param W = randn(87, 87, seed=1)\nparam V = randn(87, 87, seed=2)\nL = sum(W @ V)\n")
    model = tmp / "model.ws"
    model.write_text("param W = randn(64, 64, seed=1)\ndata x = randn(64, seed=2)\ndata y = randn(64, seed=3)\n"
                     "h = tanh(W @ x)\nloss = mse(h, y)\n")
    out = str(tmp / "out")
    return [
        ("fan-out program, 3,000 lines, md", ["derive", str(fan), "--at", "x=1/2", "-f", "md", "-o", out + ".md"], 0),
        ("sum of 3,000 terms, tex", ["derive", terms, "--at", "x=1/2,y=3", "-f", "tex", "-o", out + ".tex"], 0),
        ("check, 279 terms (976 operations)", ["check", near, "--wrt", "x", "--answer", "cos(x)"], 1),
        ("check, 279 terms, answer with --at", ["check", near, "--wrt", "x", "--answer", "cos(x)", "--at", "x=1,y=2"], 1),
        ("check, 700 terms: refused", ["check", over, "--wrt", "x", "--answer", "cos(x)"], 2),
        ("elementwise at the work limit, json", ["derive", str(elementwise), "-f", "json", "-o", out + ".json"], 0),
        ("elementwise 45 × 316², refused", ["derive", str(too_many), "-f", "json", "-o", out + "2.json"], 2),
        ("product at the work limit, md", ["derive", str(product), "-f", "md", "-o", out + "2.md"], 0),
        ("train 64×64, 896 steps (the limit)", ["train", str(model), "--lr", "0.01", "--epochs", "896",
                                                "-f", "txt", "-o", out + ".txt"], 0),
        ("train 64×64, 100,000 steps: refused", ["train", str(model), "--lr", "0.01", "--epochs", "100000"], 2),
    ]


def options():
    """The command line every whole-process table takes: --repeats and --check."""
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each row (default 1; the fastest counts)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a row misses its target")
    return parser.parse_args()


def floor_seconds() -> float:
    """The start-up floor, `worksheet --help`, fastest of three."""
    return min(run(WORKSHEET + ["--help"])[0] for _ in range(3))


def table(rows, floor: float, repeats: int, width: int = 40, timeout: float = 300) -> bool:
    """Run each (label, arguments, exit status expected, target seconds or None) as a whole
    process, fastest of ``repeats``; print its row. True if every row met its target."""
    print(f"   {'input':<{width}} {'s':>7} {'peak MB':>8} {'× floor':>8} {'exit':>5}  result")
    passed = True
    for label, arguments, expected, target in rows:
        runs = [run(WORKSHEET + arguments, timeout=timeout) for _ in range(repeats)]
        seconds, rss, code, _ = min(runs, key=lambda r: r[0])
        ok = code == expected and (target is None or seconds <= target)
        passed &= ok
        mb = f"{rss:.0f}" if rss is not None else ""
        print(f"   {label:<{width}} {seconds:7.2f} {mb:>8} {seconds / floor:8.1f} {code:>5}  "
              f"{'ok' if ok else 'MISSED' if code == expected else f'exit {code}, expected {expected}'}")
    return passed


def main() -> int:
    given = options()
    floor = floor_seconds()
    print(f"worksheet hostile sizes: Python {sys.version.split()[0]}; whole-process wall time, fastest of "
          f"{given.repeats}; floor (start-up, `worksheet --help`) {floor:.2f} s; target ≤ {TARGET:g} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [(label, arguments, expected, TARGET) for label, arguments, expected in inputs(Path(tmp))]
        passed = table(rows, floor, given.repeats)
    return 1 if not passed and given.check else 0


if __name__ == "__main__":
    sys.exit(main())
