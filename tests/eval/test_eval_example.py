"""The contract's worked example: alice at 120% earns the accelerator slice."""

from __future__ import annotations

from evalkit import D, make_data

from kpidsl.eval import evaluate
from kpidsl.model import PlanModel

PAYEES = """
id     name   role  region  manager
alice  Alice  AE    east    -
"""
DEALS = """
id   payee  amount   stage  signed_on   new_customer  product
D1   alice  120000   won    2026-07-10  false         CloudSuite
"""
COLLECTIONS = """
id   deal  payee  amount   received_on
C1   D1    alice  100000   2026-08-01
"""


def test_example_commission(example_model: PlanModel) -> None:
    data = make_data(example_model, payees=PAYEES, deals=DEALS, collections=COLLECTIONS,
                     targets="payee metric period value\nalice bookings 2026-Q3 100000",
                     inputs="payee name period value\nalice collaboration 2026-Q3 90%")
    result = evaluate(example_model, data, "2026-Q3")
    alice = result.payees["alice"]
    assert alice.components["commission"] == D("5100.00")
    assert alice.values["attainment(bookings)"] == D("1.2")
    tiers = next(c for c in alice.explanations["commission"].children if c.kind == "tiers")
    rows = tiers.rows
    assert [D(r[3]) for r in rows] == [D("1000"), D("2500"), D("1600")]
    assert [D(r[1]) for r in rows] == [D("50000"), D("50000"), D("20000")]


def test_example_total_is_sum_of_components(example_model: PlanModel) -> None:
    data = make_data(example_model, payees=PAYEES, deals=DEALS, collections=COLLECTIONS,
                     targets="payee metric period value\nalice bookings 2026-Q3 100000",
                     inputs="payee name period value\nalice collaboration 2026-Q3 90%")
    alice = evaluate(example_model, data, "2026-Q3").payees["alice"]
    # Q3 weights (AE override from 2026-07-01): 35% x 1.2 + 15% x 0 + 40% x 0 (below threshold) + 10% x 0.9
    assert alice.values["performance"] == D("0.51")
    assert alice.components["bonus"] == D("15300.00")
    assert alice.total == sum(alice.components.values())
