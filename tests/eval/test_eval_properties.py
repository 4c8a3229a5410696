"""Properties: row order does not matter, totals add up, slices reconcile, monotonicity, threads."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

import attrs
from evalkit import make_data, make_plan
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.data.model import Dataset, Fact, RowRef
from kpidsl.eval import evaluate, result_to_json
from kpidsl.eval.tiers import EBand, marginal
from kpidsl.numbers import plan_context
from kpidsl.source import NO_SPAN

PLAN = make_plan("""
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
target bookings = 10_000
tiers rate marginal on attainment(bookings) {
  0% to 50% : 2%
  50% to 100% : 5%
  100% and up : 8%
}
tiers kicker step on bookings {
  0 to 5_000 : 1%
  5_000 and up : 3%
}
payout commission: money = rate(bookings)
payout kick: money = kicker(bookings)
payout team: money = sum deal.amount over team where deal.signed_on in period
  cap 1_000
""")
PAYEES = """
id     name   role  region  manager
alice  Alice  AE    east    mgr
bob    Bob    AE    east    mgr
mgr    Mgr    M     east    -
"""
amounts = st.lists(st.decimals(min_value=-2000, max_value=20000, places=2), min_size=0, max_size=8)


def dataset(alice: list[Decimal], bob: list[Decimal]) -> Dataset:
    base = make_data(PLAN, payees=PAYEES)
    facts = []
    for who, values in (("alice", alice), ("bob", bob)):
        for i, a in enumerate(values):
            vals = {"id": f"{who}{i}", "payee": who, "amount": a, "stage": "won",
                    "signed_on": __import__("datetime").date(2026, 8, 1), "customer": None, "product": None}
            facts.append(Fact("deal", f"{who}{i}", vals, RowRef("deals.csv", i + 2)))
    return attrs.evolve(base, facts={"deal": tuple(facts)})


@settings(max_examples=30, deadline=None)
@given(amounts, amounts, st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_result(alice: list[Decimal], bob: list[Decimal], rnd: random.Random) -> None:
    data = dataset(alice, bob)
    shuffled = list(data.facts["deal"])
    rnd.shuffle(shuffled)
    payees = list(data.payees)
    rnd.shuffle(payees)
    other = attrs.evolve(data, facts={"deal": tuple(shuffled)}, payees=tuple(payees))
    info = {"name": "p", "version": None, "digest": "x"}
    assert result_to_json(evaluate(PLAN, data, "2026-Q3"), info, "d") == \
        result_to_json(evaluate(PLAN, other, "2026-Q3"), info, "d")


@settings(max_examples=30, deadline=None)
@given(amounts, amounts)
def test_total_is_sum_of_rounded_components(alice: list[Decimal], bob: list[Decimal]) -> None:
    for pr in evaluate(PLAN, dataset(alice, bob), "2026-Q3").payees.values():
        assert pr.total == sum(pr.components.values(), Decimal(0))
        assert all(v == v.quantize(Decimal("0.01")) for v in pr.components.values())


@settings(max_examples=50, deadline=None)
@given(st.decimals(min_value=0, max_value=10**7, places=2))
def test_marginal_slices_sum_to_base(base: Decimal) -> None:
    bands = (EBand(Decimal(0), Decimal(1000), Decimal("0.01")), EBand(Decimal(1000), Decimal(5000), Decimal("0.02")),
             EBand(Decimal(5000), None, Decimal("0.03")))
    out = marginal("r", bands, base, None, None, plan_context(), NO_SPAN)
    assert sum((Decimal(r[1]) for r in out.rows), Decimal(0)) == base
    assert sum((Decimal(r[3]) for r in out.rows), Decimal(0)) == out.value


@settings(max_examples=30, deadline=None)
@given(amounts, st.decimals(min_value=0, max_value=20000, places=2))
def test_adding_a_won_deal_never_decreases_step_or_marginal_pay(alice: list[Decimal], extra: Decimal) -> None:
    before = evaluate(PLAN, dataset(alice, []), "2026-Q3").payees["alice"].components
    after = evaluate(PLAN, dataset([*alice, extra], []), "2026-Q3").payees["alice"].components
    assert after["commission"] >= before["commission"]
    assert after["kick"] >= before["kick"]


def test_threads_give_the_same_result() -> None:
    data = dataset([Decimal("1234.56"), Decimal("9000")], [Decimal("777.77")])
    info = {"name": "p", "version": None, "digest": "x"}
    expected = result_to_json(evaluate(PLAN, data, "2026-Q3"), info, "d")
    outputs: list[str] = []

    def work() -> None:
        for _ in range(5):
            outputs.append(result_to_json(evaluate(PLAN, data, "2026-Q3"), info, "d"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == [expected] * 20
