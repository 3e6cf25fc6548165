"""Benchmark tutorial code as input (issue 17): every hostile script of tests/test_scripts.py
refused within 2 s, and the tutorials' scripts read and worked, each as a whole process
(`python -m worksheet derive|train SCRIPT.py`), against the start-up floor of the same run.

    uv run python benchmarks/bench_scripts.py [--repeats N] [--check]

It is a report: the exit status is 0 unless --check is given and a row misses its target.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from bench_derive import PY, run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_scripts import HOSTILE  # noqa: E402  (the corpus the tests refuse, one source of it)

REFUSED_WITHIN = 2.0  # seconds, whole process (the bar for a hostile script)
WORKSHEET = [PY, "-m", "worksheet"]
TUTORIALS = [("derive", "micrograd_readme.py"), ("derive", "autograd_tutorial.py"),
             ("train", "seeds_per_sample.py"), ("train", "seeds_batch_mean.py"), ("train", "nn_linear_weights.py")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each row (default 1; the fastest counts)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a row misses its target")
    options = parser.parse_args()
    floor = min(run(WORKSHEET + ["--help"])[0] for _ in range(3))
    print(f"worksheet scripts: Python {sys.version.split()[0]}; whole-process wall time, fastest of "
          f"{options.repeats}; floor (start-up, `worksheet --help`) {floor:.2f} s; hostile target ≤ "
          f"{REFUSED_WITHIN:g} s\n")
    print(f"   {'script':<44} {'s':>7} {'peak MB':>8} {'× floor':>8} {'exit':>5}  result")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, text in sorted(HOSTILE.items()):
            script = Path(tmp) / f"{name}.py"
            script.write_text(text.format(marker=Path(tmp) / "ran"))
            rows.append((f"hostile: {name}", ["derive", str(script)], 2, REFUSED_WITHIN))
        rows += [(f"{command} {name}", [command, str(ROOT / "tests" / "scripts" / name), "-f", "json",
                                        "-o", str(Path(tmp) / f"{name}.json")], 0, None) for command, name in TUTORIALS]
        for label, arguments, expected, target in rows:
            runs = [run(WORKSHEET + arguments, timeout=120) for _ in range(options.repeats)]
            seconds, rss, code, _ = min(runs, key=lambda r: r[0])
            ok = code == expected and (target is None or seconds <= target)
            failed |= not ok
            mb = f"{rss:.0f}" if rss is not None else ""
            print(f"   {label:<44} {seconds:7.2f} {mb:>8} {seconds / floor:8.1f} {code:>5}  "
                  f"{'ok' if ok else 'MISSED' if code == expected else f'exit {code}, expected {expected}'}")
        if (Path(tmp) / "ran").exists():
            print("   a hostile script ran: FAIL")
            failed = True
    return 1 if failed and options.check else 0


if __name__ == "__main__":
    sys.exit(main())
