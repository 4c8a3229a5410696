"""A/B: this working tree's kpidsl against another commit's, runs interleaved.

The VM's speed varies by the hour (DuckDB's own query took 0.21 s one evening and 0.36 s
the next morning on the same files), so figures from different runs of
``columnar_bench.py`` compare badly. This script runs both versions of kpidsl on the
same files, alternating one process of each, so that both see the same machine:

    python benchmarks/ab_bench.py --base ed1b1b5 --deals 100000 5000000 --formats parquet csv

``--base``'s tree is checked out with ``git worktree`` into a temporary folder (removed
after) and put first on ``PYTHONPATH`` for its processes. Each process loads the
benchmark's data folder, evaluates 2026-Q3 (as ``kpidsl eval`` does) and prints its wall
time from process start. ``first``: an empty cache each time; ``second``: the run after
one first run; ``re-run``: after three runs. Medians of ``--repeat`` pairs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import inspect, sys, time
START = time.perf_counter()
from pathlib import Path
import kpidsl
from kpidsl.columnar import ColumnarRun, load_folder
plan = kpidsl.load(sys.argv[1])
kw = {"period": "2026-Q3"} if "period" in inspect.signature(load_folder).parameters else {}
loaded = load_folder(plan.model, Path(sys.argv[2]), fmt=sys.argv[3], **kw)
result = ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()
assert result is not None and result.ok
print(time.perf_counter() - START)
"""
SIZES = {100_000: "100k", 1_000_000: "1m", 5_000_000: "5m"}
WARM = {"first": 0, "second": 1, "re-run": 3}  # runs on the same cache before the measured one


def run(src: Path | None, cache: Path, folder: Path, fmt: str) -> float:
    env = dict(os.environ, KPIDSL_CACHE_DIR=str(cache))
    env.pop("KPIDSL_CACHE", None)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out = subprocess.run([sys.executable, "-c", CHILD, str(HERE / "workload" / "plan.kpi"), str(folder), fmt],
                         check=True, env=env, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def measure(src: Path | None, tmp: Path, folder: Path, fmt: str, kind: str) -> float:
    cache = tmp / f"cache-{folder.name}-{fmt}-{kind}"  # a re-run's is filled once, then reused
    if kind != "re-run" or not cache.exists():
        shutil.rmtree(cache, ignore_errors=True)
        for _ in range(WARM[kind]):
            run(src, cache, folder, fmt)
    return run(src, cache, folder, fmt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the commit to compare with (e.g. a session's start)")
    ap.add_argument("--deals", type=int, nargs="+", default=[100_000], choices=sorted(SIZES))
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    ap.add_argument("--runs", nargs="+", default=["first", "re-run"], choices=list(WARM))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpidsl-ab-") as tmp_name:
        tmp = Path(tmp_name)
        base = tmp / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.base], check=True, cwd=HERE)
        try:
            print(f"{'deals':>10} {'format':>8} {'run':>7}  {'base s':>7}  {'this s':>7}  change")
            for deals in args.deals:
                folder = HERE / "workload" / "data" / SIZES[deals]
                if not folder.is_dir():
                    sys.exit(f"{folder} is missing: run columnar_bench.py --deals {deals} first (it generates it)")
                for fmt in args.formats:
                    for kind in args.runs:
                        times: dict[str, list[float]] = {"base": [], "this": []}
                        for _ in range(args.repeat):
                            for who, src in (("base", base / "src"), ("this", None)):
                                times[who].append(measure(src, tmp / who, folder, fmt, kind))
                        a, b = statistics.median(times["base"]), statistics.median(times["this"])
                        print(f"{deals:>10,} {fmt:>8} {kind:>7}  {a:7.2f}  {b:7.2f}  {(b - a) / a:+.0%}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=HERE, check=False)


if __name__ == "__main__":
    main()
