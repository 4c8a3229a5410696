"""The examples in docs/diagnostics/_syntax.md produce their code, and their fixes parse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kpidsl.syntax import parse_source

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics" / "_syntax.md"
SECTIONS = dict(re.findall(r"^## (KPI\d{4}) — .*?\n(.*?)(?=^## |\Z)", DOC.read_text("utf-8"), re.S | re.M))
# Examples shown literally (KPI0004/5 and the import codes need context a snippet lacks).
LITERAL = ["KPI0001", "KPI0002", "KPI0003", "KPI0006", "KPI0007", "KPI0008", "KPI0009", "KPI0010"]


def blocks(code: str) -> list[str]:
    return re.findall(r"```kpi\n(.*?)```", SECTIONS[code], re.S)


def test_every_code_is_documented() -> None:
    # KPI0011 (empty plan file) is reported by `kpidsl check` over files (tests/test_cli.py)
    expected = {f"KPI00{n:02d}" for n in range(1, 12)} | {"KPI0101", "KPI0102", "KPI0103"}
    assert set(SECTIONS) == expected


@pytest.mark.parametrize("code", LITERAL)
def test_mistake_gives_its_code(code: str) -> None:
    module, diags = parse_source(blocks(code)[0])
    assert module is None and diags[0].code == code


@pytest.mark.parametrize("code", sorted(SECTIONS))
def test_fix_parses(code: str) -> None:
    module, diags = parse_source(blocks(code)[-1])
    assert diags == [] and module is not None
