"""The pytest plugin: which .kpi files it collects, and the failure text it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .helpers import block, write_plan


def pytest_run(folder: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "kpidsl.testing.pytest_plugin", "-rA",
         "-p", "no:cacheprovider", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def project(tmp_path: Path, ini: str) -> Path:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\ntestpaths = tests\n{ini}", encoding="utf-8")
    write_plan(tmp_path / "plans", block("good", "expect alice.commission == 1_200"),
               block("bad", "expect bob.commission == 301"))
    # a plan fixture that fails on purpose: never collected from tests/
    write_plan(tmp_path / "tests" / "cases", block("broken", "expect bob.commission == 1"),
               plan="plan \"x\" { currency USD }\nmetric = 1\n")
    (tmp_path / "tests" / "test_py.py").write_text("def test_ok():\n    assert True\n")
    return tmp_path


def test_ini_folders_are_collected_and_failures_show_the_details(tmp_path: Path) -> None:
    code, out = pytest_run(project(tmp_path, "kpidsl_plans = plans\n"))
    assert code == 1, out
    assert "PASSED plans/plan.kpi::good" in out
    assert "FAILED plans/plan.kpi::bad" in out
    assert "PASSED tests/test_py.py::test_ok" in out
    assert "cases" not in out
    assert "expected: bob.commission == 301" in out
    assert "actual:   300.00" in out
    assert "commission = 300.00" in out  # the explanation tree
    assert "1 failed, 2 passed" in out


def test_without_the_ini_option_nothing_kpi_is_collected(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    code, out = pytest_run(root)
    assert code == 0, out
    assert "1 passed" in out and ".kpi" not in out
    code, out = pytest_run(root, "tests")  # a folder named on the command line
    assert code == 0 and ".kpi" not in out, out


def test_a_plan_named_on_the_command_line_is_collected(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    code, out = pytest_run(root, "plans/plan.kpi", "-k", "good")
    assert code == 0, out
    assert "PASSED plans/plan.kpi::good" in out and "1 deselected" in out
