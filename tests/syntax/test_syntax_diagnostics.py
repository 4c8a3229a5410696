"""Each syntax diagnostic code, with its message, label position and help."""

from __future__ import annotations

import pytest
from _syntax_helpers import codes, only

from kpidsl.diagnostics import KpiError
from kpidsl.syntax import parse


def test_kpi0001_names_expected_tokens_in_words() -> None:
    d = only("fact deal { 5 }", "KPI0001")
    assert "expected" in d.message and "a name" in d.message and "'}'" in d.message
    assert "ANON" not in d.message and "RBRACE" not in d.message
    assert (d.span.line, d.span.col) == (1, 13)


def test_kpi0001_single_equals_in_where() -> None:
    d = only('metric x: money = sum deal.amount where deal.stage = "won"', "KPI0001")
    assert d.help is not None and "==" in d.help
    assert d.span.col == 52


@pytest.mark.parametrize("word", ["date", "key"])
def test_kpi0001_a_field_named_like_the_key_or_date_keyword_gets_a_hint(word: str) -> None:
    """`date: date` in a fact block: `date` is read as the keyword naming the kind's date
    field, and the bare "unexpected ':'" said nothing of why."""
    d = only(f"fact visit {{\n  key id\n  date happened_on\n  {word}: text\n}}", "KPI0001")
    assert d.help is not None and f"`{word}` names the kind's {word} field" in d.help
    assert d.span.line == 4


def test_kpi0001_metric_without_type() -> None:
    d = only("metric x = 5", "KPI0001")
    assert d.help is not None and "type" in d.help


def test_kpi0001_tiers_without_mode() -> None:
    d = only("tiers r on bookings { 0 to 1 : 2 }", "KPI0001")
    assert "'step'" in d.message
    assert d.help is not None and "step|marginal|interpolated|lookup" in d.help


def test_kpi0001_band_with_dash() -> None:
    d = only("tiers r step on b { 0 - 50% : 2% }", "KPI0001")
    assert d.help is not None and "to" in d.help


def test_kpi0001_band_missing_colon() -> None:
    d = only("tiers r step on b { 0% to 50% 2% }", "KPI0001")
    assert d.help is not None and "`:` is missing" in d.help


def test_kpi0001_misspelt_clause_and_keyword() -> None:
    d = only("payout x: money = a\n  cpa 5", "KPI0001")
    assert d.help == "did you mean `cap`?" and (d.span.line, d.span.col) == (2, 3)
    d = only("metirc x: money = 1", "KPI0001")
    assert d.help == "did you mean `metric`?"


def test_kpi0001_unfinished_item_points_at_next_keyword() -> None:
    d = only("metric a: money = 1 +\nmetric b: money = 2", "KPI0001")
    assert "unfinished" in d.message and (d.span.line, d.span.col) == (2, 1)


def test_several_syntax_errors_are_reported() -> None:
    text = "metric a: money = = 1\nmetric ok: money = 1\nmetric b money = 2\ninvariant x <= \n"
    assert codes(text) == ["KPI0001", "KPI0001", "KPI0003"]


def test_kpi0002_unexpected_character() -> None:
    d = only("metric x: money = 1 @ 2", "KPI0002")
    assert "`@`" in d.message and d.span.col == 21


def test_kpi0002_unterminated_string() -> None:
    d = only('metric x: text = "abc\nmetric y: money = 1', "KPI0002")
    assert d.message == "unterminated string" and d.help is not None
    assert (d.span.line, d.span.col, d.span.end_col) == (1, 18, 22)


def test_kpi0003_unexpected_end() -> None:
    d = only("for role SE {\n  metric x: money = 1\n", "KPI0003")
    assert d.help is not None and "}" in d.help and d.span.line == 2


def test_kpi0004_and_kpi0005_are_limits() -> None:
    assert only("metric x: money = " + "(" * 201 + "1" + ")" * 201, "KPI0004")
    assert only("metric x: money = " + "not " * 300 + "a", "KPI0004")
    assert only("// " + "x" * 5_000_001, "KPI0005")


def test_deep_parentheses_in_strings_and_comments_do_not_count() -> None:
    module = parse('metric x: text = "' + "(" * 500 + '" // ' + "(" * 500)
    assert module.items


@pytest.mark.parametrize(
    "text",
    [
        "metric sum: money = 1",
        "input period: percent",
        "payout else: money = 1",
        "table where by x { else: 1 }",
        "tiers and step on x { }",
        "score count { }",
        "const in: money = 1",
        "for role SE { metric true: money = 1 }",
    ],
)
def test_kpi0006_keyword_as_definition_name(text: str) -> None:
    d = only(text, "KPI0006")
    assert "keyword" in d.message


@pytest.mark.parametrize(
    "text",
    [
        "metric x: date = 2026-02-30",
        "for role AE from 2026-13-01 { }",
        "metric x: bool = deal.signed_on in 2026-01-01 to 2026-02-31",
        'test "t" { period 2026-Q5 }',
        'plan "p" { effective 2025-02-29 }',
    ],
)
def test_kpi0007_invalid_literal(text: str) -> None:
    only(text, "KPI0007")


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ("period weekly", "period granularity"),
        ("rounding half_sideways 0.01", "rounding mode"),
        ("rounding half_up 0", "positive"),
        ("precision 0", "1 to 100"),
        ("precision 101", "1 to 100"),
        ("precision 2.5", "1 to 100"),
        ("fiscal_year_start 02-15", "MM-01"),
        ("fiscal_year_start 13-01", "MM-01"),
        ("changes sometimes", "changes"),
        ("currency usd", "currency"),
        ("currency USD currency EUR", "set twice"),
    ],
)
def test_kpi0008_invalid_header_setting(setting: str, fragment: str) -> None:
    d = only(f'plan "p" {{ {setting} }}', "KPI0008")
    assert fragment in d.message


def test_kpi0009_ragged_rows() -> None:
    d = only('test "t" { deals {\n id payee\n D1 alice x\n } }', "KPI0009")
    assert "3 cells" in d.message and "header has 2" in d.message and d.span.line == 3
    d = only('test "t" { targets { alice bookings } }', "KPI0009")
    assert "3 or 4" in d.message


def test_kpi0010_duplicate_header() -> None:
    d = only('plan "a" {}\nmetric x: money = 1\nplan "b" {}', "KPI0010")
    assert d.span.line == 3 and d.secondary[0].span.line == 1


def test_parse_raises_kpi_error_with_diagnostics() -> None:
    with pytest.raises(KpiError) as info:
        parse("metric x = 1", "bad.kpi")
    assert info.value.diagnostics[0].code == "KPI0001"
    assert info.value.diagnostics[0].span.file == "bad.kpi"


def test_too_deep_points_at_the_expression_not_the_first_line() -> None:
    from kpidsl.syntax.parser import parse_source

    text = 'plan "t" {\n  currency CNY\n}\n\npayout c: money = ' + " + ".join(["1"] * 250) + "\n"
    _, diags = parse_source(text, "p.kpi")
    assert [(d.code, d.span.line) for d in diags] == [("KPI0004", 5)]
