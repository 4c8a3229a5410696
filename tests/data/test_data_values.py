"""Accepted text formats of typed cells: numbers, percents, counts, dates, booleans, periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpidsl.data.values import (
    ValueProblem,
    parse_bool,
    parse_count,
    parse_date,
    parse_decimal,
    parse_percent,
    parse_period_text,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234.50", "1234.50"),
        ("-12.00", "-12.00"),
        ("+7", "7"),
        ("1,234.50", "1234.50"),
        ("1,234,567", "1234567"),
        ("1_000_000", "1000000"),
        ("1_0000.5", "10000.5"),
        ("0.123456789", "0.123456789"),
    ],
)
def test_decimal_formats_keep_the_exact_value_and_scale(text: str, value: str) -> None:
    result = parse_decimal(text)
    assert result == Decimal(value)
    assert str(result) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12,3O0.00", "not a decimal number"),
        ("12,30.00", "malformed thousands separators"),
        ("1,2345", "malformed thousands separators"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("1e5", "exponents are not accepted"),
        ("1.5E-3", "exponents are not accepted"),
        (".5", "digit on both sides"),
        ("5.", "digit on both sides"),
        ("¥100", "not a decimal number"),
        ("1,000_000", "not a decimal number"),
        ("1__000", "not a decimal number"),
        ("(12.00)", "not a decimal number"),
    ],
)
def test_bad_decimals_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_decimal(text)


def test_percent_accepts_a_sign_or_a_plain_ratio() -> None:
    assert parse_percent("90%") == Decimal("0.90")
    assert parse_percent("12.5 %") == Decimal("0.125")
    assert parse_percent("0.9") == Decimal("0.9")
    # shifting the exponent is exact even beyond the default 28 digits
    long = "1" * 40 + "%"
    assert parse_percent(long) == Decimal("1" * 38 + ".11")


def test_count_must_be_whole() -> None:
    assert parse_count("1_200") == Decimal(1200)
    assert parse_count("3.0") == Decimal(3)
    with pytest.raises(ValueProblem, match="whole number"):
        parse_count("2.5")


def test_dates_are_iso_calendar_dates() -> None:
    assert parse_date("2026-07-10") == dt.date(2026, 7, 10)
    with pytest.raises(ValueProblem, match="no such calendar date"):
        parse_date("2026-02-30")
    for bad in ("2026/07/10", "10/07/2026", "20260710", "2026-7-10", "2026-07-10T00:00"):
        with pytest.raises(ValueProblem, match="YYYY-MM-DD"):
            parse_date(bad)


def test_booleans() -> None:
    for text in ("true", "TRUE", "yes", "1"):
        assert parse_bool(text) is True
    for text in ("false", "No", "0"):
        assert parse_bool(text) is False
    with pytest.raises(ValueProblem, match="not a boolean"):
        parse_bool("maybe")


def test_periods_are_canonical_with_their_granularity() -> None:
    assert parse_period_text("2026-q3") == ("2026-Q3", "quarter")
    assert parse_period_text("2026-03") == ("2026-03", "month")
    assert parse_period_text("2026-H2") == ("2026-H2", "half")
    assert parse_period_text("2026") == ("2026", "year")
    for bad in ("2026-13", "2026-Q5", "Q3-2026", "26"):
        with pytest.raises(ValueProblem, match="not a period"):
            parse_period_text(bad)
