"""Shared fixtures: the east-china example evaluated once, and a hostile data set."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.report.model import ReportModel, build_model

ROOT = Path(__file__).resolve().parents[2]
EAST = ROOT / "examples" / "east-china-2026"

EVIL_NAME = "<script>alert('x')</script>"
EVIL_CUSTOMER = '"><img src=x onerror=alert(1)>'
EVIL_IDS = ("../../evil", "<b>bad</b>", "王/五")


@pytest.fixture(scope="session")
def east() -> tuple[Any, Any, Any, ReportModel]:
    plan = kpidsl.load(EAST / "plan.kpi")
    raw = kpidsl.load_data(EAST / "data")
    result = plan.evaluate(raw, "2026-Q3")
    assert result.ok
    return plan, raw, result, build_model(plan, raw, result)


def _deal(key: str, payee: str, amount: str, customer: str, product: str = "CloudSuite") -> dict[str, Any]:
    return {
        "id": key, "payee": payee, "amount": Decimal(amount), "stage": "won",
        "signed_on": "2026-07-10", "customer": customer, "product": product, "new_customer": True,
    }


@pytest.fixture(scope="session")
def hostile() -> tuple[Any, Any, Any, ReportModel]:
    """Names, customers and ids chosen to break HTML, paths and spreadsheets."""
    plan = kpidsl.load(EAST / "plan.kpi")
    payees = [
        {"id": "boss", "name": "老板", "role": "manager", "region": "east", "manager": ""},
        {"id": EVIL_IDS[0], "name": EVIL_NAME, "role": "AE", "region": "east", "manager": "boss"},
        {"id": EVIL_IDS[1], "name": "=HYPERLINK(\"http://x\")", "role": "AE", "region": "<i>r</i>",
         "manager": "boss"},
        {"id": EVIL_IDS[2], "name": "王五", "role": "SE", "region": "east", "manager": "boss"},
    ]
    deals = [
        _deal("EV1", EVIL_IDS[0], "120000.10", EVIL_CUSTOMER),
        _deal("EV2", EVIL_IDS[1], "80000.05", "=1+1"),
        _deal("EV3", EVIL_IDS[2], "50000", "@SUM(A1)", "DataHub"),
        _deal("EV4", EVIL_IDS[2], "-1500.25", "-2+3", "DataHub"),
    ]
    inputs = [
        {"payee": p["id"], "name": "collaboration", "period": "2026-Q3", "value": "80%"} for p in payees
    ]
    raw = kpidsl.load_data({"payees": payees, "deals": deals, "collections": [], "inputs": inputs})
    result = plan.evaluate(raw, "2026-Q3")
    assert result.evaluation is not None, result.data_diagnostics
    return plan, raw, result, build_model(plan, raw, result)
