"""The bulk payee stage (kpidsl.eval.bulk) gives each payee exactly the reference's result.

The conformance suite compares every case with and without trees up front
(tests/conformance); here: the examples and generated groups of many payees
sharing definitions, short-circuits that decide which named values a payee
evaluates, and payees leaving a group on a failure.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.data.bind import bind
from kpidsl.eval import Engine
from kpidsl.eval.bulk import Bulk
from kpidsl.explain.render import render_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _summary(result: Any) -> dict[str, Any]:
    return {pid: (pr.total, pr.components, list(pr.values.items()), [(e.name, e.code) for e in pr.errors])
            for pid, pr in result.payees.items()}


def _both(plan: kpidsl.Plan, data: Any, period: str) -> tuple[Any, Any, Engine]:
    raw = kpidsl.load_data(data)
    dataset, diags = bind(plan.model, raw.tables)
    assert not [d for d in diags if d.severity == "error"], diags
    full = Engine(plan.model, dataset).evaluate(Engine(plan.model, dataset).period(period))
    engine = Engine(plan.model, dataset, explain=False)
    return full, engine.evaluate(engine.period(period)), engine


@pytest.mark.parametrize("name, period", [("east-china-2026", "2026-Q3"), ("saas-team", "2026-Q3"),
                                          ("distributor-collections", "2026-08")])
def test_examples_agree_with_the_reference(name: str, period: str) -> None:
    plan = kpidsl.load(EXAMPLES / name / "plan.kpi")
    full, fast, engine = _both(plan, EXAMPLES / name / "data", period)
    assert engine.bulk_surprises == []
    assert _summary(fast) == _summary(full)
    for pid, pr in fast.payees.items():
        assert {k: render_json(v) for k, v in pr.explanations.items()} == {
            k: render_json(v) for k, v in full.payees[pid].explanations.items()}


PLAN = """plan "Bulk" {
  currency USD
  period quarter
  rounding half_up 0.01
}
input bonus_pool: money default 100
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric deals_won: count = count deal where deal.stage == "won" and deal.signed_on in period
target bookings = 1_000
tiers rate marginal on attainment(bookings) {
  0% to 100%: 2%
  100% and up: 5%
}
tiers kicker lookup on deals_won {
  0 to 2: 0
  2 and up: 50
}
payout commission: money = rate(bookings)
  when deals_won > 1 and bookings > bonus_pool then + kicker(deals_won)
  when bookings < 0 then = 0
  requires deals_won >= 1 or bookings > 5_000
  floor 1
  cap 900
payout extra: money = bookings / deals_won
for region west {
  target bookings = 2_000
}
"""


def _deals(rows: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"id": f"D{i}", "payee": p, "amount": Decimal(a), "stage": s, "signed_on": "2026-08-01",
             "customer": "c", "product": "x", "new_customer": False} for i, (p, a, s) in enumerate(rows)]


AMOUNTS = st.sampled_from(["0", "0.01", "0.005", "-250", "999.995", "1000", "1500.50", "5000", "7000.125"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), AMOUNTS, st.sampled_from(["won", "won", "lost"])),
                max_size=30),
       st.lists(st.sampled_from(["east", "west"]), min_size=8, max_size=8))
def test_generated_groups_agree_with_the_reference(rows: list[tuple[int, str, str]], regions: list[str]) -> None:
    """Many payees per group; short-circuits, when/requires/floor/cap, a division by zero
    (no deals won: `extra` fails, so the payee leaves the group) and lookups per payee."""
    plan = kpidsl.loads(PLAN)
    payees = [{"id": f"p{i}", "name": f"P{i}", "role": "AE", "region": r, "manager": ""}
              for i, r in enumerate(regions)]
    data = {"payees": payees, "deals": _deals([(f"p{p}", a, s) for p, a, s in rows])}
    full, fast, engine = _both(plan, data, "2026-Q3")
    assert engine.bulk_surprises == []
    assert _summary(fast) == _summary(full)


def test_the_right_of_and_is_evaluated_only_where_the_left_holds() -> None:
    """`deals_won > 1 and bookings > bonus_pool`: bonus_pool (an input with a default, not
    otherwise used) is a value of exactly the payees whose left side held."""
    plan = kpidsl.loads(PLAN)
    payees = [{"id": f"p{i}", "name": f"P{i}", "role": "AE", "region": "east", "manager": ""} for i in range(3)]
    rows = [("p0", "800", "won"), ("p0", "900", "won"), ("p1", "800", "won")]
    data = {"payees": payees, "deals": _deals(rows)}
    full, fast, engine = _both(plan, data, "2026-Q3")
    assert engine.bulk_surprises == []
    assert "bonus_pool" in fast.payees["p0"].values
    assert "bonus_pool" not in fast.payees["p1"].values
    assert _summary(fast) == _summary(full)
    assert fast.payees["p2"].errors  # no deal won: `extra` divides by zero, worded by the reference
    assert fast.payees["p2"].errors == full.payees["p2"].errors


def test_a_group_evaluates_many_payees_at_once() -> None:
    """The payees of one group come out of one Bulk; a failing one drops out alone."""
    plan = kpidsl.loads(PLAN)
    payees = [{"id": f"p{i}", "name": f"P{i}", "role": "AE", "region": "east", "manager": ""} for i in range(50)]
    rows = [(f"p{i}", str(100 * i), "won") for i in range(1, 50)]
    raw = kpidsl.load_data({"payees": payees, "deals": _deals(rows)})
    dataset, _ = bind(plan.model, raw.tables)
    engine = Engine(plan.model, dataset, explain=False)
    period = engine.period("2026-Q3")
    from kpidsl.eval.quick import shared_segment

    seg = shared_segment(engine.run, engine.payees["p1"], period, period.label)
    assert seg is not None
    got = Bulk(engine.run, period, period.label, seg, [engine.payees[f"p{i}"] for i in range(50)]).results(
        lambda pid: dict)
    assert sorted(got) == sorted(f"p{i}" for i in range(1, 50))  # p0 won nothing: `extra` fails
    # p12: bookings 1,200 on a target of 1,000: 1,000 x 2% + 200 x 5% = 30.00 (one deal: no kicker)
    assert got["p12"].components["commission"] == Decimal("30.00")
    assert got["p12"].components["extra"] == Decimal("1200.00")


def test_column_arithmetic_drops_exactly_the_payees_whose_operation_fails() -> None:
    """Arithmetic and comparisons over a whole column at once; a trapped condition (here an
    overflow, in a context with a tiny exponent range) for some payees sends the column pair
    by pair: those payees are dropped, the others get the same values."""
    import decimal

    from kpidsl import ast
    from kpidsl.eval.quick import shared_segment

    plan = kpidsl.loads(PLAN)
    payees = [{"id": f"p{i}", "name": f"P{i}", "role": "AE", "region": "east", "manager": ""} for i in range(6)]
    rows = [(f"p{i}", str(10 ** i), "won") for i in range(6)]  # bookings 1, 10, ... 100,000
    dataset, _ = bind(plan.model, kpidsl.load_data({"payees": payees, "deals": _deals(rows)}).tables)
    engine = Engine(plan.model, dataset, explain=False)
    period = engine.period("2026-Q3")
    seg = shared_segment(engine.run, engine.payees["p0"], period, period.label)
    assert seg is not None
    bulk = Bulk(engine.run, period, period.label, seg, [engine.payees[f"p{i}"] for i in range(6)])
    bulk.ctx = decimal.Context(prec=28, Emax=5, traps=[decimal.Overflow, decimal.InvalidOperation])
    everyone = list(range(6))
    times = ast.Binary("*", ast.Name("bookings"), ast.Number(Decimal(100)))
    assert bulk.vexpr(times)(bulk, everyone) == [Decimal(100), Decimal(1000), Decimal(10000), Decimal(100000),
                                                  None, None]  # 1E+6 and 1E+7: beyond Emax
    assert bulk.dropped == [False] * 4 + [True] * 2
    below = ast.Binary("<", ast.Name("bookings"), ast.Number(Decimal(1000)))
    assert bulk.vexpr(below)(bulk, everyone) == [True, True, True, False, False, False]
