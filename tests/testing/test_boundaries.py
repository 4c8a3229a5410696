"""Boundary-value analysis for invariants: the search aims at the plan's own thresholds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.testing.boundaries import boundaries, near, steps_to
from kpidsl.testing.cli import main
from kpidsl.testing.runner import load_plan_file, run_loaded

HEADER = 'plan "Cov" {\n  currency USD\n  period quarter\n}\n'
BOOKINGS = 'metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period\n'
# the QA report's plan (finding 4): the bonus is lost when bookings reach 20_000
QA_PLAN = HEADER + BOOKINGS + """tiers rate step on bookings {
  0 to 10_000      : 5%
  10_000 to 50_000 : 8%
  50_000 and up    : 10%
}
payout commission: money = rate(bookings)
payout bonus: money = 500 requires bookings < 20_000
for role SE {
  payout bonus: money = 100
}
invariant bonus is monotonic in bookings
"""


def test_boundaries_collect_literals_and_attainment_edges_times_targets() -> None:
    plan = kpidsl.loads(HEADER + BOOKINGS + """target bookings = 1_000_000
tiers r marginal on attainment(bookings) {
  0% to 50% : 2%
  50% and up : 5%
}
payout c: money = r(bookings) requires bookings >= 1_234.5
""")
    edges = boundaries(plan.model)
    assert Decimal("1234.50") in edges                   # a requires threshold
    assert Decimal("500000") in edges                    # 50% × the plan's target
    assert Decimal("50000") in edges                     # 50% × the round target the data favours
    assert Decimal("1000000") in edges                   # the target itself
    assert all(e > 0 for e in edges) and list(edges) == sorted(edges)


def test_near_and_steps_straddle_each_boundary() -> None:
    assert near([Decimal("20000")]) == (Decimal("19999.99"), Decimal("20000"), Decimal("20000.01"))
    assert near([Decimal("0.01")]) == (Decimal("0.00"), Decimal("0.01"), Decimal("0.02"))
    assert steps_to([Decimal("100")], Decimal("99.99")) == (Decimal("0.00"), Decimal("0.01"),
                                                            Decimal("0.02"))[1:]


def test_the_qa_plan_fails_with_a_counterexample_that_fails_the_same_way(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plan.kpi"
    path.write_text(QA_PLAN, encoding="utf-8")
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "invariant bonus is monotonic in bookings is violated" in out
    # the actual line shows the value, not the message again
    actual = next(line.strip() for line in out.splitlines() if line.strip().startswith("actual:"))
    assert actual.endswith("= 0.00 (was 500.00)"), actual
    block = out.split("counterexample, as a test to paste into the plan:\n", 1)[1]
    lines = [line[8:] for line in block.splitlines()]
    block = "\n".join(lines[: lines.index("}") + 1]) + "\n"
    path.write_text(QA_PLAN + "\n" + block, encoding="utf-8")
    pasted = [o for o in run_loaded(load_plan_file(path), keyword="counterexample") if o.status != "skipped"]
    assert len(pasted) == 1 and pasted[0].failed
    assert pasted[0].failures[0].message.startswith("expect p")
    assert ">= 500.00" in pasted[0].failures[0].message


def test_an_exact_threshold_no_random_amount_would_hit_is_found(tmp_path: Path) -> None:
    path = tmp_path / "plan.kpi"
    path.write_text(HEADER + BOOKINGS + "payout glitch: money = 100 requires bookings == 12_345.67\n"
                    + "invariant glitch <= 0\n", encoding="utf-8")
    outcomes = run_loaded(load_plan_file(path), invariant_examples=20)
    assert len(outcomes) == 1 and outcomes[0].failed
    assert outcomes[0].failures[0].actual is not None
    assert outcomes[0].failures[0].actual.endswith(".glitch = 100.00")


def test_the_search_is_deterministic(tmp_path: Path) -> None:
    path = tmp_path / "plan.kpi"
    path.write_text(QA_PLAN, encoding="utf-8")
    runs = [run_loaded(load_plan_file(path), invariant_examples=10)[0].failures for _ in range(2)]
    assert runs[0] == runs[1] and runs[0]
