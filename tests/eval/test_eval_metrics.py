"""Metrics: aggregates, filters, windows, derived metrics, fallbacks and evaluation errors."""

from __future__ import annotations

from evalkit import D, run

PAYEES = """
id     name   role  region  manager
alice  Alice  AE    east    -
bob    Bob    AE    west    -
"""
DEALS = """
id  payee  amount  stage  signed_on   customer  product
D1  alice  100     won    2026-07-10  c1        A
D2  alice  300     won    2026-08-10  c1        B
D3  alice  50      lost   2026-08-11  c2        A
D4  alice  1000    won    2026-04-01  c3        A
D5  alice  7       won    2026-02-01  c3        A
"""

AGGS = """
metric s: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric n: count = count deal where deal.signed_on in period
metric cd: count = count distinct deal.customer where deal.signed_on in period
metric av: money = avg deal.amount where deal.stage == "won" and deal.signed_on in period
metric lo: money = min deal.amount where deal.signed_on in period
metric hi: money = max deal.amount where deal.signed_on in period
metric ytd_s: money = sum deal.amount where deal.stage == "won" and deal.signed_on in ytd
metric prev: money = sum deal.amount where deal.signed_on in previous period
metric rng: money = sum deal.amount where deal.signed_on in 2026-02-01 to 2026-04-30
metric listed: count = count deal where deal.stage in ("won", "lost") and deal.signed_on in period
payout p: money = s * 10%
"""


def test_aggregates_and_windows() -> None:
    r = run(AGGS, payees=PAYEES, deals=DEALS)
    v = r.payees["alice"].values
    assert v["s"] == D("400")
    assert v["n"] == D("3")
    assert v["cd"] == D("2")
    assert v["av"] == D("200")
    assert (v["lo"], v["hi"]) == (D("50"), D("300"))
    assert v["ytd_s"] == D("1407")
    assert v["prev"] == D("1000")
    assert v["rng"] == D("1007")
    assert v["listed"] == D("3")
    assert r.payees["alice"].components["p"] == D("40.00")
    facts = r.payees["alice"].explanations["s"]
    assert facts.facts == ("D1", "D2") and facts.fact_count == 2


def test_sum_and_count_of_nothing_are_zero_but_avg_is_an_error() -> None:
    r = run(AGGS, payees=PAYEES, deals=DEALS)
    bob = r.payees["bob"]
    assert bob.values["s"] == D("0") and bob.values["n"] == D("0")
    codes = {(e.name, e.code) for e in bob.errors}
    assert {("av", "KPI0605"), ("lo", "KPI0605"), ("hi", "KPI0605")} <= codes
    assert bob.total is None and not r.ok
    assert r.payees["alice"].total == D("40.00")  # other payees are unaffected


def test_derived_metric_division_by_zero_and_fallback() -> None:
    body = """
    metric s: money = sum deal.amount where deal.signed_on in period
    metric big: money = sum deal.amount where deal.amount > 200 and deal.signed_on in period
    metric ratio: percent = big / s
    metric safe: percent = big / s else 0%
    metric avg_ok: money = avg deal.amount where deal.signed_on in period else 0
    payout p: money = s * safe
    """
    r = run(body, payees=PAYEES, deals=DEALS)
    bob = r.payees["bob"]
    assert [(e.name, e.code) for e in bob.errors] == [("ratio", "KPI0601")]
    assert bob.values["safe"] == D("0") and bob.values["avg_ok"] == D("0")
    assert "ratio" not in bob.values
    assert bob.components["p"] == D("0.00")  # p does not depend on ratio
    assert bob.total is None
    err = bob.errors[0]
    assert err.payee == "bob" and err.period == "2026-Q3" and err.span is not None
    assert "big / s" in err.message
    alice = r.payees["alice"]
    assert alice.values["ratio"] == D("0.6666666666666666666666666667") and alice.ok  # 300 / 450


def test_dependents_of_a_failure_are_absent_but_not_reported_twice() -> None:
    body = """
    metric s: money = sum deal.amount where deal.signed_on in period
    metric ratio: percent = s / s
    payout p: money = s * ratio
    """
    bob = run(body, payees=PAYEES, deals=DEALS).payees["bob"]
    assert [e.name for e in bob.errors] == ["ratio"]
    assert "p" not in bob.components and bob.failures["p"].code == "KPI0601"
    assert bob.explanations["p"].error is not None


def test_per_fact_expression_and_table_with_else() -> None:
    body = """
    table rate by deal.product {
      "A" : 10%
      else : other(deal.product)
    }
    table other by deal.product {
      "B" : 20%
      else : 0%
    }
    payout p: money = sum deal.amount * rate(deal.product) where deal.stage == "won" and deal.signed_on in period
    """
    r = run(body, payees=PAYEES, deals=DEALS)
    assert r.payees["alice"].components["p"] == D("70.00")  # 100 x 10% + 300 x 20%


def test_invalid_period_is_an_error_not_an_exception() -> None:
    r = run(AGGS, period="2026-07", payees=PAYEES, deals=DEALS)
    assert not r.ok and r.errors[0].code == "KPI0612" and r.payees == {}


def test_missing_input_and_default() -> None:
    body = """
    input bonus_pct: percent
    input extra: money default 5
    const base: money = 100
    payout p: money = base * bonus_pct + extra
    """
    inputs = "payee name period value\nalice bonus_pct 2026-Q3 10%"
    r = run(body, payees=PAYEES, deals=DEALS, inputs=inputs)
    assert r.payees["alice"].components["p"] == D("15.00")
    bob = r.payees["bob"]
    assert [(e.name, e.code) for e in bob.errors] == [("bonus_pct", "KPI0604")]
    assert bob.failures["p"].code == "KPI0604" and bob.total is None
    assert "bonus_pct" in bob.errors[0].message and "bob" in bob.errors[0].message
