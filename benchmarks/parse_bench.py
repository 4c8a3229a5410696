"""Parse-time benchmark: a generated plan of ~10,000 lines with many override blocks.

Run: ``python benchmarks/parse_bench.py [lines]``; prints lines, bytes and seconds.
"""

from __future__ import annotations

import sys
import time

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


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    text = generate(lines)
    started = time.perf_counter()
    get_parser()
    built = time.perf_counter()
    module = parse(text, "bench.kpi")
    done = time.perf_counter()
    print(
        f"lines={text.count(chr(10))} bytes={len(text.encode())} items={len(module.items)} "
        f"build={built - started:.3f}s parse={done - built:.3f}s"
    )


if __name__ == "__main__":
    main()
