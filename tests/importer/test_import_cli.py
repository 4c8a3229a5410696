"""`kpidsl import`: byte-identical output, --force rules, atomic move, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpidsl.cli import main
from kpidsl.importer import output

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "east-china-2026" / "import"


def _clean_mapping(tmp_path: Path) -> Path:
    (tmp_path / "p.csv").write_text("id,name\nb,B\na,A\n", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text(
        '{"id": "D2", "payee": "a", "amount": 10.50, "stage": "won", "signed_on": "2026-07-01"}\n'
        '{"id": "D1", "payee": "b", "amount": "1,000", "stage": "won", "signed_on": "2026-07-02"}\n',
        encoding="utf-8")
    m = tmp_path / "m.toml"
    m.write_text('[[source]]\nfile = "p.csv"\ntable = "payees"\n'
                 '[[source]]\nfile = "d.jsonl"\ntable = "deals"\n', encoding="utf-8")
    return m


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_clean_import_writes_sorted_folder_and_report(tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert main(["import", "--mapping", str(_clean_mapping(tmp_path)), "--out", str(out)]) == 0
    files = _tree(out)
    assert sorted(files) == ["deals.csv", "import-report.json", "payees.csv"]
    assert files["deals.csv"].decode() == (
        "id,payee,amount,stage,signed_on\nD1,b,1000,won,2026-07-02\nD2,a,10.50,won,2026-07-01\n")
    assert files["payees.csv"].decode() == "id,name\na,A\nb,B\n"
    report = json.loads(files["import-report.json"])
    assert report["complete"] is True and report["tables"] == {"deals": 2, "payees": 2}


def test_import_twice_is_byte_identical(tmp_path: Path) -> None:
    m = _clean_mapping(tmp_path)
    main(["import", "--mapping", str(m), "--out", str(tmp_path / "one")])
    main(["import", "--mapping", str(m), "--out", str(tmp_path / "two")])
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")


def test_existing_output_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m, out = _clean_mapping(tmp_path), tmp_path / "data"
    out.mkdir()
    (out / "deals.csv").write_text("old\n", encoding="utf-8")
    assert main(["import", "--mapping", str(m), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "deals.csv").read_text(encoding="utf-8") == "old\n"
    assert main(["import", "--mapping", str(m), "--out", str(out), "--force"]) == 0
    assert (out / "deals.csv").read_text(encoding="utf-8").startswith("id,payee")


def test_force_refuses_a_folder_that_is_not_a_data_folder(tmp_path: Path) -> None:
    m, out = _clean_mapping(tmp_path), tmp_path / "project"
    (out / "src").mkdir(parents=True)
    assert main(["import", "--mapping", str(m), "--out", str(out), "--force"]) == 2
    assert (out / "src").is_dir()


def _fail_after_first(monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = output.write_file, []

    def flaky(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError("disk full (simulated)")
        real(path, data)

    monkeypatch.setattr(output, "write_file", flaky)


def test_failure_mid_write_leaves_no_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m, out = _clean_mapping(tmp_path), tmp_path / "data"
    _fail_after_first(monkeypatch)
    assert main(["import", "--mapping", str(m), "--out", str(out)]) == 2
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failure_mid_write_leaves_old_target_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m, out = _clean_mapping(tmp_path), tmp_path / "data"
    out.mkdir()
    (out / "deals.csv").write_text("old\n", encoding="utf-8")
    _fail_after_first(monkeypatch)
    assert main(["import", "--mapping", str(m), "--out", str(out), "--force"]) == 2
    assert _tree(out) == {"deals.csv": b"old\n"}


def test_errors_write_nothing_unless_partial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping, out = EXAMPLE / "mapping.toml", tmp_path / "q3"
    assert main(["import", "--mapping", str(mapping), "--out", str(out)]) == 1
    assert not out.exists()
    assert "nothing written" in capsys.readouterr().out
    assert main(["import", "--mapping", str(mapping), "--out", str(out), "--partial",
                 "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["written"] is True and report["complete"] is False
    lines = {(p["line"], p["code"]) for p in report["problems"] if p["row_rejected"]}
    assert lines == {(9, "KPI0710"), (10, "KPI0720"), (11, "KPI0721")}
    saved = json.loads((out / "import-report.json").read_text(encoding="utf-8"))
    assert saved["complete"] is False


def test_bad_mapping_is_a_usage_error_with_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text('[[source]]\nfile = "x.csv"\ntable = "deals"\nheader_row = 0\n', encoding="utf-8")
    assert main(["import", "--mapping", str(m), "--out", str(tmp_path / "o")]) == 2
    assert "source[0].header_row" in capsys.readouterr().err
