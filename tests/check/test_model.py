"""The checker builds the plan model from the examples and collects every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpidsl import ast
from kpidsl.check import PASSES, check
from kpidsl.syntax.parser import parse_source

from .helpers import BOOKINGS, codes, run

DESIGN = Path(__file__).resolve().parents[2].parent / "shared" / "design"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_plan_checks_clean_and_types_every_name() -> None:
    path = DESIGN / "example.kpi"
    if not path.exists():
        path = EXAMPLES / "east-china-2026" / "plan.kpi"
    module, syntax = parse_source(path.read_text(encoding="utf-8"), path.name)
    assert module is not None and not syntax
    model, diags = check([module])
    assert model is not None, diags
    assert [d for d in diags if d.severity == "error"] == []
    assert model.types["bookings"] == "money"
    assert model.types["collection_rate"] == "percent"
    assert model.types["performance"] == "percent"
    assert model.types["commission_rate"] == "money"  # marginal rates times a money base
    assert "new_customer" in model.kinds["deal"].fields
    assert model.header.currency == "CNY"


@pytest.mark.parametrize("plan", sorted(EXAMPLES.glob("*/plan.kpi")), ids=lambda p: p.parent.name)
def test_shipped_examples_have_no_check_errors(plan: Path) -> None:
    from kpidsl.syntax.loader import load_modules

    modules, _, found = load_modules(plan)
    assert modules and not found
    model, diags = check(modules)
    assert model is not None, [d.message for d in diags]


def test_new_kind_gets_key_date_and_plural_file_stem() -> None:
    model, diags = run(
        "fact activity {\n  key id\n  date happened_on\n  payee: payee\n  minutes: count\n}\n"
        "metric minutes: count = sum activity.minutes\n"
    )
    assert model is not None, diags
    kind = model.kinds["activity"]
    assert (kind.key, kind.date, kind.file_stem) == ("id", "happened_on", "activities")
    assert kind.fields["id"] == "text" and kind.fields["happened_on"] == "date"
    assert not kind.builtin and model.kinds["deal"].builtin


def test_all_problems_are_collected_not_just_the_first() -> None:
    found = codes("payout a: money = nope * 2\npayout b: money = deal.amount\n"
                  "score s { a weight 50% }\n")
    assert {"KPI0111", "KPI0123", "KPI0401"} <= set(found)


def test_warnings_still_return_the_model() -> None:
    model, diags = run("metric collected: money = sum collection.amount\n"
                       "payout bonus: money = 100\n  requires attainment(collected) >= 80%\n")
    assert model is not None
    assert [d.code for d in diags] == ["KPI0119"]
    assert diags[0].severity == "warning"


def test_errors_return_no_model() -> None:
    model, diags = run(BOOKINGS + "payout p: money = bookings * bookings\n")
    assert model is None and diags[0].code == "KPI0203"


def test_types_cover_tables_tiers_scores_and_consts() -> None:
    model, _ = run(BOOKINGS + 'table spiff by deal.product { "A" : 800  else : 300 }\n'
                   "tiers grade lookup on bookings { 0 to 10 : 1%  10 and up : 2% }\n"
                   "const base: money = 1_000\n"
                   "score s { bookings weight 100% }\n")
    assert model is not None
    assert model.types["grade"] == "percent"
    assert model.types["base"] == "money"
    assert model.types["s"] == "percent"
    assert model.types["spiff"] == "number"


def test_passes_are_plain_functions_in_a_tuple() -> None:
    assert isinstance(PASSES, tuple) and all(callable(p) for p in PASSES)


def test_checker_never_raises_on_an_empty_module_list() -> None:
    model, diags = check([ast.Module(None, ())])
    assert model is None and [d.code for d in diags] == ["KPI0131"]


def test_no_internal_error_on_any_kpi_file_in_the_repository() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in sorted(root.glob("**/*.kpi")):
        module, syntax = parse_source(path.read_text(encoding="utf-8"), path.name)
        if module is None or syntax:
            continue
        _, diags = check([module])
        assert "KPI0199" not in {d.code for d in diags}, (path, diags)
