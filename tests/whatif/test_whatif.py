"""what-it-takes: every answer is verified by evaluating the plan with the deal added,
and with one cent less."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.whatif import Answer, what_it_takes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "east-china-2026"
CENT = Decimal("0.01")

Figure = Callable[[Any], Decimal | None]


def _with_deal_folder(tmp_path: Path, deal: dict[str, str], amount: Decimal) -> Path:
    """A copy of the example data with the synthetic deal appended to deals.csv."""
    folder = tmp_path / f"data-{amount}"
    shutil.copytree(EXAMPLE / "data", folder)
    with (folder / "deals.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    row = {**deal, "amount": str(amount)}
    with (folder / "deals.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerow([row[h] for h in header])
    return folder


@pytest.fixture(scope="module")
def plan() -> kpidsl.Plan:
    return kpidsl.load(EXAMPLE / "plan.kpi")


def _verify_example(tmp_path: Path, plan: kpidsl.Plan, a: Answer, payee: str, figure: Figure,
                    goal: Decimal) -> None:
    assert a.reachable and a.amount is not None
    assert a.amount == a.amount.quantize(CENT) and a.amount > 0
    for amount, reached in ((a.amount, True), (a.amount - CENT, False)):
        result = plan.evaluate(_with_deal_folder(tmp_path, a.deal, amount), "2026-Q3")
        assert result.ok
        value = figure(result.payees[payee])
        assert value is not None and (value >= goal) is reached, (amount, value)


def test_east_china_next_tier_for_an_ae_is_edge_times_target_minus_bookings(
    tmp_path: Path, plan: kpidsl.Plan
) -> None:
    a = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "chenjing", "bookings", next_tier=True)
    # target 300_000, bookings 191_300: the 100% edge needs 108_700 more
    assert a.amount == Decimal("108700.00") and a.exact
    assert a.deal["stage"] == "won" and a.deal["payee"] == "chenjing"
    assert "2026-07-01" <= a.deal["signed_on"] <= "2026-09-30"
    assert a.before["bookings"] == Decimal("191300.00")
    assert a.after["attainment(bookings)"] == Decimal("1.00")
    _verify_example(tmp_path, plan, a, "chenjing",
                    lambda p: p.values["attainment(bookings)"], Decimal(1))


def test_east_china_payout_target_is_verified(tmp_path: Path, plan: kpidsl.Plan) -> None:
    a = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "chenjing", "bookings", payout=Decimal(50_000))
    assert a.status == "reachable" and a.exact
    _verify_example(tmp_path, plan, a, "chenjing", lambda p: p.total, Decimal(50_000))


def test_east_china_commission_target_with_the_halving_gate(tmp_path: Path, plan: kpidsl.Plan) -> None:
    a = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "chenjing", "bookings",
                      payout=Decimal(5_000), component="commission")
    _verify_example(tmp_path, plan, a, "chenjing", lambda p: p.components["commission"], Decimal(5_000))


def test_east_china_unreachable_and_already(plan: kpidsl.Plan) -> None:
    top = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "lina", "bookings", next_tier=True)
    assert top.status == "already" and top.amount is None and not top.reachable
    assert "top band" in top.reason
    team = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "chenzhiqiang", "bookings", next_tier=True)
    assert team.status == "unreachable" and "over team" in team.reason
    # a won deal that is not a new customer never raises the SPIFF
    spiff = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", "luojuan", "bookings",
                          payout=Decimal(3_000), component="spiff")
    assert spiff.status == "unreachable" and spiff.amount is None and "spiff" in spiff.reason


# ---------------------------------------------------------------- small inline plans

HEADER = 'plan "t" {\n  currency CNY\n  period quarter\n}\n'
BOOKINGS = 'metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period\n'
PAYEES = [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""}]
DEALS = [{"id": "D1", "payee": "ann", "amount": "4000", "stage": "won", "signed_on": "2026-07-10"},
         {"id": "D2", "payee": "ann", "amount": "9000", "stage": "lost", "signed_on": "2026-07-11"}]
TARGETS = [{"payee": "ann", "metric": "bookings", "period": "2026-Q3", "value": "10000"}]


def _tables(extra: list[dict[str, str]] | None = None) -> dict[str, list[dict[str, str]]]:
    deals = [dict(d) for d in DEALS] + [
        {k: v for k, v in d.items() if k in DEALS[0]} for d in extra or []
    ]
    return {"payees": PAYEES, "deals": deals, "targets": TARGETS}


def _verify_inline(plan: kpidsl.Plan, a: Answer, figure: Figure, goal: Decimal) -> None:
    assert a.reachable and a.amount is not None
    for amount, reached in ((a.amount, True), (a.amount - CENT, False)):
        result = plan.evaluate(_tables([{**a.deal, "amount": str(amount)}]), "2026-Q3")
        assert result.ok
        value = figure(result.payees["ann"])
        assert value is not None and (value >= goal) is reached, (amount, value)


MARGINAL = HEADER + BOOKINGS + """
tiers rate marginal on bookings {
  0      to 10_000 : 5%
  10_000 to 20_000 : 10%
  20_000 and up    : 15%
}
payout commission: money = rate(bookings)
"""


def test_marginal_next_tier_and_payout() -> None:
    plan = kpidsl.loads(MARGINAL)
    nt = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", next_tier=True)
    assert nt.amount == Decimal("6000.00") and nt.exact  # the lost deal does not count
    _verify_inline(plan, nt, lambda p: p.values["bookings"], Decimal(10_000))
    # 10_000 * 5% = 500, then 1_000 more at 10%: bookings 20_000; but the paid figure is
    # rounded half up, and 19_999.95 already pays 1_499.995 -> 1_500.00
    pay = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(1_500))
    assert pay.amount == Decimal("15999.95") and pay.exact
    _verify_inline(plan, pay, lambda p: p.total, Decimal(1_500))
    odd = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal("1234.57"))
    _verify_inline(plan, odd, lambda p: p.total, Decimal("1234.57"))


STEP = HEADER + BOOKINGS + """
target bookings = 10_000
tiers rate step on attainment(bookings) {
  0%   to 100% : 2%
  100% and up  : 5%
}
payout commission: money = rate(bookings)
"""


def test_step_tiers_jump_at_the_edge() -> None:
    plan = kpidsl.loads(STEP)
    # 4_000 * 2% = 80; 9_999.99 * 2% = 200 < 500; 10_000 * 5% = 500
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(500))
    assert a.amount == Decimal("6000.00") and a.exact
    _verify_inline(plan, a, lambda p: p.total, Decimal(500))
    b = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(600))
    assert b.amount == Decimal("7999.90")  # 11_999.90 * 5% = 599.995 -> 600.00 (half up)
    _verify_inline(plan, b, lambda p: p.total, Decimal(600))


CAPPED = MARGINAL.replace("payout commission: money = rate(bookings)",
                          "payout commission: money = rate(bookings)\n  cap 1_000")


def test_a_binding_cap_makes_the_payout_unreachable() -> None:
    plan = kpidsl.loads(CAPPED)
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(2_000))
    assert a.status == "unreachable" and a.amount is None and not a.reachable
    assert "cap" in a.reason and "1_000" in a.reason
    ok = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(1_000))
    _verify_inline(plan, ok, lambda p: p.total, Decimal(1_000))
    done = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(100))
    assert done.status == "already" and "200.00" in done.reason


GATED = HEADER + BOOKINGS + """
target bookings = 10_000
payout bonus: money = 1_000
  requires attainment(bookings) >= 80%
"""


def test_a_gate_is_a_jump_solved_exactly() -> None:
    plan = kpidsl.loads(GATED)
    a = what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(1_000))
    assert a.amount == Decimal("4000.00")
    _verify_inline(plan, a, lambda p: p.total, Decimal(1_000))


def test_filters_that_cannot_be_met_say_why() -> None:
    prev = HEADER + ('metric bookings: money = sum deal.amount where deal.signed_on in previous period\n'
                     "payout c: money = bookings * 1%\n")
    a = what_it_takes(kpidsl.loads(prev), _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(10))
    assert a.status == "unreachable" and "previous period" in a.reason
    avg = HEADER + "metric bookings: money = avg deal.amount else 0\npayout c: money = bookings * 1%\n"
    b = what_it_takes(kpidsl.loads(avg), _tables(), "2026-Q3", "ann", "bookings", payout=Decimal(10))
    assert b.status == "unreachable" and "not additive" in b.reason


def test_bad_requests_raise_value_error() -> None:
    plan = kpidsl.loads(MARGINAL)
    with pytest.raises(ValueError):
        what_it_takes(plan, _tables(), "2026-Q3", "nobody", "bookings", next_tier=True)
    with pytest.raises(ValueError):
        what_it_takes(plan, _tables(), "2026-Q3", "ann", "nothing", next_tier=True)
    with pytest.raises(ValueError):
        what_it_takes(plan, _tables(), "2026-Q3", "ann", "bookings")


def test_cli_text_json_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    base = [str(EXAMPLE / "plan.kpi"), "--data", str(EXAMPLE / "data"), "--period", "2026-Q3"]
    code = main(["what-it-takes", *base, "--payee", "chenjing", "--metric", "bookings",
                 "--next-tier", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["amount"] == "108700.00" and out["exact"] is True
    assert out["deal"]["amount"] == "108700.00"
    code = main(["what-it-takes", *base, "--payee", "chenjing", "--metric", "bookings", "--next-tier"])
    assert code == 0 and "108,700.00 more bookings" in capsys.readouterr().out
    assert main(["what-it-takes", *base, "--payee", "nobody", "--metric", "bookings", "--next-tier"]) == 2
    assert main(["what-it-takes", *base, "--payee", "lina", "--metric", "bookings",
                 "--next-tier", "--component", "bonus"]) == 2
    capsys.readouterr()


QUESTIONS = [("chenjing", "bookings", {"next_tier": True}),
             ("chenjing", "bookings", {"payout": Decimal(50_000)}),
             ("chenjing", "bookings", {"payout": Decimal(5_000), "component": "commission"}),
             ("lina", "bookings", {"next_tier": True}),
             ("chenzhiqiang", "bookings", {"next_tier": True}),
             ("luojuan", "bookings", {"payout": Decimal(3_000), "component": "spiff"}),
             ("chenjing", "new_logos", {"next_tier": True})]


@pytest.mark.parametrize(("payee", "metric", "goal"), QUESTIONS, ids=[f"{q[0]}-{q[1]}-{i}" for i, q in
                                                                      enumerate(QUESTIONS)])
def test_the_columnar_engine_gives_the_same_answer(plan: kpidsl.Plan, payee: str, metric: str,
                                                   goal: dict[str, Any]) -> None:
    """Trials on the columnar stage add the trial deal to the loaded data and take it back."""
    pytest.importorskip("duckdb")
    ref = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", payee, metric, **goal)
    col = what_it_takes(plan, EXAMPLE / "data", "2026-Q3", payee, metric, engine="columnar", **goal)
    assert col.to_dict() == ref.to_dict()
