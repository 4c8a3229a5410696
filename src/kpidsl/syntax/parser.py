"""Text -> :class:`ast.Module` or diagnostics; the Lark parser is built once per process.

``parse_source`` never raises for any input: oversized plans (KPI0005) and
over-deep nesting (KPI0004) are refused with a diagnostic, syntax errors are
reported (several, by skipping to the next top-level item), and literal and
name problems come from the transformer.
"""

from __future__ import annotations

import gc
import importlib.resources
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import attrs
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, KpiError, Label, error, has_errors
from kpidsl.source import SourceFile, Span
from kpidsl.syntax.errors import from_unexpected
from kpidsl.syntax.fastparse import Tables, build_tables, fast_parse
from kpidsl.syntax.limits import MAX_DEPTH, MAX_PLAN_BYTES, paren_overflow
from kpidsl.syntax.transform import ToAst

MAX_SYNTAX_ERRORS = 10

_lock = threading.Lock()
_parser: Lark | None = None
_tables: Tables | None = None
_literals: dict[str, str] = {}
_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False
_comments: ContextVar[list[Token] | None] = ContextVar("kpidsl_comments", default=None)

_ITEM_START = re.compile(
    r"^(?:plan|import|fact|input|metric|target|const|table|tiers|score|payout|for|test|invariant)\b",
    re.MULTILINE,
)


def grammar_text() -> str:
    """The grammar: the copy inside the installed package, else the repository's."""
    packaged = importlib.resources.files("kpidsl") / "grammars" / "kpi.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    repo = Path(__file__).resolve().parents[3] / "grammars" / "kpi.lark"
    return repo.read_text(encoding="utf-8")


def _collect_comment(tok: Token) -> Token:
    sink = _comments.get()
    if sink is not None:
        sink.append(tok)
    return tok


def get_parser() -> Lark:
    """The process-wide LALR parser (built on first use, thread-safe)."""
    global _parser, _tables
    if _parser is None:
        with _lock:
            if _parser is None:
                parser = Lark(
                    grammar_text(),
                    parser="lalr",
                    lexer="contextual",
                    propagate_positions=True,
                    lexer_callbacks={"COMMENT": _collect_comment},
                )
                _literals.update(
                    {t.name: str(t.pattern.value) for t in parser.terminals if t.pattern.type == "str"}
                )
                _tables = build_tables(parser)
                _parser = parser
    return _parser


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while parsing: a parse allocates many short-lived, acyclic
    objects, and collections triggered by them cost a fifth of the parse time.
    Counted across threads; the GC is re-enabled (if it was on) by the last parse out.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def _blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] by spaces, keeping newlines so positions stay put."""
    middle = re.sub(r"[^\n]", " ", text[start:end])
    return text[:start] + middle + text[end:]


def _skip_item(text: str, pos: int) -> str | None:
    """Blank the top-level item around ``pos``; None when no item follows it."""
    line_end = text.find("\n", pos)
    if line_end < 0:
        return None
    following = _ITEM_START.search(text, line_end)
    if following is None:
        return None
    start = 0
    for match in _ITEM_START.finditer(text, 0, pos + 1):
        start = match.start()
    return _blank(text, start, following.start())


def _error_pos(exc: UnexpectedInput) -> int | None:
    token = getattr(exc, "token", None)
    if isinstance(token, Token):
        return None if token.type == "$END" else token.start_pos
    pos = getattr(exc, "pos_in_stream", None)
    return pos if isinstance(pos, int) else None


def _parse_tree(source: SourceFile, diags: list[Diagnostic]) -> Tree[Any] | None:
    """Parse, skipping items with syntax errors to report up to MAX_SYNTAX_ERRORS."""
    parser, text = get_parser(), source.text
    for _ in range(MAX_SYNTAX_ERRORS):
        try:
            tree = parser.parse(text)
            return None if diags else tree
        except UnexpectedInput as exc:
            diags.append(from_unexpected(exc, source, _literals))
            pos = _error_pos(exc)
            skipped = None if pos is None else _skip_item(text, pos)
            if skipped is None:
                return None
            text = skipped
    return None


def _comment_nodes(tokens: list[Token]) -> tuple[ast.Comment, ...]:
    return tuple(ast.Comment(str(t)[2:].rstrip(), t.line or 0) for t in tokens)


def _module(tree: Tree[Any], source: SourceFile, diags: list[Diagnostic]) -> ast.Module:
    builder = ToAst(source.name)
    builder.depth_limit = MAX_DEPTH + 2
    items = builder.transform(tree)
    depth, where = builder.deepest
    if depth > MAX_DEPTH + 2 and where is not None:
        diags.append(_too_deep(builder.span(where)))
    diags.extend(builder.diagnostics)
    return _assemble(items, source, diags)


def _assemble(items: list[Any], source: SourceFile, diags: list[Diagnostic]) -> ast.Module:
    headers = [i for i in items if isinstance(i, ast.PlanHeader)]
    for extra in headers[1:]:
        diags.append(
            error(
                "KPI0010", "a plan file may have only one `plan` header", extra.span,
                "second header", help="merge the settings into the first header",
                secondary=(Label(headers[0].span, "first header here"),),
            )
        )
    body = tuple(i for i in items if not isinstance(i, ast.PlanHeader))
    span = source.span(0, len(source.text))
    return ast.Module(headers[0] if headers else None, body, file=source.name, span=span)


def _limits(source: SourceFile) -> Diagnostic | None:
    size = len(source.text.encode("utf-8", "replace"))
    if size > MAX_PLAN_BYTES:
        return error(
            "KPI0005", f"the plan is too large ({size:,} bytes; the limit is {MAX_PLAN_BYTES:,})",
            source.span(0, 0), "this file", help="split the plan into files joined by `import`",
        )
    where = paren_overflow(source.text)
    if where is not None:
        return _too_deep(source.span(where, where + 1))
    return None


def _too_deep(span: Span) -> Diagnostic:
    return error(
        "KPI0004", f"expression nested too deeply (more than {MAX_DEPTH} levels)", span,
        "too deep", help="split the expression into named metrics",
    )


def parse_source(text: str, file: str = "<string>") -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one plan file: the module (None when there are errors) and diagnostics."""
    source = SourceFile(file, text)
    limit = _limits(source)
    if limit is not None:
        return None, [limit]
    diags: list[Diagnostic] = []
    with _gc_paused():
        fast = _fast_module(source, diags)
    if fast is not None:
        return (None, diags) if has_errors(diags) else (fast, diags)
    sink: list[Token] = []
    reset = _comments.set(sink)
    try:
        with _gc_paused():
            tree = _parse_tree(source, diags)
            module = _module(tree, source, diags) if tree is not None else None
    except RecursionError:
        return None, [_too_deep(source.span(0, 0))]
    finally:
        _comments.reset(reset)
    if module is None or has_errors(diags):
        return None, diags
    return _with_comments(module, sink), diags


def use_lark_only() -> bool:
    """True when ``KPIDSL_PARSER=lark`` asks for the standard Lark parse on every input."""
    return os.environ.get("KPIDSL_PARSER", "") == "lark"


def _fast_module(source: SourceFile, diags: list[Diagnostic]) -> ast.Module | None:
    """The module by the lean driver, or None when the standard parse must run.

    Only clean parses are taken from it (no builder diagnostic, not too deep), so
    every diagnostic still comes from the standard path, unchanged.
    """
    get_parser()
    if _tables is None or use_lark_only():
        return None
    builder = ToAst(source.name)
    try:
        result = fast_parse(_tables, builder, source.text)
    except RecursionError:
        return None
    if result is None or builder.diagnostics or result.depth > MAX_DEPTH + 2:
        return None
    module = _assemble(result.items, source, diags)
    return attrs.evolve(module, comments=result.comments)


def _with_comments(module: ast.Module, sink: list[Token]) -> ast.Module:
    return attrs.evolve(module, comments=_comment_nodes(sink))


def parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse one plan file or raise :class:`KpiError` with its diagnostics."""
    module, diags = parse_source(text, file)
    if module is None or has_errors(diags):
        raise KpiError(diags)
    return module
