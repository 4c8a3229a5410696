"""The README's two commands are the ones CI runs and they name real files."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.S)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    [test_command] = [c for c in _commands() if "pytest" in c]
    assert f"readme_test='{test_command}'" in ci
    assert 'bash -c "$readme_test"' in ci


def test_the_example_command_names_files_that_exist() -> None:
    [run] = [c for c in _commands() if "kpidsl eval" in c]
    assert run.startswith("pip install . && ")
    for path in re.findall(r"examples/\S+", run):
        assert (ROOT / path).exists(), path
