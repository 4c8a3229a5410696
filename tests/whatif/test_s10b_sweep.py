"""Found by running what-it-takes for every payee, metric and a few goals on every example and
checking each answer by a fresh evaluation with the proposed rows added."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import kpidsl
from kpidsl.whatif import what_it_takes

DISTRIBUTOR = Path(__file__).resolve().parents[2] / "examples" / "distributor-collections"


def test_a_metric_of_negative_amounts_only_says_so() -> None:
    """`refunds = sum collection.amount where collection.amount < 0`: the added collection is
    positive, so it never counts. It said: "... does not add its amount to it (0 -> 0 for
    0.01): refunds is not monotonic in it", as if the plan misbehaved."""
    plan = kpidsl.load(DISTRIBUTOR / "plan.kpi")
    a = what_it_takes(plan, DISTRIBUTOR / "data", "2026-05", "p-nb01", "refunds", payout=Decimal(5_000))
    assert a.status == "unreachable"
    assert a.reason == ("refunds counts only collections whose amount is at most -0.01: more of it is "
                        "a negative amount, which lowers refunds (what-it-takes adds a positive "
                        "collection amount)")
    assert "not monotonic" not in a.reason


def test_next_tier_on_another_sum_the_fact_feeds() -> None:
    """The kicker's tiers are on gross receipts, which one more collection raises as much as
    it raises net `collected`. It said: unreachable, "no tiers in force for p-nb01 has an
    input that depends on collected" (for every partner and month)."""
    plan = kpidsl.load(DISTRIBUTOR / "plan.kpi")
    a = what_it_takes(plan, DISTRIBUTOR / "data", "2026-05", "p-nb01", "collected", next_tier=True)
    assert a.status == "reachable", a.reason
    assert a.goal == "next band of volume_kicker: gross_receipts >= 500000"
    assert a.amount == Decimal("458666.33") and a.exact  # 41,333.67 gross now
    assert a.method == ("exact: linear in gross_receipts, from its value with none and with 1000.00 "
                        "more, verified by evaluation")
    assert a.after["gross_receipts"] == Decimal(500_000)
    raw = kpidsl.load_data(DISTRIBUTOR / "data")
    rows = {name: [dict(zip(t.header, r.cells, strict=True)) for r in t.rows] for name, t in raw.tables.items()}
    for amount, reached in ((a.amount, True), (a.amount - Decimal("0.01"), False)):
        tables = {k: [dict(r) for r in v] for k, v in rows.items()}
        tables["deals"].append(dict(a.referenced["deal"]))
        tables["collections"].append({**a.deal, "amount": str(amount)})
        result = plan.evaluate(tables, "2026-05")
        value = result.payees["p-nb01"].values["gross_receipts"]
        assert isinstance(value, Decimal) and (value >= 500_000) is reached
