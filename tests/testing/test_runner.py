"""The plan test runner: expectations, expected errors, data errors, plans that do not load."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from kpidsl import ast
from kpidsl.eval.result import PayeeResult
from kpidsl.testing import TestOutcome, run_paths, run_plan_tests
from kpidsl.testing.expect import Checked, check_expect

from .helpers import DEALS, FIXTURES, PAYEES, PLAN, ROOT, block, write_plan


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def only(outcomes: list[TestOutcome]) -> TestOutcome:
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


def test_a_passing_test(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block(
        "ten percent", "expect alice.commission == 1_200.00", "expect bob.commission == 300",
        "expect alice.bookings >= 12_000", "expect alice.total != 0", "expect bob.deals_won < 2",
    ))
    got = only(run_plan_tests(path))
    assert got.status == "passed", got.failures
    assert got.id == f"{path.as_posix()}::ten percent"
    assert got.line == 11


def test_a_wrong_expectation_reports_expected_actual_and_explanation(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block("wrong", "expect alice.commission == 1_200.01"))
    got = only(run_plan_tests(path))
    assert got.status == "failed"
    (failure,) = got.failures
    assert failure.location == f"{path.as_posix()}:{line_of(path, 'expect alice')}"
    assert failure.expected == "alice.commission == 1200.01"
    assert failure.actual == "1200.00"
    assert "expect alice.commission == 1_200.01" in failure.message
    assert failure.explanation is not None
    assert "commission = 1,200.00" in failure.explanation
    assert "formula: bookings * 10%" in failure.explanation
    assert "D1" in failure.explanation  # down to the deal behind the figure


def test_each_comparison_operator(tmp_path: Path) -> None:
    holds = ["== 1200", "!= 1", "< 1200.01", "<= 1200", "> 1199.99", ">= 1200"]
    fails = ["!= 1200", "< 1200", "> 1200", "== -1200"]
    lines = [f"expect alice.commission {op}" for op in holds + fails]
    got = only(run_plan_tests(write_plan(tmp_path, block("ops", *lines))))
    failed = [f.expected for f in got.failures]
    assert failed == [
        "alice.commission != 1200", "alice.commission < 1200", "alice.commission > 1200",
        "alice.commission == -1200",
    ]


def test_a_number_is_not_compared_with_text(tmp_path: Path) -> None:
    got = only(run_plan_tests(write_plan(tmp_path, block("t", 'expect alice.commission == "x"'))))
    assert "cannot compare number with text" in got.failures[0].message


def test_an_expected_error_that_occurs_passes(tmp_path: Path) -> None:
    tables = PAYEES + DEALS.replace("D2  bob    3_000   won", "D2  bob    3_000   lost")
    path = write_plan(tmp_path, block(
        "zero deals", "expect error KPI0601 for bob.avg_deal", "expect bob.commission == 0",
        tables=tables,
    ))
    assert only(run_plan_tests(path)).status == "passed"


def test_an_expected_error_of_a_dependent_value_or_payee_passes(tmp_path: Path) -> None:
    tables = PAYEES + DEALS.replace("D2  bob    3_000   won", "D2  bob    3_000   lost")
    path = write_plan(tmp_path, block("payee level", "expect error KPI0601 for bob", tables=tables))
    assert only(run_plan_tests(path)).status == "passed"


def test_an_expected_error_that_does_not_occur_fails(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block("no error", "expect error KPI0601 for bob.avg_deal"))
    got = only(run_plan_tests(path))
    assert got.status == "failed"
    (failure,) = got.failures
    assert "the error did not occur" in failure.message
    assert failure.expected == "error KPI0601 for bob.avg_deal"
    assert failure.actual == "3000"
    assert failure.explanation is not None and "avg_deal = 3,000" in failure.explanation


def test_an_unexpected_evaluation_error_fails(tmp_path: Path) -> None:
    tables = PAYEES + DEALS.replace("D2  bob    3_000   won", "D2  bob    3_000   lost")
    got = only(run_plan_tests(write_plan(tmp_path, block("surprise", tables=tables))))
    assert got.status == "failed"
    (failure,) = got.failures
    assert failure.message == "unexpected evaluation error for bob"
    assert failure.actual is not None and failure.actual.startswith("error KPI0601 in avg_deal")


def test_an_expectation_on_a_failed_value_shows_the_error(tmp_path: Path) -> None:
    tables = PAYEES + DEALS.replace("D2  bob    3_000   won", "D2  bob    3_000   lost")
    got = only(run_plan_tests(write_plan(
        tmp_path, block("total", "expect bob.total == 0", tables=tables))))
    (failure,) = got.failures  # reported once, not again as "unexpected"
    assert "could not be evaluated" in failure.message
    assert failure.actual is not None and "KPI0601" in failure.actual


def test_expect_error_in_the_gap_fixture_passes() -> None:
    outcomes = run_plan_tests(FIXTURES / "plan.kpi")
    assert [o.status for o in outcomes] == ["passed", "passed", "passed"]


def test_expect_error_in_a_file_that_checks_clean_fails(tmp_path: Path) -> None:
    write_plan(tmp_path, name="sub/clean.kpi")
    path = write_plan(tmp_path, block("clean", 'expect error KPI0301 in "sub/clean.kpi"'))
    (failure,) = only(run_plan_tests(path)).failures
    assert "loads and checks without errors" in failure.message


def test_expect_error_in_a_file_with_other_errors_shows_them(tmp_path: Path) -> None:
    (tmp_path / "gap.kpi").write_text((FIXTURES / "gap.kpi").read_text(encoding="utf-8"))
    path = write_plan(tmp_path, block("other", 'expect error KPI0999 in "gap.kpi"'))
    (failure,) = only(run_plan_tests(path)).failures
    assert failure.actual == "KPI0301"
    assert failure.explanation is not None and "gap between bands" in failure.explanation


def test_expect_error_in_a_file_outside_the_root_fails(tmp_path: Path) -> None:
    (tmp_path / "gap.kpi").write_text((FIXTURES / "gap.kpi").read_text(encoding="utf-8"))
    path = write_plan(tmp_path / "plans", block("escape", 'expect error KPI0301 in "../gap.kpi"'))
    (failure,) = only(run_plan_tests(path)).failures
    assert "outside the plan's root" in failure.message


def checked(payees: dict[str, PayeeResult]) -> Checked:
    return Checked(payees, (), {}, lambda span: f"plan.kpi:{span.line}", lambda pr, name: None)


def test_an_unknown_payee_at_run_time_is_a_clear_failure() -> None:
    # The checker rejects unknown payees of a payees table (next test); the runner,
    # which also serves plans evaluated by other means, still answers clearly.
    alice = PayeeResult("alice", Decimal(1), {"commission": Decimal(1)}, {})
    expect = ast.Expect("zed", "commission", "==", ast.Number(Decimal(0)))
    failure = check_expect(checked({"alice": alice}), expect, set())
    assert failure is not None
    assert "no payee `zed` in this test (payees: alice)" in failure.message
    missing = check_expect(checked({"alice": alice}), attrs.evolve(expect, payee="alice",
                                                                     name="nothing"), set())
    assert missing is not None and "has no value `nothing`" in missing.message


def test_an_unknown_payee_with_a_payees_table_fails_the_check(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block("who", "expect zed.commission == 0"))
    (failure,) = only(run_plan_tests(path)).failures
    assert failure.message == "the plan does not load"
    assert failure.explanation is not None and "KPI0808" in failure.explanation


def test_data_errors_fail_the_test_with_the_rendered_diagnostics(tmp_path: Path) -> None:
    dup = DEALS.replace("D2  bob", "D1  bob")
    path = write_plan(tmp_path, block("dup", "expect alice.commission == 1_200", tables=PAYEES + dup))
    got = only(run_plan_tests(path))
    assert got.status == "failed"
    data = [f for f in got.failures if f.expected == "valid data"]
    assert data and data[0].actual == "KPI0720"
    assert data[0].explanation is not None and "duplicate" in data[0].explanation
    assert data[0].location == f"{path.as_posix()}:{line_of(path, 'D1  bob')}"  # the duplicate


def test_an_expected_data_error_passes(tmp_path: Path) -> None:
    dup = DEALS.replace("D2  bob", "D1  bob")
    path = write_plan(tmp_path, block("dup", "expect error KPI0720", tables=PAYEES + dup))
    assert only(run_plan_tests(path)).status == "passed"


def test_targets_without_a_period_take_the_tests_period(tmp_path: Path) -> None:
    plan = PLAN.replace("bookings * 10%", "1_000 * attainment(bookings)")
    tables = PAYEES + DEALS + "  targets {\n    alice bookings 24_000\n    bob bookings 3_000\n  }\n"
    path = write_plan(tmp_path, block("quota", "expect alice.commission == 500", tables=tables),
                      plan=plan)
    assert only(run_plan_tests(path)).status == "passed"


def test_a_plan_that_does_not_check_fails_each_of_its_tests(tmp_path: Path) -> None:
    bad = PLAN + "payout broken: money = bookings + deals_won\n"
    path = write_plan(tmp_path, block("one"), block("two"), plan=bad)
    outcomes = run_plan_tests(path)
    assert [(o.name, o.status) for o in outcomes] == [("one", "failed"), ("two", "failed")]
    assert all(o.failures[0].explanation and "KPI02" in o.failures[0].explanation for o in outcomes)


def test_a_plan_that_does_not_parse_still_names_its_tests(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block("one"), plan=PLAN + "metric = = 1\n")
    got = only(run_plan_tests(path))
    assert (got.name, got.status) == ("one", "failed")
    assert got.failures[0].explanation and "KPI0001" in got.failures[0].explanation


def test_keyword_skips_other_tests(tmp_path: Path) -> None:
    path = write_plan(tmp_path, block("Alpha one"), block("beta two"))
    statuses = [(o.name, o.status) for o in run_plan_tests(path, keyword="ALPHA")]
    assert statuses == [("Alpha one", "passed"), ("beta two", "skipped")]


def test_run_paths_finds_plans_in_folders_and_skips_fixtures(tmp_path: Path) -> None:
    (tmp_path / "gap.kpi").write_text((FIXTURES / "gap.kpi").read_text(encoding="utf-8"))
    (tmp_path / "lib.kpi").write_text("const x: money = 1\n", encoding="utf-8")
    write_plan(tmp_path, block("b test"), name="b.kpi")
    write_plan(tmp_path, block("a test", 'expect error KPI0301 in "gap.kpi"'), name="a.kpi")
    report = run_paths([tmp_path])
    assert [o.name for o in report.outcomes] == ["a test", "b test"]
    assert report.summary() == "2 passed, 0 failed"


def test_a_broken_plan_without_tests_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "gap.kpi").write_text((FIXTURES / "gap.kpi").read_text(encoding="utf-8"))
    report = run_paths([tmp_path])
    assert [(o.name, o.status) for o in report.outcomes] == [("<plan>", "failed")]
    assert report.summary() == "0 passed, 1 failed"


def test_every_example_passes() -> None:
    report = run_paths([ROOT / "examples"], keyword=None, invariant_examples=5)
    plans = {Path(o.plan).parent.name for o in report.outcomes}
    assert plans == {"east-china-2026", "saas-team", "distributor-collections"}
    assert report.failed == 0, [(o.id, o.failures) for o in report.outcomes if o.failed]
    assert report.passed >= 14
    assert sum(o.name.startswith("invariant ") for o in report.outcomes) == 9
