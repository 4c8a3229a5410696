"""Differential tests: the columnar fact stage agrees with the pure-Python reference to the cent.

Hypothesis generates payees (some without facts), quarterly targets, deals and
collections (half-cent ties, refunds, dates on the period's edges), sometimes a
mid-quarter role change (segments) and split credits; both engines evaluate
the same files and every value of every payee must be equal.
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

ROOT = Path(__file__).resolve().parents[2]
BENCH_PLAN = (ROOT / "benchmarks" / "workload" / "plan.kpi").read_text(encoding="utf-8")

# Every construct the columnar stage supports, and some it leaves to the reference.
WIDE_PLAN = """plan "wide" {
  currency USD
  period quarter
  rounding half_up 0.01
}

fact deal {
  is_new_customer: bool
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric not_lost: money = sum deal.amount where deal.stage != "lost" and deal.signed_on in period
metric picked: count = count deal where deal.product in ("P1", "P3") and deal.signed_on in period
metric customers: count = count distinct deal.customer where deal.signed_on in ytd
metric biggest: money = max deal.amount where deal.signed_on in period else 0
metric smallest: money = min deal.amount where deal.signed_on in previous period else 0
metric average: money = avg deal.amount where not (deal.stage == "open") and deal.signed_on in period else 0
metric doubled: money = sum deal.amount * 2 - 1 where deal.signed_on in 2026-07-15 to 2026-08-31
metric logos: count = count deal where deal.is_new_customer and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
metric refunds: money = sum collection.amount where collection.amount < 0 and collection.received_on in ytd
metric via_deal: money =
  sum collection.amount where collection.deal.product == "P1" and collection.received_on in period
metric team_bookings: money = sum deal.amount over self+team where deal.signed_on in period
metric overlay: money = sum deal.amount credited overlay where deal.signed_on in period

target bookings = 1_000

tiers rate marginal on attainment(bookings) {
  0%   to 100% : 3.3%
  100% and up  : 7.5%
}

payout commission: money = rate(bookings) + collected * 0.5% + refunds * 1.5%
payout extra: money = biggest * 0.1% + average * 0.1% + doubled * 0.05% + via_deal * 0.5%
payout team: money = team_bookings * 0.25% + overlay * 1%
payout counts: money = (picked + customers + logos) * 7.5
payout small: money = smallest * 0.5%
"""

PAYEES = ("a", "b", "c", "d", "e")
DAYS = [dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 7, 1),
        dt.date(2026, 7, 15), dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 1)]


def _cents(lo: int, hi: int) -> st.SearchStrategy[str]:
    def text(c: int, places: int) -> str:
        sign = "-" if c < 0 else ""
        if places == 0 and c % 100 == 0:  # as a spreadsheet writes it: 500 next to 12.50
            return f"{sign}{abs(c) // 100}"
        if places == 1 and c % 10 == 0:
            return f"{sign}{abs(c) // 100}.{abs(c) % 100 // 10}"
        return f"{sign}{abs(c) // 100}.{abs(c) % 100:02d}" + ("0" if places == 3 else "")

    # odd cents make half-cent ties under 0.5% / 1.5% / 7.5% rates; cells of one column
    # written with 0 to 3 decimals (values keep each cell's own on both engines)
    cents = st.one_of(st.integers(lo, hi), st.sampled_from([1, 5, 15, 25, 33, 50, 99, 100, 101, 333, 5000]))
    return st.builds(text, cents, st.sampled_from([2, 2, 0, 1, 3]))


deal_row = st.tuples(st.sampled_from(PAYEES[:4]), _cents(100, 2_000_000),
                     st.sampled_from(["won", "lost", "open"]), st.sampled_from(DAYS),
                     st.sampled_from(["x", "y", "z", "w"]), st.sampled_from(["P1", "P2", "P3"]),
                     st.booleans())
coll_row = st.tuples(st.integers(0, 40), _cents(-50_000, 1_000_000), st.sampled_from(DAYS))


@st.composite
def datasets(draw: Any) -> dict[str, Any]:
    deals = draw(st.lists(deal_row, min_size=0, max_size=25))
    colls = draw(st.lists(coll_row, min_size=0, max_size=15)) if deals else []
    return {
        "deals": deals, "collections": colls,
        "roles": draw(st.lists(st.sampled_from(["AE", "SE", "AM"]), min_size=5, max_size=5)),
        "regions": draw(st.lists(st.sampled_from(["north", "west"]), min_size=5, max_size=5)),
        "targets": draw(st.lists(st.integers(1, 30_000), min_size=5, max_size=5)),
        "history": draw(st.booleans()),
        "splits": draw(st.booleans()) and bool(deals),
        "manager": draw(st.booleans()),
    }


def write(folder: Path, d: dict[str, Any], fmt: str = "csv") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,name,role,region,manager"]
    for i, p in enumerate(PAYEES):
        mgr = "a" if d["manager"] and p in ("b", "c") else ""
        lines.append(f"{p},{p.upper()},{d['roles'][i]},{d['regions'][i]},{mgr}")
    _w(folder / "payees.csv", lines)
    _w(folder / "targets.csv", ["payee,metric,period,value"]
       + [f"{p},bookings,2026-Q3,{t}" for p, t in zip(PAYEES, d["targets"], strict=True)])
    _w(folder / "deals.csv", ["id,payee,amount,stage,signed_on,customer,product,is_new_customer"]
       + [f"D{i:03d},{p},{a},{s},{day.isoformat()},{c},{prod},{str(n).lower()}"
          for i, (p, a, s, day, c, prod, n) in enumerate(d["deals"])])
    n = len(d["deals"])
    coll = ["id,deal,payee,amount,received_on"]
    for i, (ix, amount, day) in enumerate(d["collections"]):
        deal = d["deals"][ix % n]
        coll.append(f"C{i:03d},D{ix % n:03d},{deal[0]},{amount},{day.isoformat()}")
    _w(folder / "collections.csv", coll)
    if d["history"]:
        _w(folder / "payee_history.csv", ["payee,attribute,value,effective_from", "b,role,SE,2026-08-10"])
    if d["splits"]:
        _w(folder / "credits.csv", ["kind,fact,payee,share,type", "deal,D000,a,60%,split",
                                    "deal,D000,d,40%,split", "deal,D000,e,100%,overlay"])
    if fmt == "parquet":
        import duckdb

        con = duckdb.connect()
        for f in list(folder.glob("*.csv")):
            con.execute(f"COPY (SELECT * FROM read_csv('{f}', all_varchar = true)) TO "
                        f"'{f.with_suffix('.parquet')}' (FORMAT PARQUET)")
            f.unlink()


def _w(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def both(text: str, folder: Path, fmt: str = "csv") -> tuple[Any, Any, Any]:
    plan = kpidsl.loads(text)
    ref_loaded = load_folder(plan.model, folder, fmt=fmt, engine="reference")
    ref = ColumnarRun(plan.model, ref_loaded, "2026-Q3").evaluate()
    loaded = load_folder(plan.model, folder, fmt=fmt)
    col = ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()
    return ref, col, loaded


def assert_same(ref: Any, col: Any) -> None:
    assert ref is not None and col is not None
    assert sorted(ref.payees) == sorted(col.payees)
    for pid, r in ref.payees.items():
        c = col.payees[pid]
        assert str(r.total) == str(c.total), pid
        assert {k: str(v) for k, v in r.components.items()} == {k: str(v) for k, v in c.components.items()}, pid
        assert set(r.values) == set(c.values), pid
        for name, v in r.values.items():
            w = c.values[name]
            assert v == w and str(v) == str(w), (pid, name, v, w)  # the same value, written the same
        assert set(r.failures) == set(c.failures), pid
    assert [(e.payee, e.name, e.code) for e in ref.errors] == [(e.payee, e.name, e.code) for e in col.errors]


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(datasets())
def test_benchmark_plan_agrees(tmp_path_factory: Any, d: dict[str, Any]) -> None:
    folder = tmp_path_factory.mktemp("bench")
    write(folder, d)
    ref, col, loaded = both(BENCH_PLAN, folder)
    assert loaded.engine == ("reference" if d["splits"] else "columnar")
    assert_same(ref, col)


@SETTINGS
@given(datasets(), st.sampled_from(["csv", "parquet"]))
def test_wide_plan_agrees(tmp_path_factory: Any, d: dict[str, Any], fmt: str) -> None:
    folder = tmp_path_factory.mktemp("wide")
    write(folder, d, fmt)
    ref, col, _ = both(WIDE_PLAN, folder, fmt)
    assert_same(ref, col)
