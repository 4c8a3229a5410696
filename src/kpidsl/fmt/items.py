"""Top-level items and definitions, and the blank lines between them.

Items are a blank line apart, except that one-line items of the same sort that
the author wrote on adjacent lines (``target`` after ``target``) stay together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kpidsl import ast
from kpidsl.fmt.blocks import block, fact_lines, score_lines, table_lines, test_lines, tiers_lines
from kpidsl.fmt.expr import (
    ADD,
    format_expr,
    format_operand,
    format_string,
    quote_word,
    split_where,
)
from kpidsl.fmt.layout import INDENT, Line, blank, span_lines
from kpidsl.render import display_width
from kpidsl.source import Span

__all__ = ["MAX_WIDTH", "item_lines", "sequence_lines"]

MAX_WIDTH = 100
_QUOTED_SELECTORS = ("team", "payee")
_NUMBER = re.compile(r"\d(_?\d)*(\.\d(_?\d)*)?")


def _expr_end(expr: ast.Expr, span: Span) -> int:
    end = expr.span.end_line if expr.span.line > 0 else 0
    return max(end, span.line) if span.line > 0 else 0


def _assignment(prefix: str, expr: ast.Expr, suffix: str, span: Span, indent: int) -> list[Line]:
    """``prefix = expr suffix`` on one line, or broken after ``=`` (and before ``where``)."""
    value = format_expr(expr) + suffix
    text = f"{prefix} = {value}"
    start = span.line if span.line > 0 else 0
    end = _expr_end(expr, span)
    if _fits(text, indent):
        return [Line(indent, text, start, end)]
    expr_start = expr.span.line if expr.span.line > 0 else start
    parts = split_where(expr)
    if _fits(value, indent + 1) or parts is None:
        return [Line(indent, f"{prefix} =", start, start), Line(indent + 1, value, expr_start, end)]
    return [
        Line(indent, f"{prefix} =", start, start),
        Line(indent + 1, parts[0], expr_start, end),
        Line(indent + 2, parts[1] + suffix, expr_start, end),
    ]


def _fits(text: str, indent: int) -> bool:
    return display_width(INDENT * indent + text) <= MAX_WIDTH


def _clause(clause: ast.Clause) -> str:
    if isinstance(clause, ast.When):
        return f"when {format_expr(clause.cond)} then {clause.op} {format_expr(clause.value)}"
    if isinstance(clause, ast.Requires):
        return f"requires {format_expr(clause.cond)}"
    if isinstance(clause, ast.Floor):
        return f"floor {format_expr(clause.expr)}"
    return f"cap {format_expr(clause.expr)}"


def _payout(payout: ast.Payout, indent: int) -> list[Line]:
    head = _assignment(f"payout {payout.name}: {payout.type}", payout.expr, "", payout.span, indent)
    clauses = [Line(indent + 1, _clause(c), *span_lines(c.span)) for c in payout.clauses]
    return head + clauses


def _input(decl: ast.InputDecl, indent: int) -> list[Line]:
    text = f"input {decl.name}: {decl.type}"
    if decl.default is not None:
        text += f" default {format_expr(decl.default)}"
    return [Line(indent, text, *span_lines(decl.span))]


def _override(override: ast.Override, indent: int, comment_lines: frozenset[int]) -> list[Line]:
    head = "for " + " and ".join(_selector(s) for s in override.selector)
    if override.start is not None:
        head += f" from {override.start.isoformat()}"
    if override.until is not None:
        head += f" until {override.until.isoformat()}"
    body = sequence_lines(override.body, indent + 1, comment_lines)
    return block(head, override.span, body, indent)


def _selector(item: ast.SelectorItem) -> str:
    """``role AE``; team names and payee ids are always quoted (``team "华南大区"``)."""
    if _NUMBER.fullmatch(item.value):
        return f"{item.attr} {item.value}"
    if item.attr in _QUOTED_SELECTORS:
        return f"{item.attr} {format_string(item.value)}"
    return f"{item.attr} {quote_word(item.value)}"


def _invariant(inv: ast.Invariant, indent: int) -> list[Line]:
    if inv.op == "monotonic":
        text = f"invariant {inv.name} is monotonic in {format_expr(inv.arg)}"
    else:
        text = f"invariant {inv.name} {inv.op} {format_operand(inv.arg, ADD)}"
    return [Line(indent, text, *span_lines(inv.span))]


def item_lines(
    item: ast.Item, indent: int, comment_lines: frozenset[int] = frozenset()
) -> list[Line]:
    """The lines of one item (or definition inside an override) at ``indent``."""
    if isinstance(item, ast.Metric):
        return _assignment(f"metric {item.name}: {item.type}", item.expr, "", item.span, indent)
    if isinstance(item, ast.Const):
        suffix = " per period" if item.per_period else ""
        return _assignment(f"const {item.name}: {item.type}", item.expr, suffix, item.span, indent)
    if isinstance(item, ast.Target):
        return _assignment(f"target {item.metric}", item.expr, "", item.span, indent)
    if isinstance(item, ast.Payout):
        return _payout(item, indent)
    if isinstance(item, ast.InputDecl):
        return _input(item, indent)
    if isinstance(item, ast.Import):
        return [Line(indent, f"import {format_string(item.path)}", *span_lines(item.span))]
    if isinstance(item, ast.Invariant):
        return _invariant(item, indent)
    if isinstance(item, ast.Override):
        return _override(item, indent, comment_lines)
    return _block_item(item, indent)


def _block_item(item: ast.Item, indent: int) -> list[Line]:
    if isinstance(item, ast.FactKind):
        return fact_lines(item, indent)
    if isinstance(item, ast.Table):
        return table_lines(item, indent)
    if isinstance(item, ast.Tiers):
        return tiers_lines(item, indent)
    if isinstance(item, ast.Score):
        return score_lines(item, indent)
    assert isinstance(item, ast.TestBlock), f"unknown item {type(item).__name__}"
    return test_lines(item, indent)


def _adjacent(prev: Span, nxt: Span, comment_lines: frozenset[int]) -> bool:
    """True when only comment lines separate two items in the source."""
    if prev.line <= 0 or nxt.line <= 0:
        return False
    return all(n in comment_lines for n in range(prev.end_line + 1, nxt.line))


def sequence_lines(
    items: Sequence[ast.Item], indent: int, comment_lines: frozenset[int]
) -> list[Line]:
    """Items in source order, a blank line apart unless kept together (module docstring)."""
    out: list[Line] = []
    previous: tuple[ast.Item, int] | None = None
    for item in items:
        lines = item_lines(item, indent, comment_lines)
        if previous is not None:
            prev_item, prev_len = previous
            together = type(prev_item) is type(item) and prev_len == 1 and len(lines) == 1
            if not (together and _adjacent(prev_item.span, item.span, comment_lines)):
                out.append(blank())
        out.extend(lines)
        previous = (item, len(lines))
    return out
