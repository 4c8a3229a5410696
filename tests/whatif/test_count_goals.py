"""what-it-takes on a count metric: the answer N is a number of synthetic facts.

Every answer is checked against evaluation: the plan evaluated with N copies of
the answer's fact added reaches the goal, with N - 1 it does not. A spy on the
probe records the most facts a trial was built with, so the search cannot go
back to building hundreds of thousands of facts for an answer of a few.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.eval.result import PayeeResult
from kpidsl.whatif import Answer, what_it_takes
from kpidsl.whatif import search as whatif_search
from kpidsl.whatif import solve as whatif_solve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026"

PLAN = """plan "t" {
  currency CNY
  period quarter
  rounding half_up 0.01
}

fact deal {
  new_customer: bool
}

metric logos: count =
  count deal where deal.stage == "won" and deal.new_customer and deal.signed_on in period
metric logo_points: number = logos * 2
metric capped_logos: number = min(logos, 3)

target logos = 10

tiers logo_grade lookup on logo_points {
  0  to 10 : 1
  10 to 20 : 2
  20 and up : 3
}

tiers club lookup on capped_logos {
  0 to 4   : 0
  4 and up : 1
}

payout spiff: money = logos * 500
  cap 5_000

payout grade_bonus: money = logo_grade(logo_points) * 100
"""

PAYEES = [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""}]
FIELDS = ("id", "payee", "amount", "stage", "signed_on", "customer", "product", "new_customer")
DEALS = [  # two new logos in Q3; a lost one and an existing customer do not count
    {"id": "D1", "payee": "ann", "amount": "1000", "stage": "won", "signed_on": "2026-07-10",
     "customer": "c1", "product": "p", "new_customer": "true"},
    {"id": "D2", "payee": "ann", "amount": "1000", "stage": "won", "signed_on": "2026-08-10",
     "customer": "c2", "product": "p", "new_customer": "true"},
    {"id": "D3", "payee": "ann", "amount": "1000", "stage": "lost", "signed_on": "2026-08-11",
     "customer": "c3", "product": "p", "new_customer": "true"},
    {"id": "D4", "payee": "ann", "amount": "1000", "stage": "won", "signed_on": "2026-08-12",
     "customer": "c4", "product": "p", "new_customer": "false"},
]
HAS = 2  # logos before

Figure = Callable[[PayeeResult], Decimal | None]


def _tables(deal: dict[str, str] | None = None, n: int = 0) -> dict[str, list[dict[str, str]]]:
    """The data with ``n`` copies of ``deal`` (distinct ids) added."""
    extra = [{**{k: (deal or {}).get(k, "") for k in FIELDS}, "id": f"X{i}"} for i in range(n)]
    return {"payees": PAYEES, "deals": [*DEALS, *extra]}


@pytest.fixture(scope="module")
def plan() -> kpidsl.Plan:
    return kpidsl.loads(PLAN)


@pytest.fixture
def largest(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Decimal]]:
    """The largest amount (number of facts, for a count) any trial was evaluated with."""
    seen = [Decimal(0)]
    for cls in (whatif_solve.Probe, whatif_solve.ColumnarProbe):
        at = cls.at

        def spy(self: Any, amount: Decimal, _at: Any = at) -> PayeeResult:
            seen[0] = max(seen[0], amount)
            result: PayeeResult = _at(self, amount)
            return result

        monkeypatch.setattr(cls, "at", spy)
    yield seen


def _value(plan: kpidsl.Plan, deal: dict[str, str], n: int, figure: Figure) -> Decimal | None:
    result = plan.evaluate(_tables(deal, n), "2026-Q3")
    assert result.ok
    return figure(result.payees["ann"])


def _verify(plan: kpidsl.Plan, a: Answer, figure: Figure, goal: Decimal, exact: bool = True) -> int:
    """N facts reach the goal and N - 1 do not, by evaluation; returns N."""
    assert a.status == "reachable" and a.amount is not None and a.exact is exact
    n = int(a.amount)
    assert n == a.amount and n >= 1
    assert a.deal["stage"] == "won" and a.deal["new_customer"] == "true"
    reached, before = _value(plan, a.deal, n, figure), _value(plan, a.deal, n - 1, figure)
    assert reached is not None and reached >= goal, (n, reached)
    assert before is not None and before < goal, (n - 1, before)
    return n


def _spiff(p: PayeeResult) -> Decimal | None:
    return p.components["spiff"]


def test_a_reachable_count_goal_is_verified_and_builds_facts_in_proportion(
    plan: kpidsl.Plan, largest: list[Decimal]
) -> None:
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", payout=Decimal(3_000),
                      component="spiff")
    n = _verify(plan, a, _spiff, Decimal(3_000))
    assert n == 6 - HAS  # 500 a logo: 6 logos pay 3_000
    assert a.before["logos"] == HAS and a.after["logos"] == HAS + n
    # one, two, four, ... facts: never more than twice the answer (200_000 before)
    assert largest[0] <= 2 * n


def test_a_goal_on_the_cap_is_reachable_and_one_beyond_it_is_not(
    plan: kpidsl.Plan, largest: list[Decimal]
) -> None:
    on_cap = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", payout=Decimal(5_000),
                           component="spiff")
    n = _verify(plan, on_cap, _spiff, Decimal(5_000))
    assert largest[0] <= 2 * n
    largest[0] = Decimal(0)
    above = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", payout=Decimal("5000.01"),
                          component="spiff")
    assert above.status == "unreachable" and above.amount is None and not above.reachable
    assert "the cap of spiff binds" in above.reason and "deal facts" in above.reason
    # recognised without building 200_000 facts: flat from COUNT_FLOOR / 2 to COUNT_FLOOR
    floor = whatif_search.COUNT_FLOOR
    assert largest[0] <= floor
    assert f"up to {floor} more" in above.reason
    # and the cap does bind by evaluation, at the most facts tried
    assert _value(plan, above.deal, int(floor), _spiff) == Decimal(5_000)


def test_an_already_reached_count_goal_builds_no_more_than_the_check(
    plan: kpidsl.Plan, largest: list[Decimal]
) -> None:
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", payout=Decimal(1_000),
                      component="spiff")
    assert a.status == "already" and a.amount is None and "1000.00" in a.reason
    assert _value(plan, a.deal, 0, _spiff) == Decimal(1_000)
    assert largest[0] <= 1  # the check that one fact adds one to the count


def test_next_tier_through_a_derived_count(plan: kpidsl.Plan, largest: list[Decimal]) -> None:
    """No linear guess on ``logo_points = logos * 2``: the bound grows from one fact."""
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", next_tier=True,
                      tiers="logo_grade")
    assert a.goal == "next band of logo_grade: logo_points >= 10"
    assert a.method.startswith("search: bisection")  # no formula for a derived input
    n = _verify(plan, a, lambda p: p.values["logo_points"], Decimal(10), exact=False)
    assert n == 5 - HAS
    assert largest[0] <= 2 * n


def test_a_next_tier_on_a_capped_count_is_unreachable(
    plan: kpidsl.Plan, largest: list[Decimal]
) -> None:
    """``min(logos, 3)`` never reaches 4: seen as flat after COUNT_FLOOR facts, not 10^15."""
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", next_tier=True, tiers="club")
    assert a.status == "unreachable" and a.amount is None
    floor = whatif_search.COUNT_FLOOR
    assert "capped_logos stops rising at 3" in a.reason and f"{floor} more deal facts" in a.reason
    assert largest[0] <= floor
    result = kpidsl.loads(PLAN).evaluate(_tables(a.deal, int(floor)), "2026-Q3")
    assert result.payees["ann"].values["capped_logos"] == 3


def test_a_total_through_a_count_and_a_lookup(plan: kpidsl.Plan, largest: list[Decimal]) -> None:
    """spiff + grade bonus: the lookup jumps at 5 and 10 logos (a kink the pieces must find)."""
    goal = Decimal(5_300)  # 10 logos: 5_000 (capped) + grade 3 * 100
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "logos", payout=goal)
    n = _verify(plan, a, lambda p: p.total, goal)
    assert n == 10 - HAS
    assert largest[0] <= 2 * n


def test_the_example_spiff_in_new_logos(largest: list[Decimal]) -> None:
    """East China: luojuan's SPIFF is paid per new customer by product, capped at 5_000."""
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    a = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "luojuan", "new_logos",
                      payout=Decimal(3_000), component="spiff")
    assert a.status == "reachable" and a.amount is not None and a.exact
    n = int(a.amount)
    assert largest[0] <= 2 * n
    largest[0] = Decimal(0)
    capped = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "luojuan", "new_logos",
                           payout=Decimal(9_000), component="spiff")
    assert capped.status == "unreachable" and "the cap of spiff binds" in capped.reason
    assert largest[0] <= whatif_search.COUNT_FLOOR


@pytest.mark.parametrize("goal", [Decimal(3_000), Decimal(5_000), Decimal(6_000)])
def test_the_columnar_engine_gives_the_same_count_answer(goal: Decimal, tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    ref = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "luojuan", "new_logos",
                        payout=goal, component="spiff")
    col = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "luojuan", "new_logos",
                        payout=goal, component="spiff", engine="columnar")
    assert col.to_dict() == ref.to_dict()
