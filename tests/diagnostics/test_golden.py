"""Golden diagnostics corpus: each ``cases/KPIxxxx-name.kpi`` renders to its ``.expected``.

A case is parsed and, when it has no syntax error, checked; every diagnostic is
rendered as text. Set ``KPIDSL_UPDATE_GOLDEN=1`` to rewrite the expected files.
The code in a case's file name must be among the diagnostics it produces.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kpidsl.check import check
from kpidsl.diagnostics import Diagnostic, has_errors
from kpidsl.render import render_text
from kpidsl.source import SourceFile
from kpidsl.syntax.parser import parse_source

CASES = Path(__file__).parent / "cases"
UPDATE = os.environ.get("KPIDSL_UPDATE_GOLDEN") == "1"


def diagnose(path: Path) -> tuple[list[Diagnostic], str]:
    """Parse then check one case; returns its diagnostics and their rendered text."""
    text = path.read_text(encoding="utf-8")
    name = path.name
    module, diags = parse_source(text, name)
    found = list(diags)
    if module is not None and not has_errors(found):
        _, checked = check([module])
        found.extend(checked)
    return found, render_text(found, {name: SourceFile(name, text)})


def case_files() -> list[Path]:
    return sorted(CASES.glob("*.kpi"))


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_case_matches_expected(path: Path) -> None:
    diags, rendered = diagnose(path)
    code = re.match(r"(KPI\d{4})", path.name)
    assert code, f"case file {path.name} must start with its code"
    assert code.group(1) in {d.code for d in diags}, rendered or "no diagnostics"
    expected = path.with_suffix(".expected")
    if UPDATE:
        expected.write_text(rendered, encoding="utf-8")
    assert expected.exists(), f"run with KPIDSL_UPDATE_GOLDEN=1 to create {expected.name}"
    assert rendered == expected.read_text(encoding="utf-8")


def test_corpus_is_large_enough() -> None:
    assert len(case_files()) >= 40
