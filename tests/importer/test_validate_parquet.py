"""`kpidsl validate` reads a folder of Parquet files as evaluation does: the same report as
for the same tables in CSV (file names aside), a per-file summary in which rows read =
accepted + rejected, KPI0753 for a float column, and KPI0715 for a CSV file beside its twin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from columnar.test_messy import to_parquet  # every CSV file as Parquet (types: casts)

import kpidsl
from kpidsl.cli import main
from kpidsl.importer import validate_generic
from kpidsl.importer.validate import ValidateResult, validate_with_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "east-china-2026"


def _pair(tmp_path: Path, edit: Any = None, types: dict[str, str] | None = None) -> tuple[Path, Path]:
    """The example's data as CSV and as Parquet (each in a folder named ``data``)."""
    folders = []
    for sub in ("csv", "pq"):
        folder = tmp_path / sub / "data"
        shutil.copytree(EXAMPLE / "data", folder)
        if edit is not None:
            edit(folder)
        folders.append(folder)
    to_parquet(folders[1], types)
    return folders[0], folders[1]


def _report(result: ValidateResult) -> dict[str, Any]:
    """The report with Parquet file names written as CSV ones."""
    return json.loads(json.dumps(result.to_dict()).replace(".parquet", ".csv"))


def _bad_rows(folder: Path) -> None:
    deals = folder / "deals.csv"
    lines = deals.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("10500.50", "10500.5x")  # line 4: an invalid amount
    lines[5] = lines[5].replace(",zhenghao,", ",nobody,")  # line 6: an unknown payee
    deals.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_valid_parquet_folder_validates_as_its_csv_folder(tmp_path: Path) -> None:
    csv_folder, pq_folder = _pair(tmp_path)
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    from_csv, from_pq = validate_with_plan(csv_folder, plan), validate_with_plan(pq_folder, plan)
    assert from_pq.ok and from_pq.problems == ()
    assert _report(from_pq) == _report(from_csv)
    assert {f.source for f in from_pq.files} >= {"data/deals.parquet", "data/payees.parquet"}
    deals = next(f for f in from_pq.files if f.source == "data/deals.parquet")
    assert deals.rows_read == deals.rows_accepted > 0 and deals.rows_rejected == 0
    assert _report(validate_generic(pq_folder)) == _report(validate_generic(csv_folder))


def test_a_parquet_folder_with_bad_rows_reports_them_as_its_csv_folder(tmp_path: Path) -> None:
    csv_folder, pq_folder = _pair(tmp_path, _bad_rows)
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    from_csv, from_pq = validate_with_plan(csv_folder, plan), validate_with_plan(pq_folder, plan)
    assert not from_pq.ok
    assert _report(from_pq) == _report(from_csv)
    bad = {(p.file, p.line, p.code, p.rejects) for p in from_pq.problems if p.severity == "error"}
    assert bad == {("data/deals.parquet", 4, "KPI0710", True), ("data/deals.parquet", 6, "KPI0721", True)}
    for f in from_pq.files:
        assert f.rows_read == f.rows_accepted + f.rows_rejected, f
    deals = next(f for f in from_pq.files if f.source == "data/deals.parquet")
    assert deals.rows_rejected == 2
    assert _report(validate_generic(pq_folder)) == _report(validate_generic(csv_folder))


def test_cli_validate_reads_a_parquet_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, pq_folder = _pair(tmp_path)
    assert main(["validate", "--data", str(pq_folder), "--plan", str(EXAMPLE / "plan.kpi")]) == 0
    out = capsys.readouterr().out
    assert "0 error(s), 0 warning(s)" in out and "deals.parquet" in out
    assert "KPI0714" not in out and "not read" not in out
    _bad_rows(tmp_path / "csv" / "data")
    shutil.rmtree(pq_folder)
    shutil.copytree(tmp_path / "csv" / "data", pq_folder)
    to_parquet(pq_folder)
    assert main(["validate", "--data", str(pq_folder), "--plan", str(EXAMPLE / "plan.kpi"), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [deals] = [f for f in report["files"] if f["source"] == "data/deals.parquet"]
    assert deals["rows_rejected"] == 2 and deals["rows_read"] == deals["rows_accepted"] + 2


def test_a_float_column_is_refused_and_its_rows_are_not_accepted(tmp_path: Path) -> None:
    _, pq_folder = _pair(tmp_path, types={"deals.amount": "DOUBLE"})
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    for result in (validate_with_plan(pq_folder, plan), validate_generic(pq_folder)):
        assert not result.ok
        [p] = [p for p in result.problems if p.severity == "error"]
        assert (p.code, p.file, p.line) == ("KPI0753", "data/deals.parquet", 1)
        assert "column amount is DOUBLE" in p.message
        deals = next(f for f in result.files if f.source == "data/deals.parquet")
        assert deals.rows_read > 0 and (deals.rows_accepted, deals.rows_rejected) == (0, deals.rows_read)


def test_a_csv_file_beside_its_parquet_twin_is_reported(tmp_path: Path) -> None:
    _, pq_folder = _pair(tmp_path)
    shutil.copy(EXAMPLE / "data" / "deals.csv", pq_folder / "deals.csv")
    plan = kpidsl.load(EXAMPLE / "plan.kpi")
    for result in (validate_with_plan(pq_folder, plan), validate_generic(pq_folder)):
        assert result.ok
        [p] = result.problems
        assert (p.code, p.severity, p.file) == ("KPI0715", "warning", "data/deals.csv")
        assert "data/deals.parquet is read in its place" in p.message
        assert "data/deals.csv" not in {f.source for f in result.files}
