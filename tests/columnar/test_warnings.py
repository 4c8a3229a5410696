"""Warnings about fact rows on the columnar path: the reference binder's, row for row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import load_folder

from .test_changes import to_parquet
from .test_differential import WIDE_PLAN, write
from .test_stage import DATA

ODD = {**DATA, "deals": [*DATA["deals"],
                         ("a", "10.00", "Won", dt.date(2026, 7, 3), "x", "p1", False),
                         ("b", "20.00", "WON", dt.date(2026, 7, 4), "y", "P3", True),
                         ("c", "30.00", "won", dt.date(2026, 7, 5), "z", "p3", True)]}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_text_that_differs_from_a_compared_literal_only_in_case_warns_as_on_the_reference(
        tmp_path: Path, fmt: str) -> None:
    write(tmp_path, ODD)
    if fmt == "parquet":
        to_parquet(tmp_path)
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, tmp_path, fmt=fmt)
    assert loaded.engine == "columnar", loaded.reasons
    reference = load_folder(plan.model, tmp_path, fmt=fmt, engine="reference")
    mine = [d for d in loaded.diagnostics if d.code == "KPI0717"]
    theirs = [d for d in reference.diagnostics if d.code == "KPI0717"]
    assert len(theirs) == 4  # Won, WON (stage); p1, p3 (product)
    assert mine == theirs
    assert {d.primary.span.line for d in mine} == {5, 6, 7}


def test_no_warning_when_every_text_matches(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    plan = kpidsl.loads(WIDE_PLAN)
    assert [d for d in load_folder(plan.model, tmp_path).diagnostics if d.code == "KPI0717"] == []


def _stray_file(folder: Path) -> None:
    (folder / "deals-2026Q3.xlsx").write_bytes(b"PK\x03\x04")


def _subfolder(folder: Path) -> None:
    (folder / "archive").mkdir()


def _unused_table(folder: Path) -> None:
    (folder / "notes.csv").write_text("note\nhello\n", encoding="utf-8")


def _extra_column(folder: Path) -> None:
    path = folder / "deals.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",comment", *(line + ",x" for line in lines[1:])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _empty_trailing_columns(folder: Path) -> None:
    path = folder / "deals.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + ",," for line in lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("change", [_stray_file, _subfolder, _unused_table, _extra_column,
                                    _empty_trailing_columns])
def test_the_columnar_path_gives_the_reference_warnings_about_the_folder(tmp_path: Path, change: Any) -> None:
    write(tmp_path, DATA)
    change(tmp_path)
    plan = kpidsl.loads(WIDE_PLAN)
    reference = load_folder(plan.model, tmp_path, engine="reference")
    assert reference.diagnostics and all(d.severity == "warning" for d in reference.diagnostics)
    loaded = load_folder(plan.model, tmp_path)
    assert [(d.code, d.message) for d in loaded.diagnostics] == \
        [(d.code, d.message) for d in reference.diagnostics]


def _gb18030_deals(folder: Path) -> None:
    """A spreadsheet's export in the Chinese Windows encoding: DuckDB cannot read it."""
    path = folder / "deals.csv"
    text = path.read_text(encoding="utf-8").replace(",x,", ",华东客户,", 1)
    path.write_bytes(text.encode("gb18030"))


def test_a_fact_file_duckdb_cannot_read_goes_to_the_reference_reader(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    _gb18030_deals(tmp_path)
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, tmp_path)
    assert loaded.engine == "reference" and loaded.reasons
    assert [d.code for d in loaded.diagnostics] == ["KPI0702"]  # read as GB18030: a warning
    assert loaded.diagnostics == load_folder(plan.model, tmp_path, engine="reference").diagnostics


@pytest.mark.parametrize(("table", "column"), [("deals", "amount"), ("targets", "value")])
def test_a_floating_point_parquet_column_the_plan_reads_is_an_error_on_both_engines(
        tmp_path: Path, table: str, column: str) -> None:
    import duckdb

    write(tmp_path, DATA)
    to_parquet(tmp_path)
    path = tmp_path / f"{table}.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (CAST({column} AS DOUBLE) AS {column}) FROM read_parquet('{path}')) "
                f"TO '{tmp_path / 'x.parquet'}' (FORMAT PARQUET)")
    (tmp_path / "x.parquet").replace(path)
    plan = kpidsl.loads(WIDE_PLAN)
    for engine in ("columnar", "reference"):
        loaded = load_folder(plan.model, tmp_path, engine=engine)
        errors = [d for d in loaded.diagnostics if d.severity == "error"]
        assert [d.code for d in errors] == ["KPI0753"], engine
        assert f"{table}.parquet column {column} is DOUBLE" in errors[0].message
        assert errors[0].help is not None and "DECIMAL" in errors[0].help
    assert plan.evaluate(tmp_path, "2026-Q3", engine="columnar").evaluation is None  # nothing is paid
