"""Explanations built by the engine reconcile and render, on generated data sets."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.explain.codec import explanation_from_dict
from kpidsl.explain.reconcile import reconcile
from kpidsl.explain.render import render_html, render_json, render_text

pytest.importorskip("kpidsl.eval")

from kpidsl.check import check
from kpidsl.data.bind import bind
from kpidsl.eval import evaluate
from kpidsl.syntax.parser import parse

PLAN = """
plan "generated" { currency CNY  period quarter }
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
metric won: count = count deal where deal.stage == "won" and deal.signed_on in period
metric team_bookings: money = sum deal.amount over team where deal.signed_on in period
target bookings = 100_000
target collected = 80_000
tiers rate marginal on attainment(bookings) { 0% to 50% : 2%  50% to 100% : 5%  100% and up : 8% }
tiers kicker step on won { 0 to 3 : 0%  3 and up : 1% }
score performance { bookings weight 60% cap 150%  collected weight 40% threshold 50% }
payout commission: money = rate(bookings)
  when collected / bookings < 60% then * 50%
  floor 0
payout spiff: money = kicker(bookings) cap 1_500
payout bonus: money = 10_000 * performance requires attainment(bookings) >= 80%
payout override: money = team_bookings * 0.5%
for role SE { payout spiff: money = bookings * 1% }
"""

PAYEES = (("mgr", "manager", ""), ("alice", "AE", "mgr"), ("bob", "AE", "mgr"))


def _table(name: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> RawTable:
    raw = tuple(RawRow(RowRef(f"{name}.csv", n), r) for n, r in enumerate(rows, start=2))
    return RawTable(name=name, file=f"{name}.csv", header=header, rows=raw)


deal_st = st.tuples(
    st.sampled_from(["alice", "bob", "mgr"]),
    st.integers(min_value=-30_000, max_value=150_000),
    st.sampled_from(["won", "won", "open"]),
    st.integers(min_value=1, max_value=92),
    st.integers(min_value=0, max_value=100),
)


def _tables(deals: list[tuple[str, int, str, int, int]], se_from: int) -> dict[str, RawTable]:
    payees = [(p, p.title(), r, "east", m) for p, r, m in PAYEES]
    deal_rows, coll_rows = [], []
    for i, (payee, cents, stage, day, pct) in enumerate(deals):
        date = f"2026-{7 + (day - 1) // 31:02d}-{(day - 1) % 31 + 1:02d}" if day <= 92 else ""
        date = date.replace("-09-31", "-09-30")
        amount = str(Decimal(cents) / 100 * 10)
        deal_rows.append((f"D{i}", payee, amount, stage, date, "c", "p"))
        coll = str(Decimal(cents) * pct / 1000)
        coll_rows.append((f"C{i}", f"D{i}", payee, coll, date))
    history = [("alice", "role", "AE", "2026-01-01"), ("alice", "role", "SE", f"2026-08-{se_from:02d}")]
    return {
        "payees": _table("payees", ("id", "name", "role", "region", "manager"), payees),
        "deals": _table("deals", ("id", "payee", "amount", "stage", "signed_on", "customer", "product"), deal_rows),
        "collections": _table("collections", ("id", "deal", "payee", "amount", "received_on"), coll_rows),
        "payee_history": _table("payee_history", ("payee", "attribute", "value", "effective_from"), history),
    }


def _model():  # type: ignore[no-untyped-def]
    model, diags = check([parse(PLAN, "generated.kpi")])
    assert model is not None, diags
    return model


MODEL = _model()


@settings(max_examples=25, deadline=None)
@given(st.lists(deal_st, max_size=12), st.integers(min_value=2, max_value=28))
def test_every_explanation_of_every_payee_reconciles(deals, se_from) -> None:  # type: ignore[no-untyped-def]
    dataset, diags = bind(MODEL, _tables(deals, se_from))
    assert not [d for d in diags if d.severity == "error"], diags
    result = evaluate(MODEL, dataset, "2026-Q3")
    for pid, pr in result.payees.items():
        for name, expl in pr.explanations.items():
            assert reconcile(expl) == [], (pid, name, render_text(expl))
            data = json.loads(render_json(expl))
            assert explanation_from_dict(data).to_dict() == expl.to_dict()
            assert render_text(expl).startswith(expl.name)
        page = render_html(list(pr.explanations.values()), title=pid)
        assert page.startswith("<!DOCTYPE html>")
