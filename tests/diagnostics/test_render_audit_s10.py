"""Audit of how diagnostics are shown: text that reaches a terminal or a CI log, carets
under what they point at, JSON that a service can read."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kpidsl.diagnostics import Label, error
from kpidsl.display import char_width
from kpidsl.render import display_width, render_json, render_text
from kpidsl.source import SourceFile, Span

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _span(src: SourceFile, word: str, nth: int = 0) -> Span:
    at = -1
    for _ in range(nth + 1):
        at = src.text.index(word, at + 1)
    return src.span(at, at + len(word))


def _rows(rendered: str) -> tuple[str, str]:
    """The first source row and the underline row below it."""
    lines = rendered.splitlines()
    i = next(i for i, line in enumerate(lines) if re.match(r"\s*\d+ \|", line))
    return lines[i], lines[i + 1]


def test_escape_sequences_in_a_file_name_message_label_note_or_help_never_reach_the_terminal() -> None:
    """Only the excerpt was shown safely: the file name (a data file or plan named with an
    ESC), the message (which quotes data values: `invalid amount '38,5<ESC>[31m00'`), the
    labels, notes and help were written raw, recolouring or clearing the user's terminal."""
    name = "plans/q3\x1b[2J.kpi"
    src = SourceFile(name, "metric x: money = yy\n")
    d = error(
        "KPI0710", "invalid amount '38,5\x1b[31m00.00'", _span(src, "yy"), "bad \x1b[5m",
        secondary=(Label(Span("data/deals\x1b]0;pwned\x07.csv", 3, 2, 3, 9), "here \x1b[1m"),),
        notes=("note \x1b[0m",), help="help \x9b31m",
    )
    for color in (False, True):
        shown = ANSI.sub("", render_text([d], {name: src}, color=color))
        assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
        assert " --> plans/q3␛[2J.kpi:1:19" in shown
        assert "invalid amount '38,5␛[31m00.00'" in shown


def test_a_file_name_that_is_not_utf8_renders_as_text_and_as_json() -> None:
    """`kpidsl check` on a file whose name is not UTF-8 (Python reads it with a lone
    surrogate) ended in a UnicodeEncodeError traceback, in text and in JSON."""
    name = "plans/q3\udcff.kpi"
    src = SourceFile(name, "metric x: money = yy\n")
    d = error("KPI0111", "unknown name `yy`", _span(src, "yy"), "not defined")
    text = render_text([d], {name: src})
    text.encode("utf-8")
    assert " --> plans/q3\ufffd.kpi:1:19" in text
    out = render_json([d])
    out.encode("utf-8")
    assert json.loads(out)[0]["file"] == "plans/q3\ufffd.kpi"


def test_colored_output_hangs_label_messages_where_plain_output_does() -> None:
    """With colour on, the padding before the second and later `|` counted the ANSI styles
    as cells: the bars collapsed to the left, under the wrong labels (`|||`)."""
    src = SourceFile("f.kpi", "metric x: money = aaa + bbb + ccc + ddd\n")
    d = error(
        "KPI0202", "m", _span(src, "aaa"), "A",
        secondary=tuple(Label(_span(src, w), w.upper()[0]) for w in ("bbb", "ccc", "ddd")),
    )
    plain = render_text([d], {"f.kpi": src})
    colored = render_text([d], {"f.kpi": src}, color=True)
    assert ANSI.sub("", colored) == plain
    assert "  |                   |     |     |\n" in plain


def test_a_label_far_along_a_long_line_is_shown_in_an_excerpt_of_its_own() -> None:
    """A long line is cut to an excerpt around its labels, at most 960 characters wide: a
    label further along was drawn at the excerpt's end, under the `...`."""
    text = "metric x: money = aaa + " + "1 + " * 400 + "bbb + 2\n"
    src = SourceFile("f.kpi", text)
    d = error("KPI0202", "m", _span(src, "aaa"), "A", secondary=(Label(_span(src, "bbb"), "B"),))
    lines = render_text([d], {"f.kpi": src}).splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("1 | ")]
    assert len(rows) == 2
    for i, word, mark in ((rows[0], "aaa", "^^^"), (rows[1], "bbb", "---")):
        source_row, underline = lines[i], lines[i + 1]
        assert len(source_row) < 1100
        assert underline.index(mark) == source_row.index(word)


def test_the_underline_of_a_long_span_stops_at_the_cut_marker() -> None:
    text = "metric x: money = aaa + " + "1 + " * 400 + "2\n"
    src = SourceFile("f.kpi", text)
    d = error("KPI0202", "m", src.span(text.index("aaa"), len(text) - 1), "all of it")
    source_row, underline = _rows(render_text([d], {"f.kpi": src}))
    assert source_row.endswith("...")
    assert underline.rstrip().endswith("^ all of it")
    assert underline.index(" all of it") == len(source_row) - len("...")


def test_a_caret_on_a_combining_mark_is_under_the_character_it_marks() -> None:
    """A zero-width character got a one-cell caret at its own cell, which is the next
    character's: `ée` with the error on U+0301 pointed at the second `e`."""
    text = "metric x: money = e\u0301e\n"
    src = SourceFile("f.kpi", text)
    at = text.index("\u0301")
    d = error("KPI0002", "unexpected character U+0301", src.span(at, at + 1), "not allowed here")
    source_row, underline = _rows(render_text([d], {"f.kpi": src}))
    assert display_width(source_row[: source_row.index("e\u0301")]) == underline.index("^")
    assert underline.count("^") == 1


def test_combining_marks_without_a_combining_class_take_no_cells() -> None:
    """`unicodedata.combining` is 0 for many nonspacing marks (Thai vowel signs, the emoji
    variation selector U+FE0F): they were counted as one cell, so a caret after them in a
    string literal was one cell to the right per mark."""
    assert char_width("\u0e31") == 0 and char_width("\ufe0f") == 0 and char_width("\u20dd") == 0
    text = 'const c: text = "\u0e2a\u0e31\u0e0d\u0e0d\u0e32" $\n'
    src = SourceFile("f.kpi", text)
    d = error("KPI0002", "unexpected character `$`", _span(src, "$"), "not allowed here")
    source_row, underline = _rows(render_text([d], {"f.kpi": src}))
    assert display_width(source_row[: source_row.index("$")]) == underline.index("^")
    assert underline.index("^") == len("1 | ") + 16 + 1 + 4 + 1 + 1


def test_bidi_overrides_in_an_excerpt_are_not_sent_raw() -> None:
    """A right-to-left override (U+202E) or isolate in a string literal reorders the rest
    of the excerpt in a CI log viewer (Trojan Source): the line would not read as the file
    does, and the caret would point elsewhere. It is shown as U+FFFD, one cell."""
    text = 'const c: text = "ab\u202edc" + zz\n'
    src = SourceFile("f.kpi", text)
    d = error("KPI0111", "unknown name `zz`", _span(src, "zz"), "not defined")
    source_row, underline = _rows(render_text([d], {"f.kpi": src}))
    assert "\u202e" not in source_row
    assert source_row == '1 | const c: text = "ab\ufffddc" + zz'
    assert underline.index("^") == source_row.index("zz")


def test_a_line_separator_in_an_excerpt_does_not_break_the_row() -> None:
    """U+2028 (a line separator, pasted from a web page or a chat) was sent raw: a log
    viewer breaks the excerpt there, leaving the caret under the wrong text."""
    text = 'const c: text = "a\u2028b" + zz\n'
    src = SourceFile("f.kpi", text)
    d = error("KPI0111", "unknown name `zz`", _span(src, "zz"), "not defined")
    rendered = render_text([d], {"f.kpi": src})
    assert "\u2028" not in rendered
    source_row, underline = _rows(rendered)
    assert source_row == '1 | const c: text = "a\u2424b" + zz'
    assert underline.index("^") == source_row.index("zz")


def test_every_documented_code_is_a_code_the_library_has() -> None:
    """test_docs checks that every code in the source is documented; this is the other way:
    a `### KPIxxxx:` section for a code no module spells out would document nothing."""
    root = Path(__file__).resolve().parents[2]
    spelled: set[str] = set()
    for path in (root / "src" / "kpidsl").rglob("*.py"):
        spelled |= set(re.findall(r"[\"'](KPI\d{4})[\"']", path.read_text(encoding="utf-8")))
    doc = (root / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### (KPI\d{4}):", doc, re.M))
    assert sorted(documented - spelled) == []


def test_a_plan_file_that_is_not_utf8_is_located_at_its_first_bad_byte(tmp_path: Path) -> None:
    """A plan saved in GBK (Notepad's "ANSI" on a Chinese Windows) was reported at 1:1,
    and with a BOM the message named the wrong byte and offset (counted after the BOM,
    read from before it: `byte 0xbf at offset 2` for a bad byte at offset 5)."""
    from kpidsl.syntax.loader import load_modules

    folder = tmp_path
    head = 'plan "P" {\r\n  currency CNY\r\n  period quarter\r\n}\r\n\r\nmetric 回款: money = 1 // '
    data = b"\xef\xbb\xbf" + head.encode("utf-8") + "中文\r\n".encode("gbk")
    (folder / "q3.kpi").write_bytes(data)
    _, _, diags = load_modules(folder / "q3.kpi")
    (d,) = diags
    assert d.code == "KPI0002"
    assert (d.span.line, d.span.col) == (6, len("metric 回款: money = 1 // ") + 1)
    at = data.index("中".encode("gbk"))
    assert f"(byte 0x{data[at]:02x} at offset {at}, line 6)" in d.message
