"""Benchmark `worksheet derive` against baselines measured in the same run.

    uv run python benchmarks/bench_derive.py [--quick] [--check]

Every time is the wall time of a whole process started with this interpreter
(`python -m worksheet derive ...`, so the `uv run` wrapper is not counted on either side).

1. The README example in each format against the floor `python -c "import sympy; ... sympy.diff"`.
   Target: median ratio <= 1.2.
2. Chained programs of 200, 2,000 and 5,000 operation nodes, written with -o as json and md.
   Target: linear growth -- the time per node from 2,000 to 5,000 nodes is at most 1.5 times
   the time per node from 200 to 2,000 (a quadratic cost would give about 3.2).
3. The naive baseline: sympy.diff of the same chain nested as one expression, sin(sin(...sin(x))).

It is a report: the exit status is 0 unless --check is given and a target fails.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PY = sys.executable
DERIVE = [PY, "-m", "worksheet", "derive"]
FLOOR = [PY, "-c", "import sympy; x = sympy.Symbol('x'); sympy.diff((2*x+1)**2, x)"]
EXAMPLE = ["(w*x+b-y)**2", "--wrt", "w,b", "--at", "w=1,b=0,x=2,y=4"]
FORMATS = ["md", "txt", "tex", "json"]
SIZES = [200, 2000, 5000]
RATIO_TARGET = 1.2  # README example / sympy floor (issue 18; 1.5 in issue 1)
SLOPE_TARGET = 1.5  # per-node time 2000->5000 / per-node time 200->2000
TIMEOUT = 60.0  # per naive-baseline process
NAIVE = """
import sys, time, sympy
x = e = sympy.Symbol('x'); stage = 'building'
try:
    for _ in range(int(sys.argv[1])): e = sympy.sin(e)
    stage = 'diff'; t = time.perf_counter(); sympy.diff(e, x)
except Exception as exc: print(type(exc).__name__, 'in', stage)
else: print(f"ok, diff {time.perf_counter() - t:.3f} s")
"""

FAMILIES = {  # name: (operation nodes per line, first line, line i), after "param x = 0.5"
    "sin": (1, "v1 = sin(x)", "v{i} = sin(v{j})"),
    "mixed": (4, "v1 = tanh(x*x + sigmoid(x))", "v{i} = tanh(v{j}*x + sigmoid(v{j}))"),
}


def program(family, nodes):
    """The chained program of about `nodes` operation nodes, and its exact node count."""
    per, first, step = FAMILIES[family]
    lines = [first] + [step.format(i=i, j=i - 1) for i in range(2, max(1, nodes // per) + 1)]
    return "\n".join(["param x = 0.5"] + lines) + "\n", per * len(lines)


# Every process runs as on a user's machine after its first run, with its modules' bytecode
# compiled and kept: some shells here set PYTHONDONTWRITEBYTECODE, which would make every run
# (the floor's and the worksheet's alike) compile SymPy and the project from source again.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(cmd, timeout=None):
    """Run cmd; return (wall seconds, peak RSS in MB or None, exit code, output)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=ENV)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        if hasattr(os, "wait4"):  # POSIX: also gives the child's own peak memory
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
        else:
            proc.wait()
            rss = None
        seconds = time.perf_counter() - start
        if timer:
            timer.cancel()
        out.seek(0)
        return seconds, rss, proc.returncode, out.read().decode(errors="replace")


def bench(cmds, repeats, allowed=(0,), warm_up=False):
    """Run each named command `repeats` times, round-robin so drift hits all alike; exit when
    one ends with a status not `allowed`. `warm_up`: one unrecorded run of each first."""
    times = {name: [] for name in cmds}
    peak = dict.fromkeys(cmds, 0.0)
    for cmd in cmds.values() if warm_up else ():
        run(cmd)
    for _ in range(repeats):
        for name, cmd in cmds.items():
            seconds, rss, code, output = run(cmd)
            if code not in allowed:
                sys.exit(f"{name} failed (exit {code}): {' '.join(cmd)}\n{output[-2000:]}")
            times[name].append(seconds)
            peak[name] = max(peak[name], rss or 0.0)
    return {name: (statistics.median(t), min(t), peak[name]) for name, t in times.items()}


def mark(ok):
    return "PASS" if ok else "FAIL"


def section_example(repeats):
    print(f'1. README example: derive "{EXAMPLE[0]}" {" ".join(EXAMPLE[1:])} -f FORMAT')
    print(f'   floor: python -c "{FLOOR[2]}"\n')
    cmds = {"floor": FLOOR} | {f: DERIVE + EXAMPLE + ["-f", f] for f in FORMATS}
    res = bench(cmds, repeats)
    floor = res["floor"][0]
    print(f"   {'run':<7}{'median s':>10}{'min s':>9}{'peak MB':>9}{'ratio':>8}  {'target':<8}result")
    oks = []
    for name, (med, low, mb) in res.items():
        ratio = med / floor
        tail = "" if name == "floor" else f"  <= {RATIO_TARGET:<5}{mark(ratio <= RATIO_TARGET)}"
        oks += [] if name == "floor" else [ratio <= RATIO_TARGET]
        print(f"   {name:<7}{med:>10.3f}{low:>9.3f}{mb:>9.0f}{ratio:>8.2f}{tail}")
    return all(oks)


def section_scaling(repeats, tmp):
    print("\n2. Chained programs: derive FILE -f FORMAT -o OUT  (base = the 1-line program)\n")
    print(f"   {'family':<7}{'format':<7}{'nodes':>6}{'median s':>10}{'min s':>9}"
          f"{'over base s':>12}{'ms/node':>9}{'peak MB':>9}")
    slopes, sin_json = [], {}
    for family in FAMILIES:
        paths, nodes = {}, {}
        for n in [1] + SIZES:
            paths[n] = tmp / f"{family}{n}.ws"
            text, nodes[n] = program(family, n)
            paths[n].write_text(text)
        for fmt in ["json", "md"]:
            out = tmp / f"out.{fmt}"
            res = bench({n: DERIVE + [str(p), "-f", fmt, "-o", str(out)] for n, p in paths.items()}, repeats)
            base = res[1][0]
            for n, (med, low, mb) in res.items():
                per = f"{(med - base) / (nodes[n] - nodes[1]) * 1e3:.3f}" if n != 1 else "-"
                print(f"   {family:<7}{fmt:<7}{nodes[n]:>6}{med:>10.3f}{low:>9.3f}"
                      f"{med - base:>12.3f}{per:>9}{mb:>9.0f}")
            if family == "sin" and fmt == "json":
                sin_json = {n: res[n][0] for n in SIZES}
            t = {n: res[n][1] for n in SIZES}  # the fastest run: the least disturbed by noise
            a, b, c = SIZES
            early = (t[b] - t[a]) / (nodes[b] - nodes[a])
            late = (t[c] - t[b]) / (nodes[c] - nodes[b])
            base = res[1][1]
            growth = (t[c] - base) / (t[a] - base) if t[a] > base else float("inf")
            slopes.append((family, fmt, growth, early, late))
    a, b, c = SIZES
    print(f"\n   {'family':<7}{'format':<7}{f'growth {c}/{a}':>16}{f'ms/node {a}->{b}':>20}"
          f"{f'ms/node {b}->{c}':>21}{'ratio':>7}  {'target':<8}result")
    oks = []
    for family, fmt, growth, early, late in slopes:
        ratio = late / early if early > 0 else float("inf")
        oks.append(ratio <= SLOPE_TARGET)
        print(f"   {family:<7}{fmt:<7}{growth:>15.1f}x{early * 1e3:>20.3f}{late * 1e3:>21.3f}"
              f"{ratio:>7.2f}  <= {SLOPE_TARGET:<5}{mark(oks[-1])}")
    print(f"   (growth = (t({SIZES[-1]}) - base) / (t({SIZES[0]}) - base); "
          f"linear would be {SIZES[-1] / SIZES[0]:.0f}x, noisy since t({SIZES[0]}) - base is small)")
    return all(oks), sin_json


def section_naive(sin_json):
    print(f"\n3. Naive baseline: sympy.diff(sin(sin(...sin(x)))) nested to depth n, "
          f"one process each, timeout {TIMEOUT:.0f} s\n")
    print(f"   {'depth':>6}  {'sympy.diff':<28}{'process s':>10}{'worksheet s':>13}")
    for n in SIZES:
        seconds, _, code, output = run([PY, "-c", NAIVE, str(n)], TIMEOUT)
        lines = output.strip().splitlines()
        if seconds >= TIMEOUT:
            result = "timeout"
        elif code != 0:
            result = f"crashed (exit {code})"
        else:
            result = lines[-1] if lines else "?"
        print(f"   {n:>6}  {result:<28}{seconds:>10.3f}{sin_json.get(n, float('nan')):>13.3f}")


def process_options(doc: str):
    """--repeats N and --check, the options of the whole-process benchmarks."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each row (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args()
    repeats_example, repeats_scaling = (3, 1) if args.quick else (7, 3)

    import sympy  # only for the version in the header; the baseline runs in subprocesses

    print(f"worksheet derive benchmark: Python {sys.version.split()[0]}, sympy {sympy.__version__}, "
          f"{os.cpu_count()} CPUs; whole-process wall time, median of {repeats_example} "
          f"(section 1) / {repeats_scaling} (section 2) repeats\n")
    bench({"warm-up ws": DERIVE + EXAMPLE, "warm-up floor": FLOOR}, 1)  # compile .pyc, fill caches
    ok_ratio = section_example(repeats_example)
    with tempfile.TemporaryDirectory() as tmp:
        ok_linear, sin_json = section_scaling(repeats_scaling, Path(tmp))
    section_naive(sin_json)
    print(f"\ntargets: README example ratio <= {RATIO_TARGET}: {mark(ok_ratio)};  "
          f"linear growth {SIZES[0]} -> {SIZES[-1]}: {mark(ok_linear)}")
    return 1 if args.check and not (ok_ratio and ok_linear) else 0


if __name__ == "__main__":
    sys.exit(main())
