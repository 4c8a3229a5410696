"""Benchmark: evaluate the bundled examples and a generated data set (not a test).

    python benchmarks/eval_bench.py [--deals 100000] [--payees 1000] [--repeat 3]

Prints wall times (median of the repeats) for reading + binding + evaluating.
The data is generated deterministically (fixed seed) from integer cents.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import kpidsl

ROOT = Path(__file__).resolve().parents[1]

PLAN = """plan "bench" {
  currency CNY
  period quarter
  rounding half_up 0.01
}

fact deal {
  new_customer: bool
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric new_logos: count =
  count deal where deal.stage == "won" and deal.new_customer and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period

target bookings = 500_000

tiers commission_rate marginal on attainment(bookings) {
  0%   to 50%  : 2%
  50%  to 100% : 5%
  100% to 150% : 8%
  150% and up  : 10%
}

payout commission: money = commission_rate(bookings)
  when collected < bookings * 60% then * 50%

payout spiff: money = new_logos * 500
  cap 5_000

for role SE {
  tiers commission_rate marginal on attainment(bookings) {
    0%   to 50%  : 1%
    50%  to 100% : 2.5%
    100% to 150% : 4%
    150% and up  : 5%
  }
}
"""


def generate(folder: Path, deals: int, payees: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    roles = ("AE", "SE", "AM")
    regions = ("north", "south", "east", "west")
    with (folder / "payees.csv").open("w", encoding="utf-8") as f:
        f.write("id,name,role,region,manager\n")
        for i in range(payees):
            f.write(f"p{i:05d},Person {i},{roles[i % 3]},{regions[i % 4]},\n")
    stages = ("won", "won", "lost", "open", "won")
    with (folder / "deals.csv").open("w", encoding="utf-8") as f:
        f.write("id,payee,amount,stage,signed_on,customer,product,new_customer\n")
        for i in range(deals):
            cents = rng.randrange(10_000, 20_000_000)
            month = rng.randrange(1, 13)
            day = rng.randrange(1, 29)
            f.write(
                f"D{i:07d},p{rng.randrange(payees):05d},{cents // 100}.{cents % 100:02d},"
                f"{stages[rng.randrange(5)]},2026-{month:02d}-{day:02d},c{rng.randrange(5000)},"
                f"P{rng.randrange(5)},{'true' if rng.random() < 0.2 else 'false'}\n"
            )
    with (folder / "collections.csv").open("w", encoding="utf-8") as f:
        f.write("id,deal,payee,amount,received_on\n")
        for i in range(deals // 2):
            d = rng.randrange(deals)
            cents = rng.randrange(10_000, 10_000_000)
            month = rng.randrange(1, 13)
            f.write(
                f"C{i:07d},D{d:07d},p{rng.randrange(payees):05d},{cents // 100}.{cents % 100:02d},"
                f"2026-{month:02d}-{rng.randrange(1, 29):02d}\n"
            )


def timed(label: str, fn: Callable[[], object], repeat: int) -> None:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(f"{label:<48} median {statistics.median(times):8.3f} s  (runs: "
          + ", ".join(f"{t:.3f}" for t in times) + ")")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--payees", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    for name, period in (("east-china-2026", "2026-Q3"), ("saas-team", "2026-Q3"),
                         ("distributor-collections", "2026-08")):
        ex = ROOT / "examples" / name
        plan = kpidsl.load(ex / "plan.kpi")
        assert plan.evaluate(ex / "data", period).ok, name
        timed(f"example {name} ({period})",
              lambda p=plan, d=ex / "data", q=period: p.evaluate(d, q), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "plan.kpi").write_text(PLAN, encoding="utf-8")
        generate(folder, args.deals, args.payees)
        plan = kpidsl.load(folder / "plan.kpi")
        result = plan.evaluate(folder, "2026-Q3")
        assert result.ok, result.to_json()[:2000]
        timed(f"generated: {args.deals:,} deals, {args.payees:,} payees",
              lambda: plan.evaluate(folder, "2026-Q3"), args.repeat)


if __name__ == "__main__":
    main()
