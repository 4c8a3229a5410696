"""A small plan whose tests the runner's tests vary."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]

PLAN = """plan "Runner" {
  currency USD
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric deals_won: count = count deal where deal.stage == "won" and deal.signed_on in period
metric avg_deal: money = bookings / deals_won
payout commission: money = bookings * 10%
"""

PAYEES = """
  payees {
    id     role  region
    alice  AE    east
    bob    AE    east
  }
"""

DEALS = """
  deals {
    id  payee  amount  stage  signed_on
    D1  alice  12_000  won    2026-07-10
    D2  bob    3_000   won    2026-08-01
  }
"""


def block(name: str, *lines: str, tables: str = PAYEES + DEALS) -> str:
    """A ``test`` block with the usual payees and deals, period 2026-Q3, and ``lines``."""
    body = "\n".join(f"  {line}" for line in lines)
    return f'\ntest "{name}" {{\n  period 2026-Q3\n{tables}{body}\n}}\n'


def write_plan(folder: Path, *blocks: str, name: str = "plan.kpi", plan: str = PLAN) -> Path:
    """A plan file in ``folder`` holding ``PLAN`` and the given test blocks."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan + "".join(blocks), encoding="utf-8")
    return path
