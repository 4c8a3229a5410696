"""Parse-time benchmark: a generated plan of ~10,000 lines with many override blocks.

Run: ``python benchmarks/parse_bench.py [lines] [runs]``; prints lines, bytes and
the parser build time, then parse, check (``kpidsl.check.check``) and total seconds:
each run and the median over ``runs`` (default 3) runs. Wall-clock seconds, then the
process CPU seconds (steadier on a loaded machine); the load average is printed too.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from kpidsl.check import check
from kpidsl.diagnostics import has_errors
from kpidsl.syntax import get_parser, parse

HEAD = 'plan "Benchmark" {\n  currency CNY\n  period quarter\n}\n\n'
BLOCK = """// block {i}
metric bookings_{i}: money =
  sum deal.amount where deal.stage == "won" and deal.signed_on in period
target bookings_{i} = 1_000_000
tiers rate_{i} marginal on attainment(bookings_{i}) {{
  0% to 50% : 2%
  50% and up : 5%
}}
payout commission_{i}: money = rate_{i}(bookings_{i})
  when attainment(bookings_{i}) < 60% then * 50%
  cap 50_000
for role AE and region r{i} from 2026-07-01 {{
  target bookings_{i} = 1_200_000
  payout commission_{i}: money = rate_{i}(bookings_{i}) * 110%
}}

"""


def generate(lines: int = 10_000) -> str:
    """A plan text of about ``lines`` lines."""
    per_block = BLOCK.count("\n")
    blocks = max(1, lines // per_block)
    return HEAD + "".join(BLOCK.format(i=i) for i in range(blocks))


def run_once(text: str) -> tuple[float, float, float, float, int]:
    """Parse and check ``text`` once: wall and CPU seconds of each, and the item count."""
    started, started_cpu = time.perf_counter(), time.process_time()
    module = parse(text, "bench.kpi")
    parsed, parsed_cpu = time.perf_counter(), time.process_time()
    model, diags = check([module])
    checked, checked_cpu = time.perf_counter(), time.process_time()
    if model is None or has_errors(diags):
        raise SystemExit(f"the benchmark plan does not check: {diags[:3]}")
    return (
        parsed - started, checked - parsed, parsed_cpu - started_cpu, checked_cpu - parsed_cpu,
        len(module.items),
    )


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    text = generate(lines)
    started = time.perf_counter()
    get_parser()
    build = time.perf_counter() - started
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"lines={text.count(chr(10))} bytes={len(text.encode())} build={build:.3f}s load={load}")
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for n in range(runs):
        parse_s, check_s, parse_cpu, check_cpu, items = run_once(text)
        walls[0].append(parse_s)
        walls[1].append(check_s)
        cpus[0].append(parse_cpu)
        cpus[1].append(check_cpu)
        print(f"run {n + 1}: items={items} parse={parse_s:.3f}s check={check_s:.3f}s "
              f"total={parse_s + check_s:.3f}s (cpu parse={parse_cpu:.3f}s check={check_cpu:.3f}s)")
    print(f"median of {runs}: {_medians(*walls)}")
    print(f"median of {runs}, cpu: {_medians(*cpus)}")


def _medians(parses: list[float], checks: list[float]) -> str:
    totals = [p + c for p, c in zip(parses, checks, strict=True)]
    return (
        f"parse={statistics.median(parses):.3f}s check={statistics.median(checks):.3f}s "
        f"total={statistics.median(totals):.3f}s"
    )


if __name__ == "__main__":
    main()
