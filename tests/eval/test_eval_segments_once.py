"""Amounts for a whole period count once across the segments of a split period.

Decisions (docs/semantics-decisions.md, "Overrides and segments"): in a segment,
``prior(c)`` also holds what ``c`` came to in the period's earlier segments, so a
cumulative true-up is paid once; a money input (an amount entered for the period) is
prorated by days like a ``per period`` const. Expected figures are worked by hand.
"""

from __future__ import annotations

from decimal import Decimal

import kpidsl

HEADER = 'plan "seg" {\n  currency USD\n  period quarter\n  rounding half_up 0.01\n}\n'


def _deal(key: str, amount: str, day: str) -> dict[str, object]:
    return {"id": key, "payee": "a", "amount": Decimal(amount), "stage": "won", "signed_on": day,
            "customer": "c1", "product": "p"}


# Q3 2026 (92 days) split on 2026-08-16 by a region change: 46 + 46 days
DATA: dict[str, object] = {
    "payees": [{"id": "a", "name": "A", "role": "AE", "region": "east", "manager": ""}],
    "deals": [_deal("D0", "10000", "2026-02-10"), _deal("D1", "46000", "2026-07-10"),
              _deal("D2", "45000", "2026-09-10")],
    "payee_history": [{"payee": "a", "attribute": "region", "value": "west", "effective_from": "2026-08-16"}],
}


def _run(body: str, data: dict[str, object], period: str = "2026-Q3") -> kpidsl.Result:
    result = kpidsl.loads(HEADER + body).evaluate(kpidsl.load_data(data), period)
    assert not result.data_diagnostics, [d.message for d in result.data_diagnostics]
    assert result.ok, [e.message for e in result.evaluation.errors] if result.evaluation else "rejected"
    return result


TRUE_UP = """
metric bookings_ytd: money = sum deal.amount where deal.signed_on in ytd
payout annual: money = bookings_ytd * 10% - prior(annual)
"""


def test_a_true_up_over_a_split_period_is_paid_once() -> None:
    # Q1 pays 10,000 x 10% = 1,000; Q2 pays 1,000 - 1,000 = 0. Q3: the year's 101,000 x 10%
    # = 10,100 less the 1,000 paid = 9,100. Segment 1 (to Aug 15): 56,000 x 10% - 1,000 =
    # 4,600; segment 2: 10,100 - (1,000 + 4,600) = 4,500; together 9,100 (not 4,600 + 9,100).
    result = _run(TRUE_UP, DATA)
    pr = result.payees["a"]
    assert pr.components["annual"] == Decimal("9100.00")
    assert pr.values["bookings_ytd@2026-07-01"] == Decimal("56000")
    segments = [c for c in result.explain("a", "annual").children if c.kind == "segment"]
    assert [s.value for s in segments] == ["4600.00", "4500.00"]


def test_the_true_up_of_a_split_period_equals_the_unsplit_one_on_the_same_deals() -> None:
    unsplit = {**DATA, "payee_history": []}
    assert _run(TRUE_UP, DATA).payees["a"].components == _run(TRUE_UP, unsplit).payees["a"].components


def test_prior_in_a_later_segment_lists_the_earlier_segment() -> None:
    result = _run(TRUE_UP, DATA)
    tree = result.explain("a", "annual")

    def walk(n: kpidsl.Explanation):  # type: ignore[no-untyped-def]
        yield n
        for c in n.children:
            yield from walk(c)

    priors = [n for n in walk(tree) if n.name == "prior(annual)"]
    assert [n.value for n in priors] == ["1000.00", "5600.00"]
    assert priors[1].rows[-1] == ("2026-07-01..2026-08-15", "earlier segment of this period", "4600.00")


def test_a_money_input_counts_once_over_the_segments_and_a_percent_input_holds_in_each() -> None:
    body = """
input bonus: money
input collab: percent
const pool: money = 2_000 per period
payout discretionary: money = bonus
payout team: money = pool * collab
"""
    data = {**DATA, "inputs": [{"payee": "a", "name": "bonus", "period": "2026-Q3", "value": "1000"},
                               {"payee": "a", "name": "collab", "period": "2026-Q3", "value": "80%"}]}
    pr = _run(body, data).payees["a"]
    # 1,000 x 46/92 in each half: 500 + 500 (it was 1,000 + 1,000)
    assert pr.components["discretionary"] == Decimal("1000.00")
    # the percent is the same in both halves: 2,000 x 46/92 x 80% twice = 1,600
    assert pr.components["team"] == Decimal("1600.00")
    assert pr.values["bonus@2026-08-16"] == Decimal("500")


def test_a_plan_pays_nothing_for_a_period_before_it_takes_effect() -> None:
    """docs/language.md: `effective` is "the plan's first day". A plan effective 2027-01-01
    paid 2026-Q3 as if it had existed then; and prior() recomputed quarters before it."""
    header = 'plan "later" {\n  currency USD\n  period quarter\n  effective 2026-04-01\n}\n'
    plan = kpidsl.loads(header + TRUE_UP)
    early = plan.evaluate(kpidsl.load_data({**DATA, "payee_history": []}), "2026-Q1")
    assert early.evaluation is not None and not early.payees
    assert [e.code for e in early.evaluation.errors] == ["KPI0612"]
    assert "takes effect on 2026-04-01" in early.evaluation.errors[0].message
    # Q1 did not exist: Q2 paid 1,000 on the ytd 10,000 of the February deal, and Q3 pays
    # the year's 101,000 x 10% less that: 9,100; prior() lists Q2 only
    q3 = plan.evaluate(kpidsl.load_data({**DATA, "payee_history": []}), "2026-Q3")
    assert q3.ok and q3.payees["a"].components["annual"] == Decimal("9100.00")
    rows = q3.explain("a", "annual")
    assert "2026-Q1" not in str(rows.to_dict())
