"""Across time: split periods, windows, true-ups, the plan's first day, and what explains them.

Each test pins a defect found by the time audit (docs/semantics-decisions.md) with figures
worked by hand from the contract; where the columnar engine is installed, both engines
must give them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl

HEADER = 'plan "time" {\n  currency USD\n  period quarter\n  rounding half_up 0.01\n}\n'
ENGINES = ["reference", *(["columnar"] if importlib.util.find_spec("duckdb") else [])]
PAYEE = "id,name,role,region,manager\na,A,AE,east,\n"
DEALS = "id,payee,amount,stage,signed_on,customer,product\n"
# Q3 2026 (92 days) split on 2026-08-16 by a region change: 46 + 46 days
MOVE = "payee,attribute,value,effective_from\na,region,west,2026-08-16\n"


def _folder(parent: Path, tables: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(dir=parent))  # a fresh folder per run: no table left over
    for name, text in tables.items():
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def _run(tmp_path: Path, body: str, tables: dict[str, str], period: str = "2026-Q3",
         engine: str = "reference", header: str = HEADER, as_of: dt.date | None = None) -> kpidsl.Result:
    plan = kpidsl.loads(header + body)
    result = plan.evaluate(_folder(tmp_path, tables), period, engine=engine, as_of=as_of)
    assert not [d for d in result.data_diagnostics if d.severity == "error"]
    return result


def _walk(node: kpidsl.Explanation) -> Iterator[kpidsl.Explanation]:
    yield node
    for child in node.children:
        yield from _walk(child)


# ---- previous period inside a segment ----------------------------------------------------

CARRY = """
metric prev: money = sum deal.amount where deal.signed_on in previous period
payout carry: money = prev * 10%
"""
Q2_DEALS = DEALS + "D1,a,10000,won,2026-04-10,c,p\nD2,a,20000,won,2026-06-05,c,p\n"


@pytest.mark.parametrize("engine", ENGINES)
def test_previous_period_counts_once_over_the_segments_of_a_split_period(tmp_path: Path, engine: str) -> None:
    # Q2's 30,000 pays 10% once: 3,000. Each segment reads its own dates one quarter
    # earlier: 07-01..08-15 -> 04-01..05-15 (D1, 10,000), 08-16..09-30 -> 05-16..06-30
    # (D2, 20,000). Before, each segment read the whole of Q2 and the quarter paid 6,000.
    result = _run(tmp_path, CARRY, {"payees": PAYEE, "payee_history": MOVE, "deals": Q2_DEALS}, engine=engine)
    pr = result.payees["a"]
    assert pr.components["carry"] == Decimal("3000.00")
    assert pr.values["prev@2026-07-01"] == Decimal("10000")
    assert pr.values["prev@2026-08-16"] == Decimal("20000")


@pytest.mark.parametrize("engine", ENGINES)
def test_previous_period_of_a_whole_period_is_the_whole_previous_period(tmp_path: Path, engine: str) -> None:
    result = _run(tmp_path, CARRY, {"payees": PAYEE, "deals": Q2_DEALS}, engine=engine)
    assert result.payees["a"].components["carry"] == Decimal("3000.00")


def test_the_segments_previous_windows_cover_the_previous_period_once() -> None:
    from kpidsl.periods import parse_period

    q3 = parse_period("2026-Q3", "quarter")
    day = dt.timedelta(days=1)
    cuts = [dt.date(2026, 7, 1), dt.date(2026, 8, 29), dt.date(2026, 8, 30), dt.date(2026, 8, 31),
            dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
    covered: list[dt.date] = []
    for start, nxt in itertools.pairwise(cuts):
        lo, hi = q3.previous_of(start, nxt - day)
        while lo <= hi:
            covered.append(lo)
            lo += day
    q2 = q3.previous()
    assert covered == [q2.start + dt.timedelta(days=i) for i in range(q2.days)]


# ---- what is computed for the whole period, then prorated --------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_per_period_const_uses_the_period_values_of_the_metrics_it_reads(tmp_path: Path, engine: str) -> None:
    # pool is an amount for the quarter: 10% of the quarter's 40,000 = 4,000, prorated
    # 46/92 to each segment: 2,000 + 2,000. Before, each segment took 10% of its own
    # bookings and prorated that again: 3,000 x 1/2 + 1,000 x 1/2 = 2,000.
    body = """
metric q: money = sum deal.amount where deal.signed_on in period
const pool: money = q * 10% per period
payout p: money = pool
"""
    deals = DEALS + "D1,a,30000,won,2026-07-20,c,p\nD2,a,10000,won,2026-09-10,c,p\n"
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": deals}, engine=engine)
    assert result.payees["a"].components["p"] == Decimal("4000.00")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_default_target_on_last_quarter_is_prorated_once(tmp_path: Path, engine: str) -> None:
    # target = Q2's 30,000 x 110% = 33,000 for the quarter, 16,500 in each 46-day segment
    body = """
metric prev: money = sum deal.amount where deal.signed_on in previous period
metric q: money = sum deal.amount where deal.signed_on in period
target q = prev * 110%
metric att: percent = attainment(q)
"""
    deals = Q2_DEALS + "D3,a,33000,won,2026-07-20,c,p\n"
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": deals}, engine=engine)
    assert result.payees["a"].values["att@2026-07-01"] == Decimal(2)  # 33,000 / 16,500


# ---- prior() --------------------------------------------------------------------------------

TRUE_UP = """
metric y: money = sum deal.amount where deal.signed_on in ytd
payout annual: money = y * 10% - prior(annual)
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_payment_recorded_before_the_plan_took_effect_still_counts_in_prior(tmp_path: Path, engine: str) -> None:
    # A plan effective 2026-04-01 replaces the one that paid Q1: payments.csv says 1,000 was
    # paid for `annual` in Q1. Q2: ytd 30,000 x 10% = 3,000 less the 1,000 paid = 2,000.
    # Before, Q1's recorded payment was skipped with the recomputation, and Q2 paid the
    # February deal a second time (3,000).
    header = HEADER.replace("rounding half_up 0.01", "rounding half_up 0.01\n  effective 2026-04-01")
    tables = {"payees": PAYEE,
              "deals": DEALS + "D1,a,10000,won,2026-02-01,c,p\nD2,a,20000,won,2026-05-15,c,p\n",
              "payments": "payee,component,period,amount\na,annual,2026-Q1,1000\n"}
    result = _run(tmp_path, TRUE_UP, tables, "2026-Q2", engine=engine, header=header)
    assert result.payees["a"].components["annual"] == Decimal("2000.00")
    prior = next(n for n in _walk(result.explain("a", "annual")) if n.name == "prior(annual)")
    assert prior.rows[0][0] == "2026-Q1" and prior.rows[0][1].startswith("paid")
    # without a recorded payment the period before the plan is not recomputed: 3,000
    del tables["payments"]
    again = _run(tmp_path, TRUE_UP, tables, "2026-Q2", engine=engine, header=header)
    assert again.payees["a"].components["annual"] == Decimal("3000.00")


@pytest.mark.parametrize("engine", ENGINES)
def test_prior_fails_when_an_earlier_period_failed_for_the_whole_payee(tmp_path: Path, engine: str) -> None:
    # `changes at_period_boundaries` and a region change inside Q2: Q2 is KPI0609 for `a`
    # and paid nothing. Q3's true-up cannot know what Q2 paid: KPI0613, not a Q2 of 0
    # (which paid Q2's 2,000 in Q3 as if it had been computed).
    header = HEADER.replace("rounding half_up 0.01", "rounding half_up 0.01\n  changes at_period_boundaries")
    tables = {"payees": PAYEE,
              "payee_history": "payee,attribute,value,effective_from\na,region,west,2026-05-15\n",
              "deals": DEALS + "D1,a,10000,won,2026-02-01,c,p\nD2,a,20000,won,2026-05-20,c,p\n"
                       "D3,a,5000,won,2026-08-20,c,p\n"}
    result = _run(tmp_path, TRUE_UP, tables, engine=engine, header=header)
    pr = result.payees["a"]
    assert pr.total is None and [(e.name, e.code) for e in pr.errors] == [("annual", "KPI0613")]
    assert "2026-Q2" in pr.errors[0].message
    # what payments.csv says was paid for Q2 lets the true-up go on: 3,500 - (1,000 + 0)
    tables["payments"] = "payee,component,period,amount\na,annual,2026-Q2,0\n"
    paid = _run(tmp_path, TRUE_UP, tables, engine=engine, header=header)
    assert paid.payees["a"].components["annual"] == Decimal("2500.00")


# ---- a component that ends inside the period ----------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cap_of_a_component_that_ends_inside_the_period_still_applies(tmp_path: Path, engine: str) -> None:
    # An AE promoted to manager on 2026-08-16: `comm` exists only for AEs. Its first
    # segment earns 80,000 x 10% = 8,000, capped at 5,000 for the quarter. Before, the cap
    # was looked up in the definitions of the period's last day, which have no `comm`, and
    # 8,000 was paid.
    body = """
metric q: money = sum deal.amount where deal.signed_on in period
payout base: money = 0
for role AE {
  payout comm: money = q * 10%
    cap 5_000
}
"""
    tables = {"payees": PAYEE, "deals": DEALS + "D1,a,80000,won,2026-07-10,c,p\n",
              "payee_history": "payee,attribute,value,effective_from\na,role,manager,2026-08-16\n"}
    result = _run(tmp_path, body, tables, engine=engine)
    assert result.payees["a"].components["comm"] == Decimal("5000.00")
    tree = result.explain("a", "comm")
    assert tree.formula == "q * 10%" and "cap 5000 binding (value was 8000.00)" in tree.notes


# ---- explanations of a split period ----------------------------------------------------------


def test_a_split_periods_plain_name_says_it_is_the_last_segment(tmp_path: Path) -> None:
    body = "metric q: money = sum deal.amount where deal.signed_on in period\npayout p: money = q * 1%\n"
    deals = DEALS + "D1,a,30000,won,2026-07-20,c,p\nD2,a,10000,won,2026-09-10,c,p\n"
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": deals})
    tree = result.explain("a", "q")
    assert tree.value == "10000"
    assert any("last of 2 segments (2026-08-16..2026-09-30)" in n and "q@2026-07-01" in n for n in tree.notes)


def test_an_aggregate_shows_the_dates_of_its_windows(tmp_path: Path) -> None:
    header = HEADER.replace("period quarter", "period quarter\n  fiscal_year_start 04-01")
    body = """
metric y: money = sum deal.amount where deal.signed_on in ytd
metric prev: money = sum deal.amount where deal.signed_on in previous period
"""
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": Q2_DEALS}, "2026-Q2",
                  header=header)
    # FY from April: 2026-Q2 is July..September; its segments end on 08-15 and 09-30
    assert "ytd: 2026-04-01..2026-08-15" in result.explain("a", "y@2026-07-01").notes
    assert "previous period: 2026-05-16..2026-06-30" in result.explain("a", "prev").notes


def test_a_team_aggregate_names_the_day_of_its_reporting_tree_and_the_as_of_cut(tmp_path: Path) -> None:
    body = "metric t: money = sum deal.amount over team where deal.signed_on in period\n"
    tables = {"payees": "id,name,role,region,manager\nm,M,manager,east,\nr,R,AE,east,\n",
              "payee_history": "payee,attribute,value,effective_from\nr,manager,m,2026-08-17\n",
              "deals": DEALS + "D1,r,1000,won,2026-07-10,c,p\nD2,r,2000,won,2026-09-20,c,p\n"}
    result = _run(tmp_path, body, tables, as_of=dt.date(2026, 9, 15))
    notes = result.explain("m", "t").notes
    assert "scope team: r (reporting tree as of 2026-09-30)" in notes
    assert "as of 2026-09-15: facts dated after it are left out" in notes
    assert result.payees["m"].values["t"] == Decimal("1000")


def test_a_segment_says_what_changed_on_its_first_day(tmp_path: Path) -> None:
    body = """
metric q: money = sum deal.amount where deal.signed_on in period
payout p: money = q * 1%
for region west { payout p: money = q * 2% }
"""
    deals = DEALS + "D1,a,30000,won,2026-07-20,c,p\nD2,a,10000,won,2026-09-10,c,p\n"
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": deals})
    assert result.payees["a"].components["p"] == Decimal("500.00")  # 300 + 200
    first, second = (c for c in result.explain("a", "p").children if c.kind == "segment")
    assert first.notes == ("46 of 92 days",)
    assert second.notes == ("46 of 92 days", "from 2026-08-16: region east → west",
                            "from 2026-08-16, other definitions of: p")


@pytest.mark.parametrize("engine", ENGINES)
def test_as_of_leaves_later_facts_out_of_aggregates_but_not_out_of_references(tmp_path: Path, engine: str) -> None:
    # As of 09-15, D1 (signed 09-20) is not counted, but C1, a deposit received on 09-10,
    # still reads its deal's product: 5,000 x 10% + 1,000 x 1% = 510.00. (The columnar
    # engine failed C1 with KPI0610: its lookup by key left out facts after as_of.)
    body = """
table rate by collection.deal.product { "A" : 10%  else : 1% }
metric booked: money = sum deal.amount where deal.signed_on in period
payout comm: money = sum collection.amount * rate(collection.deal.product) where collection.received_on in period
"""
    tables = {"payees": PAYEE,
              "deals": DEALS + "D1,a,10000,won,2026-09-20,c,A\nD2,a,10000,won,2026-07-20,c,B\n",
              "collections": "id,deal,payee,amount,received_on\nC1,D1,a,5000,2026-09-10\nC2,D2,a,1000,2026-08-10\n"}
    result = _run(tmp_path, body, tables, as_of=dt.date(2026, 9, 15), engine=engine)
    pr = result.payees["a"]
    assert (pr.values["booked"], pr.components["comm"]) == (Decimal("10000"), Decimal("510.00"))


def test_a_payee_failed_as_a_whole_still_has_an_explanation(tmp_path: Path) -> None:
    # KPI0609: before, the payee had no tree at all, and `kpidsl explain` answered
    # "payee 'a' has no value 'total'" as if the name were wrong
    header = HEADER.replace("rounding half_up 0.01", "rounding half_up 0.01\n  changes at_period_boundaries")
    body = "metric q: money = sum deal.amount where deal.signed_on in period\npayout p: money = q * 1%\n"
    result = _run(tmp_path, body, {"payees": PAYEE, "payee_history": MOVE, "deals": DEALS}, header=header)
    assert [e.code for e in result.payees["a"].errors] == ["KPI0609"]
    for name in ("total", "p"):
        tree = result.explain("a", name)
        assert tree.value is None and tree.error is not None and "at_period_boundaries" in tree.error
        assert tree.notes == ("from 2026-08-16: region east → west",)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_payee_with_a_failed_component_is_explained_as_not_paid(tmp_path: Path, engine: str) -> None:
    # helper-51: `kpidsl explain` without a name answered "payee 'a' has no value 'total'" (exit 2)
    # whenever one component failed: the total's tree was never built
    body = ("metric q: money = sum deal.amount where deal.signed_on in period\n"
            "metric lost: money = sum deal.amount where deal.stage == \"lost\"\n"
            "payout p: money = q * 1%\npayout ratio: money = 100 * (q / lost)\n")
    result = _run(tmp_path, body, {"payees": PAYEE, "deals": DEALS + "D1,a,1000,won,2026-07-10,c,p\n"},
                  engine=engine)
    total = result.explain("a", "total")
    assert result.payees["a"].total is None and total is not None and total.value is None
    assert total.error is not None and total.error.startswith("not paid: ratio: division by zero")
    assert [c.name for c in total.children] == ["p", "ratio"] and total.children[0].value == "10.00"
