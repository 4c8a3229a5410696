"""Notebook display helpers and the progress toward the next tier."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from typing import Any

import pytest

from kpidsl.report.notebook import explanation_html, result_html, to_pandas

from .conftest import EVIL_IDS


def test_result_html_lists_payees_escaped(hostile: Any) -> None:
    result = hostile[2]
    page = result_html(result)
    assert "<b>bad</b>" not in page and "&lt;b&gt;bad&lt;/b&gt;" in page
    assert page.count("<tr>") == len(result.payees) + 1  # and the header row
    assert "<script>" not in page
    assert "2,000.00" in page  # the ../../evil payee's total, digits grouped


def test_explanation_html_is_a_collapsible_tree(east: Any) -> None:
    result = east[2]
    page = explanation_html(result.explain("lina", "commission"))
    assert page.count("<details") >= 2 and "commission" in page and "<script" not in page


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed")
def test_to_pandas_without_pandas_says_what_to_install(east: Any) -> None:
    with pytest.raises(ImportError, match="pip install pandas"):
        to_pandas(east[2])


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")
def test_to_pandas_keeps_decimals(east: Any) -> None:  # pragma: no cover - needs pandas
    frame = to_pandas(east[2])
    assert isinstance(frame.loc["lina", "total"], Decimal)
    assert all(str(dt) == "object" for dt in frame.dtypes)


def test_progress_to_the_next_band(east: Any) -> None:
    _, _, result, model = east
    lina = model.payee("lina")
    values = result.payees["lina"].values
    (p,) = lina.progress
    _target, bookings = values["target(bookings)"], values["bookings"]
    assert p.tiers == "commission_rate" and p.current == bookings
    # lina is at 163.68%: in the top band already
    assert p.next_edge is None and p.needed is None and p.band == "150% and up"


def test_progress_amount_still_needed(east: Any) -> None:
    _, _, result, model = east
    for view in model.payees:
        for p in view.progress:
            if p.next_edge is None:
                continue
            values = result.payees[view.id].values
            att = values["attainment(bookings)"]
            assert p.needed == max(Decimal(0), p.next_edge - p.current)
            assert p.next_edge > p.current or att >= 0
            assert Decimal(0) <= p.fraction <= Decimal(1)


def test_progress_edge_is_band_lower_times_target(hostile: Any) -> None:
    _, _, _result, model = hostile
    evil = model.payee(EVIL_IDS[0])  # AE, bookings 120,000.10 against the default 1,000,000
    (p,) = evil.progress
    assert p.band == "0% to 50%" and p.next_band == "50% to 100%"
    assert p.next_edge == Decimal("500000.00")
    assert p.needed == Decimal("500000.00") - Decimal("120000.10")
    page = __import__("kpidsl.report.statement", fromlist=["x"]).statement_page(evil, model)
    assert "379,999.90 more reaches the next band" in page
