"""The lean LALR driver gives exactly what the standard Lark parse gives, spans included."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from test_syntax_robustness import EXPLICIT

from kpidsl.syntax import get_parser, parse_source
from kpidsl.syntax import parser as syntax_parser
from kpidsl.syntax.fastparse import fast_parse
from kpidsl.syntax.tablegen import build_tables
from kpidsl.syntax.transform import ToAst

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted(p for p in ROOT.rglob("*.kpi") if ".git" not in p.parts)
SOUP = ["metric", "for", "and", "(", ")", "{", "}", "=", ":", "else", "when", "then", "sum",
        '"x"', "2026-13-01", "80%", "-", "*", "// c\n", "\n", "in", "period", "min(", "x", ","]


def deep(obj: Any) -> str:
    """Everything in a parse result, spans included (they are left out of ``==``)."""
    if attrs.has(type(obj)):
        fields = attrs.fields(type(obj))
        inner = ", ".join(f"{f.name}={deep(getattr(obj, f.name))}" for f in fields)
        return f"{type(obj).__name__}({inner})"
    if isinstance(obj, tuple | list):
        return "[" + ", ".join(deep(x) for x in obj) + "]"
    return repr(obj)


def both_paths(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("KPIDSL_PARSER", "fast")
    fast = deep(parse_source(text, "t.kpi"))
    monkeypatch.setenv("KPIDSL_PARSER", "lark")
    lark = deep(parse_source(text, "t.kpi"))
    return fast, lark


def mutations(text: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 10))
        out.append(text[:i] + rng.choice([" ", f" {rng.choice(SOUP)} ", ""]) + text[j:])
    return out


def test_the_driver_is_available_for_the_grammar() -> None:
    assert syntax_parser.get_tables() is not None


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_plans_parse_the_same_on_both_paths(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text(encoding="utf-8")
    fast, lark = both_paths(text, monkeypatch)
    assert fast == lark
    module, _diags = parse_source(text, "t.kpi")
    if module is not None:  # a clean plan is taken from the driver, not from the fallback
        tables = syntax_parser.get_tables()
        assert tables is not None
        assert fast_parse(tables, ToAst("t.kpi"), text) is not None


def test_mutated_plans_give_the_same_modules_and_diagnostics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sources = [p for p in PLANS if p.name in ("example.kpi", "example-advanced.kpi")][:2]
    assert sources
    for n, path in enumerate(sources):
        for text in mutations(path.read_text(encoding="utf-8"), 40, seed=n):
            fast, lark = both_paths(text, monkeypatch)
            assert fast == lark, text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "// only a comment\n",
        "metric m: money = ((1 + a.b) * -2) else 3 // tail\n",
        "metric m: money = " + "(" * 150 + "x" + ")" * 150 + "\n",
        "metric m: money = " + " + ".join(f"x{i}" for i in range(400)) + "\n",
        "metric metric: money = 1\n",  # KPI0006 comes from the builder: the fallback reports it
        'plan "a" { currency CNY }\nplan "b" { currency CNY }\n',
        "metric m: money = max() + min(1, 2) + count deal where x in (1, 2)\n",
        'test "t" {\n  period 2026-Q3\n  deals {\n    id amount\n    d1 10\n  }\n}\n',
    ],
)
def test_edge_cases_parse_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, lark = both_paths(text, monkeypatch)
    assert fast == lark


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(get_parser(), explicit=EXPLICIT))
def test_grammar_generated_text_parses_the_same(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, lark = both_paths(text, monkeypatch)
    assert fast == lark


def test_unsupported_grammar_shapes_are_refused() -> None:
    from lark import Lark

    # templates and other lexer callbacks are not reproduced by the driver
    grammar = 'start: pair{A}\npair{x}: x x\nA: "a"\n'
    assert build_tables(Lark(grammar, parser="lalr", lexer="contextual")) is None
    plain = 'start: A A\nA: "a"\n'
    assert build_tables(Lark(plain, parser="lalr", lexer="contextual")) is not None
    hooked = Lark(plain, parser="lalr", lexer="contextual", lexer_callbacks={"A": lambda t: t})
    assert build_tables(hooked) is None


def test_threads_share_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPIDSL_PARSER", "fast")
    text = "metric x: money = (1 + 2) * y // one\npayout p: money = x * 2% cap 10\n"
    expected = deep(parse_source(text))
    results: list[str] = []

    def work() -> None:
        for _ in range(20):
            results.append(deep(parse_source(text)))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 80
