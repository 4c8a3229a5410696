"""what-it-takes trials on a service's loaded run (``ColumnarProbe`` over a ``ColumnarRun``) after the
service changed its facts: the trial facts are keyed apart from every fact in the data now, and
taking them back leaves the service's own facts as they were.

``kpidsl.whatif.what_it_takes`` loads the folder afresh for each question, so it never sees a
changed run; a service that keeps a run and probes it (as what-it-takes does) did: the run's
``keys_starting`` listed the keys as loaded only."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder
from kpidsl.eval.resolve import attrs_on, resolve
from kpidsl.periods import parse_period
from kpidsl.whatif.solve import ColumnarProbe
from kpidsl.whatif.synth import build_recipe, metric_aggregate

DISTRIBUTOR = Path(__file__).resolve().parents[2] / "examples" / "distributor-collections"
PERIOD = "2026-05"


def _run() -> tuple[kpidsl.Plan, ColumnarRun]:
    plan = kpidsl.load(DISTRIBUTOR / "plan.kpi")
    loaded = load_folder(plan.model, DISTRIBUTOR / "data", engine="columnar")
    assert loaded.engine == "columnar"
    return plan, ColumnarRun(plan.model, loaded, PERIOD)


def _collected(run: ColumnarRun, payee: str = "p-nb01") -> Decimal:
    result = run.evaluate([payee])
    assert result is not None
    value = result.payees[payee].values["collected"]
    assert isinstance(value, Decimal)
    return value


def test_keys_starting_sees_the_facts_added_and_removed_since_loading() -> None:
    _, run = _run()
    assert run.keys_starting("collection", "WHATIF-") == set()
    assert "C0001" in run.keys_starting("collection", "C000")
    run.add_facts("collections", [{"id": "WHATIF-1", "deal": "F0001", "payee": "p-nb01",
                                   "amount": "100", "received_on": "2026-05-10"}])
    run.remove_facts("collections", ["C0001"])
    assert run.keys_starting("collection", "WHATIF-") == {"WHATIF-1"}  # it said: set()
    assert "C0001" not in run.keys_starting("collection", "C000")  # it said: still there
    assert "C0002" in run.keys_starting("collection", "C000")


def test_a_probe_on_a_changed_run_leaves_the_service_s_fact_in_place() -> None:
    """The service added the row a previous answer proposed (collection WHATIF-1); a trial
    keyed WHATIF-1 replaced it, and taking the trial back removed it from the run."""
    plan, run = _run()
    before = _collected(run)
    run.add_facts("collections", [{"id": "WHATIF-1", "deal": "F0001", "payee": "p-nb01",
                                   "amount": "100", "received_on": "2026-05-10"}])
    assert _collected(run) == before + 100
    model = plan.model
    per = parse_period(PERIOD, model.header.period, model.header.fiscal_year_start)
    person = next(p for p in run.loaded.dataset.payees if p.id == "p-nb01")
    defs = {k: a.definition for k, a in resolve(model, "p-nb01", attrs_on(person, (), per.end), per.end).items()}
    recipe = build_recipe(model, metric_aggregate(defs["collected"], "collected"), "collected", "p-nb01",
                          per, defs.values())
    probe = ColumnarProbe(plan, run, per.label, "p-nb01", recipe)
    keys = [f.key for f in recipe.facts(Decimal(5), probe.taken) if f.kind == "collection"]
    assert keys == ["WHATIF-2"]
    assert probe.at(Decimal(5)).values["collected"] == before + 105
    probe.take_back()
    assert _collected(run) == before + 100  # it said: `before` (the service's fact was gone)
