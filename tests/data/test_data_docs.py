"""Every data diagnostic code is documented with its title."""

from __future__ import annotations

import re
from pathlib import Path

from kpidsl.data import codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics" / "_data.md"
SOURCES = Path(__file__).resolve().parents[2] / "src" / "kpidsl" / "data"


def test_every_code_has_a_section_with_its_title() -> None:
    from kpidsl.importer import codes as import_codes

    sections = dict(re.findall(r"^## (KPI07\d\d) — (.+)$", DOC.read_text(), re.M))
    assert sections == {**codes.TITLES, **import_codes.TITLES}


def test_every_code_constant_is_used_by_the_data_layer() -> None:
    text = "".join(p.read_text() for p in SOURCES.glob("*.py") if p.name != "codes.py")
    names = [n for n, v in vars(codes).items() if isinstance(v, str) and v.startswith("KPI07")]
    unused = [n for n in names if f"codes.{n}" not in text]
    assert unused == []
