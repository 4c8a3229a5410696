"""The documentation's plans and the examples' own tests hold.

Every ```kpi block of docs/language.md parses; every block of docs/cookbook.md
is a complete plan that checks clean and whose tests pass; the hand-computed
expectations in the example plans hold.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kpi_tests import failures

import kpidsl
from kpidsl.syntax.parser import parse_source
from kpidsl.testing import run_plan, run_plan_tests

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```kpi\n(.*?)```", re.S)
EXAMPLES = ("east-china-2026", "saas-team", "distributor-collections")


def blocks(doc: str) -> list[tuple[int, str]]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def error_codes(text: str, name: str) -> list[str]:
    _, diags = parse_source(text, name)
    return [f"{d.code} {d.span}: {d.message}" for d in diags if d.severity == "error"]


def test_every_language_reference_block_parses() -> None:
    found = blocks("language.md")
    assert len(found) >= 40
    failures = [e for line, text in found for e in error_codes(text, f"language.md:{line}")]
    assert failures == []


def test_language_reference_covers_every_semantics_decision() -> None:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    decisions = text.split("## Semantics decisions", 1)[1]
    for topic in (
        "order inside a payout",
        "replaces the whole definition",
        "Specificity",
        "Empty and zero",
        "Scorecard lines",
        "Team scope",
        "Credits",
        "Marginal tiers on",
        "References",
        "Numbers",
        "Row numbers",
        "Periods",
        "Credit rows",
        "evaluation error",
    ):
        assert topic in decisions, topic


COOKBOOK = blocks("cookbook.md")


def test_cookbook_has_ten_recipes() -> None:
    assert len(COOKBOOK) == 10


@pytest.mark.parametrize(("line", "text"), COOKBOOK, ids=[f"line{n}" for n, _ in COOKBOOK])
def test_cookbook_recipe_checks_and_its_tests_pass(line: int, text: str) -> None:
    plan = kpidsl.loads(text, f"cookbook.md:{line}")
    assert [w for w in plan.warnings if w.severity == "error"] == []
    assert plan.model.tests, "every recipe carries a test"
    outcomes = run_plan(plan, f"cookbook.md:{line}")
    assert len(outcomes) == len(plan.model.tests)
    assert failures(outcomes) == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_plan_tests_pass(example: str) -> None:
    path = ROOT / "examples" / example / "plan.kpi"
    plan = kpidsl.load(path)
    expectations = sum(1 for b in plan.model.tests for i in b.items if type(i).__name__ == "Expect")
    assert expectations >= 8
    outcomes = run_plan_tests(path)
    assert [o.status for o in outcomes] == ["passed"] * (len(plan.model.tests) + len(plan.model.invariants))
    assert failures(outcomes) == []


def test_a_wrong_expectation_is_reported() -> None:
    path = ROOT / "examples" / "east-china-2026" / "plan.kpi"
    text = path.read_text(encoding="utf-8").replace("5_100.00", "5_100.01", 1)
    plan = kpidsl.loads(text, "plan.kpi")
    outcomes = run_plan(plan, "plan.kpi")
    line = text[: text.index("5_100.01")].count("\n") + 1
    assert failures(outcomes) == [
        f"plan.kpi::AE at 120% earns the accelerator slice: plan.kpi:{line}: "
        "expect alice.commission == 5_100.01: alice.commission is 5100.00 "
        "(expected alice.commission == 5100.01, actual 5100.00)"
    ]
    assert "commission = 5,100.00" in (outcomes[0].failures[0].explanation or "")
