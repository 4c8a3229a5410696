"""Benchmark: ``kpidsl report`` (a statement per payee) on the generated workload.

    python benchmarks/report_bench.py                          # 100k deals, both engines
    python benchmarks/report_bench.py --deals 1000000 --engine columnar

Generates the data if missing (``benchmarks/workload/data/<size>``, fixed seed:
10,000 payees), runs ``kpidsl report`` in a fresh process per engine and prints
its wall time, peak memory (``VmHWM`` of the child) and the files written; the
pages of both engines are compared, word for word but for the data digest
(each engine has its own fingerprint).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "workload"))
DIGEST = re.compile(rb"sha256:[0-9a-f]{64}")


def child(folder: str, out: str, engine: str) -> None:
    """One measured report in this process; prints wall and peak memory."""
    from kpidsl.cli import main

    t = time.perf_counter()
    code = main(["report", str(HERE / "workload" / "plan.kpi"), "--data", folder, "--period", "2026-Q3",
                 "--out", out, "--engine", engine])
    wall = time.perf_counter() - t
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
    print(f"{wall:.2f} {int(hwm.split()[1]) / 1024:.0f} {code}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--deals", type=int, nargs="+", default=[100_000])
    ap.add_argument("--engine", choices=("reference", "columnar", "both"), default="both")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    import generate

    engines = ("reference", "columnar") if args.engine == "both" else (args.engine,)
    print(f"{'deals':>10} {'engine':>10} {'wall s':>8} {'peak MB':>8} {'files':>6}  same pages")
    for deals in args.deals:
        folder = generate.ensure(deals)
        with tempfile.TemporaryDirectory() as tmp:
            outs = {}
            for engine in engines:
                out = Path(tmp) / engine
                got = subprocess.run([sys.executable, __file__, "--child", str(folder), str(out), engine],
                                     check=True, capture_output=True, text=True).stdout.split()
                wall, peak, code = got[-3:]
                outs[engine] = out
                files = sum(1 for p in out.rglob("*") if p.is_file())
                same = _same(outs["reference"], out) if engine != "reference" and "reference" in outs else ""
                print(f"{deals:>10,} {engine:>10} {float(wall):>8.2f} {float(peak):>8.0f} {files:>6}  {same}"
                      + ("" if code == "0" else f"  (exit {code})"))
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)


def _same(a: Path, b: Path) -> str:
    pages = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if pages != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return "NO: different files"
    differ = [p for p in pages if DIGEST.sub(b"", (a / p).read_bytes()) != DIGEST.sub(b"", (b / p).read_bytes())]
    return "yes" if not differ else f"NO: {len(differ)} pages differ, e.g. {differ[0]}"


if __name__ == "__main__":
    main()
