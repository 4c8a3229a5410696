"""The parse tables shipped in the package match the grammar and parse as Lark does.

When ``grammars/kpi.lark`` changes, regenerate them with::

    python -m kpidsl.syntax.tablegen
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
from lark import Lark, Tree
from lark.exceptions import UnexpectedInput

from kpidsl.syntax import generated, tablegen
from kpidsl.syntax import parser as syntax_parser
from kpidsl.syntax.fastparse import Tables, fast_parse
from kpidsl.syntax.transform import ToAst

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "grammars" / "kpi.lark"
PLANS = sorted(p for p in ROOT.rglob("*.kpi") if ".git" not in p.parts)
BROKEN = [
    "metric m: money = (1 +\n",
    "metric m money = 1\n",
    'plan "p" { currency }\n',
    "metric m: money = 1 2\nmetric n: money = ) \n",
]
REGENERATE = "the generated parse tables are stale: run `python -m kpidsl.syntax.tablegen`"


def deep(obj: Any) -> str:
    """Everything in a parse result, spans included (they are left out of ``==``)."""
    if attrs.has(type(obj)):
        inner = ", ".join(f"{f.name}={deep(getattr(obj, f.name))}" for f in attrs.fields(type(obj)))
        return f"{type(obj).__name__}({inner})"
    if isinstance(obj, tuple | list):
        return "[" + ", ".join(deep(x) for x in obj) + "]"
    return repr(obj)


def fresh_lark() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual",
                propagate_positions=True)


@pytest.fixture(scope="module")
def fresh_tables() -> Tables:
    tables = tablegen.build_tables(fresh_lark())
    assert tables is not None
    return tables


@pytest.fixture(scope="module")
def shipped_tables() -> Tables:
    tables = syntax_parser._load_tables()  # decoded afresh, not the process-wide instance
    assert tables is not None
    return tables


@pytest.mark.parametrize("name", [generated.FAST_FILE, generated.LARK_FILE])
def test_generated_tables_record_the_current_grammar(name: str) -> None:
    data = generated.read(name, tagged=True)
    assert data is not None, f"{name} is missing or not JSON"
    sha = generated.grammar_sha256(GRAMMAR.read_text(encoding="utf-8"))
    assert data["grammar_sha256"] == sha, REGENERATE


def test_the_check_command_agrees() -> None:
    assert tablegen.main(["--check"]) == 0


def test_the_shipped_driver_tables_are_the_ones_in_use() -> None:
    tables = syntax_parser.get_tables()
    data = generated.read(generated.FAST_FILE)
    assert tables is not None and data is not None
    assert (tables.start_state, tables.end_state) == (data["start_state"], data["end_state"])
    assert len(tables.actions) == len(data["states"])


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_driver_tables_parse_as_tables_built_from_the_grammar(
    path: Path, fresh_tables: Tables, shipped_tables: Tables
) -> None:
    shipped = shipped_tables
    text = path.read_text(encoding="utf-8")
    ours = fast_parse(shipped, ToAst("t.kpi"), text)
    theirs = fast_parse(fresh_tables, ToAst("t.kpi"), text)
    assert deep(ours) == deep(theirs)


def _shape(tree: Tree[Any]) -> list[Any]:
    """A tree's rules, tokens and positions (rule names as text: Lark's are Tokens or str)."""
    out: list[Any] = []
    for sub in tree.iter_subtrees():
        meta = None if sub.meta.empty else (sub.meta.line, sub.meta.column, sub.meta.end_pos)
        kids = [str(c.data) if isinstance(c, Tree) else (c.type, str(c), c.start_pos) if c is not None
                else None for c in sub.children]
        out.append((str(sub.data), meta, kids))
    return out


def _tree_or_error(parser: Lark, text: str) -> Any:
    try:
        return _shape(parser.parse(text))
    except UnexpectedInput as exc:
        return (type(exc).__name__, exc.line, exc.column, sorted(getattr(exc, "expected", ())))


_FRESH: list[Lark] = []


@pytest.mark.parametrize("index", range(len(PLANS) + len(BROKEN)))
def test_shipped_lark_parser_parses_as_one_built_from_the_grammar(index: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in PLANS] + BROKEN
    if not _FRESH:
        _FRESH.extend([syntax_parser._load_lark(), fresh_lark()])
    loaded, fresh = _FRESH
    assert loaded.source_path == "<deserialized>"  # not built from the grammar text
    assert _tree_or_error(loaded, texts[index]) == _tree_or_error(fresh, texts[index])


def test_tagged_json_keeps_tuples_and_non_text_keys() -> None:
    import json

    value = {"a": (1, [2, (3,)]), "b": {1: "x", (2, 3): None}, "c": {"__tuple__": 1}}
    text = json.dumps(generated.tag(value))
    assert json.loads(text, object_hook=generated._untag) == value


def test_stale_tables_are_ignored_and_derived_from_the_grammar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = generated.read

    def stale(name: str, tagged: bool = False) -> dict[str, Any] | None:
        data = real(name, tagged)
        assert data is not None
        return {**data, "grammar_sha256": "0" * 64}

    monkeypatch.setattr(generated, "read", stale)
    lark = syntax_parser._load_lark()
    assert lark.source_path != "<deserialized>"  # built from the grammar
    tables = syntax_parser._load_tables()
    assert tables is not None
    text = (ROOT / "examples" / "east-china-2026" / "plan.kpi").read_text(encoding="utf-8")
    assert fast_parse(tables, ToAst("t.kpi"), text) is not None


def test_missing_tables_read_as_none() -> None:
    assert generated.read("no_such_tables.json") is None
