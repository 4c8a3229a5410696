"""The reference engine's what-it-takes trials layer the trial facts over an index built once
(:meth:`FactIndex.with_facts`, :meth:`Engine.extra_facts`). The oracle is the old way: a
fresh :func:`evaluate` on the data set with the trial facts appended. Every trial must give
the same figures, errors and explanations, and leave nothing behind for the next.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import kpidsl
from kpidsl.data.model import CreditRow, Dataset, Fact, RowRef
from kpidsl.eval import evaluate
from kpidsl.eval.engine import Engine
from kpidsl.eval.facts import FactIndex
from kpidsl.eval.resolve import attrs_on, resolve
from kpidsl.eval.result import PayeeResult
from kpidsl.periods import parse_period
from kpidsl.whatif import what_it_takes
from kpidsl.whatif.solve import Probe, _dataset
from kpidsl.whatif.synth import build_recipe, metric_aggregate

ROOT = Path(__file__).resolve().parents[2]
EAST = ROOT / "examples" / "east-china-2026"
SAAS = ROOT / "examples" / "saas-team"
DISTRIBUTOR = ROOT / "examples" / "distributor-collections"

# Credit rows (split and overlay), a collection kind inheriting its deal's credit rows,
# navigation (collection.deal.stage), `over team` and `over self + team` for a manager.
PLAN = """plan "t" {
  currency CNY
  period quarter
  rounding half_up 0.01
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric logos: count = count deal where deal.stage == "won" and deal.signed_on in period
metric d1_cash: money = sum collection.amount where collection.deal == "D1" and collection.received_on in period
metric cash_on_won: money =
  sum collection.amount where collection.deal.stage == "won" and collection.received_on in period

target bookings = 10_000

tiers rate marginal on attainment(bookings) {
  0%   to 100% : 5%
  100% and up  : 8%
}

payout commission: money = rate(bookings)
payout spiff: money = logos * 100
  cap 500
payout cash_bonus: money = cash_on_won * 1% + d1_cash * 2%

for role manager {
  metric team_bookings: money =
    sum deal.amount over team where deal.stage == "won" and deal.signed_on in period
  metric team_cash: money = sum collection.amount over self + team where collection.received_on in period
  payout commission: money = team_bookings * 1% + team_cash * 0.5%
}
"""

TABLES: dict[str, list[dict[str, str]]] = {
    "payees": [
        {"id": "mia", "name": "Mia", "role": "manager", "region": "east", "manager": ""},
        {"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": "mia"},
        {"id": "bob", "name": "Bob", "role": "AE", "region": "east", "manager": "mia"},
    ],
    "deals": [
        {"id": "D1", "payee": "ann", "amount": "4000", "stage": "won", "signed_on": "2026-07-10"},
        {"id": "D2", "payee": "bob", "amount": "9000", "stage": "lost", "signed_on": "2026-07-11"},
        {"id": "D3", "payee": "bob", "amount": "2500", "stage": "won", "signed_on": "2026-08-01"},
    ],
    "collections": [
        {"id": "C1", "deal": "D1", "payee": "ann", "amount": "1000", "received_on": "2026-08-02"},
        {"id": "C2", "deal": "D3", "payee": "bob", "amount": "700", "received_on": "2026-09-02"},
    ],
    "credits": [
        {"kind": "deal", "fact": "D1", "payee": "ann", "share": "60%", "type": "split"},
        {"kind": "deal", "fact": "D1", "payee": "bob", "share": "40%", "type": "split"},
        {"kind": "deal", "fact": "D1", "payee": "mia", "share": "100%", "type": "overlay"},
    ],
}

AMOUNTS = [Decimal(0), Decimal("0.01"), Decimal(1), Decimal(7), Decimal("2500.50"), Decimal(6000),
           Decimal("123456.78")]


@pytest.fixture(scope="module")
def plan() -> kpidsl.Plan:
    return kpidsl.loads(PLAN)


@pytest.fixture(scope="module")
def dataset(plan: kpidsl.Plan) -> Dataset:
    data, _ = _dataset(plan, TABLES)
    # a collection on a deal that is not in the data yet: a trial deal keyed WHATIF-1 makes it
    # navigable (collection.deal.stage), so the trial kind's `by_key` is read too
    dangling = Fact("collection", "C9", {"id": "C9", "deal": "WHATIF-1", "payee": "ann",
                                         "amount": Decimal(300), "received_on": dt.date(2026, 9, 9)},
                    RowRef("<test>", 1))
    facts = dict(data.facts)
    facts["collection"] = (*facts["collection"], dangling)
    return attrs.evolve(data, facts=facts)


def _probe(plan: kpidsl.Plan, data: Dataset, payee: str, metric: str, period: str = "2026-Q3") -> Probe:
    model = plan.model
    per = parse_period(period, model.header.period, model.header.fiscal_year_start)
    person = next(p for p in data.payees if p.id == payee)
    defs = {k: a.definition for k, a in
            resolve(model, payee, attrs_on(person, data.history, per.end), per.end).items()}
    recipe = build_recipe(model, metric_aggregate(defs[metric], metric), metric, payee, per, defs.values())
    return Probe(plan, data, per.label, payee, recipe)


def _oracle(probe: Probe, amount: Decimal) -> PayeeResult:
    """The old way: the trial facts appended to a copy of the data set, evaluated afresh. Each
    goes to its own kind: a collection, and the deal it refers to when the plan reads through
    `collection.deal` (not only collections: the deal was appended to the collections)."""
    data = probe.dataset
    if amount > 0:
        facts = dict(data.facts)
        for fact in probe.recipe.facts(amount, probe.taken):
            facts[fact.kind] = (*facts.get(fact.kind, ()), fact)
        data = attrs.evolve(data, facts=facts)
    return evaluate(probe.plan.model, data, probe.period, payees=[probe.payee]).payees[probe.payee]


def _same(got: PayeeResult, want: PayeeResult) -> None:
    assert got == want  # total, components, values, errors, failures
    assert got.explanations == want.explanations


def _check(probe: Probe, amounts: list[Decimal]) -> None:
    snapshot = {k: tuple(v) for k, v in probe.dataset.facts.items()}
    for amount in amounts:
        _same(probe.at(amount), _oracle(probe, amount))
    # again, in another order and on fresh probes: a trial leaves nothing for the next
    again = Probe(probe.plan, probe.dataset, probe.period, probe.payee, probe.recipe)
    for amount in reversed(amounts):
        _same(again.at(amount), probe.at(amount))
    assert {k: tuple(v) for k, v in probe.dataset.facts.items()} == snapshot


@pytest.mark.parametrize(("payee", "metric"), [
    ("ann", "bookings"),  # money; the trial deal makes collection C9 navigable
    ("ann", "logos"),  # count: many trial facts
    ("ann", "d1_cash"),  # a collection on D1: inherits D1's credit rows (ann 60%, bob 40%, mia overlay)
    ("bob", "d1_cash"),
    ("mia", "bookings"),  # a manager: own deals, and `over team` rollups
    ("mia", "d1_cash"),  # the inherited credits reach mia's `over self + team` through ann and bob
])
def test_a_trial_equals_a_fresh_evaluation_with_the_facts_appended(
    plan: kpidsl.Plan, dataset: Dataset, payee: str, metric: str
) -> None:
    probe = _probe(plan, dataset, payee, metric)
    amounts = [a for a in AMOUNTS if probe.recipe.func != "count" or a == a.to_integral_value()]
    _check(probe, amounts)


def test_the_trial_facts_reach_navigation_team_rollups_and_inherited_credits(
    plan: kpidsl.Plan, dataset: Dataset
) -> None:
    """Not vacuous: the figures a trial should move do move, and come back after it."""
    base = _probe(plan, dataset, "ann", "bookings").at(Decimal(0))
    assert "cash_bonus" in base.failures  # C9 references WHATIF-1, not in the data
    navigable = _probe(plan, dataset, "ann", "bookings").at(Decimal(100))
    # C1 on D1 (ann's 60% split credit): 600, and C9 on the trial deal (ann's own): 300
    assert navigable.values["cash_on_won"] == Decimal(900) and "cash_bonus" not in navigable.failures
    mia = _probe(plan, dataset, "mia", "d1_cash")
    assert mia.at(Decimal(0)).values["team_cash"] == Decimal(2000)
    # the trial collection on D1 is credited 60% to ann and 40% to bob: all of it in the team
    assert mia.at(Decimal(500)).values["team_cash"] == Decimal(2500)
    assert mia.at(Decimal(500)).values["d1_cash"] == Decimal(0)  # mia's own credit is overlay
    ann = _probe(plan, dataset, "mia", "bookings")
    assert ann.at(Decimal(0)).values["team_bookings"] == Decimal(6500)


EXAMPLES: list[tuple[Path, str, str, str]] = [
    (EAST, "2026-Q3", "chenjing", "bookings"),
    (EAST, "2026-Q3", "luojuan", "new_logos"),
    (EAST, "2026-Q3", "lina", "bookings"),
    (SAAS, "2026-Q3", "bwilson", "bookings"),
    (SAAS, "2026-Q3", "dkim", "bookings"),  # a manager: `over team` commission
    (DISTRIBUTOR, "2026-03", "p-nb01", "collected"),  # a payout reads collection.deal.product:
    (DISTRIBUTOR, "2026-05", "p-nb01", "collected"),  # the trials add a deal too
]


@pytest.mark.parametrize(("folder", "period", "payee", "metric"), EXAMPLES,
                         ids=[f"{e[0].name}-{e[2]}-{e[3]}" for e in EXAMPLES])
def test_examples_trials_equal_fresh_evaluations(folder: Path, period: str, payee: str, metric: str) -> None:
    plan = kpidsl.load(folder / "plan.kpi")
    probe = _probe(plan, _dataset(plan, folder / "data")[0], payee, metric, period)
    amounts = [Decimal(0), Decimal(1), Decimal(3), Decimal(50_000), Decimal("108700.00")]
    _check(probe, [a for a in amounts if probe.recipe.func != "count" or a < 10])
    if folder == DISTRIBUTOR:  # not vacuous: the deal is there, and the trials evaluate without error
        assert [f.kind for f in probe.recipe.facts(Decimal(1), probe.taken)] == ["deal", "collection"]
        assert not probe.at(Decimal(50_000)).errors


def _index_view(index: FactIndex, payees: list[str], kinds: list[str]) -> dict[str, Any]:
    types = [("any",), ("split",), ("overlay",), ("split", "overlay")]
    return {
        "by_key": {k: dict(v) for k, v in index.by_key.items()},
        "credited": {(k, p, t): index.credited(k, [p], t) for k in kinds for p in payees for t in types},
        "teams": {(k, t): index.credited(k, payees, t) for k in kinds for t in types},
    }


@pytest.mark.parametrize("as_of", [None, dt.date(2026, 8, 31)])
def test_a_layered_index_equals_an_index_built_over_the_data_plus_the_facts(
    plan: kpidsl.Plan, dataset: Dataset, as_of: dt.date | None
) -> None:
    extra = [
        Fact("deal", "X1", {"id": "X1", "payee": "bob", "amount": Decimal(5), "stage": "won",
                            "signed_on": dt.date(2026, 9, 30)}, RowRef("<test>", 1)),
        Fact("deal", "WHATIF-1", {"id": "WHATIF-1", "payee": "ann", "amount": Decimal(6), "stage": "won",
                                  "signed_on": dt.date(2026, 7, 1)}, RowRef("<test>", 2)),
        Fact("collection", "X2", {"id": "X2", "deal": "D1", "payee": "mia", "amount": Decimal(7),
                                  "received_on": dt.date(2026, 8, 1)}, RowRef("<test>", 3)),
    ]
    # a credit row for a fact not in the data yet: the extra fact takes it, as a fresh index would
    data = attrs.evolve(dataset, credits=(*dataset.credits,
                                          CreditRow("deal", "X1", "mia", Decimal("0.5"), "split",
                                                    RowRef("<test>", 9))))
    base = FactIndex(plan.model, data, as_of)
    payees, kinds = ["ann", "bob", "mia", "nobody"], ["deal", "collection"]
    before = _index_view(base, payees, kinds)
    layered = base.with_facts(extra)
    facts = dict(data.facts)
    for f in extra:
        facts[f.kind] = (*facts[f.kind], f)
    fresh = FactIndex(plan.model, attrs.evolve(data, facts=facts), as_of)
    assert _index_view(layered, payees, kinds) == _index_view(fresh, payees, kinds)
    assert _index_view(base, payees, kinds) == before  # the base index is unchanged
    with pytest.raises(ValueError):
        base.with_facts([Fact("deal", "D1", {"id": "D1"}, RowRef("<test>", 4))])


def test_an_engine_with_extra_facts_forgets_its_cached_results(plan: kpidsl.Plan, dataset: Dataset) -> None:
    engine = Engine(plan.model, dataset)
    period = engine.period("2026-Q3")
    before = engine.evaluate(period, ["ann"]).payees["ann"]
    deal = Fact("deal", "X1", {"id": "X1", "payee": "ann", "amount": Decimal(1000), "stage": "won",
                               "signed_on": dt.date(2026, 9, 1)}, RowRef("<test>", 1))
    with engine.extra_facts([deal]):
        during = engine.evaluate(period, ["ann"]).payees["ann"]
    after = engine.evaluate(period, ["ann"]).payees["ann"]
    assert during.values["bookings"] == Decimal(3400)
    assert before.values["bookings"] == after.values["bookings"] == Decimal(2400)
    assert after == before


GOALS: list[tuple[Path, str, dict[str, Any]]] = [
    (EAST, "chenjing", {"metric": "bookings", "next_tier": True}),
    (EAST, "chenjing", {"metric": "bookings", "payout": Decimal(5_000), "component": "commission"}),
    (EAST, "luojuan", {"metric": "new_logos", "payout": Decimal(3_000), "component": "spiff"}),
    (EAST, "luojuan", {"metric": "new_logos", "payout": Decimal(9_000), "component": "spiff"}),
    (SAAS, "bwilson", {"metric": "bookings", "payout": Decimal(20_000)}),
]


@pytest.mark.parametrize(("folder", "payee", "goal"), GOALS, ids=[f"{g[0].name}-{g[1]}-{i}"
                                                                  for i, g in enumerate(GOALS)])
def test_reference_and_columnar_answers_agree(folder: Path, payee: str, goal: dict[str, Any]) -> None:
    pytest.importorskip("duckdb")
    plan = kpidsl.load(folder / "plan.kpi")
    ref = what_it_takes(plan, folder / "data", "2026-Q3", payee, engine="reference", **goal)
    col = what_it_takes(plan, folder / "data", "2026-Q3", payee, engine="columnar", **goal)
    assert col.to_dict() == ref.to_dict()
