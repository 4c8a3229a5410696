"""Every checker code is registered, documented in docs/diagnostics.md and has a golden case."""

from __future__ import annotations

import re
from pathlib import Path

from kpidsl.check.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
CHECK_SRC = ROOT / "src" / "kpidsl" / "check"
CASES = ROOT / "tests" / "diagnostics" / "cases"
# Codes the parser reports first (KPI0006, KPI0505) and the internal-error code.
# KPI0133 needs an imported file: tests/check/test_names.py::test_an_imported_file_s_own_header_is_ignored_with_a_warning
NO_CASE = {"KPI0006", "KPI0133", "KPI0199", "KPI0505"}


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


def test_every_code_anywhere_in_the_library_is_documented() -> None:
    src = ROOT / "src" / "kpidsl"
    used: set[str] = set()
    for path in src.rglob("*.py"):
        used |= set(re.findall(r"\bKPI\d{4}\b", path.read_text(encoding="utf-8")))
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    undocumented = sorted(c for c in used if f"### {c}:" not in doc)
    assert undocumented == []


def test_generated_index_is_up_to_date() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_docs", Path(__file__).parent / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    doc = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert gen.render() == doc, "run: python tests/diagnostics/gen_docs.py"
