"""Unit rules: what + - * / and comparisons accept, with labels on both operands."""

from __future__ import annotations

import pytest

from kpidsl.check import units

from .helpers import BOOKINGS, codes, run

DEFS = BOOKINGS + "metric logos: count = count deal\nmetric calls: count = count deal\n"


@pytest.mark.parametrize(
    ("decl", "expr"),
    [
        ("money", "bookings + bookings"),
        ("money", "bookings * 5%"),
        ("money", "bookings * 2"),
        ("money", "bookings * logos"),
        ("percent", "bookings / bookings"),
        ("percent", "logos / calls"),
        ("money", "bookings / logos"),
        ("money", "bookings + 1_000"),  # a literal adapts to the other unit
        ("money", "30_000 * attainment(bookings)"),
        ("number", "logos"),  # count is assignable to number
        ("money", "(bookings / bookings) * bookings"),
        ("percent", "bookings / bookings else 0%"),
    ],
)
def test_accepted_unit_combinations(decl: str, expr: str) -> None:
    assert codes(DEFS + f"metric x: {decl} = {expr}\n") == []


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("bookings + logos", "KPI0202"),
        ("bookings * bookings", "KPI0203"),
        ("logos / bookings", "KPI0204"),
        ("attainment(bookings)", "KPI0205"),
    ],
)
def test_rejected_unit_combinations(expr: str, code: str) -> None:
    assert codes(DEFS + f"metric x: money = {expr}\n") == [code]


def test_money_plus_count_labels_both_operands_with_their_types() -> None:
    _, diags = run(DEFS + "metric x: money = bookings + logos\n")
    (d,) = diags
    assert d.primary.message == "money" and d.secondary[0].message == "count"
    assert d.primary.span.col < d.secondary[0].span.col
    assert d.primary.span.end_col - d.primary.span.col == len("bookings")


def test_comparison_literal_adapts_but_units_must_agree() -> None:
    assert codes(DEFS + "payout p: money = 1\n  requires bookings > 10_000\n") == []
    assert codes(DEFS + "payout p: money = 1\n  requires logos > 10%\n") == ["KPI0207"]


def test_conditions_must_be_bool() -> None:
    assert codes(DEFS + "metric x: money = sum deal.amount where deal.amount\n") == ["KPI0206"]


def test_sum_of_text_is_error_avg_of_money_is_money_count_is_count() -> None:
    assert codes("metric x: money = sum deal.stage\n") == ["KPI0212"]
    assert codes("metric x: money = avg deal.amount else 0\n") == []
    assert codes("metric x: money = count deal\n") == ["KPI0205"]


def test_unit_tables_directly() -> None:
    assert units.multiply("money", "money") is None
    assert units.divide("money", "money") == "percent"
    assert units.add("money", "count", False, False) is None
    assert units.add("number", "money", True, False) == "money"
    assert units.assignable("money", "number") and not units.assignable("money", "count")
