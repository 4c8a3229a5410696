"""Credits (split, overlay, inheritance), team scope, one-hop references and prior()."""

from __future__ import annotations

from evalkit import HEADER, D, make_plan, run, table

from kpidsl.data.bind import bind
from kpidsl.eval import evaluate

PAYEES = """
id     name   role     region  manager
mgr    Mgr    manager  east    -
lead   Lead   manager  east    mgr
alice  Alice  AE       east    lead
bob    Bob    AE       east    lead
spec   Spec   SE       east    mgr
"""
DEALS = """
id  payee  amount  stage  signed_on   product
D1  alice  1000    won    2026-07-10  A
D2  bob    500     won    2026-07-11  B
D3  lead   200     won    2026-07-12  A
"""
CREDITS = """
kind  fact  payee  share  type
deal  D1    alice  60%    split
deal  D1    bob    40%    split
deal  D1    spec   100%   overlay
"""
BODY = """
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric overlay_b: money = sum deal.amount credited overlay where deal.signed_on in period
metric any_b: money = sum deal.amount credited any where deal.signed_on in period
metric n: count = count deal where deal.signed_on in period
metric frac: number = sum deal.share where deal.signed_on in period
metric team_b: money = sum deal.amount over team where deal.signed_on in period
metric all_b: money = sum deal.amount over self + team where deal.signed_on in period
metric team_n: count = count deal over team where deal.signed_on in period
"""


def test_split_overlay_any_and_share() -> None:
    r = run(BODY, payees=PAYEES, deals=DEALS, credits=CREDITS)
    alice, bob, spec = (r.payees[p].values for p in ("alice", "bob", "spec"))
    assert alice["bookings"] == D("600") and bob["bookings"] == D("900")
    assert spec["bookings"] == D("0") and spec["overlay_b"] == D("1000") and spec["any_b"] == D("1000")
    assert alice["n"] == D("1") and bob["n"] == D("2")
    assert alice["frac"] == D("0.60") and bob["frac"] == D("1.40")


def test_team_scope_is_the_subtree_below_excluding_self() -> None:
    r = run(BODY, payees=PAYEES, deals=DEALS, credits=CREDITS)
    lead, mgr = r.payees["lead"].values, r.payees["mgr"].values
    assert lead["team_b"] == D("1500") and lead["all_b"] == D("1700")
    assert lead["team_n"] == D("2")  # D1 counted once although split between two reports
    assert mgr["team_b"] == D("1700")  # any depth; spec's overlay is not a split credit
    note = r.payees["lead"].explanations["team_b"].notes
    assert any("alice, bob" in n for n in note)


def test_team_hierarchy_as_of_segment_last_day() -> None:
    history = "payee attribute value effective_from\nbob manager mgr 2026-09-30"
    r = run(BODY, payees=PAYEES, deals=DEALS, credits=CREDITS, payee_history=history)
    # bob reports to mgr from the period's last day, so lead's team is alice alone (60% of D1)
    assert r.payees["lead"].values["team_b"] == D("600")
    assert r.payees["mgr"].values["team_b"] == D("1700")


def test_collection_inherits_deal_credits_and_dangling_reference() -> None:
    body = """
    metric cash: money = sum collection.amount where collection.received_on in period
    metric cash_a: money = sum collection.amount where collection.deal.product == "A" and collection.received_on in period
    """
    collections = """
    id  deal  payee  amount  received_on
    C1  D1    alice  100     2026-08-01
    C2  D2    bob    50      2026-08-01
    """
    r = run(body, payees=PAYEES, deals=DEALS, credits=CREDITS, collections=collections)
    assert r.payees["alice"].values["cash"] == D("60")
    assert r.payees["bob"].values["cash"] == D("90")  # 40% of C1 + all of C2
    assert r.payees["alice"].values["cash_a"] == D("60")
    assert r.payees["bob"].values["cash_a"] == D("40")


def test_prior_recomputes_earlier_periods_or_uses_payments() -> None:
    body = """
    metric ytd_b: money = sum deal.amount where deal.stage == "won" and deal.signed_on in ytd
    payout annual: money = ytd_b * 10% - prior(annual)
    """
    deals = """
    id  payee  amount  stage  signed_on
    Q1  alice  1000    won    2026-02-10
    Q2  alice  2000    won    2026-05-10
    Q3  alice  -500    won    2026-08-10
    """
    people = "id name role region manager\nalice Alice AE east -"
    r = run(body, payees=people, deals=deals)
    assert r.payees["alice"].components["annual"] == D("-50.00")  # 250 - (100 + 200)
    payments = "payee component period amount\nalice annual 2026-Q1 90"
    r = run(body, payees=people, deals=deals, payments=payments)
    # Q1 was paid 90; Q2 recomputes 300 - 90 = 210; Q3 = 250 - (90 + 210)
    assert r.payees["alice"].components["annual"] == D("-50.00")
    prior = next(c for c in r.payees["alice"].explanations["annual"].children if c.name == "prior(annual)")
    assert [(row[0], row[2]) for row in prior.rows] == [("2026-Q1", "90"), ("2026-Q2", "210.00")]
    assert prior.rows[0][1].startswith("paid") and prior.rows[1][1] == "recomputed"


def test_prior_with_fiscal_year_start() -> None:
    header = HEADER.replace("period quarter", "period quarter\n  fiscal_year_start 02-01")
    body = """
    metric ytd_b: money = sum deal.amount where deal.signed_on in ytd
    payout annual: money = ytd_b * 10% - prior(annual)
    """
    deals = "id payee amount stage signed_on\nJ alice 1000 won 2026-01-15\nF alice 300 won 2026-02-15"
    people = "id name role region manager\nalice Alice AE east -"
    r = run(body, period="2026-Q2", header=header, payees=people, deals=deals)
    assert r.payees["alice"].components["annual"] == D("0.00")  # Q1 (Feb-Apr) already paid 30
    r = run(body, period="2026-Q1", header=header, payees=people, deals=deals)
    assert r.payees["alice"].components["annual"] == D("30.00")  # January belongs to FY2025


def test_navigating_a_dangling_reference_is_a_data_error_and_the_engine_refuses_it() -> None:
    body = """
    metric cash_a: money = sum collection.amount where collection.deal.product == "A" and collection.received_on in period
    metric cash: money = sum collection.amount where collection.received_on in period
    """
    collections = """
    id  deal  payee  amount  received_on
    C9  D404  alice  100     2026-08-01
    """
    model = make_plan(body)
    data, diags = bind(model, {"payees": table("payees", PAYEES), "deals": table("deals", DEALS),
                               "collections": table("collections", collections)})
    assert [(d.code, d.severity) for d in diags] == [("KPI0722", "error")]
    assert "collection.deal" in " ".join(diags[0].notes)
    # the engine's own check stays as a defence when evaluated regardless
    alice = evaluate(model, data, "2026-Q3").payees["alice"]
    assert [(e.name, e.code) for e in alice.errors] == [("cash_a", "KPI0610")]
    assert "D404" in alice.errors[0].message
    assert alice.values["cash"] == D("100")
