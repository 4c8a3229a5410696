"""The language-level conformance suite: every case of every YAML file in this folder.

Cases are independent checks of the engine: their expectations are derived by
hand from the semantics (each non-trivial one shows its arithmetic). A case the
engine gets wrong is kept and marked ``xfail: "reason"`` in its YAML.
"""

from __future__ import annotations

import importlib.util

import attrs
import pytest

pytest.importorskip("yaml")

from conformance_runner import Case, check_outcome, load_cases, run

CASES = load_cases()
PIPELINE = ("kpidsl.syntax.parser", "kpidsl.check", "kpidsl.data.bind", "kpidsl.eval")


def _pipeline_missing() -> str | None:
    for mod in PIPELINE:
        try:
            if importlib.util.find_spec(mod) is None:
                return mod
        except ModuleNotFoundError:
            return mod
    return None


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: Case) -> None:
    missing = _pipeline_missing()
    if missing:
        pytest.skip(f"{missing} not available yet")
    check_outcome(case, run(case))


def _reversed(case: Case) -> Case:
    """The same case with every data table's rows in the opposite order."""
    data = {}
    for name, text in case.data.items():
        head, *rows = [line for line in text.strip("\n").split("\n") if line.strip()]
        data[name] = "\n".join([head, *reversed(rows)]) + "\n"
    return attrs.evolve(case, data=data)


def _summary(outcome: object) -> object:
    result = getattr(outcome, "result", None)
    if result is None:
        return sorted({d.code for d in getattr(outcome, "diagnostics", [])})
    return {
        pid: (pr.total, pr.components, pr.values, sorted((e.name, e.code) for e in pr.errors))
        for pid, pr in result.payees.items()
    }


EVAL_CASES = [c for c in CASES if not c.xfail and ("expect" in c.spec or "expect_error" in c.spec)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in EVAL_CASES])
def test_row_order_does_not_matter(case: Case) -> None:
    """Same plan, data and period give the same result whatever the order of the rows."""
    missing = _pipeline_missing()
    if missing:
        pytest.skip(f"{missing} not available yet")
    assert _summary(run(_reversed(case))) == _summary(run(case))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in EVAL_CASES])
def test_explanations_reconcile_and_render(case: Case) -> None:
    """Every explanation of every payee adds up, and every renderer accepts it."""
    missing = _pipeline_missing()
    if missing:
        pytest.skip(f"{missing} not available yet")
    from kpidsl.explain.render import reconcile, render_html, render_json, render_text

    outcome = run(case)
    assert outcome.stage == "eval", outcome.diagnostics
    for pid, pr in outcome.result.payees.items():
        for name, expl in pr.explanations.items():
            assert reconcile(expl) == [], f"{pid}.{name}:\n{render_text(expl)}"
            assert render_json(expl)
        assert "<details" in render_html(list(pr.explanations.values()), title=pid) or not pr.explanations


QUICK_PAYEES: list[str] = []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in EVAL_CASES])
def test_quick_payee_stage_agrees_with_the_reference(case: Case) -> None:
    """Without trees up front (kpidsl.eval.quick) every figure, value and error is the same,
    and a payee's explanations, computed when first asked for, are the reference's trees."""
    missing = _pipeline_missing()
    if missing:
        pytest.skip(f"{missing} not available yet")
    from kpidsl.explain.render import render_json

    full, quick = run(case), run(case, explain=False)
    assert _summary(quick) == _summary(full)
    if full.result is None:
        return
    for pid, pr in quick.result.payees.items():
        if pr._explanations is None:
            QUICK_PAYEES.append(f"{case.id}:{pid}")
        want = full.result.payees[pid]
        assert list(pr.values) == list(want.values), "values keep the reference's order"
        assert list(pr.components) == list(want.components)
        assert {k: render_json(v) for k, v in pr.explanations.items()} == {
            k: render_json(v) for k, v in want.explanations.items()}


def test_quick_payee_stage_is_exercised() -> None:
    """Most conformance payees take the quick road (the rest: failures, segments, prior...)."""
    for case in EVAL_CASES:
        outcome = run(case, explain=False)
        if outcome.result is not None:
            QUICK_PAYEES.extend(f"{case.id}:{pid}" for pid, pr in outcome.result.payees.items()
                                if pr._explanations is None)
    assert len(set(QUICK_PAYEES)) >= 150


def test_suite_is_large_and_names_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case names"
    assert len(CASES) >= 150


def test_runner_fails_a_wrong_expectation() -> None:
    """The runner is not vacuous: a case with a wrong figure or code fails."""
    missing = _pipeline_missing()
    if missing:
        pytest.skip(f"{missing} not available yet")
    case = next(c for c in CASES if c.name.startswith("marginal tiers on attainment slice"))
    outcome = run(case)
    check_outcome(case, outcome)
    wrong = attrs.evolve(case, spec={"expect": {"alice": {"commission": "5100.01"}}})
    with pytest.raises(AssertionError):
        check_outcome(wrong, outcome)
    as_decimal = attrs.evolve(case, spec={"expect": {"alice": {"commission": "5100.0"}}})
    with pytest.raises(AssertionError):  # components compare as exact strings
        check_outcome(as_decimal, outcome)
    wrong_code = attrs.evolve(case, spec={"expect_check_error": "KPI0301"})
    with pytest.raises(AssertionError):
        check_outcome(wrong_code, outcome)
