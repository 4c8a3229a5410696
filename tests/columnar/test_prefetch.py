"""``load_folder(..., period=...)``: the period's grouped aggregates computed while the small
tables are bound, and taken by the evaluation instead of being computed again."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder
from kpidsl.columnar.stage import ColumnarStage
from kpidsl.eval.errors import BAD_PERIOD

from .test_differential import WIDE_PLAN, write
from .test_stage import DATA


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    write(tmp_path, DATA)
    return tmp_path


def figures(run: ColumnarRun) -> dict[str, Any]:
    result = run.evaluate()
    assert result is not None
    return {pid: (pr.total, pr.components, pr.values, pr.errors) for pid, pr in result.payees.items()} | {
        "": (result.errors, run.unsupported)}


def no_queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Grouped queries run from now on in this (the evaluating) thread, each kind's recorded."""
    ran: list[str] = []
    original = ColumnarStage._run
    me = threading.current_thread()

    def recording(self: ColumnarStage, ft: Any, *args: Any) -> None:
        if threading.current_thread() is me:
            ran.append(ft.kind.name)
        original(self, ft, *args)

    monkeypatch.setattr(ColumnarStage, "_run", recording)
    return ran


def test_the_evaluation_takes_the_prefetched_aggregates(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    expected = figures(ColumnarRun(plan.model, load_folder(plan.model, data, cache=False), "2026-Q3"))
    loaded = load_folder(plan.model, data, cache=False, period="2026-Q3")
    assert len(loaded.prefetched) == 1
    ran = no_queries(monkeypatch)
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    assert figures(run) == expected
    assert ran == []  # nothing computed again
    assert loaded.prefetched == []
    # a second run on the same data computes its own (the first may have changed facts since)
    assert figures(ColumnarRun(plan.model, loaded, "2026-Q3")) == expected
    assert sorted(ran) == ["collection", "deal"]


def test_another_period_or_as_of_is_computed_as_usual(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    cut = dt.date(2026, 8, 1)
    expected = figures(ColumnarRun(plan.model, load_folder(plan.model, data, cache=False), "2026-Q3", as_of=cut))
    loaded = load_folder(plan.model, data, cache=False, period="2026-Q3")  # prefetched without as_of
    ran = no_queries(monkeypatch)
    assert figures(ColumnarRun(plan.model, loaded, "2026-Q3", as_of=cut)) == expected
    assert sorted(ran) == ["collection", "deal"]
    ran.clear()
    other = load_folder(plan.model, data, cache=False, period="2026-Q2")
    assert figures(ColumnarRun(plan.model, other, "2026-Q3")) == figures(
        ColumnarRun(plan.model, load_folder(plan.model, data, cache=False), "2026-Q3"))
    assert "deal" in ran  # Q2's aggregates do not answer for Q3


def test_a_bad_period_prefetches_nothing_and_is_reported_by_the_evaluation(data: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, data, cache=False, period="2026-Q9")
    assert loaded.prefetched == []
    result = ColumnarRun(plan.model, loaded, "2026-Q9").evaluate()
    assert result is not None and not result.payees and result.errors[0].code == BAD_PERIOD


def test_the_api_and_cli_prefetch_and_agree_with_the_reference(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    ref = plan.evaluate(data, "2026-Q3", engine="reference")
    ran = no_queries(monkeypatch)
    fast = plan.evaluate(data, "2026-Q3", engine="columnar")
    assert ran == []
    assert fast.evaluation is not None and ref.evaluation is not None
    assert {p: r.components for p, r in fast.evaluation.payees.items()} == {
        p: r.components for p, r in ref.evaluation.payees.items()}
