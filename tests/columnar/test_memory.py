"""DuckDB's memory limit (KPIDSL_MEMORY_MB): a limit changes how much memory a run takes,
never what it pays or says; a load that needs more than the limit is done again without
it; DuckDB's temporary files go to the system's temporary folder, never the working
directory; a setting that cannot be used is a one-line error."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

import duckdb

from kpidsl.cli import main
from kpidsl.columnar import run as columnar_run
from kpidsl.columnar.sources import DEFAULT_MEMORY_MB, SettingError, connect, memory_mb

from .test_cache import outcome
from .test_validation import PLAN, folder


def _setting(con: object, name: str) -> str:
    return str(con.execute(f"SELECT current_setting('{name}')").fetchone()[0])  # type: ignore[attr-defined]


def _rows(n: int) -> list[str]:
    return [f"D{i},{'ab'[i % 2]},{i % 997}.{i % 100:02d},{('won', 'lost')[i % 3 == 0]},"
            f"2026-0{7 + i % 3}-{1 + i % 28:02d},c{i % 50},P,{('true', 'no')[i % 5 == 0]}" for i in range(n)]


def test_the_limit_comes_from_the_argument_then_the_environment_then_the_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPIDSL_MEMORY_MB", raising=False)
    assert memory_mb() == DEFAULT_MEMORY_MB
    monkeypatch.setenv("KPIDSL_MEMORY_MB", " 512 ")
    assert memory_mb() == 512
    assert memory_mb(64) == 64
    con = connect()
    assert _setting(con, "memory_limit") == "488.2 MiB"  # 512 MB as DuckDB shows it
    monkeypatch.setenv("KPIDSL_MEMORY_MB", "0")  # DuckDB's own limit: none of ours
    assert _setting(connect(), "memory_limit") == _setting(duckdb.connect(":memory:"), "memory_limit")
    for bad in ("abc", "1.5", "-3", "５１２", "512MB"):
        monkeypatch.setenv("KPIDSL_MEMORY_MB", bad)
        with pytest.raises(SettingError, match="KPIDSL_MEMORY_MB"):
            memory_mb()


def test_temporary_files_go_to_a_folder_of_the_connection_s_own_in_the_system_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    a, b = connect(memory=32), connect(memory=32)
    spill = Path(_setting(a, "temp_directory"))
    assert spill.parent == Path(tempfile.gettempdir()) and spill != Path(_setting(b, "temp_directory"))
    # a table bigger than the limit: DuckDB writes it out, there and not in the working directory
    a.execute("CREATE TABLE t AS SELECT i, repeat('x', 40) || i AS s FROM range(1000000) r(i)")
    assert a.execute("SELECT count(DISTINCT s) FROM t").fetchone()[0] == 1_000_000
    assert spill.is_dir() and any(spill.iterdir())
    assert list(tmp_path.iterdir()) == []
    a.close()
    assert not spill.exists()  # DuckDB removes it with the connection


def test_a_low_limit_pays_and_says_what_no_limit_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder(tmp_path / "data", [*_rows(30_000), "D1,a,oops,won,2026-07-01,c,P,true"],
                  ["C1,D4,a,10.01,2026-08-01", "C2,D9,b,20.5,2026-08-03", "C3,X9,b,1,2026-08-03"])
    seen: list[str] = []
    load = columnar_run._load

    def spy(*args: object) -> object:
        seen.append(_setting(args[3], "memory_limit"))
        return load(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(columnar_run, "_load", spy)
    outcomes, lifted = {}, {}
    for limit in (0, 1, 4):
        monkeypatch.setenv("KPIDSL_MEMORY_MB", str(limit))
        loaded = columnar_run.load_folder(PLAN.model, path, cache=False)
        lifted[limit] = getattr(loaded.con, "_lifted", [None])[0]
        outcomes[limit] = outcome(loaded)
    assert outcomes[0]["engine"] == "columnar" and outcomes[0]["diags"]
    assert outcomes[1] == outcomes[0] and outcomes[4] == outcomes[0]
    assert seen[1] == "976.5 KiB"  # the 1 MB run was tried with its limit...
    assert lifted[0] is None and lifted[1] is True  # ...a statement ran out and ran again
    assert lifted[4] is not None  # (at 4 MB DuckDB may spill instead: either way the same)


def test_the_command_line_says_what_is_wrong_with_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = folder(tmp_path / "data", _rows(20))
    plan = tmp_path / "plan.kpi"
    plan.write_text('plan "v" {\n  currency USD\n  period quarter\n}\n'
                    "payout commission: money = sum deal.amount * 1%\n", encoding="utf-8")
    monkeypatch.setenv("KPIDSL_MEMORY_MB", "lots")
    code = main(["eval", str(plan), "--data", str(path), "--period", "2026-Q3", "--engine", "columnar"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == ("error: KPIDSL_MEMORY_MB='lots' is not a whole number of megabytes "
                                         "(0 for DuckDB's own limit)")
    assert os.environ["KPIDSL_MEMORY_MB"] == "lots"



def test_a_statement_past_the_limit_is_run_again_without_it_and_the_limit_stays_lifted() -> None:
    """DuckDB cannot spill every operator: a 5M-row sort into a new table (a service's
    index_facts) ran out at 256 MB. The statement is run again with DuckDB's own limit, for
    that connection and its cursors from then on."""
    con = connect(memory=8)
    default = _setting(duckdb.connect(":memory:"), "memory_limit")
    assert _setting(con, "memory_limit") == "7.6 MiB"
    with pytest.raises(duckdb.OutOfMemoryException):  # the same statement on a plain connection
        plain = duckdb.connect(":memory:")
        plain.execute("SET memory_limit = '8MB'")
        plain.execute("CREATE TABLE t AS SELECT i, repeat('x', 40) || i AS s FROM range(1000000) r(i) ORDER BY s")
    con.execute("CREATE TABLE t AS SELECT i, repeat('x', 40) || i AS s FROM range(1000000) r(i) ORDER BY s")
    assert con.execute("SELECT count(*), min(s) FROM t").fetchone() == (1_000_000, "x" * 40 + "0")
    assert _setting(con, "memory_limit") == default and _setting(con.cursor(), "memory_limit") == default
    with pytest.raises(duckdb.CatalogException):  # other errors are the caller's, as ever
        con.execute("SELECT * FROM no_such_table")
