"""Overrides (specificity, versions), segments, proration and period-boundary plans."""

from __future__ import annotations

from evalkit import HEADER, D, run

PAYEES = """
id     name   role  region  manager  level
alice  Alice  AE    east    -        senior
bob    Bob    SE    west    -        junior
carol  Carol  AE    west    -        junior
"""
DEALS = """
id  payee  amount  stage  signed_on
A1  alice  1000    won    2026-07-10
A2  alice  1000    won    2026-08-20
B1  bob    1000    won    2026-07-10
C1  carol  1000    won    2026-07-10
"""
BASE = """
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
const rate: percent = 1%
payout p: money = bookings * rate
"""


def test_most_specific_block_wins_and_explains_why() -> None:
    body = BASE + """
    for role AE { const rate: percent = 2% }
    for role AE and region west { const rate: percent = 3% }
    for payee "alice" { const rate: percent = 5% }
    """
    r = run(body, payees=PAYEES, deals=DEALS)
    assert r.payees["alice"].components["p"] == D("100.00")
    assert r.payees["carol"].components["p"] == D("30.00")
    assert r.payees["bob"].components["p"] == D("10.00")
    why = r.payees["carol"].explanations["rate"].override
    assert why is not None and why.startswith("for role AE and region west (plan.kpi:")
    assert why.endswith("carol has role AE and region west")


def test_custom_attribute_selector() -> None:
    body = BASE + "for level senior { const rate: percent = 4% }\n"
    r = run(body, payees=PAYEES, deals=DEALS)
    assert r.payees["alice"].components["p"] == D("80.00")
    assert r.payees["carol"].components["p"] == D("10.00")


def test_redefinition_replaces_gates_too() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
    payout p: money = bookings * 1%
      requires bookings > 5_000
    for role SE { payout p: money = bookings * 1% }
    """
    r = run(body, payees=PAYEES, deals=DEALS)
    assert r.payees["bob"].components["p"] == D("10.00")
    assert r.payees["carol"].components["p"] == D("0.00")


def test_dated_block_splits_the_period_and_prorates_per_period_constants() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
    const rate: percent = 1%
    const ti: money = 9_200 per period
    payout p: money = bookings * rate
    payout q: money = ti
    for role AE from 2026-08-01 { const rate: percent = 2% }
    """
    r = run(body, payees=PAYEES, deals=DEALS)
    alice = r.payees["alice"]
    assert alice.components["p"] == D("30.00")  # 1000 x 1% (July) + 1000 x 2% (Aug-Sep)
    assert alice.components["q"] == D("9200.00")  # 9200 x 31/92 + 9200 x 61/92
    segs = alice.explanations["p"].children
    assert [s.kind for s in segs] == ["segment", "segment"]
    assert sum(D(s.value) for s in segs if s.value) == D("30")
    assert alice.values["bookings@2026-07-01"] == D("1000")
    assert alice.values["bookings@2026-08-01"] == D("1000")
    assert r.payees["bob"].explanations["p"].children[0].kind != "segment"  # SE: one segment


def test_history_changes_role_mid_period() -> None:
    body = BASE + "for role SE { const rate: percent = 10% }\n"
    history = "payee attribute value effective_from\nalice role SE 2026-08-01"
    r = run(body, payees=PAYEES, deals=DEALS, payee_history=history)
    assert r.payees["alice"].components["p"] == D("110.00")  # July as AE 1%, Aug as SE 10%


def test_cap_applies_after_summing_segments() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
    const rate: percent = 10%
    payout p: money = bookings * rate
      cap 150
    for role AE from 2026-08-01 { const rate: percent = 10% }
    """
    alice = run(body, payees=PAYEES, deals=DEALS).payees["alice"]
    assert alice.components["p"] == D("150.00")  # 100 + 100, capped once


def test_target_prorated_in_segments() -> None:
    body = """
    metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
    target bookings = 9_200
    const r: percent = 1%
    payout p: money = attainment(bookings) * 100
    for role AE from 2026-08-01 { const r: percent = 2% }
    """
    alice = run(body, payees=PAYEES, deals=DEALS).payees["alice"]
    assert alice.values["target(bookings)@2026-07-01"] == D("3100")  # 9200 x 31/92
    assert alice.values["target(bookings)@2026-08-01"] == D("6100")


def test_changes_at_period_boundaries_makes_mid_period_change_an_error() -> None:
    header = HEADER.replace("rounding half_up 0.01", "rounding half_up 0.01\n  changes at_period_boundaries")
    history = "payee attribute value effective_from\nalice role SE 2026-08-01"
    r = run(BASE, header=header, payees=PAYEES, deals=DEALS, payee_history=history)
    assert [e.code for e in r.payees["alice"].errors] == ["KPI0609"]
    assert r.payees["alice"].total is None
    assert r.payees["bob"].total == D("10.00")


def test_versions_later_from_supersedes() -> None:
    body = BASE + """
    for role AE from 2026-07-01 { const rate: percent = 2% }
    for role AE from 2026-09-01 { const rate: percent = 3% }
    """
    carol = run(body, payees=PAYEES, deals=DEALS).payees["carol"]
    assert carol.components["p"] == D("20.00")
    assert carol.values["rate@2026-09-01"] == D("0.03")
