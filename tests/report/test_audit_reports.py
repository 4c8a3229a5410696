"""Audit of the reports: confirmed defects in statements and team pages.

Each test builds a tiny data set for the East China example plan, evaluates it
on the reference engine and checks one page of the report.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.explain.tree import Explanation
from kpidsl.report.model import ReportModel, build_model
from kpidsl.report.statement import statement_page, team_page

EAST = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026"


@pytest.fixture(scope="module")
def plan() -> Any:
    return kpidsl.load(EAST / "plan.kpi")


def _payee(pid: str, manager: str = "", role: str = "AE") -> dict[str, Any]:
    return {"id": pid, "name": pid.upper(), "role": role, "region": "east", "manager": manager}


def _deal(key: str, payee: str, amount: str, signed: str = "2026-07-10", customer: str = "c") -> dict[str, Any]:
    return {"id": key, "payee": payee, "amount": Decimal(amount), "stage": "won", "signed_on": signed,
            "customer": customer, "product": "CloudSuite", "new_customer": True}


def _collection(key: str, deal: str, payee: str, amount: str, on: str) -> dict[str, Any]:
    return {"id": key, "deal": deal, "payee": payee, "amount": Decimal(amount), "received_on": on}


def _report(plan: Any, tables: dict[str, Any]) -> tuple[Any, ReportModel]:
    tables.setdefault("collections", [])
    tables["inputs"] = [{"payee": p["id"], "name": "collaboration", "period": "2026-Q3", "value": "80%"}
                        for p in tables["payees"]]
    raw = kpidsl.load_data(tables)
    result = plan.evaluate(raw, "2026-Q3", explain=True)
    assert result.evaluation is not None and result.ok, result.data_diagnostics
    return result, build_model(plan, raw, result)


def _tree_facts(result: Any, pid: str) -> set[str]:
    keys: set[str] = set()
    stack: list[Explanation] = list(result.payees[pid].explanations.values())
    while stack:
        node = stack.pop()
        keys.update(node.facts)
        stack.extend(node.children)
    return keys


def _listed(page: str) -> set[str]:
    return {unescape(x) for x in re.findall(r"data-fact='([^']*)'", page)}


def test_collection_following_a_split_deal_is_on_the_co_sellers_statement(plan: Any) -> None:
    """docs/reports.md: "A statement contains ... the facts that appear in their
    explanations **and** are credited to them"; docs/language.md: "A collection
    without credit rows of its own follows its deal's credits."

    D1 is split 50/50 between a and b; its collection C1 has no credit rows, so it
    follows D1 and half of it is in b's `collected`. b's statement must list C1."""
    tables = {
        "payees": [_payee("a"), _payee("b")],
        "deals": [_deal("D1", "a", "100000")],
        "collections": [_collection("C1", "D1", "a", "60000", "2026-08-01")],
        "credits": [{"kind": "deal", "fact": "D1", "payee": "a", "share": "50%", "type": "split"},
                    {"kind": "deal", "fact": "D1", "payee": "b", "share": "50%", "type": "split"}],
    }
    result, m = _report(plan, tables)
    assert result.payees["b"].values["collected"] == Decimal("30000.00")
    assert "C1" in _tree_facts(result, "b")
    assert "collection:C1" in _listed(statement_page(m.payee("b"), m))


def test_a_fact_of_another_kind_sharing_a_key_is_not_listed(plan: Any) -> None:
    """docs/reports.md: "the facts behind the figures" are "the facts that appear in
    their explanations **and** are credited to them".

    The deal X1 is behind a's bookings; the collection also keyed X1 was received in
    January and is behind no Q3 figure (collected is 0), yet it is listed."""
    tables = {
        "payees": [_payee("a")],
        "deals": [_deal("X1", "a", "100000"), _deal("D0", "a", "5000", signed="2026-01-05")],
        "collections": [_collection("X1", "D0", "a", "777", "2026-01-20")],
    }
    result, m = _report(plan, tables)
    assert result.payees["a"].values["collected"] == 0
    assert _listed(statement_page(m.payee("a"), m)) == {"deal:X1"}


def test_segmented_manager_statement_lists_facts_of_a_report_who_left(plan: Any) -> None:
    """docs/reports.md: "A manager paid on the team sees their team's facts in their
    statement — the facts their pay is computed from"; docs/language.md: team scope
    is "taken from the hierarchy as of the segment's last day".

    boss1's quarter is split on 08-17 (a region change); a reports to boss1 until
    08-19, so a's deal D1 is in boss1's first segment (bookings 150,000) and in the
    explanation, but boss1's statement omits it."""
    tables = {
        "payees": [_payee("boss1", role="manager"), _payee("boss2", role="manager"),
                   _payee("a", "boss1"), _payee("c", "boss1")],
        "deals": [_deal("D1", "a", "100000"), _deal("D2", "c", "50000")],
        "payee_history": [
            {"payee": "boss1", "attribute": "region", "value": "north", "effective_from": "2026-08-17"},
            {"payee": "a", "attribute": "manager", "value": "boss2", "effective_from": "2026-08-20"},
        ],
    }
    result, m = _report(plan, tables)
    assert result.payees["boss1"].values["bookings@2026-07-01"] == Decimal("150000")
    assert "D1" in _tree_facts(result, "boss1")
    assert "deal:D1" in _listed(statement_page(m.payee("boss1"), m))


def test_fact_fields_are_shown_as_written(plan: Any) -> None:
    """docs/reports.md: the statement shows "the facts behind the figures (every field
    and its source row)"; docs/explanations.md: numbers are shown with "every digit
    kept".

    A deal keyed `007` for customer `0012345678` is shown as `7` and `12,345,678`: the
    reader cannot find the deal the explanation names (`007`)."""
    d = _deal("007", "a", "100000", customer="0012345678")
    _, m = _report(plan, {"payees": [_payee("a")], "deals": [d]})
    page = statement_page(m.payee("a"), m)
    row = re.search(r"<tr data-fact='deal:007'>(.*?)</tr>", page)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[0] == "007"
    assert "0012345678" in cells


def test_team_page_figure_keys_are_unambiguous(plan: Any) -> None:
    """docs/reports.md: "Every figure is an element with `data-key` (...; on the team
    page and leaderboard prefixed with the payee id) and `data-value`".

    A member whose id is `team` gets `team.total`, the key of the team total: a checker
    cannot tell the two figures apart."""
    tables = {
        "payees": [_payee("boss", role="manager"), _payee("team", "boss"), _payee("b", "boss")],
        "deals": [_deal("D1", "team", "100000"), _deal("D2", "b", "50000")],
    }
    _, m = _report(plan, tables)
    keys = re.findall(r'data-key="([^"]*)"', team_page(m.payee("boss"), m))
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
