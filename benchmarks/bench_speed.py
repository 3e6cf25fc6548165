"""Speed near the floor (issue 18): one table per question, each against its floor measured in
the same run, with peak memory, and --check against the issue's targets.

    uv run python benchmarks/bench_speed.py [--repeats N] [--check]

Every row is a whole process started with this interpreter (`python -m worksheet ...`), its
wall time (median and min of the repeats, run round-robin so the machine's drift hits every
row alike) and its peak resident memory. The processes run with their bytecode kept, as on a
user's machine after the first run (see bench_derive.ENV); one warm-up run of each comes first.

1. Start-up: the README example in md, txt, tex and json against the floor
   `python -c "import sympy; ...; sympy.diff(...)"` (median ratio <= 1.2), and `--help`,
   `--version` and a usage error (<= 0.2 s each).
2. Long programs: the chains of bench_derive (`v = sin(v)`, and four nodes a line with tanh
   and sigmoid) of 200 and 5,000 nodes, as json and md: t(5,000) <= 3 x t(200) and <= 5 s.
3. Handouts: samples/backprop_set.toml, 30 variants with keys, as PDF: <= 3 s.
4. Grading: 2,000 rows against samples/grading/key.toml (bench_grade's batches), repeated
   answers and all distinct: <= 3 s for all distinct; rows/s for both.
5. A model, for context: the 16-32-10 MLP of bench_tensor as json, beside PyTorch autograd
   on a model of the same shapes (when torch is installed). No target.

It is a report: the exit status is 0 unless --check is given and a target fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_derive import EXAMPLE, FLOOR, PY, bench, mark, program  # noqa: E402
from bench_grade import KEY, ROWS, batch  # noqa: E402
from bench_handout import SET  # noqa: E402

HERE = Path(__file__).resolve().parent
WORKSHEET = [PY, "-m", "worksheet"]
RATIO, START_UP = 1.2, 0.2  # README example / floor; --help, --version and usage errors, seconds
GROWTH, LONG = 3.0, 5.0  # t(5000) / t(200); t(5000), seconds
HANDOUT, GRADING = 3.0, 3.0  # seconds
TORCH_MODEL = """
import torch
torch.manual_seed(0)
d = torch.float64
W1, b1 = torch.randn(32, 16, dtype=d, requires_grad=True), torch.randn(32, dtype=d, requires_grad=True)
W2, b2 = torch.randn(10, 32, dtype=d, requires_grad=True), torch.randn(10, dtype=d, requires_grad=True)
x, y = torch.randn(16, dtype=d), torch.randn(10, dtype=d)
J = torch.nn.functional.mse_loss(W2 @ torch.sigmoid(W1 @ x + b1) + b2, y)
J.backward()
print(W1.grad.norm().item())
"""


class Table:
    """One question's rows: run, median, min, peak memory, × the floor's median, target, result."""

    def __init__(self, title: str, floor: str = "floor"):
        self.floor, self.oks = floor, []
        print(f"\n{title}\n")
        print(f"   {'run':<34}{'median s':>10}{'min s':>9}{'peak MB':>9}{'× floor':>9}  {'target':<12}result")

    def rows(self, results: dict, targets: dict | None = None) -> None:
        """Print ``results`` (bench's), judging each named in ``targets`` ({name: (text, ok(median))})."""
        floor = results[self.floor][0]
        for name, (median, low, mb) in results.items():
            line = f"   {name:<34}{median:>10.3f}{low:>9.3f}{mb:>9.0f}{median / floor:>9.2f}"
            if targets and name in targets:
                text, ok = targets[name]
                passed = ok(median)
                self.oks.append(passed)
                line += f"  {text:<12}{mark(passed)}"
            print(line)

    def line(self, text: str, passed: bool | None = None) -> None:
        """A derived row (a ratio between rows), judged when ``passed`` is given."""
        if passed is not None:
            self.oks.append(passed)
        print(f"   {text}" + ("" if passed is None else f"  {mark(passed)}"))


def start_up(repeats: int) -> list[bool]:
    table = Table(f'1. Start-up: derive "{EXAMPLE[0]}" {" ".join(EXAMPLE[1:])} -f FORMAT, and the answers '
                  "that need no mathematics\n"
                  f'   floor: python -c "{FLOOR[2]}"')
    cmds = {"floor": FLOOR} | {f"README example, {f}": WORKSHEET + ["derive", *EXAMPLE, "-f", f]
                               for f in ("md", "txt", "tex", "json")}
    quick = {"--help": ["--help"], "--version": ["--version"], "usage error (derive x --nope)": ["derive", "x", "--nope"]}
    cmds |= {name: WORKSHEET + args for name, args in quick.items()}
    results = bench(cmds, repeats, allowed=(0, 2), warm_up=True)
    floor = results["floor"][0]
    targets = {name: (f"<= {RATIO} x", lambda m, f=floor: m / f <= RATIO) for name in cmds if name.startswith("README")}
    targets |= {name: (f"<= {START_UP} s", lambda m: m <= START_UP) for name in quick}
    table.rows(results, targets)
    return table.oks


def long_programs(repeats: int, tmp: Path) -> list[bool]:
    table = Table("2. Long programs: derive FILE -f FORMAT -o OUT, chains of 200 and 5,000 nodes")
    cmds, sizes = {"floor": FLOOR}, (200, 5000)
    for family in ("sin", "mixed"):
        for nodes in sizes:
            path = tmp / f"{family}{nodes}.ws"
            path.write_text(program(family, nodes)[0])
            for fmt in ("json", "md"):
                cmds[f"{family}, {nodes} nodes, {fmt}"] = WORKSHEET + ["derive", str(path), "-f", fmt,
                                                                        "-o", str(tmp / f"out.{fmt}")]
    results = bench(cmds, repeats, warm_up=True)
    table.rows(results, {name: (f"<= {LONG:g} s", lambda m: m <= LONG) for name in cmds if "5000" in name})
    for family in ("sin", "mixed"):
        for fmt in ("json", "md"):
            short, long = (results[f"{family}, {n} nodes, {fmt}"][0] for n in sizes)
            growth = long / short
            table.line(f"{family}, {fmt}: t(5000) / t(200) = {growth:.2f}{'':<6}<= {GROWTH:g}", growth <= GROWTH)
    return table.oks


def handouts(repeats: int, tmp: Path) -> list[bool]:
    table = Table(f"3. Handouts: handout {SET.parent.name}/{SET.name} --variants 30 --seed 1 --key (PDF)")
    cmds = {"floor": FLOOR, "30 variants with keys": WORKSHEET + [
        "handout", str(SET), "--variants", "30", "--seed", "1", "--key", "-o", str(tmp / "handout")]}
    results = bench(cmds, repeats, warm_up=True)
    table.rows(results, {"30 variants with keys": (f"<= {HANDOUT:g} s", lambda m: m <= HANDOUT)})
    written = len(list((tmp / "handout").iterdir()))
    table.line(f"wrote {written} files (30 sheets, 30 keys and the manifest)", written == 61)
    return table.oks


def grading(repeats: int, tmp: Path) -> list[bool]:
    table = Table(f"4. Grading: grade {KEY.parent.name}/{KEY.name} SUBMISSIONS.csv -o report.csv, {ROWS:,} rows "
                  "with 5% garbage")
    cmds = {"floor": FLOOR}
    for name, distinct in (("repeated answers", False), ("all distinct answers", True)):
        submissions = tmp / f"{distinct}.csv"
        batch(submissions, distinct)
        cmds[name] = WORKSHEET + ["grade", str(KEY), str(submissions), "-o", str(tmp / f"{distinct}-report.csv")]
    results = bench(cmds, repeats, allowed=(0, 1), warm_up=True)
    table.rows(results, {"all distinct answers": (f"<= {GRADING:g} s", lambda m: m <= GRADING)})
    for name in ("repeated answers", "all distinct answers"):
        table.line(f"{name}: {ROWS / results[name][0]:,.0f} rows/s")
    return table.oks


def model(repeats: int, tmp: Path) -> list[bool]:
    table = Table("5. A model, for context: the 16-32-10 MLP (bench_tensor), no target")
    cmds = {"floor": FLOOR, "worksheet derive mlp_16_32_10.ws -f json": WORKSHEET + [
        "derive", str(HERE / "mlp_16_32_10.ws"), "-f", "json", "-o", str(tmp / "mlp.json")]}
    if importlib.util.find_spec("torch"):
        cmds["PyTorch autograd, same shapes"] = [PY, "-c", TORCH_MODEL]
    table.rows(bench(cmds, repeats, warm_up=True))
    return table.oks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each row (default 5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    import sympy  # the version, for the header

    print(f"worksheet speed: Python {sys.version.split()[0]}, sympy {sympy.__version__}, {os.cpu_count()} CPUs; "
          f"whole processes, median and min of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        oks = start_up(args.repeats)
        for question in (long_programs, handouts, grading, model):
            oks += question(args.repeats, Path(tmp))
    print(f"\ntargets: {sum(oks)} of {len(oks)} met")
    return 1 if args.check and not all(oks) else 0


if __name__ == "__main__":
    sys.exit(main())
