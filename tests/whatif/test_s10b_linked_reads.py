"""what-it-takes when the plan reads through a collection's deal outside the metric's filter
(``product_rate(collection.deal.product)`` in a payout): the synthetic collection refers to a
synthetic deal built for those reads, its values chosen to make the answer smallest (or to one
of the payee's own deals when that gives a strictly smaller answer). Every answer is checked by
a fresh evaluation of the data with the proposed rows added, and one cent (one fact) less."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.api import load_data
from kpidsl.whatif import Answer, what_it_takes

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTOR = ROOT / "examples" / "distributor-collections"
CENT = Decimal("0.01")


def _folder_tables(folder: Path) -> dict[str, list[dict[str, str]]]:
    raw = load_data(folder)
    return {name: [dict(zip(t.header, r.cells, strict=True)) for r in t.rows] for name, t in raw.tables.items()}


def _with(tables: dict[str, list[dict[str, str]]], answer: Answer, amount: Decimal,
          copies: int = 1, facts: str = "collections") -> dict[str, list[dict[str, str]]]:
    """``tables`` with the proposed rows: the deal(s) referred to, and the fact(s) at ``amount``."""
    out = {k: [dict(r) for r in v] for k, v in tables.items()}
    for row in answer.referenced.values():
        out["deals"].append({k: v for k, v in row.items() if v != ""})
    for i in range(copies):
        row = {k: v for k, v in answer.deal.items() if v != ""}
        if copies > 1:
            row["id"] = f"{row['id']}-{i}"
        else:
            row["amount"] = str(amount)
        out[facts].append(row)
    return out


def _total(plan: kpidsl.Plan, tables: Any, period: str, payee: str) -> Decimal:
    result = plan.evaluate(tables, period)
    assert result.ok, result.to_json()
    pr = result.payees[payee]
    assert not pr.errors, pr.errors
    assert isinstance(pr.total, Decimal)
    return pr.total


@pytest.mark.parametrize(("period", "amount"), [("2026-05", "472951.83"), ("2026-09", "409344.98")])
def test_the_distributor_example_collects_on_a_cloudsuite_deal(period: str, amount: str) -> None:
    """It said: unreachable, with 2058720289038008.32 more the plan fails: collection WHATIF-1
    references deal 'what-if', which is not in the data (`collection.deal.product`)."""
    plan = kpidsl.load(DISTRIBUTOR / "plan.kpi")
    a = what_it_takes(plan, DISTRIBUTOR / "data", period, "p-nb01", "collected", payout=Decimal(20_000))
    assert a.status == "reachable", a.reason
    assert a.amount == Decimal(amount) and a.exact
    deal = a.referenced["deal"]
    # the highest rate of product_rate (3%): DataHub (2.5%) or any other product (2%) needs more
    assert deal["product"] == "CloudSuite" and a.deal["deal"] == deal["id"] == "WHATIF-1"
    tables = _folder_tables(DISTRIBUTOR / "data")
    assert _total(plan, _with(tables, a, a.amount), period, "p-nb01") >= 20_000
    assert _total(plan, _with(tables, a, a.amount - CENT), period, "p-nb01") < 20_000


HEADER = 'plan "t" {\n  currency CNY\n  period quarter\n}\n'
TABLES: dict[str, list[dict[str, str]]] = {
    "payees": [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""},
               {"id": "bob", "name": "Bob", "role": "AE", "region": "east", "manager": ""}],
    "deals": [
        {"id": "D1", "margin": "1%", "payee": "ann", "amount": "4000", "stage": "won", "signed_on": "2026-07-10",
         "product": "X", "multi_year": "false"},
        {"id": "D2", "margin": "9%", "payee": "ann", "amount": "90000", "stage": "won", "signed_on": "2026-07-11",
         "product": "Y", "multi_year": "false"},
        # bob's: another payee's deal is never proposed for ann's cash
        {"id": "D3", "margin": "50%", "payee": "bob", "amount": "900000", "stage": "won", "signed_on": "2026-08-01",
         "product": "Z", "multi_year": "true"},
        # ann's, but signed after the period: not a deal her cash in Q3 can be collected on
        {"id": "D4", "margin": "40%", "payee": "ann", "amount": "800000", "stage": "won", "signed_on": "2026-10-02",
         "product": "Y", "multi_year": "true"},
    ],
    "collections": [
        {"id": "C1", "deal": "D1", "payee": "ann", "amount": "1000", "received_on": "2026-08-02"},
    ],
}
DEAL_FIELDS = "fact deal {\n  multi_year: bool\n  margin: percent\n}\n"


def test_a_table_keyed_through_the_deal_takes_the_key_paying_most() -> None:
    plan = kpidsl.loads(HEADER + DEAL_FIELDS + """
table rate by collection.deal.product {
  "X" : 1%
  "Y" : 4%
  else : 2%
}
metric cash: money = sum collection.amount where collection.received_on in period
payout c: money = sum collection.amount * rate(collection.deal.product) where collection.received_on in period
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "cash", payout=Decimal(100))
    assert a.status == "reachable", a.reason
    # 10 paid now (C1 on the X deal); 90 more at 4% on a new Y deal: 2,249.88 pays 99.9952, i.e.
    # 100.00 (at 2% or 1%, the other values the plan tells apart, it takes twice or four times as much)
    assert a.amount == Decimal("2249.88") and a.referenced["deal"]["product"] == "Y"
    assert _total(plan, _with(TABLES, a, a.amount), "2026-Q3", "ann") == 100
    assert _total(plan, _with(TABLES, a, a.amount - CENT), "2026-Q3", "ann") < 100


def test_a_gate_through_the_deal_is_met_and_a_bool_read_is_set_true() -> None:
    plan = kpidsl.loads(HEADER + DEAL_FIELDS + """
metric cash: money = sum collection.amount where collection.received_on in period
metric multi_cash: money =
  sum collection.amount where collection.deal.multi_year and collection.received_on in period
payout c: money = multi_cash * 10%
  requires cash >= 2_000
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "cash", payout=Decimal(100))
    assert a.status == "reachable", a.reason  # it said: the plan fails (deal 'what-if' not in the data)
    assert a.amount == Decimal("1000.00") and a.referenced["deal"]["multi_year"] == "true"
    assert _total(plan, _with(TABLES, a, a.amount), "2026-Q3", "ann") == 100
    assert _total(plan, _with(TABLES, a, a.amount - CENT), "2026-Q3", "ann") == 0


def test_an_own_deal_is_proposed_when_it_gives_a_strictly_smaller_answer() -> None:
    """A rate read from the deal (its margin): the plan names no value of it, so a new deal has
    margin 0 and pays nothing; ann's D2 (9%) pays most of her deals. bob's deal (50%) and ann's
    deal signed after the period (40%) pay more, and are never proposed."""
    plan = kpidsl.loads(HEADER + DEAL_FIELDS + """
metric cash: money = sum collection.amount where collection.received_on in period
payout c: money = sum collection.amount * collection.deal.margin where collection.received_on in period
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "cash", payout=Decimal(100))
    assert a.status == "reachable", a.reason
    assert a.deal["deal"] == "D2" and a.referenced == {}  # collected on D2: nothing else to add
    # 10 paid now (1,000 on D1 at 1%); 90 more at 9%: 999.95 pays 89.9955, 100.00 in all
    assert a.amount == Decimal("999.95")
    assert _total(plan, _with(TABLES, a, a.amount), "2026-Q3", "ann") >= 100
    assert _total(plan, _with(TABLES, a, a.amount - CENT), "2026-Q3", "ann") < 100


def test_a_count_refers_every_collection_to_one_deal_built_for_the_payout() -> None:
    plan = kpidsl.loads(HEADER + DEAL_FIELDS + """
metric collections: count = count collection where collection.received_on in period
table factor by collection.deal.product {
  "Y" : 2
  else : 1
}
payout per_collection: money = sum 100 * factor(collection.deal.product) where collection.received_on in period
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "collections", payout=Decimal(500))
    assert a.status == "reachable", a.reason
    assert a.amount == Decimal(2) and a.referenced["deal"]["product"] == "Y"  # 100 now + 2 x 200
    n = int(a.amount)
    assert _total(plan, _with(TABLES, a, Decimal(0), n), "2026-Q3", "ann") == 500
    assert _total(plan, _with(TABLES, a, Decimal(0), n - 1), "2026-Q3", "ann") == 300


@pytest.mark.parametrize("goal", [{"payout": Decimal(20_000)}, {"next_tier": True},
                                  {"payout": Decimal(9_000), "component": "collection_commission"}])
def test_the_columnar_engine_gives_the_same_answer(goal: dict[str, Any]) -> None:
    pytest.importorskip("duckdb")
    plan = kpidsl.load(DISTRIBUTOR / "plan.kpi")
    ref = what_it_takes(plan, DISTRIBUTOR / "data", "2026-05", "p-nb01", "gross_receipts", **goal)
    col = what_it_takes(plan, DISTRIBUTOR / "data", "2026-05", "p-nb01", "gross_receipts",
                        engine="columnar", **goal)
    assert ref.status == "reachable", ref.reason
    assert col.to_dict() == ref.to_dict()


def test_a_window_on_the_deal_s_date_in_a_payout_dates_the_new_deal_in_it() -> None:
    """Cash on deals signed last quarter pays 5%: the new deal is signed on that quarter's last
    day (ann's own D0, signed then too, ties and is not proposed: the new deal is kept)."""
    plan = kpidsl.loads(HEADER + DEAL_FIELDS + """
metric cash: money = sum collection.amount where collection.received_on in period
payout c: money = sum collection.amount * 5% where collection.received_on in period
  and collection.deal.signed_on in previous period
payout d: money = sum collection.amount * 1% where collection.received_on in period
""")
    tables = {k: [dict(r) for r in v] for k, v in TABLES.items()}
    tables["deals"].append({"id": "D0", "margin": "0%", "payee": "ann", "amount": "100", "stage": "won",
                            "signed_on": "2026-05-11", "product": "X", "multi_year": "false"})
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "cash", payout=Decimal(50))
    assert a.status == "reachable", a.reason
    # 10 paid now (1% of C1); 40 more at 5% + 1%: 666.50 pays 33.33 + 6.67 (33.325 and 6.665
    # rounded half up); 666.49 pays 33.32 + 6.66
    assert a.amount == Decimal("666.50") and a.referenced["deal"]["signed_on"] == "2026-06-30"
    assert _total(plan, _with(tables, a, a.amount), "2026-Q3", "ann") >= 50
    assert _total(plan, _with(tables, a, a.amount - CENT), "2026-Q3", "ann") < 50
