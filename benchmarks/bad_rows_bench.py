"""Benchmark: reporting a few bad rows among millions (``kpidsl eval`` and ``kpidsl validate``).

    python benchmarks/bad_rows_bench.py                        # 1M deals, CSV, both engines
    python benchmarks/bad_rows_bench.py --deals 5000000 --format csv parquet --engine columnar
    python benchmarks/bad_rows_bench.py --generic              # `kpidsl validate` without --plan

Generates the data if missing (``benchmarks/workload/data/<size>``, fixed seed), copies it to a
temporary folder and garbles three deal rows as a migration would: an amount ``12x.50``, a
payee id nobody has, and a deal exported twice (a collection of the first deal then gets the
warning "that deal was rejected"). Runs ``kpidsl eval`` and ``kpidsl validate --plan`` in a
fresh process per engine (``--engine`` given to both commands, the cache off) and prints wall
time, peak memory (``VmHWM`` of the child) and whether the output is byte for byte the
reference's. The reference binds every row in Python: at 5M deals it needs ~15 GB, so it is
run only where asked (``--engine reference`` or ``both``).

``--generic``: only ``kpidsl validate --data FOLDER --engine ENGINE`` (no plan: the generic
checks, :mod:`kpidsl.importer.bulkcheck` on the columnar engine), ``--repeat`` times each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "workload"))
BAD_LINES = (1001, 0.5, 0.7)  # a bad amount on line 1001; an unknown payee half way; a repeat at 70%


def child(command: str, folder: str, engine: str, out: str) -> None:
    """One measured command in this process; its output goes to ``out``."""
    import contextlib
    import io

    from kpidsl.cli import main

    plan = str(HERE / "workload" / "plan.kpi")
    argv = {"eval": ["eval", plan, "--data", folder, "--period", "2026-Q3"],
            "validate": ["validate", "--data", folder, "--plan", plan],
            "generic": ["validate", "--data", folder]}[command]
    t = time.perf_counter()
    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
        code = main([*argv, "--engine", engine])
    wall = time.perf_counter() - t
    Path(out).write_text(text.getvalue(), encoding="utf-8")
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    print(f"{wall:.2f} {int(hwm.split()[1]) / 1024:.0f} {code}")


def garble(source: Path, folder: Path, fmt: str) -> None:
    """``folder``: the tables of ``source`` in ``fmt`` with three deal rows garbled."""
    import duckdb

    folder.mkdir()
    con = duckdb.connect()
    deals = con.execute(f"SELECT count(*) FROM read_parquet('{source / 'deals.parquet'}')").fetchone()[0]
    unknown, repeat = (int(deals * f) for f in BAD_LINES[1:])
    for name in ("payees", "targets", "collections"):
        src = source / f"{name}.{fmt}"
        (folder / src.name).symlink_to(src)
    if fmt == "csv":
        lines = (source / "deals.csv").read_text(encoding="utf-8").split("\n")
        cells = lines[BAD_LINES[0] - 1].split(",")
        lines[BAD_LINES[0] - 1] = ",".join([*cells[:2], "12x.50", *cells[3:]])
        cells = lines[unknown].split(",")
        lines[unknown] = ",".join([cells[0], "nobody", *cells[2:]])
        lines[repeat] = lines[repeat + 1]
        (folder / "deals.csv").write_text("\n".join(lines), encoding="utf-8")
        return
    # Parquet: the same three problems (amount typed DECIMAL: the bad amount is an empty one)
    con.execute(f"""COPY (SELECT * EXCLUDE (n, file_row_number) REPLACE (
            CASE WHEN n = {BAD_LINES[0] - 2} THEN NULL ELSE amount END AS amount,
            CASE WHEN n = {unknown - 1} THEN 'nobody' ELSE payee END AS payee,
            CASE WHEN n = {repeat - 1} THEN lead(id) OVER (ORDER BY n) ELSE id END AS id)
        FROM (SELECT *, file_row_number AS n FROM read_parquet('{source / 'deals.parquet'}', file_row_number = true))
        ORDER BY n) TO '{folder / 'deals.parquet'}' (FORMAT parquet)""")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--format", nargs="+", choices=("csv", "parquet"), default=["csv"])
    ap.add_argument("--engine", choices=("reference", "columnar", "both"), default="both")
    ap.add_argument("--generic", action="store_true", help="time `kpidsl validate` without a plan only")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command and engine")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    import generate

    engines = ("reference", "columnar") if args.engine == "both" else (args.engine,)
    env = {**os.environ, "KPIDSL_CACHE": "off"}
    print(f"{'deals':>10} {'format':>8} {'command':>9} {'engine':>10} {'wall s':>8} {'peak MB':>8}  "
          "exit  same as reference")
    for deals in args.deals:
        source = generate.ensure(deals)
        for fmt in args.format:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "data"
                garble(source, folder, fmt)
                for command in ("generic",) if args.generic else ("eval", "validate"):
                    outs: dict[str, str] = {}
                    for engine in [e for e in engines for _ in range(args.repeat)]:
                        out = Path(tmp) / f"{command}-{engine}.txt"
                        got = subprocess.run([sys.executable, __file__, "--child", command, str(folder), engine,
                                              str(out)], check=True, capture_output=True, text=True, env=env)
                        wall, peak, code = got.stdout.split()[-3:]
                        outs[engine] = out.read_text(encoding="utf-8")
                        same = ("yes" if outs[engine] == outs["reference"] else "NO") \
                            if engine != "reference" and "reference" in outs else ""
                        print(f"{deals:>10,} {fmt:>8} {command:>9} {engine:>10} {float(wall):>8.2f} "
                              f"{float(peak):>8.0f}  {code:>4}  {same}")


if __name__ == "__main__":
    main()
