"""Audit of `kpidsl diff`, plan tests/invariants and dated versions: confirmed defects.

Each test fails on the code as audited and passes once the defect is fixed.
"""

from __future__ import annotations

import kpidsl
from kpidsl.diff import compare
from kpidsl.testing import dataset

HEAD = 'plan "T" {\n  currency USD\n  period quarter\n}\n'
BOOKINGS = ('metric bookings: money = sum deal.amount where deal.stage == "won" '
            "and deal.signed_on in period\n")


def _data() -> kpidsl.RawData:
    return dataset(
        payees=[{"id": "alice", "name": "Alice", "role": "AE", "region": "east"},
                {"id": "bob", "name": "Bob", "role": "AE", "region": "west"}],
        deals=[{"id": "D1", "payee": "alice", "amount": "10000", "stage": "won",
                "signed_on": "2026-07-10"},
               {"id": "D2", "payee": "bob", "amount": "8000", "stage": "won",
                "signed_on": "2026-08-10"}],
    )


def test_diff_component_delta_is_not_invented_when_the_component_fails() -> None:
    """docs/diff.md: "A component that exists in only one version shows `null` there and
    counts as 0 in its delta" and "a payee whose evaluation fails in either version ... is
    left out of the sums, so the change is never distorted by a missing figure".

    `commission` exists in both versions; in the new one it fails for bob (KPI0601). The
    JSON must not report a per-component delta of -800.00 (a cut that nobody decided):
    the component's delta is unknown, like the payee's (``delta: null``).
    """
    old = kpidsl.loads(HEAD + BOOKINGS + "payout commission: money = bookings * 10%\n", "old.kpi")
    new = kpidsl.loads(HEAD + BOOKINGS + "payout commission: money = bookings * 10%\n"
                       "for payee bob { payout commission: money = bookings / 0 * 10% }\n",
                       "new.kpi")
    c = compare(old, new, _data(), "2026-Q3")
    bob = next(p for p in c.payees if p.payee == "bob")
    assert bob.delta is None and bob.direction == "error"
    comp = c.to_dict()["payees"]["bob"]["components"]["commission"]
    assert comp["old"] == "800.00" and comp["new"] is None
    # the component failed in the new version: its delta is not "-800.00"
    assert comp["delta"] is None, comp


def test_expect_error_for_a_value_accepts_the_error_of_a_value_it_depends_on() -> None:
    """docs/testing.md: "`expect error CODE for payee.name` — that evaluation error (KPI06xx)
    occurs for that value, or for a value it depends on."

    `bonus` depends on `ratio`, whose division by zero (KPI0601) is reported under `ratio`
    (the root cause). `expect error KPI0601 for bob.bonus` must pass; it fails with "the
    error did not occur" plus an "unexpected evaluation error" for the same KPI0601.
    """
    from kpidsl.testing import run_plan

    plan = kpidsl.loads(HEAD + BOOKINGS + """
metric collected: money = sum collection.amount where collection.received_on in period
metric ratio: percent = collected / bookings
payout bonus: money = 100 * ratio

test "bonus fails through ratio" {
  period 2026-Q3
  payees {
    id   role  region
    bob  AE    east
  }
  expect error KPI0601 for bob.bonus
}
""", "plan.kpi")
    [out] = run_plan(plan, "plan.kpi")
    assert out.passed, [f.message for f in out.failures]


def test_diff_data_rejected_for_one_version_does_not_claim_nothing_was_paid() -> None:
    """docs/diff.md: "on rejected data nothing was evaluated, so no totals are shown
    ("Not compared: the data was rejected"; in JSON `data_rejected: true` and the totals
    `null`)".

    The new version navigates `collection.deal.product`, so a collection of a missing deal
    is data error KPI0722 for it (a warning for the old version, which is evaluated). The
    table then prints the old version's totals (alice 80.00) *and* "nothing was paid by
    either plan": one of the two is false.
    """
    from kpidsl.diff.cli import render_table

    data = dataset(
        payees=[{"id": "alice", "name": "Alice", "role": "AE", "region": "east"}],
        deals=[{"id": "D1", "payee": "alice", "amount": "1000", "stage": "won",
                "signed_on": "2026-07-10", "product": "p1"}],
        collections=[{"id": "C1", "deal": "D1", "payee": "alice", "amount": "500",
                      "received_on": "2026-07-20"},
                     {"id": "C2", "deal": "D9", "payee": "alice", "amount": "300",
                      "received_on": "2026-07-21"}],
    )
    old = kpidsl.loads(HEAD + "metric collected: money = sum collection.amount where "
                       "collection.received_on in period\npayout commission: money = collected * 10%\n",
                       "old.kpi")
    new = kpidsl.loads(HEAD + "metric collected: money = sum collection.amount where "
                       "collection.received_on in period and collection.deal.product == \"p1\"\n"
                       "payout commission: money = collected * 10%\n", "new.kpi")
    c = compare(old, new, data, "2026-Q3")
    assert c.rejected and c.old.evaluation is not None
    text = render_table(c)
    shows_old_pay = "80.00" in text
    claims_nothing_paid = "nothing was paid by either plan" in text
    assert not (shows_old_pay and claims_nothing_paid), text


def test_a_test_block_in_an_imported_file_is_not_dropped_silently(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """docs/language.md: "The imported file's definitions join the plan as if written in it"
    (and an imported file's own header is ignored *with warning KPI0133*); docs/testing.md:
    "A plan carries its own unit tests ... `kpidsl test` runs them".

    A `test` block in `lib/rates.kpi` (imported by `plan.kpi`) is neither run with the plan
    nor reported: `kpidsl test plan.kpi` (and a folder run, which skips header-less library
    files) says "1 passed, 0 failed" although the library's test is wrong. It must run, or at
    least be reported (a warning), never vanish.
    """
    from kpidsl.testing import run_plan_tests

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "rates.kpi").write_text(
        "const rate: percent = 10%\n\n"
        'test "library rate" {\n  period 2026-Q3\n  payees {\n    id     role  region\n'
        "    alice  AE    east\n  }\n  expect alice.rate == 99%\n}\n", encoding="utf-8")
    (tmp_path / "plan.kpi").write_text(
        HEAD + 'import "lib/rates.kpi"\n' + BOOKINGS + "payout commission: money = bookings * rate\n",
        encoding="utf-8")
    plan = kpidsl.load(tmp_path / "plan.kpi")
    outcomes = run_plan_tests(tmp_path / "plan.kpi")
    ran = [o for o in outcomes if o.name == "library rate"]
    warned = [w for w in plan.warnings if "library rate" in w.message or "test" in w.message]
    assert ran or warned, (outcomes, plan.warnings)


def test_a_test_with_two_periods_is_not_silently_run_on_the_first() -> None:
    """docs/testing.md: "`period 2026-Q3` — the period evaluated"; docs/semantics.md: a test
    has "a period". A test block that says `period 2026-Q3` and then `period 2026-Q4` names
    two periods; the runner silently evaluates only the first and ignores the second, so
    `expect alice.commission == 0` passes although the Q4 deal pays 10.00 in 2026-Q4.
    Either the checker rejects the second `period` or the test must not pass.
    """
    from kpidsl.testing import run_plan

    text = HEAD + BOOKINGS + "payout commission: money = bookings * 10%\n" + """
test "two periods" {
  period 2026-Q3
  period 2026-Q4
  payees {
    id     role  region
    alice  AE    east
  }
  deals {
    id  payee  amount  stage  signed_on
    D1  alice  100     won    2026-10-05
  }
  expect alice.commission == 0
}
"""
    try:
        plan = kpidsl.loads(text, "plan.kpi")
    except kpidsl.PlanError:
        return  # rejected by the checker: fixed
    [out] = run_plan(plan, "plan.kpi")
    assert not out.passed, "a test naming two periods passed on the first one only"


def test_coverage_does_not_count_a_block_the_payee_never_matched_in_the_period(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """docs/testing.md (Coverage): "override blocks never applied (no test payee matches the
    block in the period)"; docs/language.md: "Only blocks whose selector matches the payee's
    attributes *on that date* ... apply".

    The test's payee row says `role SE`, but its `payee_history` makes her AE from
    2026-07-01, the first day of the tested quarter: no payee matches `for role SE` on any
    day of 2026-Q3 (commission is paid at the base 10%). Coverage still counts the block as
    applied (only its definition is listed as never evaluated).
    """
    from kpidsl.testing import run_paths

    (tmp_path / "plan.kpi").write_text(HEAD + BOOKINGS + """payout commission: money = bookings * 10%
for role SE { payout commission: money = bookings * 20% }
test "promoted to AE before the quarter" {
  period 2026-Q3
  payees {
    id     role  region
    alice  SE    east
  }
  payee_history {
    payee  attribute  value  effective_from
    alice  role       AE     2026-07-01
  }
  deals {
    id  payee  amount  stage  signed_on
    D1  alice  100     won    2026-07-05
  }
  expect alice.commission == 10
}
""", encoding="utf-8")
    report = run_paths([tmp_path / "plan.kpi"], coverage=True)
    assert report.ok
    [cov] = report.coverage or ()
    uncovered = [i.category for i in cov.uncovered]
    assert "override" in uncovered, [i.label for i in cov.uncovered]


def test_diff_does_not_compare_two_different_date_ranges_as_the_same_period(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """docs/diff.md: "Evaluates both plan versions on the same data and period"; contract:
    "two plan versions evaluated on the same data and period give a per-payee and total
    comparison".

    With `fiscal_year_start 04-01` in the new version, `2026-Q3` means 2026-10-01..12-31
    for it and 2026-07-01..09-30 for the old one. `kpidsl diff` silently compares the two
    windows and reports a "Total cost ... change -1,000.00" (exit 0) that no plan change
    caused. It must refuse (usage error), or at least say that the period's dates differ.
    """
    from kpidsl.cli import main

    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\nalice,Alice,AE,east,\n",
                                     encoding="utf-8")
    (data / "deals.csv").write_text(
        "id,payee,amount,stage,signed_on,customer,product\nD1,alice,10000,won,2026-07-10,c1,p1\n",
        encoding="utf-8")
    body = BOOKINGS + "payout commission: money = bookings * 10%\n"
    (tmp_path / "old.kpi").write_text(HEAD + body, encoding="utf-8")
    (tmp_path / "new.kpi").write_text(
        'plan "T" {\n  currency USD\n  period quarter\n  fiscal_year_start 04-01\n}\n' + body,
        encoding="utf-8")
    code = main(["diff", str(tmp_path / "old.kpi"), str(tmp_path / "new.kpi"), "--data", str(data),
                 "--period", "2026-Q3"])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert code == 2 or "2026-10-01" in out, out
