"""``over team`` sums and counts on the columnar stage: the members' own values, rolled up.

A manager's team aggregate used to re-read every fact of the subtree in Python for
each manager (time proportional to facts × depth of the tree). The columnar stage now
adds up the members' own values, grouped in SQL once. On generated reporting trees
(any depth, a manager changing mid-quarter, filters, refunds, half cents) every value
of every payee must be the reference's, written the same way.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder
from kpidsl.columnar.stage import ColumnarStage

PLAN = """plan "team" {
  currency USD
  period quarter
  rounding half_up 0.01
}

metric own: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric team_won: money = sum deal.amount over team where deal.stage == "won" and deal.signed_on in period
metric team_all: money = sum deal.amount over self+team where deal.signed_on in period
metric team_deals: count = count deal over team where deal.signed_on in ytd
metric team_biggest: money = max deal.amount over team where deal.signed_on in period else 0

payout override: money = team_won * 1.5% + team_all * 0.25%
payout per_deal: money = team_deals * 12.5
payout extra: money = team_biggest * 0.1% + own * 1%
"""
DAYS = [dt.date(2026, 1, 5), dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 8, 15),
        dt.date(2026, 9, 30), dt.date(2026, 10, 1)]


@st.composite
def trees(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 9))
    # each payee's manager is someone earlier (or nobody): a forest of any depth
    managers = [""] + [draw(st.sampled_from(["", *(f"p{j}" for j in range(i))])) for i in range(1, n)]
    cents = st.integers(-50_000, 9_000_000).map(lambda c: f"{c // 100}.{c % 100:02d}" if c >= 0
                                                 else f"-{-c // 100}.{-c % 100:02d}")
    deals = draw(st.lists(st.tuples(st.integers(0, n - 1), st.one_of(cents, st.integers(1, 900).map(str)),
                                    st.sampled_from(["won", "lost", "open"]), st.sampled_from(DAYS)),
                          max_size=30))
    moved = draw(st.none() | st.tuples(st.integers(1, n - 1), st.sampled_from(DAYS[2:5])))
    return {"managers": managers, "deals": deals, "moved": moved}


def write(folder: Path, d: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    payees = ["id,name,role,region,manager"]
    payees += [f"p{i},P{i},AE,east,{m}" for i, m in enumerate(d["managers"])]
    (folder / "payees.csv").write_text("\n".join(payees) + "\n", encoding="utf-8")
    deals = ["id,payee,amount,stage,signed_on,customer,product"]
    deals += [f"D{i:03d},p{p},{a},{s},{day.isoformat()},c,P1" for i, (p, a, s, day) in enumerate(d["deals"])]
    (folder / "deals.csv").write_text("\n".join(deals) + "\n", encoding="utf-8")
    (folder / "collections.csv").write_text("id,deal,payee,amount,received_on\n", encoding="utf-8")
    if d["moved"] is not None:  # a payee moves to the top manager's line mid-quarter
        who, day = d["moved"]
        (folder / "payee_history.csv").write_text(
            f"payee,attribute,value,effective_from\np{who},manager,{'p0' if who != 0 else ''},{day.isoformat()}\n",
            encoding="utf-8")


def results(folder: Path, engine: str) -> tuple[Any, Any]:
    plan = kpidsl.loads(PLAN)
    loaded = load_folder(plan.model, folder, engine=engine)
    return ColumnarRun(plan.model, loaded, "2026-Q3").evaluate(), loaded


def texts(result: Any) -> dict[str, Any]:
    return {pid: (str(pr.total), {k: str(v) for k, v in pr.values.items()},
                  {k: str(v) for k, v in pr.components.items()}, [e.code for e in pr.errors])
            for pid, pr in result.payees.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(d=trees())
def test_team_aggregates_are_the_references(tmp_path_factory: pytest.TempPathFactory, d: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("team")
    write(folder, d)
    ref, _ = results(folder, "reference")
    col, loaded = results(folder, "columnar")
    assert loaded.engine == "columnar", loaded.reasons
    assert texts(col) == texts(ref)


def test_managers_are_rolled_up_not_read_fact_by_fact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = {"managers": ["", "p0", "p1", "p2", "p0"],
         "deals": [(i % 5, f"{1000 + i}.{i % 100:02d}", "won", dt.date(2026, 8, 15)) for i in range(40)],
         "moved": None}
    write(tmp_path, d)
    rolled: list[str] = []
    real = ColumnarStage._team

    def spy(self: ColumnarStage, agg: Any, payee: str, period: Any, seg: Any) -> Any:
        got = real(self, agg, payee, period, seg)
        if got is not None:
            rolled.append(payee)
        return got

    monkeypatch.setattr(ColumnarStage, "_team", spy)
    col, _ = results(tmp_path, "columnar")
    monkeypatch.undo()
    ref, _ = results(tmp_path, "reference")
    assert texts(col) == texts(ref)
    assert {"p0", "p1", "p2"} <= set(rolled)
    # p0 leads p1 (who leads p2, who leads p3) and p4: every deal but p0's own
    assert col.payees["p0"].values["team_won"] == sum(
        (pr for pr in (col.payees[p].values["own"] for p in ("p1", "p2", "p3", "p4"))), start=0)
