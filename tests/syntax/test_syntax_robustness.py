"""Any input gives a module or diagnostics: fuzzing, size and depth limits, one parser."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, has_errors
from kpidsl.syntax import get_parser, parse, parse_source

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
SYNTAX_CODES = {f"KPI00{n:02d}" for n in range(1, 11)}

# Regex terminals get explicit strategies: fast, and they mix valid and invalid literals.
EXPLICIT = {
    "NAME": st.sampled_from(["x", "deal", "amount", "回款额", "b_2", "sum", "period"]),
    "MINMAX_CALL": st.sampled_from(["min", "max"]),
    "WS": st.sampled_from([" ", "\n", "\t "]),
    "COMMENT": st.just("// c\n"),
    "CELL": st.sampled_from(["a", "1_000", "-", "2026-07-01", "x//y"]),
    "DATE_LIT": st.sampled_from(["2026-07-01", "2026-02-30"]),
    "STRING": st.sampled_from(['"a"', '"b \\" c"', '"华南"']),
    "NUMBER": st.sampled_from(["0", "1_000", "2.50"]),
    "PERCENT_LIT": st.sampled_from(["0%", "80%", "0.5%"]),
    "MONTH_DAY": st.sampled_from(["02-01", "13-01"]),
    "PERIOD_LABEL": st.sampled_from(["2026-Q3", "2026", "2026-Q9"]),
    "ERROR_CODE": st.just("KPI0301"),
}


def assert_outcome(module: ast.Module | None, diags: list[Diagnostic]) -> None:
    """The contract: a module without errors, or no module and at least one error."""
    if module is None:
        assert has_errors(diags)
        assert all(d.code.startswith("KPI0") for d in diags)
    else:
        assert not has_errors(diags)
    for d in diags:
        assert "__ANON" not in d.message and "_LBRACE" not in d.message


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    assert_outcome(*parse_source(text))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    assert_outcome(*parse_source(data.decode("utf-8", errors="replace")))


@FUZZ
@given(from_lark(get_parser(), explicit=EXPLICIT))
def test_grammar_generated_text(text: str) -> None:
    module, diags = parse_source(text)
    assert_outcome(module, diags)
    assert {d.code for d in diags} <= SYNTAX_CODES


WORDS = ["metric", "x", ":", "money", "=", "sum", "deal.amount", "where", "(", ")", "{", "}",
         "tiers", "step", "on", "0%", "to", "and", "up", "\"s", "else", "for", "role", "test",
         "expect", "error", "-", "1_000", "2026-02-30", "plan", "\"p\"", "period", "//", "\n"]


@FUZZ
@given(st.lists(st.sampled_from(WORDS), max_size=60))
def test_keyword_soup(words: list[str]) -> None:
    assert_outcome(*parse_source(" ".join(words)))


def test_ten_thousand_nested_parentheses() -> None:
    module, diags = parse_source("metric x: money = " + "(" * 10_000 + "1" + ")" * 10_000)
    assert module is None and [d.code for d in diags] == ["KPI0004"]
    module, diags = parse_source("metric x: money = " + "(" * 10_000)
    assert module is None and [d.code for d in diags] == ["KPI0004"]


def test_long_chains_are_refused_not_crashing() -> None:
    module, diags = parse_source("metric x: money = " + " + ".join(["1"] * 5_000))
    assert module is None and [d.code for d in diags] == ["KPI0004"]
    module, diags = parse_source("metric x: money = " + "- " * 5_000 + "1")
    assert module is None and [d.code for d in diags] == ["KPI0004"]


def test_two_hundred_levels_are_allowed() -> None:
    module = parse("metric x: money = " + "(" * 200 + "1" + ")" * 200)
    assert module.items


def test_megabyte_plan_parses() -> None:
    block = (
        "// " + "block {i} " * 12 + "\n"
        "metric m{i}: money = sum deal.amount where deal.stage == \"won\" and deal.signed_on in period\n"
        "payout p{i}: money = m{i} * 2% cap 1_000\n"
    )
    text = "".join(block.format(i=i) for i in range(4_000))
    assert len(text) > 1_000_000
    module, diags = parse_source(text)
    assert diags == [] and module is not None and len(module.items) == 8_000


def test_parser_is_built_once() -> None:
    assert get_parser() is get_parser()
    parse("metric x: money = 1")
    assert get_parser() is get_parser()


def test_parsing_from_threads_gives_the_same_plans() -> None:
    text = "metric x: money = 1 // one\npayout p: money = x * 2%\n"
    expected = parse(text)
    results: list[ast.Module] = []

    def work() -> None:
        for _ in range(20):
            results.append(parse(text))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all(r == expected for r in results)
    assert all(r.comments == expected.comments for r in results)
