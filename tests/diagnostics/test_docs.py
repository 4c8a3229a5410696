"""Every checker code is registered, documented in docs/diagnostics.md and has a golden case."""

from __future__ import annotations

import re
from pathlib import Path

from kpidsl.check.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
CHECK_SRC = ROOT / "src" / "kpidsl" / "check"
CASES = ROOT / "tests" / "diagnostics" / "cases"
# Codes the parser reports first (KPI0006, KPI0505) and the internal-error code.
NO_CASE = {"KPI0006", "KPI0199", "KPI0505"}


def emitted_codes() -> set[str]:
    found: set[str] = set()
    for path in CHECK_SRC.glob("*.py"):
        if path.name != "codes.py":
            found |= set(re.findall(r'"(KPI\d{4})"', path.read_text(encoding="utf-8")))
    return found


def test_every_emitted_code_is_registered() -> None:
    assert emitted_codes() - set(CODES) == set()
    assert set(CODES) - emitted_codes() == set()


def test_every_code_is_documented() -> None:
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    missing = [c for c in CODES if f"### {c}:" not in doc or f"| {c} |" not in doc]
    assert missing == []


def test_every_code_has_a_golden_case() -> None:
    missing = [c for c in CODES if c not in NO_CASE and not list(CASES.glob(f"{c}-*.kpi"))]
    assert missing == []
