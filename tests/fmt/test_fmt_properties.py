"""Properties on generated plans: parse(format(m)) == m, idempotence, comments kept."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpidsl import ast
from kpidsl.fmt import format_module, format_source
from kpidsl.syntax.parser import parse, parse_source


def _load_strategies() -> ModuleType:
    """Load strategies.py under a unique name (test directories are not packages)."""
    name = "kpidsl_tests_fmt_strategies"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("strategies.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


strategies = _load_strategies()


def same(a: object, b: object) -> bool:
    """Equal modules, numbers compared with their scale (``0.010`` is not ``0.01``)."""
    return a == b and strategies.scale_aware(a) == strategies.scale_aware(b)

PROPERTY = settings(
    max_examples=int(__import__("os").environ.get("KPIDSL_FMT_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(strategies.modules)
def test_parse_of_format_is_the_same_module(module: ast.Module) -> None:
    text = format_module(module)
    assert same(parse(text), module), text


@PROPERTY
@given(strategies.modules)
def test_format_is_idempotent(module: ast.Module) -> None:
    text = format_module(module)
    again, diags = format_source(text)
    assert diags == []
    assert again == text


@PROPERTY
@given(strategies.exprs)
def test_expressions_round_trip_with_minimal_parentheses(expr: ast.Expr) -> None:
    module = ast.Module(None, (ast.Metric("m", "money", expr),))
    text = format_module(module)
    assert same(parse(text), module), text
    # Dropping any one pair of grouping parentheses changes the meaning or breaks the parse.
    for start, end in _groups(text):
        loose = text[:start] + " " + text[start + 1 : end] + " " + text[end + 1 :]
        parsed, _ = parse_source(loose)
        assert parsed != module, f"redundant parentheses in {text!r}"


def _groups(text: str) -> list[tuple[int, int]]:
    """Positions of grouping parenthesis pairs (not call argument lists, not in strings)."""
    pairs: list[tuple[int, int]] = []
    stack: list[int | None] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "(":
            before = text[i - 1] if i else " "
            stack.append(None if before.isalnum() or before == "_" else i)
        elif ch == ")":
            start = stack.pop()
            if start is not None:
                pairs.append((start, i))
        i += 1
    return pairs


@st.composite
def commented(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A formatted generated module with comments added at line ends and between lines."""
    text = format_module(draw(strategies.modules))
    lines = text.splitlines()
    out: list[str] = []
    texts: list[str] = []
    for i, line in enumerate(lines):
        if draw(st.integers(0, 4)) == 0:
            texts.append(f"c{i}a")
            out.append(f"// c{i}a")
        if line.strip() and draw(st.integers(0, 3)) == 0:
            texts.append(f"c{i}b")
            line += f" // c{i}b"
        out.append(line)
    if draw(st.booleans()):
        texts.append("tail")
        out.append("// tail")
    return "\n".join(out) + "\n", texts


@PROPERTY
@given(commented())
def test_comments_are_kept_in_order_and_idempotent(case: tuple[str, list[str]]) -> None:
    source, texts = case
    formatted, diags = format_source(source)
    assert formatted is not None, diags
    found = [c.text.strip() for c in parse(formatted).comments]
    assert found == texts, formatted
    assert same(parse(formatted), parse(source))
    assert format_source(formatted)[0] == formatted
