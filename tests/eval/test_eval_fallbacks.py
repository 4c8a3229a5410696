"""Fallbacks catch failures of the named values they use; only uncovered failures fail a payee.

Also: a dangling reference the plan navigates through is a data error (KPI0722).
"""

from __future__ import annotations

from evalkit import D, make_plan, run, table

from kpidsl.data.bind import bind
from kpidsl.data.navigation import navigated_references
from kpidsl.explain.render import reconcile, render_text

PEOPLE = """
id     name   role  region  manager
alice  Alice  AE    east    -
"""
DEALS = """
id  payee  amount  stage  signed_on
D1  alice  100     won    2026-07-10
"""


def test_missing_input_under_fallback_pays_and_is_recorded_not_reported() -> None:
    body = """
    input collaboration: percent
    payout p: money = 1_000 * (collaboration else 100%)
    """
    alice = run(body, payees=PEOPLE).payees["alice"]
    assert alice.errors == ()
    assert alice.total == D("1000.00")
    failure = alice.failures["collaboration"]
    assert failure.code == "KPI0604" and "collaboration" in failure.message
    # the fallback node shows the caught error, the fallback used and the failed input under it
    node = next(c for c in alice.explanations["p"].children if c.name == "collaboration else 100%")
    assert node.value == "1.00"
    assert any("failed: input `collaboration`" in n for n in node.notes)
    assert any("fallback `100%` used: 1.00" in n for n in node.notes)
    assert [c.name for c in node.children] == ["collaboration"]
    assert node.children[0].error is not None
    assert reconcile(alice.explanations["p"]) == []
    assert "fallback `100%` used" in render_text(alice.explanations["p"])


def test_failure_used_also_without_fallback_is_reported_under_its_own_name() -> None:
    body = """
    input collaboration: percent
    payout p: money = 1_000 * (collaboration else 100%)
    payout q: money = 10 * collaboration
    """
    alice = run(body, payees=PEOPLE).payees["alice"]
    assert [(e.name, e.code) for e in alice.errors] == [("collaboration", "KPI0604")]
    assert alice.errors[0].span is not None and alice.errors[0].span.line > 0
    assert alice.total is None
    assert alice.components == {"p": D("1000.00")}  # p did not depend on the failure
    assert "q" in alice.failures


def test_empty_avg_metric_only_used_under_fallback_keeps_the_total() -> None:
    body = """
    metric avg_deal: money = avg deal.amount where deal.signed_on in period
    payout p: money = (avg_deal else 0) * 1% + 5
    """
    alice = run(body, payees=PEOPLE).payees["alice"]
    assert alice.errors == ()
    assert alice.total == D("5.00")
    assert alice.failures["avg_deal"].code == "KPI0605"
    assert "avg_deal" not in alice.values


def test_failed_value_used_by_nothing_is_still_an_error() -> None:
    body = """
    metric avg_deal: money = avg deal.amount where deal.signed_on in period
    payout p: money = 5
    """
    alice = run(body, payees=PEOPLE).payees["alice"]
    assert [(e.name, e.code) for e in alice.errors] == [("avg_deal", "KPI0605")]
    assert alice.total is None


def test_chain_under_fallback_names_the_root_only_when_uncovered() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.signed_on in period
    metric collected: money = sum collection.amount where collection.received_on in period
    metric rate: percent = collected / bookings
    metric doubled: percent = rate * 2
    payout p: money = 100 * (doubled else 50%)
    """
    covered = run(body, payees=PEOPLE).payees["alice"]
    assert covered.errors == () and covered.total == D("50.00")
    assert {"rate", "doubled"} <= set(covered.failures)
    uncovered = run(body + "payout q: money = 100 * doubled\n", payees=PEOPLE).payees["alice"]
    assert [(e.name, e.code) for e in uncovered.errors] == [("rate", "KPI0601")]
    assert uncovered.total is None


def test_missing_and_zero_target_under_fallback() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.signed_on in period
    payout p: money = 1_000 * (attainment(bookings) else 0%) + 1
    """
    missing = run(body, payees=PEOPLE, deals=DEALS).payees["alice"]
    assert missing.errors == () and missing.total == D("1.00")
    zero = run(body, payees=PEOPLE, deals=DEALS,
               targets="payee metric period value\nalice bookings 2026-Q3 0").payees["alice"]
    assert zero.errors == () and zero.total == D("1.00")


def test_fallback_inside_a_per_fact_expression() -> None:
    body = """
    input boost: percent
    payout p: money = sum deal.amount * (boost else 10%) where deal.signed_on in period
    """
    alice = run(body, payees=PEOPLE, deals=DEALS).payees["alice"]
    assert alice.errors == () and alice.total == D("10.00")


# ---- a dangling reference the plan navigates through -------------------------------------

COLLECTIONS = """
id  deal  payee  amount  received_on
C1  D9    alice  30      2026-07-05
"""


def _bind(body: str) -> list[tuple[str, str]]:
    model = make_plan(body)
    _, diags = bind(model, {"payees": table("payees", PEOPLE), "deals": table("deals", DEALS),
                            "collections": table("collections", COLLECTIONS)})
    return [(d.code, d.severity) for d in diags]


def test_dangling_reference_is_a_warning_when_not_navigated() -> None:
    assert _bind("payout p: money = sum collection.amount where collection.received_on in period\n") \
        == [("KPI0722", "warning")]


def test_dangling_reference_is_an_error_when_navigated_anywhere() -> None:
    navigating = [
        # a payout clause
        """payout p: money = 5 requires (count collection where collection.deal.stage == "won") > 0""",
        # a table key
        """table r by collection.deal.product { "A" : 1%  else : 2% }
        payout p: money = sum collection.amount * r(collection.deal.product) where collection.received_on in period""",
        # an override block only
        """payout p: money = 5
        for role AE { payout p: money = sum collection.amount where collection.deal.product == "A" }""",
    ]
    for body in navigating:
        assert _bind(body + "\n") == [("KPI0722", "error")], body


def test_navigated_references_names_the_first_place() -> None:
    model = make_plan("""
    metric a: money = sum collection.amount where collection.deal.product == "A"
    metric b: money = sum collection.amount where collection.deal.stage == "won"
    """)
    found = navigated_references(model)
    assert set(found) == {("collection", "deal")}
    assert found["collection", "deal"].line == model.base["a"].span.line
