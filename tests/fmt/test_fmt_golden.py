"""Formatter golden triples and the identity corpus.

``cases/NAME.input.kpi`` formats to ``cases/NAME.formatted.kpi``, or fails with
the diagnostics in ``cases/NAME.error.txt``. Files in ``identity/`` are already
canonical and must come back unchanged. ``KPIDSL_UPDATE_GOLDEN=1`` rewrites the
expected files from the current output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpidsl.fmt import format_source
from kpidsl.render import render_text
from kpidsl.source import SourceFile
from kpidsl.syntax.parser import parse

HERE = Path(__file__).parent
CASES = HERE / "cases"
IDENTITY = HERE / "identity"
UPDATE = os.environ.get("KPIDSL_UPDATE_GOLDEN") == "1"


def _inputs() -> list[Path]:
    return sorted(CASES.glob("*.input.kpi"))


def _case_name(path: Path) -> str:
    return path.name.removesuffix(".input.kpi")


def _actual(path: Path) -> tuple[str, str]:
    """(suffix of the expected file, its text) for one input."""
    text = path.read_text(encoding="utf-8")
    formatted, diags = format_source(text, path.name)
    if formatted is None:
        return ".error.txt", render_text(diags, {path.name: SourceFile(path.name, text)})
    return ".formatted.kpi", formatted


@pytest.mark.parametrize("path", _inputs(), ids=_case_name)
def test_golden_case(path: Path) -> None:
    suffix, actual = _actual(path)
    expected = CASES / (_case_name(path) + suffix)
    other = CASES / (
        _case_name(path) + (".error.txt" if suffix == ".formatted.kpi" else ".formatted.kpi")
    )
    if UPDATE:
        expected.write_text(actual, encoding="utf-8")
        other.unlink(missing_ok=True)
    assert not other.exists(), f"{path.name} should produce {other.name} but gave {suffix}"
    assert expected.read_text(encoding="utf-8") == actual


def _formattable() -> list[Path]:
    return [p for p in _inputs() if not (CASES / (_case_name(p) + ".error.txt")).exists()]


@pytest.mark.parametrize("path", _formattable(), ids=_case_name)
def test_golden_output_is_stable_and_equal(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted, diags = format_source(text, path.name)
    assert formatted is not None, diags
    assert format_source(formatted)[0] == formatted
    assert parse(formatted) == parse(text)
    before = [c.text for c in parse(text).comments]
    assert [c.text for c in parse(formatted).comments] == before


@pytest.mark.parametrize("path", sorted(IDENTITY.glob("*.kpi")), ids=lambda p: p.stem)
def test_identity_corpus_round_trips_unchanged(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted, diags = format_source(text, path.name)
    assert diags == []
    assert formatted == text


def test_corpora_are_not_empty() -> None:
    assert len(_inputs()) >= 8
    assert len(list(IDENTITY.glob("*.kpi"))) >= 3
