"""Benchmark: grading at scale — rows/s serial, on a pool of 1, 2 and N processes, and on Dask.

The two batches of bench_grade.py (the sample key, 2,000 rows with 5% garbage): *repeated*,
answers drawn from a few right and wrong ones per question, as a class writes them (each
distinct answer is judged once), and *all distinct*, every answer its own expression. Two
sections, each against its serial row measured in the same run:

1. Whole process: ``worksheet grade KEY SUBMISSIONS -o report.csv [--jobs N | --dask ADDRESS]``,
   start-up included (``--jobs 1`` is the serial run: no pool).
2. In process, after the imports and the key (SymPy's cache emptied before each run, as the
   forked workers would otherwise inherit what the runs before judged): ``grade(key, rows)``
   with the units worked here,
   on a pebble pool of 1, 2 and N workers (N = os.cpu_count()), and on a Dask LocalCluster of N
   single-threaded worker processes (started, and warmed with one small batch, beforehand).

Every report is compared with the serial one (they must be the same bytes). First, as the
baseline of what parallel work can gain on this machine at this moment (other work on it takes
its share), the same pure-Python loop on 1, 2 and N processes at once: ``× 1 process`` is the
work done in the time of one (2.00 on two idle CPUs). Standard library, pebble and (optional) dask.

    uv run python benchmarks/grading_scale.py [--repeats N] [--rows N] [--no-dask]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_derive import bench  # noqa: E402  (the same process runner)
import bench_grade  # noqa: E402  (the same batches)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEY = ROOT / "samples" / "grading" / "key.toml"
CPUS = os.cpu_count() or 1
N_IS_2 = " (N)" if CPUS == 2 else ""  # N = os.cpu_count(): one row when it is 2


def options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each row (default 3)")
    parser.add_argument("--rows", type=int, default=2000, help="rows of each batch (default 2000)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask rows")
    return parser.parse_args()


def cluster(enabled: bool):
    """A LocalCluster of CPUS single-threaded worker processes, or None (no dask, or --no-dask)."""
    if not enabled:
        return None
    try:
        import distributed
    except ImportError:
        return None
    return distributed.LocalCluster(n_workers=CPUS, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=50)


def burn(_=None) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def machine(repeats: int) -> None:
    """The machine's own parallelism now: one loop alone, then one per process on 2 and N at once."""
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    one = statistics.median(burn() for _ in range(repeats))
    print("0. The machine: a pure-Python loop on 1, and on k processes at once (the baseline of any speed-up)\n")
    print(f"   {'processes':<12}{'median s':>10}{'× 1 process':>13}")
    print(f"   {1:<12}{one:>10.3f}{1:>13.2f}")
    for k in dict.fromkeys((2, CPUS)):
        with context.Pool(k) as pool:
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                pool.map(burn, range(k))
                times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"   {k:<12}{median:>10.3f}{k * one / median:>13.2f}")
    print()


def whole_process(batches: dict[str, Path], tmp: Path, address: str | None, repeats: int) -> dict:
    ways = {"serial (--jobs 1)": [], "--jobs 2" + N_IS_2: ["--jobs", "2"]}
    if CPUS != 2:
        ways[f"--jobs {CPUS} (N)"] = ["--jobs", str(CPUS)]
    if address:
        ways["--dask"] = ["--dask", address]
    cmds, reports = {}, {}
    for batch, path in batches.items():
        for way, extra in ways.items():
            report = tmp / f"{batch}-{len(reports)}.csv"
            reports[batch, way] = report
            cmds[batch, way] = [sys.executable, "-m", "worksheet", "grade", str(KEY), str(path), "-o", str(report),
                                *extra]
    results = bench(cmds, repeats)
    same = all(reports[b, w].read_bytes() == reports[b, "serial (--jobs 1)"].read_bytes() for b, w in reports)
    return {name: median for name, (median, _, _) in results.items()}, same


def in_process(batches: dict[str, Path], local, repeats: int) -> tuple[dict, bool]:
    from sympy.core.cache import clear_cache

    from worksheet.assess.batch import assembled, here
    from worksheet.assess.grading import load_key, read_submissions, report_csv
    from worksheet.assess.pool import on_pool

    executors = {"serial": here, "pool of 1": lambda k, u: on_pool(k, u, 1),
                 "pool of 2" + N_IS_2: lambda k, u: on_pool(k, u, 2)}
    if CPUS != 2:
        executors[f"pool of {CPUS} (N)"] = lambda k, u: on_pool(k, u, CPUS)
    if local is not None:
        from distributed import Client

        from worksheet.assess.distributed import on_dask

        client = Client(local)
        executors[f"dask, {CPUS} workers"] = lambda k, u: on_dask(k, u, client)
        warm = read_submissions(batches["repeated"])[:50]
        key = load_key(KEY)
        list(assembled(key, key.plan(warm), on_dask(key, key.plan(warm).units, client)))
    times = {(b, e): [] for b in batches for e in executors}
    reports, same = {}, True
    for _ in range(repeats):
        for batch, path in batches.items():
            rows = read_submissions(path)
            for name, executor in executors.items():
                key = load_key(KEY)  # a fresh key, and SymPy's cache emptied: nothing judged yet
                clear_cache()
                start = time.perf_counter()
                plan = key.plan(rows)
                report = report_csv(assembled(key, plan, executor(key, plan.units)))
                times[batch, name].append(time.perf_counter() - start)
                same = same and reports.setdefault(batch, report) == report
    return {name: statistics.median(t) for name, t in times.items()}, same


def table(title: str, medians: dict, rows: int, same: bool) -> None:
    print(title + "\n")
    print(f"   {'batch':<14}{'run':<22}{'median s':>10}{'rows/s':>9}{'× serial':>10}")
    for batch in dict.fromkeys(b for b, _ in medians):
        runs = {w: m for (b, w), m in medians.items() if b == batch}
        serial = next(iter(runs.values()))
        for way, median in runs.items():
            print(f"   {batch:<14}{way:<22}{median:>10.3f}{rows / median:>9.0f}{serial / median:>10.2f}")
    print(f"\n   every report the same bytes as the serial one: {'yes' if same else 'NO'}\n")


def main() -> int:
    args = options()
    bench_grade.ROWS = args.rows
    local = cluster(not args.no_dask)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            batches = {"repeated": Path(tmp) / "repeated.csv", "all distinct": Path(tmp) / "distinct.csv"}
            for name, path in batches.items():
                bench_grade.batch(path, distinct=name == "all distinct")
            import pebble

            versions = f"pebble {pebble.__version__}" + (f", dask {__import__('dask').__version__}" if local else "")
            print(f"worksheet grade at scale: {KEY.name}, {args.rows:,} rows a batch, Python "
                  f"{sys.version.split()[0]}, {versions}, {CPUS} CPUs; median of {args.repeats}\n")
            machine(args.repeats)
            medians, same = whole_process(batches, Path(tmp), local.scheduler_address if local else None, args.repeats)
            table("1. Whole process: worksheet grade KEY SUBMISSIONS -o report.csv [--jobs N | --dask ADDRESS]",
                  medians, args.rows, same)
            medians, same_here = in_process(batches, local, args.repeats)
            table("2. In process: grade(key, rows) after the imports, the units worked here, on a pool, on Dask",
                  medians, args.rows, same_here)
    finally:
        if local is not None:
            local.close()
    return 0 if same and same_here else 1


if __name__ == "__main__":
    sys.exit(main())
