"""Benchmark tutorial code as input (issue 17): every hostile script of tests/test_scripts.py
refused within 2 s, and the tutorials' scripts read and worked, each as a whole process
(`python -m worksheet derive|train SCRIPT.py`), against the start-up floor of the same run.

    uv run python benchmarks/bench_scripts.py [--repeats N] [--check]

It is a report: the exit status is 0 unless --check is given and a row misses its target.
"""

import sys
import tempfile
from pathlib import Path

from bench_hostile import floor_seconds, options, table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_scripts import HOSTILE  # noqa: E402  (the corpus the tests refuse, one source of it)

REFUSED_WITHIN = 2.0  # seconds, whole process (the bar for a hostile script)
TUTORIALS = [("derive", "micrograd_readme.py"), ("derive", "autograd_tutorial.py"),
             ("train", "seeds_per_sample.py"), ("train", "seeds_batch_mean.py"), ("train", "nn_linear_weights.py")]


def main() -> int:
    given = options()
    floor = floor_seconds()
    print(f"worksheet scripts: Python {sys.version.split()[0]}; whole-process wall time, fastest of "
          f"{given.repeats}; floor (start-up, `worksheet --help`) {floor:.2f} s; hostile target ≤ "
          f"{REFUSED_WITHIN:g} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, text in sorted(HOSTILE.items()):
            script = Path(tmp) / f"{name}.py"
            script.write_text(text.format(marker=Path(tmp) / "ran"))
            rows.append((f"hostile: {name}", ["derive", str(script)], 2, REFUSED_WITHIN))
        rows += [(f"{command} {name}", [command, str(ROOT / "tests" / "scripts" / name), "-f", "json",
                                        "-o", str(Path(tmp) / f"{name}.json")], 0, None) for command, name in TUTORIALS]
        passed = table(rows, floor, given.repeats, width=44, timeout=120)
        if (Path(tmp) / "ran").exists():
            print("   a hostile script ran: FAIL")
            passed = False
    return 1 if not passed and given.check else 0


if __name__ == "__main__":
    sys.exit(main())
