"""Fact tables are checked in DuckDB while the small tables are bound, against the payee ids
as read; when the bound ids differ from that guess, the checks run again with the bound ids."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("duckdb")

from kpidsl.columnar import load_folder
from kpidsl.columnar import run as columnar_run

from .test_validation import GOOD, PLAN, folder


def test_a_wrong_guess_of_the_payee_ids_is_checked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder(tmp_path, [*GOOD, "D3,zz,7.00,won,2026-08-01,c,P,0"])
    honest = load_folder(PLAN.model, path)
    monkeypatch.setattr(columnar_run, "column_cells", lambda tables, column: {"a", "b", "zz"})
    fooled = load_folder(PLAN.model, path)
    assert honest.engine == fooled.engine == "columnar"
    assert honest.worded == fooled.worded and {r.line for r in honest.worded} == {4}
    assert fooled.reasons == honest.reasons
    assert any(r.endswith("deals.csv: 1 row(s) name an unknown payee in payee") for r in fooled.reasons)


def test_a_guess_missing_a_payee_does_not_refuse_clean_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder(tmp_path, GOOD)
    honest = load_folder(PLAN.model, path)
    monkeypatch.setattr(columnar_run, "column_cells", lambda tables, column: {"a"})
    fooled = load_folder(PLAN.model, path)
    assert honest.engine == fooled.engine == "columnar"
    assert fooled.dataset.digest == honest.dataset.digest


def test_the_guess_is_the_payees_id_column_as_read(tmp_path: Path) -> None:
    from kpidsl.columnar.sources import column_cells
    from kpidsl.data.csvread import read_csv

    path = folder(tmp_path, GOOD)
    (path / "payees.csv").write_text("name,id\nA, a \nB,\nC,c\n")
    table, _ = read_csv(path / "payees.csv", "payees", "payees.csv")
    assert table is not None
    assert column_cells([table], "id") == {"a", "c"}
    assert column_cells([table], "nope") == set()
