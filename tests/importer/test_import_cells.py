"""Cell conversions: float text, declared number and date formats, Excel serials."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kpidsl.data.values import ValueProblem
from kpidsl.importer.cells import excel_serial, float_text, parse_date, parse_number


@pytest.mark.parametrize(("value", "text", "noisy"), [
    (120000.5, "120000.5", False),
    (3.0, "3", False),
    (0.1 + 0.2, "0.30000000000000004", True),  # float-ok: the noise is the point
    (1e16, "10000000000000000", False),
    (-9.99, "-9.99", False),
    (0.125, "0.125", True),
])
def test_float_text_is_the_shortest_round_trip(value: float, text: str, noisy: bool) -> None:  # float-ok
    assert float_text(value) == (text, noisy)


def test_float_text_refuses_non_finite() -> None:
    with pytest.raises(ValueProblem):
        float_text(float("nan"))  # float-ok


@pytest.mark.parametrize(("text", "kwargs", "expected"), [
    ("1,234.50", {}, "1234.50"),
    ("１２,３００.００", {}, "12300.00"),
    ("¥8,000", {"currency": ["¥"]}, "8000"),
    ("￥8,000.00", {"currency": ["¥"]}, "8000.00"),
    ("-¥5.00", {"currency": ["¥"]}, "-5.00"),
    ("100 元", {"currency": ["元"]}, "100"),
    ("(1,500.00)", {"negative_parens": True}, "-1500.00"),
    ("12.5%", {"percent": True}, "0.125"),
    ("１２％", {"percent": True}, "0.12"),
    ("1 234 567", {"thousands": " "}, "1234567"),
])
def test_parse_number_by_declared_format(text: str, kwargs: dict[str, object], expected: str) -> None:
    assert parse_number(text, **kwargs) == Decimal(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "kwargs"), [
    ("12,3O0.00", {}), ("¥100", {}), ("(12.00)", {}), ("12%", {}), ("12,30.00", {}),
    ("(-1.00)", {"negative_parens": True}), ("1e5", {}),
])
def test_parse_number_refuses_undeclared_or_malformed(text: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueProblem):
        parse_number(text, **kwargs)  # type: ignore[arg-type]


FORMATS = ["%Y/%m/%d", "%Y年%m月%d日", "excel_serial"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026/7/1", dt.date(2026, 7, 1)),
    ("2026年7月1日", dt.date(2026, 7, 1)),
    ("２０２６年７月１日", dt.date(2026, 7, 1)),
    ("46204", dt.date(2026, 7, 1)),
    ("2026-07-01", dt.date(2026, 7, 1)),
])
def test_parse_date_by_declared_formats(text: str, expected: dt.date) -> None:
    assert parse_date(text, FORMATS) == expected


def test_parse_date_refuses_other_forms() -> None:
    for text in ("2026/13/1", "01/07/2026", "2026-02-30"):
        with pytest.raises(ValueProblem):
            parse_date(text, FORMATS)
    with pytest.raises(ValueProblem):
        parse_date("46204", ["%Y/%m/%d"])  # a serial only when declared


def test_excel_serial_edges() -> None:
    assert excel_serial("1") == dt.date(1900, 1, 1)
    assert excel_serial("61") == dt.date(1900, 3, 1)
    with pytest.raises(ValueProblem):
        excel_serial("60")  # Excel's phantom 1900-02-29
