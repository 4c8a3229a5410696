"""Benchmark: kpidsl (columnar) against hand-written DuckDB and pandas, on the same files.

    python benchmarks/columnar_bench.py                       # 100k deals, CSV and Parquet
    python benchmarks/columnar_bench.py --deals 100000 1000000 5000000 --repeat 3

Generates the data if missing (``benchmarks/workload/data/<size>``, fixed seed),
runs every contender in a fresh process (wall time from process start, imports
included, to the per-payee result; peak RSS of that process), checks they
agree to the cent on every payee's commission and SPIFF, and prints times,
memory and ratios to the DuckDB baseline.

kpidsl is measured three times (docs/performance.md, "Re-runs: the cache"):
``kpidsl`` is a first run on these files (an empty cache folder each time: the
files are typed in memory and checked; the checks' results are kept);
``2nd-run`` the run after it (a CSV file's typed copy is written to the cache,
the checks are reused); ``re-run`` any later run (the copies are read in
place). These three call the Python API, as a service would. ``eval-cli`` is a
re-run as typed at a prompt, ``kpidsl eval plan.kpi --data ... --period 2026-Q3``,
its table of 10,000 payees written to a file: the API's time plus the command's
own (the table's layout).
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "workload"))

Payouts = dict[str, tuple[Decimal, Decimal]]


PHASES: dict[str, float] = {}


def run_kpidsl(folder: Path, fmt: str) -> Payouts:
    import kpidsl
    from kpidsl.columnar import ColumnarRun, load_folder

    PHASES["import"] = time.perf_counter() - START
    plan = kpidsl.load(HERE / "workload" / "plan.kpi")
    t0 = time.perf_counter()
    # as `kpidsl eval` loads: the period's grouped aggregates run while the small tables bind
    loaded = load_folder(plan.model, folder, fmt=fmt, period="2026-Q3")
    t1 = time.perf_counter()
    PHASES["load+check"] = t1 - t0
    if loaded.engine != "columnar":
        print(f"kpidsl fell back to the reference: {loaded.reasons}", file=sys.stderr)
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    stage = run._stage()
    if stage is not None:
        stage.compute_all(run._engine("values").period("2026-Q3"))  # those not computed while loading
    t2 = time.perf_counter()
    PHASES["aggregates"] = t2 - t1
    result = run.evaluate()
    PHASES["payee stage"] = time.perf_counter() - t2
    assert result is not None and result.ok, "the benchmark data must evaluate without errors"
    return {pid: (pr.components["commission"], pr.components["spiff"]) for pid, pr in result.payees.items()}


def run_cli(folder: Path, fmt: str, out: Path) -> Payouts:
    """``kpidsl eval`` as typed, its table written to a file; the payouts read back from it."""
    import contextlib
    import re

    from kpidsl.cli import main

    PHASES["import"] = time.perf_counter() - START
    table = out.with_suffix(".table")
    with table.open("w", encoding="utf-8") as f, contextlib.redirect_stdout(f):
        code = main(["eval", str(HERE / "workload" / "plan.kpi"), "--data", str(folder), "--period", "2026-Q3"])
    assert code == 0, f"kpidsl eval exited {code}"
    payouts: Payouts = {}
    for line in table.read_text(encoding="utf-8").splitlines()[2:-2]:  # header, rule ... rule, sums
        pid, _name, commission, spiff, _total = re.split(r"\s{2,}", line.strip())
        payouts[pid] = (Decimal(commission.replace(",", "")), Decimal(spiff.replace(",", "")))
    return payouts


def child(who: str, folder: Path, fmt: str, out: Path) -> None:
    """One measured run in this (fresh) process; writes the payouts and the measurements."""
    if who == "kpidsl":
        payouts = run_kpidsl(folder, fmt)
    elif who == "kpidsl-cli":
        payouts = run_cli(folder, fmt, out)
    else:
        import baselines

        payouts = (baselines.run_duckdb if who == "duckdb" else baselines.run_pandas)(folder, fmt)
    wall = time.perf_counter() - START
    rss = peak_rss_mb()
    rows = {k: [str(v[0]), str(v[1])] for k, v in payouts.items()}
    out.write_text(json.dumps({"wall": wall, "rss_mb": rss, "payouts": rows, "phases": PHASES}),
                   encoding="utf-8")


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux ``VmHWM``: ``ru_maxrss`` survives
    ``exec``, so a child would report at least the RSS its parent had when it started (this
    script's, after loading data for the service timings)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(who: str, folder: Path, fmt: str, repeat: int, tmp: Path) -> tuple[float, float, Payouts]:
    """Median wall time, peak RSS and payouts of ``repeat`` fresh processes. ``kpidsl`` runs
    with an empty cache folder each time, ``2nd-run`` after one unmeasured run on an empty
    folder, ``re-run`` on a folder filled by two unmeasured runs."""
    import os
    import shutil

    walls, rss, payouts = [], 0.0, {}
    phases: dict[str, float] = {}
    child_who = {"2nd-run": "kpidsl", "re-run": "kpidsl", "eval-cli": "kpidsl-cli"}.get(who, who)
    warm = tmp / f"cache-{folder.name}-{fmt}"
    plan = [(i, False) for i in range(repeat)]  # (run, measured)
    if who == "2nd-run":
        plan = [(i, m) for i in range(repeat) for m in (False, True)]
    elif who in ("re-run", "eval-cli"):
        plan = [(-2, False), (-1, False), *plan]
    if who == "eval-cli":  # the command reads the folder's one format: a folder of links to it
        view = tmp / f"view-{folder.name}-{fmt}"
        if not view.exists():
            view.mkdir()
            for f in folder.glob(f"*.{fmt}"):
                (view / f.name).symlink_to(f)
        folder = view
    for i, skipped in ((i, not m if who == "2nd-run" else i < 0) for i, m in plan):
        out = tmp / f"{who}-{fmt}-{i}.json"
        env = dict(os.environ)
        if child_who.startswith("kpidsl"):
            env.pop("KPIDSL_CACHE", None)
            env["KPIDSL_CACHE_DIR"] = str(warm if who in ("re-run", "eval-cli") else tmp / f"cold-{i}")
        subprocess.run([sys.executable, __file__, "--child", child_who, "--folder", str(folder), "--fmt", fmt,
                        "--out", str(out)], check=True, env=env)
        if who != "2nd-run" or not skipped:
            shutil.rmtree(tmp / f"cold-{i}", ignore_errors=True)
        if skipped:
            continue  # it filled the cache
        data = json.loads(out.read_text(encoding="utf-8"))
        walls.append(data["wall"])
        rss = max(rss, data["rss_mb"])
        payouts = {k: (Decimal(a), Decimal(b)) for k, (a, b) in data["payouts"].items()}
        phases = data["phases"]
    if phases:
        print(f"           {who} phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    return statistics.median(walls), rss, payouts


def compare(a: Payouts, b: Payouts) -> int:
    """Payees whose commission or SPIFF differ (or who are missing on one side)."""
    return sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))


def ties(payouts: Payouts) -> str:
    return f"{len(payouts)} payees"


def service(folder: Path, fmt: str) -> None:
    """In one process: load once, then time one payee's evaluation and one explanation, and
    adding a deal then evaluating its payee."""
    import kpidsl
    from kpidsl.columnar import ColumnarRun, load_folder

    plan = kpidsl.load(HERE / "workload" / "plan.kpi")
    loaded = load_folder(plan.model, folder, fmt=fmt)
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    ids = sorted(p.id for p in loaded.dataset.payees)[::97][:60]
    run.evaluate(payees=ids[:1])  # the grouped aggregate queries run once here
    t0 = time.perf_counter()
    first = run.explain(ids[-1], "commission")  # as `kpidsl explain` would: the files are read
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    run.index_facts()  # a service, before its first request
    warm = time.perf_counter() - t0
    assert first is not None
    print(f"service ({fmt}): first explanation {cold * 1000:.0f} ms; index_facts() {warm * 1000:.0f} ms")
    one, expl = [], []
    for pid in ids:
        t0 = time.perf_counter()
        run.evaluate(payees=[pid])
        one.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        node = run.explain(pid, "commission")
        expl.append(time.perf_counter() - t0)
        assert node is not None
    facts = run.explain(ids[0], "bookings")
    n = facts.fact_count if facts is not None else 0
    print(f"service ({fmt}): one payee {statistics.median(one) * 1000:.1f} ms, explain one payee "
          f"{statistics.median(expl) * 1000:.1f} ms (median of {len(ids)}; e.g. {n} facts in bookings)")
    added, after = [], []
    for i, pid in enumerate(ids):  # a new deal arrived: what is their standing now?
        deal = {"id": f"NEW{i:06d}", "payee": pid, "amount": "12345.67", "stage": "won",
                "signed_on": "2026-08-03", "customer": "C-new", "product": "P1", "is_new_customer": "true"}
        t0 = time.perf_counter()
        run.add_facts("deals", [deal], source="bench")
        added.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        result = run.evaluate(payees=[pid])
        after.append(time.perf_counter() - t0)
        assert result is not None and result.ok
    print(f"service ({fmt}): a new deal: add {statistics.median(added) * 1000:.1f} ms, then that payee "
          f"{statistics.median(after) * 1000:.1f} ms (median of {len(ids)})")


def compile_bytecode() -> None:
    """What ``pip install`` does for a wheel: kpidsl's modules compiled to bytecode once, so
    that each measured process starts like an installed kpidsl (DuckDB's and pandas' modules
    are compiled too). Without it, an editable install under PYTHONDONTWRITEBYTECODE=1
    recompiles every kpidsl module in every process (~0.1 s)."""
    import compileall

    import kpidsl

    compileall.compile_dir(str(Path(kpidsl.__file__).parent), quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, nargs="+", default=[100_000])
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"], choices=["parquet", "csv"])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--child", choices=["kpidsl", "kpidsl-cli", "duckdb", "pandas"])
    ap.add_argument("--folder", type=Path)
    ap.add_argument("--fmt", default="parquet")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.folder, args.fmt, args.out)
        return
    import generate

    compile_bytecode()
    who = ["kpidsl", "2nd-run", "re-run", "eval-cli", "duckdb"] + ([] if args.skip_pandas else ["pandas"])
    print(f"{'deals':>10} {'format':>8} {'engine':>8} {'wall s':>8} {'peak MB':>8} {'× duckdb':>9}  agree")
    with tempfile.TemporaryDirectory() as tmp:
        for deals in args.deals:
            folder = generate.ensure(deals)
            for fmt in args.formats:
                got = {w: measure(w, folder, fmt, args.repeat, Path(tmp)) for w in who}
                base = got["duckdb"][0]
                for w in who:
                    wall, rss, payouts = got[w]
                    bad = compare(payouts, got["duckdb"][2])
                    verdict = "yes" if not bad else f"NO: {bad} payees differ"
                    print(f"{deals:>10,} {fmt:>8} {w:>8} {wall:>8.2f} {rss:>8.0f} {wall / base:>8.2f}x  "
                          f"{verdict} ({ties(payouts)})")
            service(folder, args.formats[0])


if __name__ == "__main__":
    main()
