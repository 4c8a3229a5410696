"""Invisible characters in a plan (KPI0002): named by their U+ code, with a help line that says
what they are and to delete them; a comment's trailing Unicode spaces are part of its text."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.syntax import parse_source

HEADER = 'plan "P" {\n  currency CNY\n}\n'


def _first(text: str) -> kpidsl.Diagnostic:
    with pytest.raises(kpidsl.PlanError) as info:
        kpidsl.loads(text)
    return info.value.diagnostics[0]


@pytest.mark.parametrize(("char", "name"), [
    ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"), ("\u200b", "ZERO WIDTH SPACE"),
    ("\u200e", "LEFT-TO-RIGHT MARK"), ("\u2060", "WORD JOINER")])
def test_an_invisible_character_is_named_with_a_help_to_delete_it(char: str, name: str) -> None:
    """It said ``unexpected character '\\u200b'`` and no help: nothing in the editor to see."""
    d = _first(HEADER + f"const 销售{char}额: number = 1\n")
    code = f"U+{ord(char):04X}"
    assert (d.code, d.message) == ("KPI0002", f"unexpected character {code}")
    assert d.help is not None and f"{code} {name}" in d.help
    assert "invisible" in d.help and "delete it" in d.help


def test_a_byte_order_mark_where_two_files_were_joined_says_so(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    first = "\ufeff" + HEADER + "const a: number = 1\n"
    second = "\ufeff// the second file\nconst b: number = 2\n"
    (tmp_path / "plan.kpi").write_text(first + second, encoding="utf-8")
    code = main(["check", str(tmp_path / "plan.kpi")])
    out = capsys.readouterr().out
    assert code == 1
    assert "error[KPI0002]: unexpected character U+FEFF\n" in out
    assert f"plan.kpi:{HEADER.count(chr(10)) + 2}:1" in out
    assert "help: this is U+FEFF ZERO WIDTH NO-BREAK SPACE (a byte order mark" in out
    assert "two files are joined" in out and "delete it" in out


def test_a_lone_combining_mark_is_shown_by_its_code_not_on_a_backtick() -> None:
    """``unexpected character `\u0301``` put the accent on the opening backtick."""
    d = _first(HEADER + "const x: number = 1\u0301\n")
    assert d.message == "unexpected character U+0301"
    assert d.help is not None and "U+0301 COMBINING ACUTE ACCENT" in d.help and "delete it" in d.help


@pytest.mark.parametrize(("char", "shown"), [
    ("\u0301", "U+0301"), ("\u20dd", "U+20DD"), ("\x07", "U+0007"), ("\x7f", "U+007F"),
    ("\u00ad", "U+00AD"), ("\u202e", "U+202E"), ("\u3000", "U+3000"), ("\ue000", "U+E000"),
    ("@", "`@`"), ("：", "`：`"), ("😀", "`😀`")])
def test_characters_that_would_not_show_in_backticks_are_shown_by_code(char: str, shown: str) -> None:
    from kpidsl.syntax.literals import shown_char

    assert shown_char(char) == shown


def test_a_control_character_is_named_by_its_code() -> None:
    d = _first(HEADER + "const x: number = 1\x07\n")
    assert d.message == "unexpected character U+0007"
    assert d.help == "this is U+0007, an invisible control character; delete it (or replace it with a space)"


@pytest.mark.parametrize("char", ["\u00a0", "\u3000"])
def test_spaces_that_are_not_ascii_get_a_help_and_read_as_spaces_between_tokens(char: str) -> None:
    """A no-break or ideographic space between tokens is whitespace (the lexer's ``\\s``); were
    one ever reported, the help names it and says to type a space instead."""
    from kpidsl.syntax.literals import invisible_help

    help_ = invisible_help(char)
    assert help_ is not None and f"U+{ord(char):04X}" in help_ and "replace it with a space" in help_
    module, diags = parse_source(HEADER + f"const{char}x:{char}number = 1{char}\n")
    assert diags == [] and module is not None


def test_full_width_punctuation_keeps_its_ime_help() -> None:
    d = _first(HEADER + "const x：number = 1\n")
    assert d.message == "unexpected character `：`" and d.help is not None and "use the ASCII ':'" in d.help


@pytest.mark.parametrize("fast", [True, False])
def test_a_comments_trailing_ideographic_space_is_part_of_its_text(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``str.rstrip()`` removed U+3000 (and every Unicode space) from a comment's end; only ASCII
    whitespace is trailing (on both parsers: the fast one and Lark's)."""
    if not fast:
        import kpidsl.syntax.parser as parser

        monkeypatch.setattr(parser, "fast_parse", lambda *a, **k: None)
    module, diags = parse_source(HEADER + "// 注释\u3000\u3000 \t\nconst x: number = 1  // 尾\u00a0\n")
    assert diags == [] and module is not None
    assert [c.text for c in module.comments] == [" 注释\u3000\u3000", " 尾\u00a0"]


@pytest.mark.parametrize("char", ["\u00a0", "\u3000"])
@pytest.mark.parametrize("line", ["const 销售{}额: number = 1", "const x: number = 1{}000"])
def test_a_word_split_by_a_space_that_is_not_ascii_says_which_space(char: str, line: str) -> None:
    """``const 销售　额`` (an ideographic space typed in a name) got KPI0001 with the help "a
    definition needs `:`", about a `:` that is there; ``1 000`` (a no-break space copied
    from a document) none."""
    d = _first(HEADER + line.format(char) + "\n")
    assert d.code == "KPI0001" and d.help is not None
    assert d.help.startswith(f"the space before this is U+{ord(char):04X} {unicodedata.name(char)}")
    assert "delete it" in d.help


def test_an_ascii_space_or_a_symbol_after_the_odd_space_keeps_the_usual_help() -> None:
    assert _first(HEADER + "const 销售 额: number = 1\n").help == (
        "a definition needs `:` and a type after its name: write `const NAME: TYPE = ...`")
    help_ = _first(HEADER + "metric x\u3000= 1\n").help
    assert help_ is not None and help_.startswith("a definition needs `:`")
