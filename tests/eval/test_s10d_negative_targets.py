"""Decision s10d: a negative target makes attainment undefined (KPI0603, as a zero target),
and a negative target in the data is rejected at binding (KPI0710); zero stays allowed in data.

The conformance cases are tests/conformance/s10d_negative_targets.yaml; here: the wording,
the bulk and quick payee stages agreeing with the reference, and the data diagnostic.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import pytest
from evalkit import make_plan, table

from kpidsl.data.bind import bind
from kpidsl.diagnostics import Diagnostic
from kpidsl.eval import Engine
from kpidsl.eval.bulk import Bulk
from kpidsl.eval.quick import NeedsReference

PLAN = """
metric bookings: money = sum deal.amount where deal.signed_on in period
metric last_quarter: money = sum deal.amount where deal.signed_on in previous period
target bookings = last_quarter * 110%
tiers r step on attainment(bookings) { 0% to 100% : 2%  100% and up : 5% }
tiers m marginal on attainment(bookings) { 0% to 100% : 1%  100% and up : 3% }
score performance { bookings weight 100% }
metric att: percent = attainment(bookings)
payout step_pay: money = r(bookings)
payout marginal_pay: money = m(bookings)
payout bonus: money = 1_000 * performance
payout gated: money = 500
  requires attainment(bookings) >= 80%
payout fixed: money = 100
"""

# payee i: last quarter (i - 3) x 10,000, this quarter 50,000: alice..carol negative targets
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]


def _tables() -> dict[str, str]:
    payees = "id name role region manager\n" + "\n".join(f"{n} {n.title()} AE east -" for n in NAMES)
    rows = []
    for i, n in enumerate(NAMES):
        rows.append(f"P{i} {n} {(i - 3) * 10000} won 2026-05-10")
        rows.append(f"Q{i} {n} 50000 won 2026-07-10")
    return {"payees": payees, "deals": "id payee amount stage signed_on\n" + "\n".join(rows)}


def _evaluate(explain: bool) -> Any:
    model = make_plan(PLAN)
    raw = {name: table(name, text) for name, text in _tables().items()}
    data, diags = bind(model, raw)
    assert not [d for d in diags if d.severity == "error"], diags
    engine = Engine(model, data, explain=explain)
    return engine.evaluate(engine.period("2026-Q3")), engine


def _summary(result: Any) -> dict[str, Any]:
    return {pid: (pr.total, pr.components, list(pr.values.items()),
                  [(e.name, e.code, e.message) for e in pr.errors])
            for pid, pr in result.payees.items()}


def test_attainment_against_a_negative_target_is_kpi0603_for_that_payee() -> None:
    result, _ = _evaluate(explain=True)
    alice = result.payees["alice"]  # target -30,000 x 110% = -33,000
    failed = {e.name: e for e in alice.errors}
    for name in ("att", "step_pay", "marginal_pay", "performance", "gated"):
        assert failed[name].code == "KPI0603", (name, failed[name])
    assert "target for `bookings` is -33,000 (negative) for payee alice in 2026-Q3" in failed["att"].message
    assert failed["att"].message.endswith("attainment is undefined")
    assert alice.total is None
    assert alice.components["fixed"] == Decimal("100.00")
    assert alice.values["target(bookings)"] == Decimal("-33000")
    # dave's target is 0: the zero-target wording, unchanged
    assert "is 0 for payee dave" in {e.name: e for e in result.payees["dave"].errors}["att"].message
    # erin: target 11,000; 50,000 / 11,000 > 100%: 5% x 50,000 = 2,500.00
    erin = result.payees["erin"]
    assert not erin.errors
    assert erin.components["step_pay"] == Decimal("2500.00")
    assert erin.components["gated"] == Decimal("500.00")


def test_the_bulk_and_quick_stages_agree_with_the_reference() -> None:
    full, _ = _evaluate(explain=True)
    fast, engine = _evaluate(explain=False)
    assert engine.bulk_surprises == []
    assert _summary(fast) == _summary(full)
    assert [p for p, pr in fast.payees.items() if pr.errors] == ["alice", "bob", "carol", "dave"]


def test_the_bulk_and_quick_stages_hand_a_negative_target_to_the_reference() -> None:
    ctx = decimal.Context(prec=28)
    fake = type("F", (), {"ctx": ctx})()
    with pytest.raises(NeedsReference):
        Bulk._ratio(fake, Decimal("50000"), Decimal("-11000"))  # type: ignore[arg-type]
    assert Bulk._ratio(fake, Decimal("50000"), Decimal("25000")) == 2  # type: ignore[arg-type]


def _bind_targets(targets: str, percent: bool = False) -> list[Diagnostic]:
    body = "metric bookings: money = sum deal.amount where deal.signed_on in period\n"
    if percent:
        body += "metric margin: percent = 10%\n"
    model = make_plan(body + "target bookings = 100_000\n")
    payees = "id name role region manager\nalice Alice AE east -\nbob Bob AE west -"
    raw = {"payees": table("payees", payees), "targets": table("targets", targets)}
    _, diags = bind(model, raw)
    return [d for d in diags if d.severity == "error"]


def test_a_negative_data_target_is_rejected_with_where_and_why() -> None:
    errors = _bind_targets("""
        payee metric   period  value
        bob   bookings 2026-Q3 100000
        alice bookings 2026-Q3 -5000
    """)
    assert [d.code for d in errors] == ["KPI0710"]
    message = errors[0].message
    assert message.startswith("invalid value '-5000' in targets.csv line 3, column value: ")
    assert "a target cannot be negative" in message
    assert errors[0].help and "positive" in errors[0].help
    assert errors[0].cell is not None


def test_a_negative_percent_data_target_is_rejected_too() -> None:
    errors = _bind_targets("""
        payee metric period  value
        alice margin 2026-Q3 -5%
    """, percent=True)
    assert [d.code for d in errors] == ["KPI0710"]


def test_zero_and_positive_data_targets_are_accepted() -> None:
    assert _bind_targets("""
        payee metric   period  value
        alice bookings 2026-Q3 0
        bob   bookings 2026-Q3 100000
    """) == []
