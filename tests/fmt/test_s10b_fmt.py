"""Formatter leftovers: the comments that open a file stay at its top when a late `plan`
header moves up; a comment's trailing Unicode spaces are kept; a block holding only a comment
at the end of its opening line keeps its braces; the property tests see a number's scale."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from test_fmt_properties import same  # tests/fmt is on the path: its modules have no package

from kpidsl import ast
from kpidsl.fmt import blocks, format_module, format_source
from kpidsl.syntax.parser import parse


def _fmt(text: str) -> str:
    out, diags = format_source(text)
    assert out is not None, diags
    again, _ = format_source(out)
    assert again == out, f"not idempotent:\n{out}\n---\n{again}"
    assert same(parse(out), parse(text))
    assert [c.text.strip() for c in parse(out).comments] == [c.text.strip() for c in parse(text).comments]
    return out


def test_the_comment_that_opens_the_file_stays_above_a_late_plan_header() -> None:
    """``// top`` was printed after the header, in the middle of the file."""
    out = _fmt('// top\ntarget x = 1\nplan "P" { currency CNY }\n')
    assert out == '// top\n\nplan "P" {\n  currency CNY\n}\n\ntarget x = 1\n'


def test_the_late_headers_own_comment_moves_with_it_below_the_files_opening_comments() -> None:
    text = '// title\n// licence\ntarget x = 1\n// the plan\nplan "P" {\n  currency CNY  // eol\n}\n// tail\n'
    assert _fmt(text) == (
        '// title\n// licence\n\n// the plan\nplan "P" {\n  currency CNY  // eol\n}\n\ntarget x = 1\n// tail\n'
    )


def test_a_comment_between_items_before_a_late_header_stays_with_its_item() -> None:
    text = 'target a = 1\n// about b\ntarget b = 2\nplan "P" { currency CNY }\n'
    assert _fmt(text) == 'plan "P" {\n  currency CNY\n}\n\ntarget a = 1\n// about b\ntarget b = 2\n'


def test_a_header_written_first_is_unchanged() -> None:
    text = '// top\nplan "P" {\n  currency CNY\n}\n\ntarget x = 1\n'
    assert _fmt(text) == text


@pytest.mark.parametrize("space", ["\u3000", "\u00a0", "\u2003"])
def test_a_comments_trailing_unicode_space_is_kept(space: str) -> None:
    """``comment_text`` right-trimmed with ``str.rstrip()``, which removes U+3000 too."""
    out = _fmt(f"// 说明{space}\ntarget x = 1  // 尾{space} \t\n")
    assert out == f"// 说明{space}\ntarget x = 1  // 尾{space}\n"


@pytest.mark.parametrize(("text", "expected"), [
    ('test "t" {\n  deals { // note\n  }\n}\n', 'test "t" {\n  deals {  // note\n  }\n}\n'),
    ('fact deal { // note\n}\n', 'fact deal {  // note\n}\n'),
    ('plan "P" { // c\n}\n', 'plan "P" {  // c\n}\n'),
    ('for role AE { // n\n}\n', 'for role AE {  // n\n}\n'),
    ('score s { // n\n}\n', 'score s {  // n\n}\n'),
    ('test "t" {\n  targets { a b 1 // c\n  }\n}\n', 'test "t" {\n  targets {\n    a  b  1  // c\n  }\n}\n'),
])
def test_a_block_holding_a_comment_on_its_opening_line_keeps_its_braces(text: str, expected: str) -> None:
    """``deals { // note`` + ``}`` became ``deals {}  // note``: the comment left the block."""
    assert _fmt(text) == expected


@pytest.mark.parametrize("text", [
    'fact deal {}  // after\n', 'test "t" {\n  targets { a b 1 }  // after\n}\n'])
def test_a_comment_after_a_closed_block_stays_after_it(text: str) -> None:
    assert _fmt(text) == text


def _const(value: str) -> ast.Module:
    return ast.Module(None, (ast.Const("c", "number", ast.Number(Decimal(value))),))


def test_the_property_tests_comparison_sees_a_numbers_scale() -> None:
    """``==`` on modules compares Decimals by value: a formatter writing ``0.010`` as ``0.01``
    passed the property tests."""
    assert _const("0.010") == _const("0.01")  # what the modules' own equality says
    assert not same(_const("0.010"), _const("0.01"))
    assert same(_const("0.010"), _const("0.010"))
    header = ast.PlanHeader(name="P", quantum=Decimal("0.010"))
    rounded = ast.PlanHeader(name="P", quantum=Decimal("0.01"))
    assert header == rounded and not same(ast.Module(header, ()), ast.Module(rounded, ()))


def test_the_property_tests_comparison_catches_a_formatter_that_drops_a_scale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A regression printing the quantum 0.010 as 0.01 (rounding to three decimals shown would
    become two) round-trips to an equal module: only the scale-aware comparison sees it."""
    monkeypatch.setattr(blocks, "_quantum", lambda header, written: format(header.quantum.normalize(), "f"))
    module = ast.Module(ast.PlanHeader(name="P", quantum=Decimal("0.010")), ())
    text = format_module(module)
    assert "rounding half_up 0.01\n" in text
    assert parse(text) == module
    assert not same(parse(text), module)


def test_fmt_lists_each_rewritten_file_as_it_is_done_so_ctrl_c_loses_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kpidsl fmt` printed its "reformatted" lines at the end: after Ctrl-C, the files
    already rewritten were not listed (helper-59's leftover)."""
    import kpidsl.fmt.files as files
    from kpidsl.cli import main

    for name in ("a.kpi", "b.kpi"):
        (tmp_path / name).write_text("target   bookings=1_000\n", encoding="utf-8")
    real = files.write_atomically
    done: list[Path] = []

    def write_then_interrupt(path: Path, data: bytes) -> None:
        if done:
            raise KeyboardInterrupt
        real(path, data)
        done.append(path)

    monkeypatch.setattr(files, "write_atomically", write_then_interrupt)
    code = main(["fmt", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 130 and "interrupted" in err
    assert out == f"reformatted {done[0]}\n"
    assert done[0].read_text(encoding="utf-8") == "target bookings = 1_000\n"
