"""``kpidsl report`` on the columnar engine: the same statements as the reference's.

A large folder's report runs on DuckDB: the figures in bulk, then each statement's
trees and facts a chunk of payees at a time, the facts fetched in one query per table
and chunk and forgotten after it. Every page must be the reference's, word for word,
but for the data digest (each engine has its own fingerprint, docs/performance.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.report.model import build_model
from kpidsl.report.site import site_files

from .conftest import EAST

pytest.importorskip("duckdb")

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture(scope="module")
def both() -> tuple[Any, Any]:
    plan = kpidsl.load(EAST / "plan.kpi")
    raw = kpidsl.load_data(EAST / "data")
    reference = plan.evaluate(raw, "2026-Q3", explain=True)
    result, run = plan.run_folder(EAST / "data", "2026-Q3", engine="columnar", every_field=True)
    plain, _ = plan.run_folder(EAST / "data", "2026-Q3", engine="columnar")
    assert plain.data_digest == result.data_digest and plain.to_json() == result.to_json()
    assert run.loaded.engine == "columnar" and result.ok and result.dataset is None
    return build_model(plan, raw, reference), build_model(plan, None, result, run)


def test_every_statement_is_the_references(both: tuple[Any, Any]) -> None:
    reference, columnar = both
    assert columnar.data_digest != reference.data_digest
    assert attrs.evolve(columnar, data_digest=reference.data_digest) == reference
    listed = [f for p in columnar.payees for f in p.facts]
    assert listed and all(all(v for k, v in f.fields if k == "customer") for f in listed if f.kind == "deal"), \
        "every field of a listed deal is shown, also those the plan does not read"
    ref_pages = site_files(reference)
    col_pages = site_files(columnar)
    assert ref_pages.keys() == col_pages.keys()
    for rel, page in ref_pages.items():
        assert DIGEST.sub("<digest>", col_pages[rel]) == DIGEST.sub("<digest>", page), rel


def test_facts_are_fetched_a_chunk_at_a_time_and_then_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.load(EAST / "plan.kpi")
    result, run = plan.run_folder(EAST / "data", "2026-Q3", engine="columnar")
    index = run.fact_index
    fetches: list[tuple[str, int]] = []
    real = type(index).fetch

    def spy(self: Any, ft: Any, field: str, values: list[str], *a: Any) -> Any:
        fetches.append((field, len(values)))
        return real(self, ft, field, values, *a)

    monkeypatch.setattr(type(index), "fetch", spy)
    ids = sorted(result.payees)
    payees = run.loaded.dataset.payees
    managers = {p.id for p in payees if any(q.attrs.get("manager") == p.id for q in payees)}
    chunks = done = 0
    for chunk in run.in_chunks(ids, size=7):
        chunks += 1
        before = len(fetches)
        assert before - done <= 2  # the chunk's facts: at most one query per fact table
        for pid in chunk:
            assert result.payees[pid].explanations["total"] is not None
        # no query per payee; a manager's team, once per table
        assert len(fetches) - before <= 2 * len(managers & set(chunk))
        done = len(fetches)
    assert chunks == -(-len(ids) // 7) and len(fetches) > chunks
    # forgotten after the last chunk: asking again queries again
    n = len(fetches)
    index.credited("deal", ids[-1:], ("any",))
    assert len(fetches) == n + 1


def test_report_command_chooses_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [str(EAST / "plan.kpi"), "--data", str(EAST / "data"), "--period", "2026-Q3"]
    assert main(["report", *args, "--out", str(tmp_path / "c"), "--engine", "columnar"]) == 0
    assert main(["report", *args, "--out", str(tmp_path / "r"), "--engine", "reference"]) == 0
    for page in (tmp_path / "r").rglob("*.html"):
        other = tmp_path / "c" / page.relative_to(tmp_path / "r")
        assert DIGEST.sub("", other.read_text()) == DIGEST.sub("", page.read_text())


def test_a_folder_the_columnar_stage_leaves_to_the_reference_reports_the_same(tmp_path: Path) -> None:
    """Split credits are bound by the reference even on ``--engine columnar``: the run holds
    the bound facts (no fact index), and the report is the reference's, digest included."""
    saas = EAST.parent / "saas-team"
    args = [str(saas / "plan.kpi"), "--data", str(saas / "data"), "--period", "2026-Q3"]
    assert main(["report", *args, "--out", str(tmp_path / "c"), "--engine", "columnar"]) == 0
    assert main(["report", *args, "--out", str(tmp_path / "r"), "--engine", "reference"]) == 0
    pages = sorted(p.relative_to(tmp_path / "r") for p in (tmp_path / "r").rglob("*.html"))
    assert pages and pages == sorted(p.relative_to(tmp_path / "c") for p in (tmp_path / "c").rglob("*.html"))
    for rel in pages:
        assert (tmp_path / "c" / rel).read_bytes() == (tmp_path / "r" / rel).read_bytes(), rel
