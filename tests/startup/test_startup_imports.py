"""Start-up stays lean: what a plan load and `kpidsl check` import, and that they write nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpidsl import cli

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "examples" / "east-china-2026" / "plan.kpi"
BENCH_PLAN = ROOT / "benchmarks" / "workload" / "plan.kpi"
# Lark is needed only to report syntax errors; the feature commands only when run.
NOT_AT_START = (
    "lark", "pydantic", "duckdb", "openpyxl", "pyarrow", "hypothesis", "kpidsl.eval",
    "kpidsl.diff", "kpidsl.testing", "kpidsl.whatif", "kpidsl.importer", "kpidsl.report",
    "difflib",
)


def _imported(code: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> list[str]:
    probe = (f"import sys\n{code}\n"
             f"print('imported:' + ','.join(m for m in {NOT_AT_START!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=cwd, env=env)
    last = out.stdout.splitlines()[-1]
    assert last.startswith("imported:"), out.stdout
    return [m for m in last.removeprefix("imported:").split(",") if m]


@pytest.mark.parametrize("plan", [PLAN, BENCH_PLAN], ids=["example", "benchmark"])
def test_loading_a_clean_plan_imports_no_lark(plan: Path) -> None:
    assert _imported(f"import kpidsl; kpidsl.load({str(plan)!r})") == []


def test_kpidsl_check_on_a_clean_plan_imports_only_what_it_needs() -> None:
    code = f"import kpidsl.cli; assert kpidsl.cli.main(['check', {str(PLAN)!r}]) == 0"
    assert _imported(code) == []


def test_a_syntax_error_still_loads_lark_and_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kpi"
    bad.write_text('plan "p" { currency CNY }\nmetric m: money = (1 +\n', encoding="utf-8")
    code = (
        "import kpidsl\n"
        f"try:\n    kpidsl.load({str(bad)!r})\nexcept kpidsl.PlanError as e:\n"
        "    print(e.diagnostics[0].code)\n"
        "print('lark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["KPI0003", "True"]  # unexpected end of input


def test_loading_and_checking_write_no_file(tmp_path: Path) -> None:
    """No parser cache or any other file: in the temp dir, the home dir or the cwd."""
    home, tmp, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    for d in (home, tmp, cwd):
        d.mkdir()
    bad = tmp_path / "bad.kpi"
    bad.write_text("metric m: money = (1 +\n", encoding="utf-8")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "PYTHONDONTWRITEBYTECODE": "1"}
    code = (
        "import kpidsl, kpidsl.cli\n"
        f"kpidsl.load({str(PLAN)!r})\n"
        f"kpidsl.cli.main(['check', {str(PLAN)!r}, {str(bad)!r}])\n"
    )
    _imported(code, cwd=cwd, env=env)
    assert [p for d in (home, tmp, cwd) for p in d.rglob("*")] == []


def test_a_core_command_reports_usage_errors_with_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", str(PLAN), "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --bogus" in err
    assert "diff" in err and "what-it-takes" in err  # the feature commands, as before


def test_feature_commands_are_still_parsed() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["diff", "a.kpi", "b.kpi", "--data", "d", "--period", "2026-Q3"])
    assert args.command == "diff"
    lean = cli.build_parser(features=False)
    with pytest.raises(SystemExit):
        lean.parse_args(["diff", "a.kpi", "b.kpi", "--data", "d", "--period", "2026-Q3"])
