"""Audit of the command line and the Python API: bad input gets one line and the right exit
code, never a traceback; ``kpidsl schema`` describes what ``eval --format json`` prints."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from test_cli import EAST, run  # tests/ is on the path: its modules have no package
from test_cli import GOOD as PLAN

import kpidsl
from kpidsl import api
from kpidsl.cli import main


def _east(data: Path, *extra: str) -> list[str]:
    return ["eval", str(EAST / "plan.kpi"), "--data", str(data), "--period", "2026-Q3", *extra]


def _copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(EAST / "data", data)
    return data


# ---------------------------------------------------------------- eval --format json vs schema


def _validate(capsys: pytest.CaptureFixture[str], doc: object) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    _, schema_text, _ = run(capsys, "schema")
    errors = list(jsonschema.Draft202012Validator(json.loads(schema_text)).iter_errors(doc))
    assert not errors, [e.message for e in errors]


def test_json_of_rejected_data_matches_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _copy_data(tmp_path)
    deals = (data / "deals.csv").read_text(encoding="utf-8").splitlines()
    deals[2] = deals[2].replace(",54100.00,", ",54,1x0,")
    (data / "deals.csv").write_text("\n".join(deals) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, *_east(data, "--format", "json"))
    assert code == 1
    doc = json.loads(out)
    assert doc["payees"] == {} and any(e["file"].endswith("deals.csv") for e in doc["errors"])
    _validate(capsys, doc)


def test_json_with_data_warnings_matches_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _copy_data(tmp_path)
    with (data / "collections.csv").open("a", encoding="utf-8") as f:
        f.write("C9999,D9999,tangning,100.00,2026-08-01\n")  # a collection of an unknown deal
    code, out, _ = run(capsys, *_east(data, "--format", "json"))
    assert code == 0
    doc = json.loads(out, parse_float=lambda s: pytest.fail(f"a float in the JSON: {s}"))
    assert doc["data_warnings"][0]["severity"] == "warning"
    _validate(capsys, doc)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_eval_shows_the_data_problems_on_stderr_in_every_format(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _copy_data(tmp_path)
    with (data / "collections.csv").open("a", encoding="utf-8") as f:
        f.write("C9999,D9999,tangning,100.00,2026-08-01\n")
    code, _, err = run(capsys, *_east(data, "--format", fmt))
    assert code == 0 and err.count("warning[KPI0722]") == 1
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product,new_customer\n"
                                    "D1,lina,12x.00,won,2026-08-01,c,DataHub,false\n", encoding="utf-8")
    code, _, err = run(capsys, *_east(data, "--format", fmt))
    assert code == 1 and "error[KPI0710]" in err


def test_api_schema_is_the_one_kpidsl_schema_prints(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "schema")
    assert json.loads(out) == kpidsl.Result.json_schema()
    assert "data_warnings" in kpidsl.Result.json_schema()["properties"]


# ---------------------------------------------------------------- closed pipes, Ctrl-C, full disks


class _Stdout(io.StringIO):
    def __init__(self, exc: OSError) -> None:
        super().__init__()
        self.exc = exc

    def write(self, text: str) -> int:
        raise self.exc


def test_a_closed_pipe_stops_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdout", _Stdout(BrokenPipeError(32, "Broken pipe")))
    code = main(_east(EAST / "data", "--format", "json"))
    assert code == 141
    assert capsys.readouterr().err == ""


def test_a_full_disk_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdout", _Stdout(OSError(28, "No space left on device")))
    code = main(["schema"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "error: No space left on device\n"


@pytest.mark.parametrize("command", ["check", "eval", "test", "fmt"])
def test_a_path_too_long_to_exist_is_a_usage_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = str(tmp_path / ("a" * 300))
    argv = [command, long] if command != "eval" else _east(Path(long))
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) == 1


def test_ctrl_c_is_not_a_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(path: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "load", interrupted)
    try:
        code, out, err = run(capsys, *_east(EAST / "data"))
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped main()")
    assert code == 130 and out == "" and err == "interrupted\n"


# ---------------------------------------------------------------- eval arguments and output


def test_an_empty_payee_is_a_usage_error_not_everyone(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *_east(EAST / "data", "--payee", ""))
    assert code == 2 and out == ""
    assert "no payee ''" in err


def test_a_folder_for_the_plan_or_a_file_for_the_data_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "eval", str(EAST), "--data", str(EAST / "data"), "--period", "2026-Q3")
    assert (code, err) == (2, f"error: a folder, not a plan file: {EAST}\n")
    code, _, err = run(capsys, *_east(EAST / "plan.kpi"))
    assert (code, err) == (2, f"error: a file, not a data folder: {EAST / 'plan.kpi'}\n")


def test_table_keeps_a_name_with_a_line_break_or_escape_on_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.kpi"
    plan.write_text(PLAN, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text(
        'id,name,role,region,manager\na1,"line1\nline2",AE,east,\na2,\x1b[31mred,AE,east,\n', encoding="utf-8")
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on\nD1,a1,1000,won,2026-08-01\n",
                                    encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(plan), "--data", str(data), "--period", "2026-Q3")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 6  # header, rule, two payees, rule, sum
    assert "\x1b" not in out
    assert lines[2].startswith("a1     line1\u240aline2") and lines[2].endswith("20.00")
    assert len({len(line) for line in lines[2:4]}) == 1  # the columns line up
    code, csv_out, _ = run(capsys, "eval", str(plan), "--data", str(data), "--period", "2026-Q3",
                           "--format", "csv")
    assert '"line1\nline2"' in csv_out  # the CSV keeps the name as it is, quoted


@pytest.mark.parametrize("command", ["eval", "what-it-takes"])
def test_help_is_the_same_on_every_terminal_width(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = []
    for columns in ("40", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        with pytest.raises(SystemExit):
            main([command, "--help"])
        shown.append(capsys.readouterr().out)
    assert shown[0] == shown[1]
    assert max(len(line) for line in shown[0].splitlines()) <= 80


def test_explain_html_names_the_period_as_eval_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, html, _ = run(capsys, "explain", str(EAST / "plan.kpi"), "--data", str(EAST / "data"),
                        "--period", " 2026-q3", "--payee", "lina", "--format", "html")
    assert code == 0
    assert "lina — 2026-Q3</title>" in html


# ---------------------------------------------------------------- check, fmt, test: the files found


def test_fmt_on_a_folder_without_plans_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fmt", "--check", str(tmp_path))
    assert code == 1
    assert "no .kpi files found" in err


def test_check_tells_two_plan_files_of_the_same_name_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "east").mkdir()
    (tmp_path / "west").mkdir()
    (tmp_path / "east" / "plan.kpi").write_text(PLAN.replace("bookings * 2%", "bookngs * 2%"), encoding="utf-8")
    (tmp_path / "west" / "plan.kpi").write_text(PLAN + "\n" * 12 + "payout p: money = 1 +\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", ".")
    assert code == 1
    assert " --> east/plan.kpi:9:28" in out
    assert "  --> west/plan.kpi:22:22" in out and "22 | payout p: money = 1 +" in out  # quoted from its own text
    code, out, _ = run(capsys, "check", "--format", "json", "east", "west")
    assert [d["file"] for d in json.loads(out)] == ["east/plan.kpi", "west/plan.kpi"]


def test_check_reports_a_library_in_a_sub_folder_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "plan.kpi").write_text(PLAN.replace("\nmetric", '\nimport "sub/lib.kpi"\n\nmetric', 1),
                                       encoding="utf-8")
    (tmp_path / "sub" / "lib.kpi").write_text("metric m: money = 1 +\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", ".")
    assert code == 1
    assert out.count("error[KPI0003]") == 1 and " --> sub/lib.kpi:1:22" in out


def test_a_folder_named_like_a_plan_is_not_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plan.kpi").write_text(PLAN, encoding="utf-8")
    (tmp_path / "old.kpi").mkdir()
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert code == 0 and "1 file checked" in out
    (tmp_path / "plan.kpi").unlink()
    assert run(capsys, "check", str(tmp_path))[0] == 1
    code, _, err = run(capsys, "test", str(tmp_path))
    assert code == 1 and "no .kpi files found" in err


# ---------------------------------------------------------------- the Python API


@pytest.fixture(scope="module")
def plan() -> api.Plan:
    return kpidsl.load(EAST / "plan.kpi")


def test_evaluate_arguments_of_the_wrong_type_say_so(plan: api.Plan) -> None:
    data = kpidsl.load_data(EAST / "data")
    with pytest.raises(TypeError, match="period must be a str"):
        plan.evaluate(data, 2026)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
        plan.evaluate(data, "2026-Q3", as_of="2026-09-30")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"as_of must be a datetime\.date"):
        plan.evaluate(data, "2026-Q3", as_of=dt.datetime(2026, 9, 30))
    with pytest.raises(TypeError, match=r"payees=\['lina'\]"):
        plan.evaluate(data, "2026-Q3", payees="lina")
    assert plan.evaluate(data, "2026-Q3", as_of=dt.date(2026, 9, 30), payees=["lina"]).ok


def test_load_data_reads_a_generator_of_rows_whole(plan: api.Plan) -> None:
    payees = [{"id": "alice", "name": "Alice", "role": "AE", "region": "east", "manager": ""}]
    deals = ({"id": f"D{i}", "payee": "alice", "amount": Decimal("1000"), "stage": "won",
              "signed_on": dt.date(2026, 8, 1), "customer": "c", "product": "DataHub",
              "new_customer": False} for i in range(3))
    data = kpidsl.load_data({"payees": payees, "deals": deals})
    assert len(data.tables["deals"].rows) == 3


@pytest.mark.parametrize("value", ["abc", None, {"id": "alice"}, [1, 2]])
def test_load_data_with_a_table_that_is_not_rows_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"load_data: .*'payees'"):
        kpidsl.load_data({"payees": value})


def test_python_m_kpidsl_testing_cli_writes_utf8_on_an_ascii_console(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    plan = PLAN + '\ntest "提成 above quota" {\n  period 2026-Q3\n  payees {\n    id role region\n' \
        '    alice AE east\n  }\n  expect alice.commission == 0\n}\n'
    (tmp_path / "plan.kpi").write_text(plan, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "kpidsl.testing.cli", "plan.kpi"], cwd=tmp_path, env=env,
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert done.stdout.decode("utf-8") == "PASS plan.kpi::提成 above quota\n1 passed, 0 failed\n"


@pytest.mark.parametrize("engine", ["reference", "auto", "columnar"])
def test_a_data_path_that_is_not_a_folder_is_the_same_on_every_engine(plan: api.Plan, engine: str) -> None:
    with pytest.raises(FileNotFoundError, match="data folder not found"):
        plan.evaluate(EAST / "nope", "2026-Q3", engine=engine)
    result = plan.evaluate(EAST / "plan.kpi", "2026-Q3", engine=engine)
    assert not result.ok and result.data_diagnostics[0].code == "KPI0700"
