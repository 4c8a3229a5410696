"""``kpidsl report``: files written, --format json, atomic output and --force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpidsl.cli import main

from .conftest import EAST

ARGS = [str(EAST / "plan.kpi"), "--data", str(EAST / "data"), "--period", "2026-Q3"]


def test_html_report_and_json_file_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    assert main(["report", *ARGS, "--out", str(out), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    files = {Path(f).relative_to(out).as_posix() for f in doc["files"]}
    assert {"index.html", "leaderboard.html"} <= files
    assert sum(f.startswith("payees/") for f in files) == 40
    assert any(f.startswith("teams/") for f in files)
    assert all((out / f).is_file() for f in files)
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no temporary folder left behind


def test_existing_output_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["report", *ARGS, "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    assert main(["report", *ARGS, "--out", str(out), "--force"]) == 0
    assert not (out / "keep.txt").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_xlsx_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("openpyxl")
    out = tmp_path / "pay.xlsx"
    assert main(["report", *ARGS, "--out", str(out), "--format", "xlsx,json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == [str(out.resolve())] and out.read_bytes()[:2] == b"PK"


def test_no_progress_bar_when_not_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *ARGS, "--out", str(tmp_path / "s")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "wrote 48 files" in captured.out


def test_progress_bar_on_a_terminal() -> None:
    import io

    from kpidsl.report.site import tty_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    show = tty_progress(tty)
    assert show is not None and tty_progress(io.StringIO()) is None
    show(1, 2)
    show(2, 2)
    assert tty.getvalue().endswith("] 2/2 statements\n") and "\r" in tty.getvalue()


def test_usage_errors(tmp_path: Path) -> None:
    assert main(["report", *ARGS, "--out", str(tmp_path / "x"), "--format", "html,xlsx"]) == 2
    assert main(["report", str(tmp_path / "nope.kpi"), "--data", str(EAST / "data"), "--period", "2026-Q3",
                 "--out", str(tmp_path / "y")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_rejected_data_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,east,\n", encoding="utf-8")
    (data / "deals.csv").write_text(
        "id,payee,amount,stage,signed_on,customer,product,new_customer\n"
        "D1,ghost,1.00,won,2026-07-01,c,p,false\n", encoding="utf-8")
    out = tmp_path / "site"
    assert main(["report", str(EAST / "plan.kpi"), "--data", str(data), "--period", "2026-Q3",
                 "--out", str(out)]) == 1
    assert not out.exists()


@pytest.mark.parametrize("rel", ["../x.html", "/etc/x", "a//b.html", "a/./b.html", "a\\b.html", "C:x.html", "",
                                 "payees/../../x.html", "a\0b"])
def test_a_page_path_leaving_the_folder_is_refused(tmp_path: Path, rel: str) -> None:
    from kpidsl.report.site import write_tree

    with pytest.raises(ValueError, match="refusing"):
        write_tree(tmp_path / "site", [("index.html", "ok"), (rel, "x")], force=False)
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left


def test_pages_are_written_as_they_are_made(tmp_path: Path) -> None:
    from kpidsl.report.site import write_tree

    made: list[str] = []

    def pages():  # type: ignore[no-untyped-def]
        for i in range(3):
            made.append(f"p/{i}.html")
            yield f"p/{i}.html", f"<p>{i}</p>"
            assert any(tmp_path.glob(f".site.tmp-*/p/{i}.html")), "written before the next page is made"

    written = write_tree(tmp_path / "site", pages(), force=False)
    assert [p.relative_to(tmp_path / "site").as_posix() for p in written] == made
    assert (tmp_path / "site" / "p" / "2.html").read_text() == "<p>2</p>"
