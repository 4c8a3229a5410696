"""The columnar stage's seams: engine choice, explanations on demand, and what it leaves to the reference."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder, wants_columnar
from kpidsl.columnar.stage import COLUMNAR_NOTE
from kpidsl.explain.render import render_json

from .test_differential import WIDE_PLAN, write

DATA = {
    "deals": [("a", "100.05", "won", dt.date(2026, 7, 1), "x", "P1", True),
              ("a", "200.15", "lost", dt.date(2026, 9, 30), "y", "P3", False),
              ("b", "0.01", "won", dt.date(2026, 8, 2), "x", "P2", False)],
    "collections": [(0, "-10.05", dt.date(2026, 7, 1)), (2, "0.01", dt.date(2026, 8, 3))],
    "roles": ["AE", "SE", "AM", "AE", "AE"], "regions": ["west", "north", "west", "north", "west"],
    "targets": [100, 200, 300, 400, 500], "history": False, "splits": False, "manager": True,
}


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    write(tmp_path, DATA)
    return tmp_path


def test_auto_keeps_small_data_on_the_reference(data: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    assert not wants_columnar(plan.model, data)
    assert load_folder(plan.model, data, engine="auto").engine == "reference"
    assert load_folder(plan.model, data).engine == "columnar"


def test_evaluation_marks_columnar_aggregates_and_explain_lists_the_facts(data: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, data), "2026-Q3")
    result = run.evaluate()
    assert result is not None
    # a's evaluation leaves the quick stage (navigation): its trees are still the explainer's,
    # listing the facts, not the fact stage's counts (COLUMNAR_NOTE: "explain this payee...")
    node = result.payees["a"].explanations["bookings"]
    assert COLUMNAR_NOTE not in node.notes and node.facts == ("D000",) and node.fact_count == 1
    ref = ColumnarRun(plan.model, load_folder(plan.model, data, engine="reference"), "2026-Q3")
    for name in ("bookings", "commission", "via_deal", "team_bookings", "total"):
        mine, theirs = run.explain("a", name), ref.explain("a", name)
        assert mine is not None and theirs is not None
        assert render_json(mine) == render_json(theirs), name
    assert run.explain("a", "bookings").facts == ("D000",)  # type: ignore[union-attr]


def test_unsupported_aggregates_are_named_with_their_reason(data: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, data), "2026-Q3")
    run.evaluate()
    reasons = sorted(run.unsupported.values())
    assert reasons == ["navigation `deal.product`"]  # a team's sum is rolled up (test_team_rollup)
    team = kpidsl.loads(WIDE_PLAN.replace("sum deal.amount over self+team", "max deal.amount over self+team"))
    run = ColumnarRun(team.model, load_folder(team.model, data), "2026-Q3")
    run.evaluate()
    assert sorted(run.unsupported.values()) == ["navigation `deal.product`", "scope `over self+team`"]


def test_one_payee_on_a_loaded_run_equals_the_full_run(data: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, data), "2026-Q3")
    full = run.evaluate()
    one = run.evaluate(payees=["b"])
    assert full is not None and one is not None
    assert list(one.payees) == ["b"]
    assert one.payees["b"].components == full.payees["b"].components


def test_api_columnar_engine_gives_the_reference_figures_and_a_fact_digest(tmp_path: Path) -> None:
    """Plan.evaluate(engine="columnar") pays the same; its data digest covers the facts,
    ignores row order and changes when a fact changes."""
    import shutil

    import kpidsl

    root = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026"
    plan = kpidsl.load(root / "plan.kpi")
    ref = plan.evaluate(root / "data", "2026-Q3", engine="reference").to_dict()
    col = plan.evaluate(root / "data", "2026-Q3", engine="columnar").to_dict()
    assert col["payees"] == ref["payees"]
    folder = tmp_path / "data"
    shutil.copytree(root / "data", folder)
    deals = folder / "deals.csv"
    header, *rows = deals.read_text(encoding="utf-8").splitlines()
    deals.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")
    shuffled = plan.evaluate(folder, "2026-Q3", engine="columnar").to_dict()
    assert shuffled["data_digest"] == col["data_digest"]
    deals.write_text("\n".join([header, *rows[:-1], rows[-1].replace(",won,", ",lost,")]) + "\n",
                     encoding="utf-8")
    changed = plan.evaluate(folder, "2026-Q3", engine="columnar").to_dict()
    assert changed["data_digest"] != col["data_digest"]
