"""`kpidsl validate`: generic checks without a plan, full binding with one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpidsl.cli import main
from kpidsl.importer import validate_generic

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "east-china-2026"


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_generic_checks_find_every_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {
        "payees.csv": "id,manager\na,b\nb,c\nc,a\nd,ghost\na,\n",
        "deals.csv": ("id,payee,amount,stage,signed_on\nD1,a,5,won,2026-07-01\n"
                      "D1,b,6,won,2026-07-01\nD2,zoe,1,won,2026-07-01\nD3,a,1x,won,2026-07-01\n"),
        "credits.csv": "kind,fact,payee,share\ndeal,D1,a,60%\ndeal,D1,b,30%\n",
    })
    result = validate_generic(folder)
    found = {(p.file, p.line, p.code) for p in result.problems}
    assert found == {
        ("data/payees.csv", 6, "KPI0720"), ("data/payees.csv", 5, "KPI0723"),
        ("data/payees.csv", 2, "KPI0724"),
        ("data/deals.csv", 3, "KPI0720"), ("data/deals.csv", 4, "KPI0721"),
        ("data/deals.csv", 5, "KPI0710"),
        ("data/credits.csv", 2, "KPI0742"), ("data/credits.csv", 3, "KPI0742"),
    }
    cycle = next(p for p in result.problems if p.code == "KPI0724")
    assert "a → b → c → a" in cycle.message
    dup = next(p for p in result.problems if p.code == "KPI0720" and "payees" in p.file)
    assert "line 2" in dup.message
    counts = {f.source: (f.rows_read, f.rows_accepted, f.rows_rejected) for f in result.files}
    assert counts == {"data/payees.csv": (5, 4, 1), "data/deals.csv": (4, 1, 3),
                      "data/credits.csv": (2, 0, 2)}
    assert not result.ok


def test_cli_validate_example_clean_with_and_without_plan(capsys: pytest.CaptureFixture[str]) -> None:
    data = str(EXAMPLE / "data")
    assert main(["validate", "--data", data]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    assert main(["validate", "--data", data, "--plan", str(EXAMPLE / "plan.kpi"),
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert all(f["rows_read"] == f["rows_accepted"] + f["rows_rejected"] for f in report["files"])


def test_cli_validate_with_plan_reports_binding_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, {
        "payees.csv": "id,name,role,region,manager,team\nalice,A,AE,east,,x\n",
        "targets.csv": "payee,metric,period,value\nalice,bookings,2026,100\n",
        # no deals or collections: the files are there with their header only
        "deals.csv": "id,payee,amount,stage,signed_on,customer,product,new_customer\n",
        "collections.csv": "id,deal,payee,amount,received_on\n",
    })
    code = main(["validate", "--data", str(folder), "--plan", str(EXAMPLE / "plan.kpi"),
                 "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    [p] = [p for p in report["problems"] if p["severity"] == "error"]
    assert (p["code"], p["line"], p["row_rejected"]) == ("KPI0731", 2, True)
    assert {"source": "data/targets.csv", "rows_read": 1, "rows_accepted": 0,
            "rows_rejected": 1} in report["files"]


def test_cli_validate_missing_folder_is_usage_error(tmp_path: Path) -> None:
    assert main(["validate", "--data", str(tmp_path / "nope")]) == 2


def test_a_table_of_the_plan_s_own_kind_without_an_id_column_keeps_its_rows(tmp_path: Path) -> None:
    """Without a plan the key of ``visits.csv`` is unknown: its rows are not repeats of the
    empty `id` they do not have (every row after the first was rejected as one)."""
    folder = _folder(tmp_path, {
        "payees.csv": "id,manager\na,\n",
        "visits.csv": "visit_id,payee,visited_on\nV1,a,2026-07-01\nV2,a,2026-07-02\nV3,a,2026-07-03\n",
    })
    for engine in ("reference", "columnar"):
        result = validate_generic(folder, engine=engine)
        assert result.ok and result.problems == (), engine
        counts = {f.source: (f.rows_read, f.rows_accepted, f.rows_rejected) for f in result.files}
        assert counts["data/visits.csv"] == (3, 3, 0), engine
    (tmp_path / "b").mkdir()
    with_id = _folder(tmp_path / "b", {"payees.csv": "id,manager\na,\n",
                                       "visits.csv": "id,payee\nV1,a\nV1,a\n"})
    assert [p.code for p in validate_generic(with_id).problems] == ["KPI0720"]  # still a repeat
