"""what-it-takes on a metric whose filter reads through a reference (``collection.deal.product``):
the synthetic collection refers to a synthetic deal that passes the filter, both are proposed,
and the answer is verified by evaluating the plan with both added (and with one quantum less)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.whatif import Answer, what_it_takes

HEADER = 'plan "t" {\n  currency CNY\n  period quarter\n}\n'
PLAN = HEADER + """
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric x_cash: money =
  sum collection.amount where collection.deal.product == "X" and collection.received_on in period
target x_cash = 10_000

tiers rate step on attainment(x_cash) {
  0%   to 100% : 1%
  100% and up  : 3%
}
payout commission: money = rate(x_cash)
payout deal_bonus: money = bookings * 1%
"""

TABLES: dict[str, list[dict[str, str]]] = {
    "payees": [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""},
               {"id": "bob", "name": "Bob", "role": "AE", "region": "east", "manager": ""}],
    "deals": [
        {"id": "D1", "payee": "ann", "amount": "4000", "stage": "won", "signed_on": "2026-07-10", "product": "X"},
        {"id": "D2", "payee": "ann", "amount": "9000", "stage": "won", "signed_on": "2026-07-11", "product": "Y"},
        {"id": "D3", "payee": "bob", "amount": "2500", "stage": "won", "signed_on": "2026-08-01", "product": "X"},
    ],
    "collections": [
        {"id": "C1", "deal": "D1", "payee": "ann", "amount": "1000", "received_on": "2026-08-02"},
        {"id": "C2", "deal": "D2", "payee": "ann", "amount": "5000", "received_on": "2026-08-03"},
        {"id": "C3", "deal": "D3", "payee": "bob", "amount": "700", "received_on": "2026-09-02"},
    ],
}
ONE = {"collection": Decimal("0.01"), "count": Decimal(1)}


def _with(answer: Answer, amount: Decimal, copies: int = 1) -> dict[str, list[dict[str, str]]]:
    """The data with the proposed facts added: the collection(s) at ``amount`` and its deal."""
    tables = {k: [dict(r) for r in v] for k, v in TABLES.items()}
    for field, row in answer.referenced.items():
        assert field == "deal"
        tables["deals"].append({k: v for k, v in row.items() if v != ""})
    for i in range(copies):
        row = {k: v for k, v in answer.deal.items() if v != ""}
        row["id"] = f"{row['id']}-{i}" if copies > 1 else row["id"]
        if copies == 1:
            row["amount"] = str(amount)
        tables["collections"].append(row)
    return tables


def _total(plan: kpidsl.Plan, tables: dict[str, list[dict[str, str]]]) -> Decimal:
    result = plan.evaluate(tables, "2026-Q3")
    assert result.ok, result.to_json()
    total = result.payees["ann"].total
    assert isinstance(total, Decimal)
    return total


def test_a_filter_through_the_deal_is_met_by_a_new_deal_that_passes_it() -> None:
    plan = kpidsl.loads(PLAN)
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "x_cash", payout=Decimal(340))
    # it said: unreachable: cannot satisfy `collection.deal.product == "X"` mechanically
    assert a.status == "reachable", a.reason
    # 1_000 of X cash now: 9_000 more reaches the 100% band (3% of nothing but the rate: 300),
    # the deal bonus is 130 (13_000 booked; the new deal is not won and adds 0): 430 >= 340
    assert a.amount == Decimal("9000.00") and a.exact
    deal = a.referenced["deal"]
    assert a.deal["deal"] == deal["id"] == "WHATIF-1"
    assert deal["product"] == "X" and deal["amount"] == "0" and deal["payee"] == "ann"
    assert deal["stage"] != "won"  # not a booking: the deal adds nothing to bookings
    assert _total(plan, _with(a, a.amount)) >= 340 > _total(plan, _with(a, a.amount - Decimal("0.01")))
    assert _total(plan, TABLES) == Decimal(140)  # before: 10 + 130


def test_next_tier_through_the_deal_and_the_json_shows_the_deal() -> None:
    plan = kpidsl.loads(PLAN)
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "x_cash", next_tier=True)
    assert a.status == "reachable" and a.amount == Decimal("9000.00")
    doc = a.to_dict()
    assert doc["referenced"]["deal"]["product"] == "X" and doc["deal"]["deal"] == "WHATIF-1"
    result = plan.evaluate(_with(a, a.amount), "2026-Q3")
    assert result.payees["ann"].values["attainment(x_cash)"] == Decimal(1)


def test_a_count_through_the_deal_refers_every_collection_to_one_new_deal() -> None:
    plan = kpidsl.loads(HEADER + """
metric x_collections: count = count collection where collection.deal.product == "X" and collection.received_on in period
payout per_collection: money = x_collections * 100
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "x_collections", payout=Decimal(500))
    assert a.status == "reachable" and a.amount == Decimal(4)  # one now, four more
    n = int(a.amount)
    assert _total(plan, _with(a, Decimal(0), n)) == 500 and _total(plan, _with(a, Decimal(0), n - 1)) == 400


def test_the_deal_s_other_conditions_are_met_too_its_date_outside_the_period() -> None:
    plan = kpidsl.loads(HEADER + """
metric old_won_cash: money = sum collection.amount
  where collection.deal.stage == "won" and collection.deal.signed_on in previous period
    and collection.deal.amount > 500 and collection.received_on in period
payout c: money = old_won_cash * 10%
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "old_won_cash", payout=Decimal(50))
    assert a.status == "reachable" and a.amount == Decimal("499.95"), a.reason  # 49.995 pays 50.00
    deal = a.referenced["deal"]
    assert (deal["stage"], deal["signed_on"], deal["amount"]) == ("won", "2026-06-30", "501")
    # a won deal of 501 signed in Q2: it is not in Q3's bookings; 49.995 is paid as 50.00
    assert _total(plan, _with(a, a.amount)) == 50 > _total(plan, _with(a, a.amount - Decimal("0.01")))


def test_a_filter_naming_the_deal_refers_to_it_and_builds_none() -> None:
    plan = kpidsl.loads(HEADER + """
metric d1_cash: money = sum collection.amount where collection.deal.id == "D1" and collection.received_on in period
payout c: money = d1_cash * 10%
""")
    a = what_it_takes(plan, TABLES, "2026-Q3", "ann", "d1_cash", payout=Decimal(150))
    assert a.status == "reachable" and a.amount == Decimal("499.95")  # 149.995 is paid as 150.00
    assert a.deal["deal"] == "D1" and a.referenced == {}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, rows in TABLES.items():
        with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    (tmp_path / "plan.kpi").write_text(PLAN, encoding="utf-8")
    return folder


def test_the_cli_shows_the_new_deal_to_add(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    argv = ["what-it-takes", str(tmp_path / "plan.kpi"), "--data", str(folder), "--period", "2026-Q3",
            "--payee", "ann", "--metric", "x_cash", "--next-tier", "--engine", "reference"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "9,000.00 more x_cash" in out
    assert "and the new deal it refers to (add it too; built for what the plan reads of it):" in out
    assert "    product: X" in out
    assert main([*argv, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["referenced"]["deal"]["product"] == "X"


@pytest.mark.parametrize("goal", [{"next_tier": True}, {"payout": Decimal(340)}])
def test_the_columnar_engine_gives_the_same_answer(tmp_path: Path, goal: dict[str, object]) -> None:
    pytest.importorskip("duckdb")
    plan = kpidsl.loads(PLAN)
    folder = _folder(tmp_path)
    ref = what_it_takes(plan, folder, "2026-Q3", "ann", "x_cash", **goal)  # type: ignore[arg-type]
    col = what_it_takes(plan, folder, "2026-Q3", "ann", "x_cash", engine="columnar", **goal)  # type: ignore[arg-type]
    assert ref.status == "reachable"
    assert col.to_dict() == ref.to_dict()
