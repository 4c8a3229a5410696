"""Scores, payouts, tiers and tables: weights per override combination, bands, calls."""

from __future__ import annotations

import pytest

from .helpers import BOOKINGS, codes, run

SCORE_BASE = BOOKINGS + "input effort: percent\nscore perf {\n  bookings weight 70%\n  effort weight 30%\n}\n"


def score_block(selector: str, a: int, b: int) -> str:
    return (f"for {selector} {{\n  score perf {{\n    bookings weight {a}%\n"
            f"    effort weight {b}%\n  }}\n}}\n")


def test_score_weights_100_in_base_and_overrides() -> None:
    assert codes(SCORE_BASE + score_block("role AE from 2026-07-01", 60, 40)) == []


def test_failing_override_reports_the_combinations_where_it_applies() -> None:
    plan = (SCORE_BASE + score_block("role AE", 50, 40)
            + score_block("role AE and region west", 60, 40))
    _, diags = run(plan)
    (d,) = diags
    assert d.code == "KPI0402" and "90%" in d.message
    # role AE alone decides; with region west the more specific block wins and sums to 100%.
    assert d.notes == ("effective when these blocks apply: `for role AE`",)


def test_score_line_checks() -> None:
    assert codes(BOOKINGS + "payout p: money = 1\nscore s { p weight 100% }\n") == ["KPI0403"]
    assert codes("metric m: money = sum deal.amount\nscore s { m weight 100% }\n") == ["KPI0404"]


def test_floor_cap_and_payout_type() -> None:
    assert codes(BOOKINGS + "payout p: money = bookings * 1%\n  floor 10\n  cap 5\n") == [
        "KPI0406"]
    assert codes(BOOKINGS + "payout p: money = bookings * 1%\n  floor 5\n  cap 10\n") == []
    assert "KPI0407" in codes("payout p: count = 1\n")


def tiers(bands: str, on: str = "attainment(bookings)", mode: str = "marginal") -> str:
    return BOOKINGS + f"tiers r {mode} on {on} {{\n{bands}}}\npayout c: money = r(bookings)\n"


def test_contiguous_bands_are_accepted() -> None:
    assert codes(tiers("0% to 50% : 2%\n50% to 100% : 5%\n100% and up : 8%\n")) == []


@pytest.mark.parametrize(
    ("bands", "code"),
    [
        ("0% to 50% : 2%\n60% and up : 5%\n", "KPI0301"),
        ("0% to 60% : 2%\n50% and up : 5%\n", "KPI0302"),
        ("10% to 50% : 2%\n50% and up : 5%\n", "KPI0304"),
        ("0% and up : 2%\n50% to 60% : 5%\n", "KPI0305"),
    ],
)
def test_band_problems(bands: str, code: str) -> None:
    assert codes(tiers(bands)) == [code]


def test_marginal_on_attainment_needs_its_own_base() -> None:
    plan = (BOOKINGS + "metric margin: money = sum deal.amount\n"
            "tiers r marginal on attainment(bookings) { 0% and up : 2% }\n"
            "payout c: money = r(margin)\n")
    _, diags = run(plan)
    assert [d.code for d in diags] == ["KPI0309"]
    assert diags[0].help == "use a step or lookup rate times the other base"


def test_step_rate_times_another_base_is_fine() -> None:
    plan = (BOOKINGS + "metric margin: money = sum deal.amount\n"
            "tiers r step on attainment(bookings) { 0% and up : 2% }\n"
            "payout c: money = r(margin)\n")
    assert codes(plan) == []


def test_per_deal_tiers_inside_an_aggregate() -> None:
    plan = ("tiers r marginal per deal on deal.amount { 0 to 10_000 : 1%  10_000 and up : 2% }\n"
            "payout c: money = sum r(deal.amount) where deal.signed_on in period\n")
    assert codes(plan) == []


def test_table_needs_else_and_unique_keys() -> None:
    assert codes('table t by deal.product { "A" : 1 }\n') == ["KPI0311"]
    assert codes('table t by deal.product { "A" : 1  "A" : 2  else : 0 }\n') == ["KPI0312"]
