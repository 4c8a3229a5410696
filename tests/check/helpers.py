"""Check plan text in tests: parse (must be free of syntax errors), then check."""

from __future__ import annotations

from kpidsl.check import check
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import PlanModel
from kpidsl.syntax.parser import parse_source

HEADER = 'plan "T" {\n  currency USD\n  period quarter\n}\n'
BOOKINGS = (
    'metric bookings: money = sum deal.amount where deal.signed_on in period\n'
    "target bookings = 100_000\n"
)


def run(body: str, header: str = HEADER) -> tuple[PlanModel | None, list[Diagnostic]]:
    module, diags = parse_source(header + body, "t.kpi")
    assert module is not None and not diags, diags
    return check([module])


def codes(body: str, header: str = HEADER) -> list[str]:
    return [d.code for d in run(body, header)[1]]
