"""Coverage (``--coverage``, ``--fail-under``) and invariants (hypothesis, counterexamples)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.testing import run_paths
from kpidsl.testing.cli import main
from kpidsl.testing.runner import load_plan_file, run_loaded

PLAN = """plan "Cov" {
  currency USD
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period

tiers rate step on bookings {
  0 to 10_000      : 5%
  10_000 to 50_000 : 8%
  50_000 and up    : 10%
}

payout commission: money = rate(bookings)
payout bonus: money = 500 requires bookings >= 1_000

for role SE {
  payout bonus: money = 100
}
"""

TEST = """
test "an AE" {
  period 2026-Q3
  payees {
    id     role  region
    alice  AE    east
  }
  deals {
    id  payee  amount  stage  signed_on
    D1  alice  12_000  won    2026-07-10
  }
  expect alice.commission == 960.00
  expect alice.bonus == 500.00
}
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "plan.kpi"
    path.write_text(text, encoding="utf-8")
    return path


def test_coverage_lists_the_untested_block_band_and_gate_outcome(tmp_path: Path) -> None:
    write(tmp_path, PLAN + TEST)
    report = run_paths([tmp_path / "plan.kpi"], coverage=True)
    assert report.coverage is not None
    cov = report.coverage[0]
    missed = {i.label for i in cov.uncovered}
    assert missed == {
        "for role SE",                                      # the block never applied
        "payout bonus (for role SE)",                       # its definition never evaluated
        "tiers rate: band 0 to 10000",                      # bands never reached
        "tiers rate: band 50000 and up",
        "payout bonus: requires bookings >= 1_000: failed",  # the gate only ever passed
    }
    assert len(cov.items) == 11
    assert cov.percent == Decimal("54.5")  # 6/11 = 54.54...%, shown rounded down


def test_a_test_for_the_se_covers_the_block(tmp_path: Path) -> None:
    se = TEST.replace('"an AE"', '"an SE"').replace("alice  AE", "alice  SE").replace(
        "alice.bonus == 500.00", "alice.bonus == 100.00")
    write(tmp_path, PLAN + TEST + se)
    cov = run_paths([tmp_path / "plan.kpi"], coverage=True).coverage
    assert cov is not None
    missed = {i.label for i in cov[0].uncovered}
    assert "for role SE" not in missed and "payout bonus (for role SE)" not in missed


def test_coverage_text_json_and_fail_under(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, PLAN + TEST)
    assert main([str(path), "--coverage"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "1 passed, 0 failed"
    assert f"  {path.as_posix()}: 54.5% (6/11 items)" in out
    assert f"    {tmp_path.as_posix()}/plan.kpi:17: for role SE — never applied" in out
    assert any(line.endswith("requires bookings >= 1_000: failed — never seen") for line in out)
    assert main([str(path), "--fail-under", "50"]) == 0
    capsys.readouterr()
    assert main([str(path), "--fail-under", "60"]) == 1
    assert "coverage 54.5% is below --fail-under 60%" in capsys.readouterr().err
    assert main([str(path), "--coverage", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["coverage"]["percent"] == "54.5"
    assert {u["item"] for u in data["coverage"]["plans"][0]["uncovered"]} >= {"for role SE"}


def test_the_example_plans_keep_their_invariants(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "saas-team" / "plan.kpi"
    outcomes = run_loaded(load_plan_file(root), keyword="invariant", invariant_examples=10)
    ran = [o for o in outcomes if o.status != "skipped"]
    assert ran and all(o.passed for o in ran), [o.failures for o in ran]


BOUND = PLAN.replace("payout bonus: money = 500 requires bookings >= 1_000\n", "") \
    .replace("for role SE {\n  payout bonus: money = 100\n}\n", "") + "\ninvariant commission <= 1_000\n"
# a bonus only below 20_000 of bookings: one more won deal can take it away
MONO = PLAN.replace(">= 1_000", "< 20_000") + "\ninvariant bonus is monotonic in bookings\n" \
    + "invariant commission is monotonic in deal.amount\n"


def counterexample(text: str) -> str:
    """The ``test`` block printed with an invariant's failure."""
    block = text.split("counterexample, as a test to paste into the plan:\n", 1)[1]
    lines = [line for line in block.splitlines()]
    end = next(i for i, line in enumerate(lines) if line == "}")
    return "\n".join(lines[: end + 1]) + "\n"


@pytest.mark.parametrize(("plan", "name"), [
    (BOUND, "invariant commission <= 1_000"),
    (MONO, "invariant bonus is monotonic in bookings"),
], ids=["bound", "monotonic"])
def test_a_violated_invariant_pasted_as_a_test_fails_the_same_way(tmp_path: Path, plan: str,
                                                                   name: str) -> None:
    path = write(tmp_path, plan)
    outcomes = {o.name: o for o in run_loaded(load_plan_file(path), invariant_examples=30)}
    found = outcomes[name]
    assert found.failed, found
    failure = found.failures[0]
    assert failure.explanation is not None
    block = counterexample(failure.explanation)
    expect = next(line.strip() for line in block.splitlines() if line.strip().startswith("expect"))
    # the pasted test is valid kpidsl and fails on exactly that expectation
    pasted = write(tmp_path, plan + "\n" + block)
    kpidsl.load(pasted)  # loads and checks
    tests = [o for o in run_loaded(load_plan_file(pasted), keyword="counterexample")
             if o.status != "skipped"]
    assert len(tests) == 1 and tests[0].failed
    assert [f.message.split(":")[0] for f in tests[0].failures] == [expect]
    assert tests[0].failures[0].actual in failure.actual.replace(" ", "") or \
        tests[0].failures[0].actual in failure.message


def test_an_invariant_that_holds_passes_and_counts_as_a_test(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, PLAN + TEST + "\ninvariant bonus >= 0\ninvariant bonus <= 500\n")
    assert main([str(path), "--invariant-examples", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"PASS {path.as_posix()}::invariant bonus >= 0" in out
    assert out[-1] == "3 passed, 0 failed"


def test_a_violated_invariant_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BOUND + TEST.replace("  expect alice.bonus == 500.00\n", ""))
    assert main([str(path), "--invariant-examples", "20"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"FAIL .*::invariant commission <= 1_000", out)
    assert 'test "counterexample: commission <= 1_000" {' in out
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_strategies_and_builder_make_valid_data() -> None:
    from hypothesis import given, settings

    from kpidsl.testing.build import DataBuilder, dataset
    from kpidsl.testing.strategies import datasets

    plan = kpidsl.loads(PLAN)
    data = DataBuilder("2026-Q3").payee("alice", role="AE").fact(
        "deals", id="D1", payee="alice", amount="12000", stage="won", signed_on="2026-07-10").build()
    assert plan.evaluate(data, "2026-Q3").payees["alice"].components["commission"] == 960
    same = dataset(payees=[{"id": "alice", "role": "AE"}],
                   deals=[{"id": "D1", "payee": "alice", "amount": 12000, "stage": "won",
                           "signed_on": "2026-07-10"}])
    assert plan.evaluate(same, "2026-Q3").payees["alice"].total == 1460

    @settings(max_examples=15, deadline=None, derandomize=True, database=None)
    @given(datasets(plan, "2026-Q3"))
    def valid(raw: kpidsl.RawData) -> None:
        result = plan.evaluate(raw, "2026-Q3")
        assert result.evaluation is not None, result.data_diagnostics

    valid()
