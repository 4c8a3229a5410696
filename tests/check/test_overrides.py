"""Override resolution statics: ambiguity, coverage, versions, windows, boundaries."""

from __future__ import annotations

import datetime as dt

from kpidsl.check import selectors

from .helpers import BOOKINGS, codes, run

BASE = BOOKINGS + "payout spiff: money = 100\n"


def block(selector: str, value: int = 200) -> str:
    return f"for {selector} {{\n  payout spiff: money = {value}\n}}\n"


def test_same_attribute_different_values_are_never_ambiguous() -> None:
    assert codes(BASE + block("role AE") + block("role SE")) == []


def test_different_attributes_overlap_and_are_ambiguous() -> None:
    _, diags = run(BASE + block("role SE") + block("region west"))
    (d,) = diags
    assert d.code == "KPI0501"
    assert d.secondary[0].span.line < d.primary.span.line
    assert "region west and role SE" in (d.help or "")


def test_more_specific_block_resolves_the_ambiguity() -> None:
    plan = BASE + block("role SE") + block("region west") + block("role SE and region west")
    assert codes(plan) == []


def test_resolution_must_cover_the_whole_overlap_window() -> None:
    plan = (BASE + block("role SE") + block("region west")
            + block("role SE and region west from 2026-07-01"))
    assert codes(plan) == ["KPI0501"]


def test_disjoint_windows_are_not_ambiguous() -> None:
    plan = BASE + block("role SE until 2026-06-30") + block("region west from 2026-07-01")
    assert codes(plan) == []


def test_payee_beats_attributes_and_different_specificity_is_fine() -> None:
    plan = BASE + block('payee "p-1"') + block("role SE") + block("role SE and region west")
    assert codes(plan) == []


def test_versions_of_one_selector() -> None:
    assert codes(BASE + block("role SE") + block("role SE from 2026-07-01")) == []
    assert codes(BASE + block("role SE from 2026-07-01")
                 + block("role SE from 2026-07-01")) == ["KPI0502"]


def test_selector_and_window_checks() -> None:
    assert codes(BASE + block("role SE and role AE")) == ["KPI0503"]
    assert codes(BASE + block("role SE from 2026-07-01 until 2026-06-30")) == ["KPI0504"]


def test_period_boundaries_follow_the_fiscal_year() -> None:
    header = ('plan "T" {\n  currency USD\n  period quarter\n  fiscal_year_start 02-01\n'
              "  changes at_period_boundaries\n}\n")
    assert codes(BASE + block("role SE from 2026-05-01 until 2026-07-31"), header) == []
    assert codes(BASE + block("role SE from 2026-04-01"), header) == ["KPI0506"]
    assert codes(BASE + block("role SE until 2026-06-30"), header) == ["KPI0506"]


def test_mid_period_dates_are_fine_when_changes_any_day() -> None:
    assert codes(BASE + block("role SE from 2026-08-15")) == []


def test_covered_merges_adjacent_windows() -> None:
    d = dt.date
    want = (d(2026, 1, 1), d(2026, 12, 31))
    halves = [(d(2026, 1, 1), d(2026, 6, 30)), (d(2026, 7, 1), d(2026, 12, 31))]
    assert selectors.covered(want, halves)
    assert not selectors.covered(want, halves[:1])
