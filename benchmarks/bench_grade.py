"""Benchmark: `worksheet grade` of 2,000 submission rows with 5% garbage, whole process.

Two batches against the sample key (samples/grading/key.toml): *realistic* (answers drawn
from a set of right and wrong answers, as a class writes them: most are repeats, judged
once) and *all distinct* (every answer a different expression, each judged and diagnosed
in full). Prints a table against the same-run floor (bench_derive's
`python -c "import sympy; ...; sympy.diff"`), with the rows graded a second; the target is
issue 18's: at most 3 s for 2,000 rows (median), every row reported — for the all-distinct
batch, and so for the realistic one, which has fewer answers to judge.

    uv run python benchmarks/bench_grade.py [--repeats N] [--check]
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_derive import FLOOR, bench, mark, process_options  # noqa: E402  (the same process runner)

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "samples" / "grading" / "key.toml"
TARGET = 3.0  # seconds for ROWS rows, each batch (issue 18)
ROWS = 2000
ANSWERS = {
    "q1": ["2(w*x+b-y)x", "2*(w*x+b-y)", "-2(w*x+b-y)x", "2x(w*x+b-y)", "(w*x+b-y)x", "2(w*x+b-y)w"],
    "q2": ["sigmoid(w*x+b)*(1-sigmoid(w*x+b))*x", "sigmoid(w*x+b)*(1-sigmoid(w*x+b))", "x*sigmoid(w*x+b)"],
    "q3": ["2(w*x+w*w-y)(x+2w)", "2(w*x+w*w-y)x", "2(w*x+w^2-y)(x+w)"],
    "q4": ["step(w*x)*x", "x", "x*sign(w*x)"],
    "q5": ["-7", "-8", "-7.0", "7"],
}
GARBAGE = ["diff(x)", "__import__('os')", "x===2", "1/0", "9^9^9^9", "z+1", "(((((", "x" * 3000, ""]


def batch(path: Path, distinct: bool, seed: int = 1) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(ROWS):
        question = list(ANSWERS)[i % len(ANSWERS)]
        if rng.random() < 0.05:
            answer = rng.choice(GARBAGE)
        elif distinct and question != "q5":
            k = rng.randint(1, 10**6)
            answer = rng.choice([f"{ANSWERS[question][0]} + {k}/1000*w", f"({ANSWERS[question][1]})*{k}",
                                 f"{ANSWERS[question][0]}*sin(w+{k})", f"-{k}*({ANSWERS[question][2]})"])
        else:
            answer = rng.choice(ANSWERS[question])
        rows.append((f"s{i // len(ANSWERS):04d}", question, answer))
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("student", "question", "answer"), *rows])


def main() -> int:
    args = process_options(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {"floor": FLOOR}
        for name, distinct in (("realistic", False), ("all distinct", True)):
            submissions, report = Path(tmp) / f"{name}.csv", Path(tmp) / f"{name}-report.csv"
            batch(submissions, distinct)
            cmds[name] = [sys.executable, "-m", "worksheet", "grade", str(KEY), str(submissions), "-o", str(report)]
        bench(cmds, 1)  # warm-up: the modules' bytecode compiled, the files in the page cache
        results = bench(cmds, args.repeats)
        reported = {name: len((Path(tmp) / f"{name}-report.csv").read_text().splitlines()) - 1
                    for name in ("realistic", "all distinct")}
    print(f"worksheet grade {KEY.name}: {ROWS:,} rows with 5% garbage, median of {args.repeats}\n")
    print(f"   {'run':<14}{'median s':>10}{'min s':>9}{'peak MB':>9}  {'rows':>6}{'rows/s':>8}  {'target':<9}result")
    ok = True
    for name, (median, low, mb) in results.items():
        line = f"   {name:<14}{median:>10.3f}{low:>9.3f}{mb:>9.0f}"
        if name in reported:
            passed = median <= TARGET and reported[name] == ROWS
            ok = ok and passed
            line += f"  {reported[name]:>6}{ROWS / median:>8.0f}  <= {TARGET:.0f} s   {mark(passed)}"
        print(line)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
