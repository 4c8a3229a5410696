"""Names pass: unknowns with did-you-mean, fields, hops, functions, cycles."""

from __future__ import annotations

from .helpers import BOOKINGS, codes, run


def test_unknown_name_suggests_the_closest() -> None:
    _, diags = run(BOOKINGS + "payout p: money = bookngs * 5%\n")
    assert diags[0].code == "KPI0111" and diags[0].help == "did you mean `bookings`?"


def test_duplicate_has_first_defined_here_label() -> None:
    _, diags = run(BOOKINGS + "metric bookings: money = sum deal.amount\n")
    assert diags[0].code == "KPI0110"
    assert diags[0].secondary[0].message == "first defined here"
    assert diags[0].secondary[0].span.line < diags[0].primary.span.line


def test_one_hop_ok_two_hops_error() -> None:
    assert codes("metric x: count = count distinct collection.deal.product\n") == []
    assert codes("metric x: count = count distinct deal.product.name\n") == ["KPI0114"]


def test_cycle_names_every_step() -> None:
    _, diags = run("metric a: money = b + 1\nmetric b: money = a * 2\n")
    (d,) = diags
    assert d.code == "KPI0122" and "a -> b -> a" in d.message
    assert len(d.secondary) == 1


def test_prior_of_itself_is_not_a_cycle() -> None:
    assert codes(BOOKINGS + "payout c: money = bookings * 5% - prior(c)\n") == []


def test_prior_needs_a_payout_and_attainment_a_metric() -> None:
    assert codes(BOOKINGS + "payout c: money = prior(bookings)\n") == ["KPI0120"]
    assert codes(BOOKINGS + "const k: money = 1\npayout c: money = 1\n"
                 "  requires attainment(k) > 0%\n") == ["KPI0118"]


def test_attainment_target_may_come_from_an_override() -> None:
    plan = ("metric m: money = sum deal.amount\npayout c: money = 1\n"
            "  requires attainment(m) > 0%\nfor role AE {\n  target m = 5\n}\n")
    assert codes(plan) == []


def test_arity_and_unknown_function() -> None:
    assert codes(BOOKINGS + "payout c: money = max(bookings)\n") == ["KPI0117"]
    assert codes(BOOKINGS + "payout c: money = round(bookings)\n") == ["KPI0116"]


def test_override_may_add_new_metrics_and_payouts() -> None:
    plan = BOOKINGS + ("for role manager {\n  metric team_b: money = sum deal.amount over team\n"
                       "  payout override_pay: money = team_b * 1%\n}\n")
    model, diags = run(plan)
    assert diags == [] and model is not None
    assert "override_pay" in model.payouts


def test_more_specific_block_sees_names_of_a_general_block() -> None:
    plan = BOOKINGS + ("for role manager {\n  metric team_b: money = sum deal.amount over team\n}\n"
                       "for role manager and region west {\n  payout p: money = team_b * 1%\n}\n")
    assert codes(plan) == []


def test_input_type_change_in_override_is_an_error() -> None:
    assert codes("input e: percent\nfor role AE {\n  input e: number\n}\n") == ["KPI0130"]


def test_an_imported_file_s_own_header_is_ignored_with_a_warning(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The main file's header sets currency, period, rounding and precision; a shared file
    with a header of its own (USD, months, half_even) changed nothing, silently."""
    import kpidsl

    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "rates.kpi").write_text(
        'plan "Shared" {\n  currency USD\n  period month\n  rounding half_even 1\n}\n'
        "const base_rate: percent = 10%\n", encoding="utf-8")
    (tmp_path / "plan.kpi").write_text(
        'plan "Main" {\n  currency CNY\n  period quarter\n}\nimport "shared/rates.kpi"\n'
        "payout p: money = sum deal.amount * base_rate where deal.signed_on in period\n", encoding="utf-8")
    plan = kpidsl.load(tmp_path / "plan.kpi")
    assert plan.model.header.currency == "CNY" and plan.model.header.period == "quarter"
    assert [(w.code, w.span.file, w.span.line) for w in plan.warnings] == [("KPI0133", "shared/rates.kpi", 1)]
    assert plan.warnings[0].message == "the `plan` header of imported file `shared/rates.kpi` is ignored"
