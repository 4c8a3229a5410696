"""Diagnostics rendered as text (exact layout) and as JSON."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kpidsl.diagnostics import Label, error, warning
from kpidsl.render import diagnostic_to_dict, display_width, render_json, render_text
from kpidsl.source import NO_SPAN, SourceFile, Span

TEXT = (
    "metric bookings: money = sum deal.amount\n"
    "metric new_logos: count = count deal\n"
    "\n"
    "metric x: money = bookings + new_logos\n"
    "metric 回款额: money = 回款 + x\n"
    "\tmetric t: money = y\n"
)
SRC = SourceFile("plans/q3.kpi", TEXT)
SOURCES = {"plans/q3.kpi": SRC}


def span_of(word: str, line: int, after: str = "") -> Span:
    """The span of ``word`` on ``line`` of TEXT (searching after ``after``)."""
    start = sum(len(s) + 1 for s in TEXT.split("\n")[: line - 1])
    start = TEXT.index(after, start) + len(after)
    start = TEXT.index(word, start)
    return SRC.span(start, start + len(word))


def test_single_label() -> None:
    d = error("KPI0102", "unknown name `y`", span_of("y", 6, "= "), "not defined")
    assert render_text([d], SOURCES) == (
        "error[KPI0102]: unknown name `y`\n"
        " --> plans/q3.kpi:6:20\n"
        "  |\n"
        "6 |     metric t: money = y\n"
        "  |                       ^ not defined\n"
        "\n"
        "error: 1 error\n"
    )


def test_secondary_label_on_the_same_line_with_notes_and_help() -> None:
    d = error(
        "KPI0203",
        "cannot add money and count",
        span_of("bookings", 4),
        "money",
        secondary=(Label(span_of("new_logos", 4), "count"),),
        notes=("`+` needs operands of one type",),
        help="convert one side",
    )
    assert render_text([d], SOURCES) == (
        "error[KPI0203]: cannot add money and count\n"
        " --> plans/q3.kpi:4:19\n"
        "  |\n"
        "4 | metric x: money = bookings + new_logos\n"
        "  |                   ^^^^^^^^   --------- count\n"
        "  |                   |\n"
        "  |                   money\n"
        "  |\n"
        "  = note: `+` needs operands of one type\n"
        "  = help: convert one side\n"
        "\n"
        "error: 1 error\n"
    )


def test_secondary_label_on_another_line_and_another_file() -> None:
    d = error(
        "KPI0101",
        "`x` is defined twice",
        span_of("x", 4),
        "second definition",
        secondary=(
            Label(span_of("bookings", 1), "first here"),
            Label(Span("shared/rates.kpi", 3, 1, 3, 5), "imported here"),
        ),
    )
    assert render_text([d], SOURCES) == (
        "error[KPI0101]: `x` is defined twice\n"
        " --> plans/q3.kpi:4:8\n"
        "  |\n"
        "1 | metric bookings: money = sum deal.amount\n"
        "  |        -------- first here\n"
        "...\n"
        "4 | metric x: money = bookings + new_logos\n"
        "  |        ^ second definition\n"
        " ::: shared/rates.kpi:3:1\n"
        "  = imported here\n"
        "\n"
        "error: 1 error\n"
    )


def test_wide_characters_count_two_columns() -> None:
    d = warning(
        "KPI0102", "unknown name `回款`", span_of("回款", 5, "= "), "did you mean `回款额`?"
    )
    rendered = render_text([d], SOURCES)
    assert rendered == (
        "warning[KPI0102]: unknown name `回款`\n"
        " --> plans/q3.kpi:5:21\n"
        "  |\n"
        "5 | metric 回款额: money = 回款 + x\n"
        "  |                        ^^^^ did you mean `回款额`?\n"
        "\n"
        "warning: 1 warning\n"
    )
    source_line, caret_line = rendered.splitlines()[3:5]
    assert display_width(source_line[: source_line.index("回款 ")]) == caret_line.index("^")


def test_multi_line_span_underlines_to_the_end_of_its_first_line() -> None:
    span = SRC.span(TEXT.index("sum"), TEXT.index("count deal") + 10)
    d = error("KPI0201", "bad", span)
    lines = render_text([d], SOURCES).splitlines()
    assert lines[3] == "1 | metric bookings: money = sum deal.amount"
    assert lines[4] == "  |                          ^^^^^^^^^^^^^^^"


def test_sorted_in_source_order_with_a_summary() -> None:
    late = error("KPI0102", "late", span_of("y", 6, "= "))
    early = warning("KPI0301", "early", span_of("bookings", 1))
    same_place = error("KPI0101", "same place", span_of("bookings", 1))
    text = render_text([late, early, same_place], SOURCES)
    heads = [ln for ln in text.splitlines() if ln.startswith(("error[", "warning["))]
    assert heads == [
        "error[KPI0101]: same place",
        "warning[KPI0301]: early",
        "error[KPI0102]: late",
    ]
    assert text.endswith("\nerror: 2 errors, 1 warning\n")


def test_nothing_to_report_renders_empty() -> None:
    assert render_text([], SOURCES) == ""
    assert render_json([]) == "[]"


def test_unknown_file_and_line_zero_show_the_location_only() -> None:
    no_span = error("KPI0601", "no place", NO_SPAN)
    no_source = error("KPI0701", "bad row", Span("data/deals.csv", 3, 2, 3, 9), "here")
    assert render_text([no_span, no_source], {}) == (
        "error[KPI0601]: no place\n"
        "\n"
        "error[KPI0701]: bad row\n"
        " --> data/deals.csv:3:2\n"
        "  = here\n"
        "\n"
        "error: 2 errors\n"
    )


def test_color_only_when_asked() -> None:
    d = error("KPI0102", "unknown", span_of("y", 6, "= "), "here")
    assert "\x1b[" not in render_text([d], SOURCES)
    colored = render_text([d], SOURCES, color=True)
    assert "\x1b[1;31merror[KPI0102]\x1b[0m" in colored
    assert "\x1b[1;31m^\x1b[0m" in colored


def test_json_shape_and_key_order() -> None:
    d = error(
        "KPI0203",
        "cannot add 回款 and count",
        span_of("bookings", 4),
        "money",
        secondary=(Label(span_of("new_logos", 4), "count"),),
        notes=("a note",),
        help="a help",
    )
    data = json.loads(render_json([d]))
    assert data == [diagnostic_to_dict(d)]
    assert list(data[0]) == [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "col",
        "end_line",
        "end_col",
        "label",
        "labels",
        "notes",
        "help",
    ]
    assert data[0]["labels"] == [
        {
            "file": "plans/q3.kpi",
            "line": 4,
            "col": 30,
            "end_line": 4,
            "end_col": 39,
            "message": "count",
        }
    ]
    assert data[0]["notes"] == ["a note"] and data[0]["help"] == "a help"
    assert "回款" in render_json([d])


def test_control_characters_of_a_plan_are_shown_as_pictures_never_sent_to_the_terminal() -> None:
    """An excerpt of a plan holding ESC [31m would have recoloured (or worse) the terminal:
    control characters show as their pictures (␛), one cell wide, carets still aligned."""
    text = "payout p: money = 1 + \x1b[31mred\x7f\x85 + q\n"
    src = SourceFile("p.kpi", text)
    at = text.index(" q") + 1
    d = error("KPI0111", "unknown name `q`", Span("p.kpi", 1, at + 1, 1, at + 2, at, at + 1), "here")
    rendered = render_text([d], {"p.kpi": src})
    assert "\x1b" not in rendered and "\x7f" not in rendered and "\x85" not in rendered
    source_line, caret_line = rendered.splitlines()[3:5]
    assert source_line == "1 | payout p: money = 1 + ␛[31mred␡\ufffd + q"
    assert caret_line.index("^") == source_line.index(" q") + 1


@given(st.text(max_size=30))
def test_width_and_visible_of_ascii_shortcuts_agree_with_every_character(text: str) -> None:
    """``width`` and ``visible`` take a shortcut for ASCII text (the table of 10,000 payees
    `kpidsl eval` prints): the same as counting and showing each character."""
    from kpidsl.display import char_width, visible, visible_char, width

    for t in (text, text.encode("ascii", "ignore").decode()):
        assert width(t) == sum(char_width(ch) for ch in t)
        assert visible(t) == "".join(visible_char(ch) for ch in t)
