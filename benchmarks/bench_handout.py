"""Benchmark: `worksheet handout` of the sample set, 30 variants with keys, as PDF (no TeX).

Prints a table against the same-run floor (`python -c "import sympy; ...; sympy.diff"`,
bench_derive's); the target is issue 18's: at most 3 s for 30 sheets, 30 keys and the
manifest, whole process (issue 5's was 10 s).

    uv run python benchmarks/bench_handout.py [--repeats N] [--check]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_derive import FLOOR, bench, mark, process_options  # noqa: E402  (the same process runner)

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "samples" / "backprop_set.toml"
TARGET = 3.0  # seconds, issue 18


def main() -> int:
    args = process_options(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {"floor": FLOOR}
        for variants in (1, 10, 30):
            out = Path(tmp) / f"v{variants}"
            cmds[f"{variants} variants"] = [
                sys.executable, "-m", "worksheet", "handout", str(SET), "--variants", str(variants),
                "--seed", "1", "--key", "-o", str(out),
            ]
        results = bench(cmds, args.repeats)
        files = len(list((Path(tmp) / "v30").iterdir()))
    print(f"worksheet handout {SET.name} --seed 1 --key (PDF via typst), median of {args.repeats}")
    print(f'floor: python -c "{FLOOR[2]}"\n')
    print(f"   {'run':<12}{'median s':>10}{'min s':>9}{'peak MB':>9}  {'target':<9}result")
    ok = True
    for name, (median, low, mb) in results.items():
        line = f"   {name:<12}{median:>10.3f}{low:>9.3f}{mb:>9.0f}"
        if name == "30 variants":
            ok = median <= TARGET
            line += f"  <= {TARGET:.0f} s    {mark(ok)}"
        print(line)
    print(f"\n   30 variants wrote {files} files (30 sheets, 30 keys, manifest.json)")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
