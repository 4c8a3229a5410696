"""The JSON result: its shape (pydantic schema), decimal strings and byte-identical output."""

from __future__ import annotations

import json

from evalkit import run

from kpidsl.eval import ResultModel, result_to_json

BODY = """
metric bookings: money = sum deal.amount where deal.signed_on in period
metric ratio: percent = bookings / bookings
payout p: money = bookings * 2.5%
"""
PAYEES = "id name role region manager\nalice Alice AE east -\n张三 Zhang AE east -"
DEALS = "id payee amount stage signed_on\nD1 alice 1000 won 2026-07-01"


def test_json_shape_and_numbers_as_strings() -> None:
    r = run(BODY, payees=PAYEES, deals=DEALS)
    text = result_to_json(r, {"name": "Plan", "version": "1", "digest": "abc"}, "sha")
    doc = json.loads(text)
    ResultModel.model_validate(doc)
    assert doc["payees"]["alice"]["total"] == "25.00"
    assert doc["payees"]["alice"]["values"]["bookings"] == "1000"
    assert doc["payees"]["张三"]["total"] is None
    assert doc["errors"][0]["code"] == "KPI0601" and doc["errors"][0]["payee"] == "张三"
    assert "张三" in text  # ensure_ascii=False
    assert text == result_to_json(run(BODY, payees=PAYEES, deals=DEALS),
                                  {"name": "Plan", "version": "1", "digest": "abc"}, "sha")


def test_schema_is_available() -> None:
    schema = ResultModel.model_json_schema()
    assert set(schema["required"]) == {"plan", "data_digest", "period", "payees", "errors"}
