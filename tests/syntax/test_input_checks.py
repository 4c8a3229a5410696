"""Argument checks of load/loads/load_data and IME punctuation hints."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl


def test_load_of_a_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(kpidsl.PlanError) as info:
        kpidsl.load(tmp_path)
    d = info.value.diagnostics[0]
    assert "is a directory" in d.message and d.span.line == 1


def test_loads_of_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"takes the plan text as str.*decode bytes first"):
        kpidsl.loads(b'plan "x" {\n}\n')  # type: ignore[arg-type]


def test_load_data_of_a_missing_folder_raises_early(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="data folder not found"):
        kpidsl.load_data(tmp_path / "nope")


@pytest.mark.parametrize(("text", "char", "ascii_"), [
    ("metric b：money = 1", "：", ":"), ("const c: number = （1 + 1）", "（", "("),
    ("const c: percent = 2％", "％", "%"), ('const c: text = “QA”', "“", '"')])
def test_full_width_punctuation_gets_an_ime_hint(text: str, char: str, ascii_: str) -> None:
    with pytest.raises(kpidsl.PlanError) as info:
        kpidsl.loads('plan "QA" {\n  currency CNY\n}\n' + text + "\n")
    d = info.value.diagnostics[0]
    assert d.code == "KPI0002" and d.help is not None
    assert f"'{char}' (U+{ord(char):04X})" in d.help and d.help.endswith(f"use the ASCII '{ascii_}'")
