"""reconcile(): trees whose parts add up pass; a wrong part is reported with its path."""

from __future__ import annotations

from kpidsl.explain.reconcile import reconcile
from kpidsl.explain.tree import Explanation as E

TIERS_HEADER = ("band", "rate", "slice", "amount")


def tiers(value: str, *amounts: str) -> E:
    rows = tuple(("b", "1%", "1", a) for a in amounts)
    return E("rate", "tiers", value, row_header=TIERS_HEADER, rows=rows)


def test_good_tiers_tree_reconciles() -> None:
    assert reconcile(tiers("5100.00", "1000.00", "2500.00", "1600.00")) == []


def test_wrong_tiers_slice_is_caught() -> None:
    problems = reconcile(
        E(
            "commission",
            "payout",
            "5100.00",
            children=(tiers("5100.00", "1000.00", "2500.00", "1500.00"),),
        )
    )
    assert problems == ["commission > rate: amount column gives 5000.00, value is 5100.00"]


def test_unparseable_amount_is_reported() -> None:
    assert reconcile(tiers("1", "abc")) == ["rate: row 1: amount 'abc' is not a number"]


def test_score_contributions_must_sum_to_score() -> None:
    header = ("line", "attainment", "weight", "contribution")
    good = E(
        "performance",
        "score",
        "0.9",
        row_header=header,
        rows=(("bookings", "1.2", "0.5", "0.6"), ("collab", "0.6", "0.5", "0.3")),
    )
    assert reconcile(good) == []
    bad = E("performance", "score", "0.95", row_header=header, rows=good.rows)
    assert reconcile(bad) == ["performance: contribution column gives 0.9, value is 0.95"]


def seg(v: str) -> E:
    return E("2026-07-01..2026-08-15", "segment", v)


def test_segments_sum_to_value_up_to_the_one_rounding() -> None:
    assert reconcile(E("c", "payout", "100.01", children=(seg("50.005"), seg("50.0")))) == []
    assert reconcile(E("c", "payout", "100.02", children=(seg("50.005"), seg("50.0")))) == [
        "c: segments gives 100.005, value is 100.02"
    ]


def test_binding_cap_explains_a_smaller_value() -> None:
    cap = E("cap", "clause", "5000", formula="cap 5_000")
    assert (
        reconcile(E("spiff", "payout", "5000.00", children=(seg("3000"), seg("4000"), cap))) == []
    )


def test_failed_requires_explains_zero() -> None:
    gate = E("requires", "gate", "false")
    assert reconcile(E("bonus", "payout", "0.00", children=(seg("3000"), gate))) == []
    assert reconcile(E("bonus", "payout", "0.00", children=(seg("3000"),))) != []


def test_fact_count_and_missing_value() -> None:
    assert reconcile(E("m", "metric", "1", facts=("D1", "D2"), fact_count=1)) == [
        "m: 2 fact keys listed but fact_count is 1"
    ]
    assert reconcile(E("m", "metric", None)) == ["m: no value and no error"]
    assert reconcile(E("m", "metric", None, children=(E("x", "metric", None, error="e"),))) == []


def test_ragged_rows_are_reported() -> None:
    t = E("rate", "tiers", "1", row_header=TIERS_HEADER, rows=(("b", "1%", "1"),))
    assert "rate: row 1 has 3 cells for 4 columns" in reconcile(t)


def test_engine_notes_are_followed_from_parts_to_value() -> None:
    rows = (("D1", "1", "6000"), ("D2", "1", "1000.004"))
    node = E("spiff", "payout", "5000.00", formula="sum deal.amount * 10%",
             row_header=("fact", "share", "amount"), rows=rows,
             notes=("when true: met, * 1: 7000.004 → 7000.004",
                    "cap 5000 binding (value was 7000.004)",
                    "rounded half_up to 0.01 from 5000"))
    assert reconcile(node) == []


def test_a_wrong_rounding_note_is_caught() -> None:
    node = E("p", "payout", "0.00", notes=("rounded half_up to 0.01 from -0.005",))
    assert reconcile(node) == ["p: -0.005 rounded half_up to 0.01 is -0.01, not 0.00"]


def test_a_broken_step_chain_is_caught() -> None:
    node = E("p", "payout", "450.00", formula="sum x", row_header=("fact", "amount"),
             rows=(("D1", "500"),),
             notes=("when c: met, * 0.9: 400 → 450", "rounded half_up to 0.01 from 450"))
    assert reconcile(node) == ["p: the value before `when` is 400, but the amount column gives 500"]


def test_segments_note_must_match_the_segments() -> None:
    node = E("c", "payout", "7000.00", children=(seg("3000"), seg("4000")),
             notes=("sum of 2 segments: 7500", "rounded half_up to 0.01 from 7000"))
    assert reconcile(node) == ["c: note says the segments sum to 7500, they sum to 7000"]


def test_total_rows_sum_to_the_total() -> None:
    total = E("total", "payout", "10.01", formula="a + b", row_header=("component", "amount"),
              rows=(("a", "5.00"), ("b", "5.00")))
    assert reconcile(total) == ["total: amount column gives 10.00, value is 10.01"]


def test_avg_metric_rows_are_not_summed() -> None:
    m = E("avg_deal", "metric", "60", formula="avg deal.amount", row_header=("fact", "amount"),
          rows=(("D1", "100"), ("D2", "20")))
    assert reconcile(m) == []
