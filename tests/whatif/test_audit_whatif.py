"""what-it-takes: defects found by an audit, each checked against evaluation.

Every reachable answer is verified the way a payee would check it: the plan
evaluated with the answer's fact added reaches the goal, with one cent (or one
fact) less it does not.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.whatif import Answer, what_it_takes

CENT = Decimal("0.01")

HEADER = """plan "t" {
  currency CNY
  period quarter
  rounding half_up 0.01
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
target bookings = 100_000
"""

ANN = {"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""}


def _tables(*amounts: str) -> dict[str, list[dict[str, Any]]]:
    deals = [{"id": f"D{i}", "payee": "ann", "amount": a, "stage": "won", "signed_on": "2026-07-10"}
             for i, a in enumerate(amounts, start=1)]
    return {"payees": [ANN], "deals": deals}


def _with(tables: dict[str, list[dict[str, Any]]], a: Answer, amount: Decimal) -> dict[str, Any]:
    row = {k: v for k, v in a.deal.items() if v != ""}
    row["amount"] = str(amount)
    return {**tables, "deals": [*tables["deals"], row]}


def _attainment(plan: kpidsl.Plan, tables: dict[str, Any]) -> Decimal:
    value = plan.evaluate(tables, "2026-Q3").payees["ann"].values["attainment(bookings)"]
    assert isinstance(value, Decimal)
    return value


def test_next_tier_below_the_first_band_is_the_second_band_not_the_first() -> None:
    # a refund puts attainment at -4%: the first band's rate applies there already (a refund
    # reverses commission at the first band's rate), so the next band starts at 50%, not 0%
    plan = kpidsl.loads(HEADER + """
tiers rate step on attainment(bookings) {
  0%   to 50%  : 2%
  50%  to 100% : 5%
  100% and up  : 8%
}
payout commission: money = rate(bookings)
""")
    tables = _tables("-4000")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", next_tier=True)
    assert a.status == "reachable" and a.amount == Decimal("54000.00"), a.reason
    assert _attainment(plan, _with(tables, a, a.amount)) >= Decimal("0.5")
    assert _attainment(plan, _with(tables, a, a.amount - CENT)) < Decimal("0.5")


def test_next_tier_above_a_closed_last_band_is_the_above_value() -> None:
    # at 150% of a `100% to 200%` last band with `above : 3%`, 200% starts the next rate
    plan = kpidsl.loads(HEADER + """
tiers kicker step on attainment(bookings) {
  0%   to 100% : 0%
  100% to 200% : 2%
  above        : 3%
}
payout kick: money = kicker(bookings)
""")
    tables = _tables("150000")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", next_tier=True)
    assert a.status == "reachable" and a.amount == Decimal("50000.00"), a.reason
    assert a.after["total"] == Decimal("6000.00")  # 200,000 x 3%


DERIVED_GATE = HEADER + """
metric doubled: money = bookings * 2
payout commission: money = bookings * 1%
payout bonus: money = 5_000
  requires doubled >= 160_000 and doubled < 200_000
"""


def _paid(plan: kpidsl.Plan, tables: dict[str, Any], component: str | None) -> Decimal:
    p = plan.evaluate(tables, "2026-Q3").payees["ann"]
    value = p.total if component is None else p.components[component]
    assert value is not None
    return value


def test_a_gate_on_a_derived_metric_is_a_breakpoint() -> None:
    # the bonus is paid while 80,000 <= bookings < 100,000, through a derived metric: the
    # search saw neither edge, called the bonus unreachable (flat from 1,000 to 2,000) and
    # answered 499,999.50 for a total of 5,000 that 80,000 reaches
    plan = kpidsl.loads(DERIVED_GATE)
    tables = _tables("0")
    for component in ("bonus", None):
        a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal(5000),
                          component=component)
        assert a.status == "reachable" and a.amount == Decimal("80000.00"), a.reason
        assert _paid(plan, _with(tables, a, a.amount), component) >= 5000
        assert _paid(plan, _with(tables, a, a.amount - CENT), component) < 5000


def test_an_amount_is_written_at_the_quantum() -> None:
    # a breakpoint of whole units came out as "60000", not "60000.00"
    plan = kpidsl.loads(HEADER + """
payout bonus: money = 5_000
  requires bookings >= 100_000
""")
    a = what_it_takes(plan, _tables("40000"), "2026-Q3", "ann", "bookings", payout=Decimal(5000))
    assert a.amount == Decimal("60000.00")
    assert a.to_dict()["amount"] == "60000.00" and a.deal["amount"] == "60000.00"


def test_a_tier_on_another_metric_the_fact_feeds_is_a_breakpoint() -> None:
    # the kicker's tiers are on `gross`, not on `bookings`, but the extra won deal feeds both:
    # the search called the kicker unreachable after 2,000.00 of flat figures
    plan = kpidsl.loads(HEADER + """
metric gross: money = sum deal.amount where deal.stage == "won" and deal.amount > 0 and deal.signed_on in period
tiers volume_kicker step on gross {
  0       to 500_000 : 0%
  500_000 and up     : 1%
}
payout kicker: money = volume_kicker(gross)
""")
    tables = _tables("41133.47")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal(500), component="kicker")
    assert a.status == "reachable" and a.amount == Decimal("458866.53"), a.reason
    assert _paid(plan, _with(tables, a, a.amount), "kicker") == Decimal("5000.00")
    assert _paid(plan, _with(tables, a, a.amount - CENT), "kicker") == 0


def test_an_absurd_payout_goal_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `--payout 1e99999999` wrote the goal out digit by digit: 100 MB of zeros, 800 MB of memory
    plan = tmp_path / "plan.kpi"
    plan.write_text(HEADER + "payout commission: money = bookings * 1%\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\nann,Ann,AE,east,\n", encoding="utf-8")
    for goal in ("1e99999999", "1e-99999999"):
        code = main(["what-it-takes", str(plan), "--data", str(data), "--period", "2026-Q3",
                     "--payee", "ann", "--metric", "bookings", "--payout", goal])
        out, err = capsys.readouterr()
        assert code == 2 and out == "" and "more than 28 digits" in err and len(err) < 200
    with pytest.raises(ValueError, match="28 digits"):
        what_it_takes(kpidsl.loads(HEADER), _tables(), "2026-Q3", "ann", "bookings",
                      payout=Decimal("1e40"))


def test_a_figure_of_zero_is_shown_at_its_scale() -> None:
    # "already reached: total is 0" for a total of 0.00
    plan = kpidsl.loads(HEADER + "payout commission: money = bookings * 1%\n")
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(0))
    assert a.status == "already" and a.reason == "already reached: total is 0.00"


def test_the_figures_table_is_aligned_for_chinese_names_and_long_figures() -> None:
    # columns were padded by characters, not terminal cells: a Chinese metric pushed its
    # figures three columns right; a figure over 16 characters pushed the next one too
    from kpidsl.display import width
    from kpidsl.whatif.cli import render_answer

    plan = kpidsl.loads(HEADER.replace("bookings", "签约额") + """
tiers 提成率 marginal on attainment(签约额) {
  0%   to 100% : 1%
  100% and up  : 2%
}
payout 提成: money = 提成率(签约额)
""")
    a = what_it_takes(plan, _tables("100000000000"), "2026-Q3", "ann", "签约额",
                      payout=Decimal(5_000_000_000), component="提成")
    assert a.status == "reachable"
    table = render_answer(a, "ann", "2026-Q3").split("\n\n")[-1].splitlines()
    assert table[0].strip().startswith("figure") and len(table) == 4
    ends = {width(line) for line in table}
    assert len(ends) == 1, table  # every row ends in the same column (right-aligned "after")
    before_ends = {width(line[: line.index(line.split()[1]) + len(line.split()[1])]) for line in table}
    assert len(before_ends) == 1, table


def test_every_piece_of_a_long_step_tiers_is_examined() -> None:
    # 200 step bands whose rates go down and up again: the evaluation budget ran out near
    # band 150 and a bisection (which assumes a rising figure) answered 1,259,900.00 for a
    # commission that 180,900.00 more reaches (181,000 at 7%)
    bands = "\n".join(f"  {i * 1000} to {(i + 1) * 1000} : {i % 7 + 1}%" for i in range(200))
    plan = kpidsl.loads(HEADER + f"""
tiers rate step on bookings {{
{bands}
  200000 and up : 1%
}}
payout commission: money = rate(bookings)
""")
    tables = _tables("100")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal(12_600))
    assert a.status == "reachable" and a.amount == Decimal("180900.00") and a.exact, a.reason
    assert _paid(plan, _with(tables, a, a.amount), None) == Decimal("12670.00")
    assert _paid(plan, _with(tables, a, a.amount - CENT), None) < 12_600


def test_a_synthetic_collection_can_be_added_to_the_data() -> None:
    # the collection's `deal` was left empty, and the data rejects an empty deal (KPI0711):
    # the row the answer shows could not be added to collections.csv to check it
    plan = kpidsl.loads(HEADER + """
metric collected: money = sum collection.amount where collection.received_on in period
payout cash: money = collected * 2%
""")
    tables = {**_tables("1000"), "collections": [
        {"id": "C1", "deal": "D1", "payee": "ann", "amount": "1000", "received_on": "2026-07-20"}]}
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "collected", payout=Decimal(100))
    assert a.status == "reachable" and a.amount == Decimal("3999.75") and a.deal["deal"] != ""
    for amount, paid in ((a.amount, Decimal("100.00")), (a.amount - CENT, Decimal("99.99"))):
        row = {**a.deal, "amount": str(amount)}
        result = plan.evaluate({**tables, "collections": [*tables["collections"], row]}, "2026-Q3")
        assert result.ok, result.data_diagnostics
        assert result.payees["ann"].total == paid


def test_an_unreachable_reason_names_a_cap_only_when_it_binds() -> None:
    # a bonus held at 0 by its gate was said to sit on its cap `ti * 2` as well
    plan = kpidsl.loads(HEADER + """
metric collected: money = sum collection.amount where collection.received_on in period
const ti: money = 1_000
payout bonus: money = bookings * 1%
  requires collected >= 50_000
  cap ti * 2
payout commission: money = bookings * 1%
  cap ti * 2
""")
    a = what_it_takes(plan, _tables("100"), "2026-Q3", "ann", "bookings", payout=Decimal(500),
                      component="bonus")
    assert a.status == "unreachable" and "cap" not in a.reason, a.reason
    assert "its gate `requires collected >= 50_000` is not met" in a.reason
    a = what_it_takes(plan, _tables("100"), "2026-Q3", "ann", "bookings", payout=Decimal(5000),
                      component="commission")
    assert a.status == "unreachable" and "the cap of commission binds (cap ti * 2)" in a.reason


REGION_TIERS = HEADER + """
tiers rate marginal on attainment(bookings) {
  0%   to 100% : 2%
  100% and up  : 5%
}
payout commission: money = rate(bookings)

for region north {
  tiers rate marginal on attainment(bookings) {
    0%  to 70% : 2%
    70% and up : 6%
  }
}
"""


def test_another_payees_history_does_not_change_the_tiers() -> None:
    # bob moves north in August; ann stays east, and her next band is at 100%, not at the
    # north's 70% (every payee's history rows were applied to her)
    plan = kpidsl.loads(REGION_TIERS)
    bob = {**ANN, "id": "bob", "name": "Bob"}
    tables = {**_tables("60000"), "payees": [ANN, bob],
              "payee_history": [{"payee": "bob", "attribute": "region", "value": "north",
                                 "effective_from": "2026-08-01"}]}
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", next_tier=True)
    assert a.status == "reachable" and a.amount == Decimal("40000.00"), a.reason
    assert a.goal.endswith("attainment(bookings) >= 1.00") and a.segment is None


def test_a_split_period_says_whose_figures_are_shown() -> None:
    # ann moves north on Aug 1: the figures are those of the last segment (Aug 1 to Sep 30,
    # target prorated to 61/92 of 100,000), not the quarter's; the answer says so
    from kpidsl.whatif.cli import render_answer

    plan = kpidsl.loads(REGION_TIERS)
    tables = {**_tables("60000"), "payee_history": [
        {"payee": "ann", "attribute": "region", "value": "north", "effective_from": "2026-08-01"}]}
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", next_tier=True)
    assert a.segment == "2026-08-01..2026-09-30" and a.to_dict()["segment"] == a.segment
    assert a.before["bookings"] == 0 and a.goal.endswith(">= 0.70")
    assert "its last segment, 2026-08-01..2026-09-30" in render_answer(a, "ann", "2026-Q3")


def test_the_rows_key_is_not_one_the_data_has() -> None:
    # a deal WHATIF-1 from an earlier question was added to the data: the trial used WHATIF-2,
    # but the row shown (to add to deals.csv) was still WHATIF-1, a duplicate key there
    plan = kpidsl.loads(HEADER + "payout commission: money = bookings * 1%\n")
    tables = _tables("1000")
    tables["deals"][0]["id"] = "WHATIF-1"
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal(100))
    assert a.status == "reachable" and a.deal["id"] == "WHATIF-2"
    result = plan.evaluate(_with(tables, a, a.amount), "2026-Q3")
    assert result.ok and result.payees["ann"].total == Decimal("100.00")


def test_a_component_the_payee_is_not_paid_says_so() -> None:
    # an SE-only component asked for an AE: "with 2000.00 more the plan fails for ann: an
    # evaluation error", where nothing fails
    plan = kpidsl.loads(HEADER + """
payout commission: money = bookings * 1%
for role SE {
  payout se_bonus: money = bookings * 1%
}
""")
    a = what_it_takes(plan, _tables("1000"), "2026-Q3", "ann", "bookings", payout=Decimal(100),
                      component="se_bonus")
    assert a.status == "unreachable" and a.reason.startswith("se_bonus is not part of ann's pay in 2026-Q3")


def test_a_plan_that_fails_without_any_more_says_so() -> None:
    # a missing input fails the payout with or without the extra deal: the reason blamed
    # "with 2000.00 more"
    plan = kpidsl.loads(HEADER + """
input collaboration: percent
payout bonus: money = bookings * collaboration
""")
    a = what_it_takes(plan, _tables("1000"), "2026-Q3", "ann", "bookings", payout=Decimal(100))
    assert a.status == "unreachable"
    assert a.reason.startswith("the plan fails for ann already, with nothing more: input `collaboration`")


def test_a_figure_just_below_an_edge_is_not_shown_on_it() -> None:
    # 99,999.99 of 100,000 is 0.9999999, shown rounded as 1.000000 beside "0.01 more to
    # reach attainment >= 1.00"
    from kpidsl.whatif.cli import render_answer

    plan = kpidsl.loads(HEADER + """
tiers rate marginal on attainment(bookings) {
  0%   to 100% : 2%
  100% and up  : 8%
}
payout commission: money = rate(bookings)
""")
    a = what_it_takes(plan, _tables("99999.99"), "2026-Q3", "ann", "bookings", next_tier=True)
    assert a.amount == CENT
    row = next(line for line in render_answer(a, "ann", "2026-Q3").splitlines()
               if line.strip().startswith("attainment(bookings)"))
    assert row.split()[1:] == ["0.999999…", "1.00"]


def test_a_guaranteed_minimum_is_not_the_most_it_pays() -> None:
    # a floor of 500 holds the commission flat until bookings reach 50,000: the search saw
    # it flat from 1,000 to 2,000 and answered "commission cannot reach 600: at most 500.00"
    plan = kpidsl.loads(HEADER + """
payout commission: money = bookings * 1%
  floor 500
""")
    tables = _tables("0")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal(600))
    assert a.status == "reachable" and a.amount == Decimal("59999.50"), a.reason  # 599.995 rounds up
    assert _paid(plan, _with(tables, a, a.amount - CENT), None) == Decimal("599.99")


FLOOR_OVER_A_DROP = HEADER.replace("100_000", "40_000") + """
tiers rate step on attainment(bookings) {
  0%  to 10% : 3%
  10% and up : 0.5%
}
payout commission: money = rate(bookings)
  floor 300
"""


def test_a_floor_over_a_rate_that_drops_is_not_the_most_it_pays() -> None:
    # 3% below 10% attainment, 0.5% above, floor 300: the commission sits on its floor from
    # 0 to 60,000 while what it computes drops (at 4,000) and rises again; the search took
    # the flat stretch for the most it pays ("cannot reach 400.01: at most 300.00")
    plan = kpidsl.loads(FLOOR_OVER_A_DROP)
    tables = _tables("0")
    a = what_it_takes(plan, tables, "2026-Q3", "ann", "bookings", payout=Decimal("400.01"))
    assert a.status == "reachable" and a.amount == Decimal("80001.00"), a.reason
    assert _paid(plan, _with(tables, a, a.amount), None) == Decimal("400.01")
    assert _paid(plan, _with(tables, a, a.amount - CENT), None) == Decimal("400.00")


def test_the_columnar_trials_trees_are_their_own(tmp_path: Path) -> None:
    # on the columnar stage a trial's tree is made when first read, from the trial facts
    # loaded then: read after a later trial, it showed that one's figures (the search above
    # then saw the floor's `value was` flat, and called 400.01 unreachable)
    pytest.importorskip("duckdb")
    (tmp_path / "plan.kpi").write_text(FLOOR_OVER_A_DROP, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\nann,Ann,AE,east,\n", encoding="utf-8")
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on\nD1,ann,0,won,2026-07-10\n",
                                    encoding="utf-8")
    plan = kpidsl.load(tmp_path / "plan.kpi")
    col = what_it_takes(plan, data, "2026-Q3", "ann", "bookings", payout=Decimal("400.01"), engine="columnar")
    ref = what_it_takes(plan, data, "2026-Q3", "ann", "bookings", payout=Decimal("400.01"))
    assert col.to_dict() == ref.to_dict() and col.amount == Decimal("80001.00")
