"""The command line: exit codes, formats, and the README's first command's pieces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kpidsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
EAST = ROOT / "examples" / "east-china-2026"

GOOD = """plan "t" {
  currency CNY
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
target bookings = 100_000

payout commission: money = bookings * 2%
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_clean_plan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "plan.kpi"
    p.write_text(GOOD, encoding="utf-8")
    code, out, _ = run(capsys, "check", str(p))
    assert code == 0
    assert "no problems" in out


def test_check_reports_every_error_with_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "plan.kpi"
    p.write_text(GOOD.replace("bookings * 2%", "bookngs * 2% + new_logoz"), encoding="utf-8")
    code, out, _ = run(capsys, "check", str(p))
    assert code == 1
    assert out.count("error[KPI01") >= 2
    assert "plan.kpi:9:" in out
    assert "bookings" in out  # the did-you-mean hint


def test_check_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "plan.kpi"
    p.write_text(GOOD.replace("bookings * 2%", "bookngs * 2%"), encoding="utf-8")
    code, out, _ = run(capsys, "check", "--format", "json", str(p))
    assert code == 1
    diags = json.loads(out)
    assert diags[0]["line"] == 9 and diags[0]["code"].startswith("KPI01")
    assert {"code", "severity", "message", "file", "line", "col", "end_line", "end_col"} <= set(diags[0])


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", str(tmp_path / "missing.kpi"))
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as exc:
        main(["eval"])
    assert exc.value.code == 2


def test_fmt_check_reports_unformatted_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "plan.kpi"
    p.write_text(GOOD.replace("  currency CNY", "currency    CNY"), encoding="utf-8")
    code, _, _ = run(capsys, "fmt", "--check", str(p))
    assert code == 1
    code, _, _ = run(capsys, "fmt", str(p))
    assert code == 0
    code, _, _ = run(capsys, "fmt", "--check", str(p))
    assert code == 0


def test_examples_check_and_are_formatted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(ROOT / "examples"))
    assert code == 0, out
    code, out, _ = run(capsys, "fmt", "--check", str(ROOT / "examples"))
    assert code == 0, out


def test_eval_json_is_byte_identical_and_exact(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["eval", str(EAST / "plan.kpi"), "--data", str(EAST / "data"), "--period", "2026-Q3",
            "--format", "json"]
    code1, out1, _ = run(capsys, *argv)
    code2, out2, _ = run(capsys, *argv)
    assert out1 == out2
    doc = json.loads(out1)
    assert doc["period"] == "2026-Q3"
    assert doc["plan"]["digest"].startswith("sha256:")
    for p in doc["payees"].values():
        if p["total"] is not None:
            from decimal import Decimal

            assert Decimal(p["total"]) == sum(Decimal(v) for v in p["components"].values())
    assert code1 == code2 == (0 if not doc["errors"] else 1)


def test_eval_rejects_bad_data_and_pays_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(EAST / "data", data)
    deals = data / "deals.csv"
    lines = deals.read_text(encoding="utf-8").splitlines()
    cells = lines[3].split(",")
    cells[2] = "12x3O0.00"
    lines[3] = ",".join(cells)
    deals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _err = run(capsys, "eval", str(EAST / "plan.kpi"), "--data", str(data),
                         "--period", "2026-Q3", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["payees"] == {}
    assert any(e["line"] == 4 and "12x3O0.00" in e["message"] for e in doc["errors"])


def test_explain_text_names_the_deals(capsys: pytest.CaptureFixture[str]) -> None:
    _doc_code, out, _ = run(capsys, "eval", str(EAST / "plan.kpi"), "--data", str(EAST / "data"),
                           "--period", "2026-Q3", "--format", "json")
    doc = json.loads(out)
    payee = next(pid for pid, p in doc["payees"].items()
                 if p["total"] is not None and p["components"].get("commission") not in (None, "0.00"))
    code, text, _ = run(capsys, "explain", str(EAST / "plan.kpi"), "--data", str(EAST / "data"),
                        "--period", "2026-Q3", "--payee", payee, "commission")
    assert code in (0, 1)
    assert "commission" in text and doc["payees"][payee]["components"]["commission"].split(".")[0][-3:] in text.replace(",", "")
    assert "plan.kpi:" in text


def test_explain_html_is_self_contained(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "eval", str(EAST / "plan.kpi"), "--data", str(EAST / "data"),
                    "--period", "2026-Q3", "--format", "json")
    payee = sorted(json.loads(out)["payees"])[0]
    _code, html, _ = run(capsys, "explain", str(EAST / "plan.kpi"), "--data", str(EAST / "data"),
                        "--period", "2026-Q3", "--payee", payee, "--format", "html")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "http://" not in html and "https://" not in html and "<script" not in html.lower()


def test_schema_command_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert "properties" in schema and "payees" in schema["properties"]


def _east(*extra: str) -> list[str]:
    return ["eval", str(EAST / "plan.kpi"), "--data", str(EAST / "data"), *extra]


def test_period_is_validated_up_front_and_case_insensitive(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, *_east("--period", "2026-q3", "--format", "json"))
    assert json.loads(out)["period"] == "2026-Q3"
    code, out, err = run(capsys, *_east("--period", "2026-07"))
    assert code == 2 and out == ""
    assert "not a quarter period" in err and "paid by quarter" in err


def test_unknown_payee_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *_east("--period", "2026-Q3", "--payee", "nobody"))
    assert code == 2 and "no payee 'nobody'" in err


def test_table_footer_sums_paid_payees_and_says_who_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_text(GOOD + "\ninput bonus_base: money\npayout bonus: money = bonus_base\n",
                    encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,east,\nb,B,AE,east,\n",
                                     encoding="utf-8")
    (data / "deals.csv").write_text(
        "id,payee,amount,stage,signed_on,customer,product\n"
        "D1,a,1000.00,won,2026-07-01,c,p\nD2,b,2000.50,won,2026-07-02,c,p\n", encoding="utf-8")
    (data / "inputs.csv").write_text("payee,name,period,value\na,bonus_base,2026-Q3,100.00\n",
                                     encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(plan), "--data", str(data), "--period", "2026-Q3")
    assert code == 1  # b has no bonus_base input
    footer = out.strip().splitlines()[-1].split()
    # only a is paid: commission 1000.00 x 2% = 20.00, bonus 100.00, total 120.00
    assert footer == ["sum", "1", "paid,", "1", "in", "error", "not", "summed", "20.00", "100.00",
                      "120.00"]


def test_csv_carries_names_and_neutralises_formulas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(EAST / "data", data)
    payees = data / "payees.csv"
    text = payees.read_text(encoding="utf-8").replace(",周建国,", ",=HYPERLINK(1),", 1)
    payees.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(EAST / "plan.kpi"), "--data", str(data),
                       "--period", "2026-Q3", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    # a byte order mark first: Excel on a Chinese Windows reads UTF-8 without it as GBK
    assert lines[0].startswith("\ufeffpayee,name,") and out.count("\ufeff") == 1
    assert any(",'=HYPERLINK(1)," in line for line in lines)
    assert any(line.startswith("chenzhiqiang,陈志强,") for line in lines)  # the name as written


def test_check_on_a_folder_without_plans_fails(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(tmp_path))
    assert code == 1 and out == ""
    assert "no .kpi files found" in err


def test_check_warns_about_an_empty_plan_file(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plan.kpi").write_text("// nothing yet\n\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", str(tmp_path / "plan.kpi"))
    assert code == 0 and "warning[KPI0011]: this plan file is empty" in out


def test_diff_checks_the_period_like_eval(capsys: pytest.CaptureFixture[str]) -> None:
    plan = str(EAST / "plan.kpi")
    code, out, err = run(capsys, "diff", plan, plan, "--data", str(EAST / "data"),
                         "--period", "garbage")
    assert code == 2 and out == ""
    assert "'garbage' is not a quarter period" in err


def test_kpidsl_test_on_a_folder_without_plans_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "test", str(tmp_path), "--fail-under", "90")
    assert code == 1 and "no .kpi files found" in err


def test_what_it_takes_unknown_tiers_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "what-it-takes", str(EAST / "plan.kpi"), "--data",
                         str(EAST / "data"), "--period", "2026-Q3", "--payee", "lina",
                         "--metric", "bookings", "--next-tier", "--tiers", "nosuch")
    assert code == 2 and out == ""
    assert "no tiers 'nosuch'" in err and "commission_rate" in err


def test_a_fact_file_replaced_while_running_is_an_error_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The columnar stage refuses a Parquet file read in place that changed after its checks."""
    from kpidsl import cli
    from kpidsl.columnar import SourceChanged

    def replaced(args: object) -> int:
        raise SourceChanged("data/deals.parquet changed after it was loaded; load the folder again")

    monkeypatch.setattr(cli, "cmd_check", replaced, raising=False)
    parser = cli.build_parser()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        action.choices["check"].set_defaults(func=replaced)  # type: ignore[index]
    monkeypatch.setattr(cli, "build_parser", lambda features=True: parser)
    assert cli.main(["check", "plan.kpi"]) == cli.EXIT_ERRORS
    assert "deals.parquet changed after it was loaded" in capsys.readouterr().err


EVAL = ("eval", str(EAST / "plan.kpi"), "--data", str(EAST / "data"), "--period", "2026-Q3")


def test_engine_columnar_without_duckdb_is_a_usage_error_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if kpidsl[fast] were not installed
    code, out, err = run(capsys, *EVAL, "--engine", "columnar")
    assert code == 2 and out == ""
    assert 'needs DuckDB: pip install "kpidsl[fast]"' in err
    import kpidsl

    with pytest.raises(ModuleNotFoundError, match=r"kpidsl\[fast\]"):
        kpidsl.load(EAST / "plan.kpi").evaluate(EAST / "data", "2026-Q3", engine="columnar")


@pytest.mark.parametrize("command", ["eval", "validate-plan", "validate"])
def test_a_parquet_folder_without_duckdb_is_a_usage_error_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str) -> None:
    import sys

    import duckdb

    for f in (EAST / "data").glob("*.csv"):
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{f}', all_varchar = true)) TO "
                   f"'{tmp_path / (f.stem + '.parquet')}' (FORMAT parquet)")
    monkeypatch.setitem(sys.modules, "duckdb", None)  # as if kpidsl[fast] were not installed
    args = {"eval": ("eval", str(EAST / "plan.kpi"), "--data", str(tmp_path), "--period", "2026-Q3"),
            "validate-plan": ("validate", "--data", str(tmp_path), "--plan", str(EAST / "plan.kpi")),
            "validate": ("validate", "--data", str(tmp_path))}[command]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err == 'error: reading Parquet data needs DuckDB: pip install "kpidsl[fast]"\n'


def test_auto_on_a_large_folder_without_duckdb_says_it_uses_the_slower_engine(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from kpidsl.columnar import run as columnar_run

    code, _, err = run(capsys, *EVAL, "--engine", "auto")
    assert code == 0 and "note:" not in err  # a small folder: nothing to say
    monkeypatch.setattr(columnar_run, "LARGE_BYTES", 1)
    monkeypatch.setitem(sys.modules, "duckdb", None)
    code, out, err = run(capsys, *EVAL, "--engine", "auto")
    assert code == 0 and "lina" in out
    assert "evaluated by the pure-Python engine" in err and 'pip install "kpidsl[fast]"' in err


def test_validate_engine_columnar_reports_what_the_reference_reports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    pytest.importorskip("duckdb")
    data = tmp_path / "data"
    shutil.copytree(EAST / "data", data)
    lines = (data / "deals.csv").read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].replace(",won,", ",won ,", 1)  # a space the reference strips
    lines[5] = lines[5].split(",", 1)[0] + ",nobody," + lines[5].split(",", 2)[2]  # an unknown payee
    lines[7] = lines[2]  # a repeated deal
    (data / "deals.csv").write_text("\n".join(lines), encoding="utf-8")
    argv = ("validate", "--data", str(data), "--plan", str(EAST / "plan.kpi"))
    code_c, out_c, _ = run(capsys, *argv, "--engine", "columnar")
    code_r, out_r, _ = run(capsys, *argv, "--engine", "reference")
    assert (code_c, out_c) == (code_r, out_r) and code_r == 1
    assert "deals.csv line 6" in out_c and "duplicate deal id" in out_c


def _east_copy(tmp_path: Path, collection: str | None = None, deal_amount: str | None = None) -> Path:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(EAST / "data", data)
    if collection is not None:  # one more collection row
        with (data / "collections.csv").open("a", encoding="utf-8") as f:
            f.write(collection + "\n")
    if deal_amount is not None:  # the first deal's amount rewritten
        lines = (data / "deals.csv").read_text(encoding="utf-8").split("\n")
        cells = lines[1].split(",")
        cells[2] = deal_amount
        lines[1] = ",".join(cells)
        (data / "deals.csv").write_text("\n".join(lines), encoding="utf-8")
    return data


WARNING = "warning[KPI0722]"  # a collection of a deal that is not in the data (the plan does not read through it)


@pytest.mark.parametrize("command", ["explain", "report", "diff", "what-it-takes"])
def test_every_evaluating_command_shows_the_data_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    """eval showed a data warning; explain, report, diff and what-it-takes dropped it on
    otherwise clean data."""
    data = _east_copy(tmp_path, collection="C9999,D_MISSING,tangning,10.00,2026-02-01")
    plan = str(EAST / "plan.kpi")
    argv = {"explain": ("explain", plan, "--data", str(data), "--period", "2026-Q1", "--payee", "tangning"),
            "report": ("report", plan, "--data", str(data), "--period", "2026-Q1", "--out", str(tmp_path / "r")),
            "diff": ("diff", plan, plan, "--data", str(data), "--period", "2026-Q1"),
            "what-it-takes": ("what-it-takes", plan, "--data", str(data), "--period", "2026-Q1",
                              "--payee", "tangning", "--metric", "bookings", "--next-tier")}[command]
    code, _, err = run(capsys, *argv)
    assert code == 0
    assert err.count(WARNING) == 1 and "D_MISSING" in err


def test_diff_on_rejected_data_shows_no_totals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It printed "Total cost: old 0, new 0, change 0", which reads as a result."""
    import json

    data = _east_copy(tmp_path, deal_amount="12x.00")
    plan = str(EAST / "plan.kpi")
    code, out, err = run(capsys, "diff", plan, plan, "--data", str(data), "--period", "2026-Q1")
    assert code == 1 and "Total cost" not in out and "Not compared: both plans reject the data" in out
    assert "error[KPI0710]" in err
    code, out, _ = run(capsys, "diff", plan, plan, "--data", str(data), "--period", "2026-Q1", "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 1 and summary["data_rejected"] is True
    assert summary["old_total"] is summary["new_total"] is summary["total_delta"] is None


def test_validate_with_a_plan_that_does_not_exist_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "--data", str(EAST / "data"), "--plan", "nope.kpi")
    assert (code, out, err) == (2, "", "error: no such plan file: nope.kpi\n")


def test_python_dash_m_kpidsl_is_the_command() -> None:
    """`python -m kpidsl` (no scripts folder on PATH, or a venv's own Python): the same command,
    the same exit codes."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "kpidsl", "check", str(EAST / "plan.kpi")],
                        capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stdout.strip()) == (0, "ok: 1 file checked, no problems")
    bad = subprocess.run([sys.executable, "-m", "kpidsl", "eval"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "usage: kpidsl" in bad.stderr
