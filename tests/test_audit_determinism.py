"""Determinism and output-fidelity defects found by an audit (each test fails on the
code it was written against and passes once the defect is fixed)."""

from __future__ import annotations

import datetime
import io
import types
import zipfile
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main

PLAN = """\
plan "Audit" {
  currency CNY
  period quarter
  rounding half_up 0.01
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period

payout commission: money = bookings * 100%
"""

PAYEES = "id,name,role,region,manager\n张三,张三丰,AE,华东,\nbob,Bob,AE,east,张三\n"
DEALS = (
    "id,payee,amount,stage,signed_on,customer,product\n"
    "合同1,张三,99999999999999.99,won,2026-07-01,客户甲,CloudSuite\n"
    "D2,bob,1234.50,won,2026-07-02,c,p\n"
    "D3,bob,10.25,won,2026-08-02,c,p\n"
)


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "plan.kpi").write_text(PLAN, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text(PAYEES, encoding="utf-8")
    (data / "deals.csv").write_text(DEALS, encoding="utf-8")
    return tmp_path


def _xlsx(base: Path, out: Path) -> bytes:
    args = [str(base / "plan.kpi"), "--data", str(base / "data"), "--period", "2026-Q3"]
    assert main(["report", *args, "--out", str(out), "--format", "xlsx"]) == 0
    return out.read_bytes()


class _LaterDatetime(datetime.datetime):
    """``datetime.datetime`` whose ``now`` is three days later than the real clock."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        return datetime.datetime.now(tz) + datetime.timedelta(days=3)


def test_xlsx_report_is_byte_identical_whatever_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: "byte-identical output whatever the row order, locale, timezone or clock".
    The workbook embeds the wall clock twice: docProps/core.xml (dcterms:created/modified,
    from openpyxl's DocumentProperties) and every zip entry's date_time (time.localtime,
    so also the TZ)."""
    pytest.importorskip("openpyxl")
    import openpyxl.packaging.core as core

    base = _folder(tmp_path)
    first = _xlsx(base, tmp_path / "a.xlsx")
    real_time = __import__("time").time
    monkeypatch.setattr("time.time", lambda: real_time() + 3 * 86400)
    later = types.SimpleNamespace(datetime=_LaterDatetime, timezone=datetime.timezone)
    monkeypatch.setattr(core, "datetime", later)
    # openpyxl's save stamps `modified` with its own clock: the run three days later sees it too
    # (it was only in the same second by luck: a flake once the suite was busy)
    import openpyxl.writer.excel as excel

    monkeypatch.setattr(excel, "datetime", later)
    second = _xlsx(base, tmp_path / "b.xlsx")
    capsys.readouterr()
    a, b = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(second))
    assert a.read("docProps/core.xml") == b.read("docProps/core.xml")
    assert a.read("docProps/core.xml").count(b"1980-01-01T00:00:00Z") == 2  # created, modified
    assert [i.date_time for i in a.infolist()] == [i.date_time for i in b.infolist()]
    assert first == second


def test_xlsx_money_cells_hold_the_exact_decimal_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/reports.md: "Money is written as exact decimal text". openpyxl formats a
    Decimal with "%.16g" (through a float), so 99999999999999.99 is written as
    99999999999999.98: a cent is lost in the file itself (large values even come out
    as 1.234567890123457e+17)."""
    pytest.importorskip("openpyxl")
    base = _folder(tmp_path)
    book = zipfile.ZipFile(io.BytesIO(_xlsx(base, tmp_path / "r.xlsx")))
    capsys.readouterr()
    summary = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>99999999999999.98</v>" not in summary
    assert "<v>99999999999999.99</v>" in summary


def test_columnar_data_digest_same_for_csv_and_decimal_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/data.md: a DECIMAL Parquet column gives "exactly the text the CSV would hold",
    and the digest does not change with how a number was spelt or stored; the columnar
    digest is "stable for the same data" (docs/performance.md). The reference engine
    gives one digest for both folders, the columnar engine two: its fold hashes the
    typed column, whose DuckDB type (DECIMAL(18,2) from Parquet) differs from the one a
    CSV column gets."""
    duckdb = pytest.importorskip("duckdb")
    monkeypatch.setenv("KPIDSL_CACHE", "off")
    base = _folder(tmp_path)
    plan = kpidsl.load(base / "plan.kpi")
    pq = tmp_path / "pq" / "data"
    pq.mkdir(parents=True)
    con = duckdb.connect()
    for name in ("payees", "deals"):
        src = base / "data" / f"{name}.csv"
        cast = "REPLACE (CAST(amount AS DECIMAL(18,2)) AS amount)" if name == "deals" else ""
        con.execute(f"COPY (SELECT * {cast} FROM read_csv('{src}', header=true, all_varchar=true)) "
                    f"TO '{pq / (name + '.parquet')}' (FORMAT parquet)")
    con.close()
    ref_csv = plan.evaluate(base / "data", period="2026-Q3", engine="reference")
    ref_pq = plan.evaluate(pq, period="2026-Q3", engine="reference")
    assert ref_csv.to_dict()["data_digest"] == ref_pq.to_dict()["data_digest"]  # holds today
    col_csv = plan.evaluate(base / "data", period="2026-Q3", engine="columnar")
    col_pq = plan.evaluate(pq, period="2026-Q3", engine="columnar")
    assert col_csv.to_dict()["payees"] == col_pq.to_dict()["payees"]
    assert col_csv.to_dict()["data_digest"] == col_pq.to_dict()["data_digest"]


def test_parquet_timestamptz_cell_is_read_the_same_in_every_timezone(tmp_path: Path) -> None:
    """README: byte-identical output "whatever the ... timezone". A Parquet column stored
    as TIMESTAMP WITH TIME ZONE is turned into text by ``CAST(... AS VARCHAR)``
    (columnar/sources.py:_as_text), which DuckDB renders in the process's local zone:
    the same file gives customer '2026-07-01 20:30:00+00' under TZ=UTC and
    '2026-07-02 04:30:00+08' under TZ=Asia/Shanghai, so the data digest, the report's
    fact tables and (for a date field) the rejection messages change with TZ."""
    import os
    import subprocess
    import sys

    duckdb = pytest.importorskip("duckdb")
    base = _folder(tmp_path)
    pq = tmp_path / "pq" / "data"
    pq.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    src = base / "data"
    con.execute(f"COPY (SELECT * FROM read_csv('{src / 'payees.csv'}', header=true, all_varchar=true)) "
                f"TO '{pq / 'payees.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * REPLACE (CAST('2026-07-01 20:30:00+00' AS TIMESTAMPTZ) AS customer) "
                f"FROM read_csv('{src / 'deals.csv'}', header=true, all_varchar=true)) "
                f"TO '{pq / 'deals.parquet'}' (FORMAT parquet)")
    con.close()

    def run(tz: str) -> tuple[str, str]:
        env = {**os.environ, "TZ": tz, "KPIDSL_CACHE": "off"}
        p = subprocess.run(
            [sys.executable, "-m", "kpidsl.cli", "eval", str(base / "plan.kpi"), "--data", str(pq),
             "--period", "2026-Q3", "--format", "json", "--engine", "reference"],
            capture_output=True, text=True, env=env, check=False)
        return p.stdout, p.stderr

    utc, shanghai = run("UTC"), run("Asia/Shanghai")
    assert '"data_digest"' in utc[0]
    assert utc == shanghai


SAAS = Path(__file__).resolve().parents[1] / "examples" / "saas-team"


def _what_it_takes(capsys: pytest.CaptureFixture[str]) -> str:
    args = ["what-it-takes", str(SAAS / "plan.kpi"), "--data", str(SAAS / "data"), "--period", "2026-Q3",
            "--payee", "jsmith", "--metric", "bookings", "--payout", "20000", "--format", "json"]
    assert main(args) == 0
    return capsys.readouterr().out


def test_what_it_takes_does_not_depend_on_the_process_decimal_context(
    capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/api.md: a Plan "never touches the process's decimal context", and the brief's
    arithmetic is "under a local context owned by the plan". ``eval``, ``explain`` and
    ``diff`` give the same bytes under a caller's context that traps Inexact; the what-if
    solver (whatif/search.py: solve_payout, _bisect, ceil_to callers) mixes its private
    60-digit ``_CTX`` with plain ``-``, ``+``, ``/`` and ``*`` in the ambient context:
    ``abs(_lerp(...) - gm)`` raises decimal.Inexact here, and with ``prec=5`` ``_bisect``
    never ends (``lo + q`` rounds back to ``lo``)."""
    import decimal

    expected = _what_it_takes(capsys)
    assert '"amount": "4989.94"' in expected
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.Inexact] = True
        ctx.traps[decimal.Rounded] = True
        got = _what_it_takes(capsys)
    assert got == expected


def test_text_tables_count_zero_width_characters_as_zero_columns() -> None:
    """Terminal tables are aligned by display width (docs/explanations.md: "tables are
    aligned by terminal width"). ``kpidsl.display.char_width`` gives 0 only to combining
    marks; a zero-width space (U+200B) or joiner (U+200D), which Excel exports and
    copy-pasted Chinese names often carry, counts as one column and shifts every later
    column of that row one to the left in ``kpidsl eval`` and ``explain`` tables."""
    from kpidsl.display import ljust, width

    assert width("\u200b张三") == 4
    assert width("a\u200db") == 2
    assert ljust("\u200bzero", 6) == "\u200bzero  "


def test_to_dict_is_what_to_json_writes(tmp_path: Path) -> None:
    """``Result.to_dict()`` is the data of ``to_json()`` (it is no longer written out and read
    back), and ``to_json()`` is the evaluation's canonical JSON text with the data warnings
    after it: texts for every number, CJK kept, components in plan order."""
    import json

    from kpidsl.eval.result import result_to_json

    folder = _folder(tmp_path)
    (folder / "data" / "notes.csv").write_text("x\n1\n", encoding="utf-8")  # an unused table: a warning
    r = kpidsl.load(folder / "plan.kpi").evaluate(kpidsl.load_data(folder / "data"), "2026-Q3")
    assert r.data_diagnostics, "the unused table gives a data warning"
    as_dict = r.to_dict()
    assert json.loads(r.to_json()) == as_dict
    assert as_dict["payees"]["张三"]["total"] == "99999999999999.99"
    assert list(as_dict) == ["plan", "data_digest", "period", "payees", "errors", "data_warnings"]
    assert r.evaluation is not None
    canonical = json.loads(result_to_json(r.evaluation, r.plan.info(), r.data_digest))
    assert {k: v for k, v in as_dict.items() if k != "data_warnings"} == canonical
    assert r.to_json(indent=None) == json.dumps(as_dict, ensure_ascii=False)


def test_loads_reads_a_plan_with_a_byte_order_mark_as_load_does(tmp_path: Path) -> None:
    """A plan read with ``encoding="utf-8"`` keeps a Windows editor's BOM: ``loads`` said
    KPI0002 "unexpected character" where ``load`` of the same file reads it."""
    (tmp_path / "plan.kpi").write_text("\ufeff" + PLAN, encoding="utf-8")
    from_file = kpidsl.load(tmp_path / "plan.kpi")
    from_text = kpidsl.loads((tmp_path / "plan.kpi").read_text(encoding="utf-8"))
    assert from_text.digest == kpidsl.loads(PLAN).digest
    assert from_text.model.payouts == from_file.model.payouts == ("commission",)
