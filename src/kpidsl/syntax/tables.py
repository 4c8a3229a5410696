"""Inline test tables: cells grouped into rows by source line (KPI0009 for ragged rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpidsl import ast
from kpidsl.source import Span
from kpidsl.syntax import literals as lit

if TYPE_CHECKING:
    from lark import Token

# Sections whose rows have no header: ``payee name value [period]``.
HEADERLESS = ("targets", "inputs")


def _cell(r: lit.Reporter, tok: Token) -> ast.Cell:
    if tok.type == "STRING":
        return ast.Cell(lit.unquote(tok), True, span=r.tspan(tok))
    # `-` is an empty cell, as an empty field in a CSV file.
    text = "" if str(tok) == "-" else str(tok)
    return ast.Cell(text, False, span=r.tspan(tok))


def _rows(r: lit.Reporter, tokens: list[Token]) -> list[tuple[ast.Cell, ...]]:
    rows: list[list[ast.Cell]] = []
    last_line = -1
    for tok in tokens:
        if tok.line != last_line:
            rows.append([])
            last_line = tok.line or 0
        rows[-1].append(_cell(r, tok))
    return [tuple(row) for row in rows]


def _row_span(row: tuple[ast.Cell, ...]) -> Span:
    return row[0].span.cover(row[-1].span)


def test_table(r: lit.Reporter, section: Token, tokens: list[Token], span: Span) -> ast.TestTable:
    """Build a TestTable; rows that do not fit the header are KPI0009."""
    name = str(section)
    rows = _rows(r, tokens)
    if name in HEADERLESS:
        for row in rows:
            if len(row) not in (3, 4):
                r.report(
                    "KPI0009", f"a `{name}` row needs 3 or 4 cells, this one has {len(row)}",
                    _row_span(row), "ragged row",
                    help="write `payee name value [period]` on one line",
                )
        return ast.TestTable(name, (), tuple(rows), span=span)
    header, body = (rows[0], rows[1:]) if rows else ((), [])
    for row in body:
        if len(row) != len(header):
            r.report(
                "KPI0009",
                f"this `{name}` row has {len(row)} cells but the header has {len(header)}",
                _row_span(row), "ragged row",
                secondary=(),
                help="write `-` for an empty cell; quote cells that contain spaces",
            )
    return ast.TestTable(name, header, tuple(body), span=span)
