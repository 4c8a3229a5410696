"""Block items: headers, fact kinds, tables, tiers, scores, overrides and tests.

Columns inside a block (table keys, tier bands, score lines, test table cells)
are aligned by display width, so Chinese names line up in a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from kpidsl import ast
from kpidsl.fmt.expr import (
    ADD,
    format_expr,
    format_number,
    format_operand,
    format_string,
    quote_word,
)
from kpidsl.fmt.layout import SOURCE_TEXT, Line, holds_comments, masked, span_lines
from kpidsl.render import display_width
from kpidsl.source import Span

__all__ = [
    "block",
    "fact_lines",
    "header_lines",
    "pad",
    "score_lines",
    "table_lines",
    "test_lines",
    "tiers_lines",
]


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` display columns."""
    return text + " " * max(0, width - display_width(text))


def aligned(rows: Sequence[Sequence[str]], sep: str = "  ") -> list[str]:
    """Rows of cells with every column but the last padded to its widest cell."""
    widths: dict[int, int] = {}
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, 0), display_width(cell))
    out = []
    for row in rows:
        cells = [pad(c, widths[i]) for i, c in enumerate(row[:-1])] + list(row[-1:])
        out.append(sep.join(cells).rstrip())
    return out


def block(opening: str, span: Span, body: list[Line], indent: int, empty: str = "{}") -> list[Line]:
    """``opening {`` + body + ``}``; an empty body prints as ``opening {}``, unless the block
    holds a comment (:func:`holds_comments`), which stays inside its braces."""
    if not body and not holds_comments(span):
        return [Line(indent, f"{opening} {empty}", *span_lines(span))]
    first = span_lines(span, single=True)
    close = (span.end_line, span.end_line) if span.line > 0 else (0, 0)
    return [
        Line(indent, f"{opening} {{", *first),
        *body,
        Line(indent, "}", *close, comment_indent=indent + 1),
    ]


def _lines_of(texts: list[str], spans: list[Span], indent: int) -> list[Line]:
    return [Line(indent, t, *span_lines(s)) for t, s in zip(texts, spans, strict=True)]


# --------------------------------------------------------------------------
# Plan header and fact kinds
# --------------------------------------------------------------------------

_SETTINGS = (
    "currency",
    "period",
    "rounding",
    "precision",
    "fiscal_year_start",
    "effective",
    "changes",
    "version",
)
_DEFAULTS = ast.PlanHeader(name="")


def _setting(header: ast.PlanHeader, name: str, quantum_text: str | None = None) -> str:
    values: dict[str, Callable[[], str]] = {
        "currency": lambda: header.currency,
        "period": lambda: header.period,
        "rounding": lambda: f"{header.rounding_mode} {_quantum(header, quantum_text)}",
        "precision": lambda: str(header.precision),
        "fiscal_year_start": lambda: f"{header.fiscal_year_start:02d}-01",
        "effective": lambda: header.effective.isoformat() if header.effective else "",
        "changes": lambda: header.changes,
        "version": lambda: format_string(header.version or ""),
    }
    return f"{name} {values[name]()}"


def _quantum(header: ast.PlanHeader, written: str | None) -> str:
    """The rounding quantum as written (``1_000``), else its digits at its own scale.

    The scale is part of the meaning: ``0.010`` rounds to a multiple of a hundredth
    but shows three decimals (``12.350``), ``0.01`` shows two; never ``0.010`` -> ``0.01``.
    """
    if written is not None:
        try:
            same = Decimal(written.replace("_", "")).as_tuple() == header.quantum.as_tuple()
        except InvalidOperation:
            same = False
        if same:
            return written
    return format(header.quantum, "f")


def _written_settings(header: ast.PlanHeader) -> list[str]:
    """The settings as written, then any other that differs from the defaults (a
    header changed in Python, ``attrs.evolve(header, precision=40)``, keeps its value)."""
    written = [s for s in header.settings if s in _SETTINGS]
    differs = {
        "currency": header.currency != _DEFAULTS.currency,
        "period": header.period != _DEFAULTS.period,
        # as_tuple: 0.010 == 0.01 as numbers, but it rounds to three decimals shown
        "rounding": (header.rounding_mode, header.quantum.as_tuple())
        != (_DEFAULTS.rounding_mode, _DEFAULTS.quantum.as_tuple()),
        "precision": header.precision != _DEFAULTS.precision,
        "fiscal_year_start": header.fiscal_year_start != _DEFAULTS.fiscal_year_start,
        "effective": header.effective is not None,
        "changes": header.changes != _DEFAULTS.changes,
        "version": header.version is not None,
    }
    return written + [s for s in _SETTINGS if differs[s] and s not in written]


def header_lines(
    header: ast.PlanHeader, setting_lines: Sequence[int] = (), quantum_text: str | None = None
) -> list[Line]:
    """``plan "Name" { settings }``; ``setting_lines`` are their source lines when known,
    ``quantum_text`` the rounding quantum as written."""
    names = _written_settings(header)
    anchors = list(setting_lines) if len(setting_lines) == len(names) else [0] * len(names)
    body = [
        Line(1, _setting(header, n, quantum_text), a, a)
        for n, a in zip(names, anchors, strict=True)
    ]
    return block(f"plan {format_string(header.name)}", header.span, body, 0)


def fact_lines(fact: ast.FactKind, indent: int) -> list[Line]:
    """``fact name { key k  date d  field: type ... }``, one member a line."""
    members = [(w, v) for w, v in (("key", fact.key), ("date", fact.date)) if v is not None]
    anchors = _member_lines(fact, [w for w, _ in members])
    body = [Line(indent + 1, f"{w} {v}", a, a) for (w, v), a in zip(members, anchors, strict=True)]
    body += _lines_of(
        [f"{f.name}: {f.type}" for f in fact.fields], [f.span for f in fact.fields], indent + 1
    )
    return block(f"fact {fact.name}", fact.span, body, indent)


def _member_lines(fact: ast.FactKind, words: list[str]) -> list[int]:
    """Source lines of a fact's ``key``/``date`` members (the syntax tree has no span for
    them), found in the source text; 0 when unknown, or for one written after the fields
    or out of the printed order (anchoring it would reorder comments)."""
    text, span = SOURCE_TEXT.get(), fact.span
    unknown = [0] * len(words)
    if not words or text is None or span.line <= 0 or span.end <= span.start:
        return unknown
    body = masked(text[span.start : span.end])
    open_at = body.find("{") + 1
    lines = []
    for word in words:
        # the member, not a field's type (`signed_on: date`) before another name
        found = next(
            (
                m.start()
                for m in re.finditer(rf"(?<![\w.]){word}(?=\s+[^\W\d])", body)
                if m.start() >= open_at and not body[: m.start()].rstrip().endswith(":")
            ),
            None,
        )
        if found is None:
            return unknown
        lines.append(span.line + body.count("\n", 0, found))
    # Printed before the fields: anchored only while the source lines go on increasing.
    limit = min((f.span.line for f in fact.fields if f.span.line > 0), default=span.end_line)
    anchors, last = [], span.line
    for line in lines:
        keep = last <= line <= limit
        anchors.append(line if keep else 0)
        last = line if keep else last
    return anchors


# --------------------------------------------------------------------------
# Tables, tiers and scores
# --------------------------------------------------------------------------


def table_lines(table: ast.Table, indent: int) -> list[Line]:
    """``table name by key { "k" : v ... else : v }`` with the colons aligned."""
    rows = [[format_string(e.key), ": " + format_expr(e.value, top=False)] for e in table.entries]
    spans = [e.span for e in table.entries]
    if table.default is not None:
        rows.append(["else", ": " + format_expr(table.default, top=False)])
        spans.append(_default_span(table))
    body = _lines_of(aligned(rows, " "), spans, indent + 1)
    return block(f"table {table.name} by {format_expr(table.key)}", table.span, body, indent)


def _default_span(table: ast.Table) -> Span:
    span = getattr(table.default, "span", None)
    return span if isinstance(span, Span) else table.span


def _band_left(row: ast.Band | ast.Point) -> list[str]:
    if isinstance(row, ast.Point):
        return [format_number(row.x)]
    if row.upper is None:
        return [format_number(row.lower), "and up"]
    return [format_number(row.lower), "to " + format_number(row.upper)]


def tiers_lines(tiers: ast.Tiers, indent: int) -> list[Line]:
    """``tiers name mode [per k] on x [extend flat] { bands }``, bands in columns."""
    lefts = [_band_left(row) for row in tiers.bands]
    values = [format_expr(_row_value(row), top=False) for row in tiers.bands]
    spans = [row.span for row in tiers.bands]
    if tiers.above is not None:
        values.append(format_expr(tiers.above, top=False))
        spans.append(_above_span(tiers))
    left_text = aligned([[*left, ""] for left in lefts], " ")
    if tiers.above is not None:
        left_text.append("above")
    width = max((display_width(t) for t in left_text), default=0)
    texts = [f"{pad(t, width)} : {v}" for t, v in zip(left_text, values, strict=True)]
    head = f"tiers {tiers.name} {tiers.mode}"
    if tiers.per is not None:
        head += f" per {tiers.per}"
    head += f" on {format_expr(tiers.on)}"
    if tiers.extend_flat:
        head += " extend flat"
    return block(head, tiers.span, _lines_of(texts, spans, indent + 1), indent)


def _row_value(row: ast.Band | ast.Point) -> ast.Expr:
    return row.value if isinstance(row, ast.Band) else row.y


def _above_span(tiers: ast.Tiers) -> Span:
    span = getattr(tiers.above, "span", None)
    return span if isinstance(span, Span) else tiers.span


def score_lines(score: ast.Score, indent: int) -> list[Line]:
    """``score name { ref  weight w  [cap c]  [threshold t] }`` in columns."""
    rows = []
    for line in score.lines:
        options = []
        if line.cap is not None:
            options.append(f"cap {format_number(line.cap)}")
        if line.threshold is not None:
            options.append(f"threshold {format_number(line.threshold)}")
        rows.append([line.ref, f"weight {format_number(line.weight)}", "  ".join(options)])
    body = _lines_of(aligned(rows), [ln.span for ln in score.lines], indent + 1)
    return block(f"score {score.name}", score.span, body, indent)


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def _cell(cell: ast.Cell) -> str:
    """A cell as the lexer reads it back: quoted as written, ``-`` for empty."""
    if cell.quoted:
        return format_string(cell.text)
    return cell.text or "-"


def _test_table(table: ast.TestTable, indent: int) -> list[Line]:
    if not table.header and len(table.rows) <= 1 and not holds_comments(table.span):
        cells = " ".join(_cell(c) for row in table.rows for c in row)
        text = f"{table.section} {{ {cells} }}" if cells else f"{table.section} {{}}"
        return [Line(indent, text, *span_lines(table.span))]
    rows = ([list(table.header)] if table.header else []) + [list(r) for r in table.rows]
    texts = aligned([[_cell(c) for c in row] for row in rows])
    spans = [row[0].span if row else table.span for row in rows]
    body = [
        Line(indent + 1, t, *span_lines(s, single=True)) for t, s in zip(texts, spans, strict=True)
    ]
    return block(table.section, table.span, body, indent)


def _test_item(item: ast.TestItem, indent: int) -> list[Line]:
    if isinstance(item, ast.TestTable):
        return _test_table(item, indent)
    if isinstance(item, ast.TestPeriod):
        text = f"period {item.period}"
    elif isinstance(item, ast.Expect):
        value = format_operand(item.value, ADD)
        text = f"expect {quote_word(item.payee)}.{item.name} {item.op} {value}"
    else:
        text = _expect_error(item)
    return [Line(indent, text, *span_lines(item.span))]


def _expect_error(item: ast.ExpectError) -> str:
    text = f"expect error {item.code}"
    if item.payee is not None:
        text += f" for {quote_word(item.payee)}"
        if item.name is not None:
            text += f".{item.name}"
    if item.file is not None:
        text += f" in {format_string(item.file)}"
    return text


def test_lines(test: ast.TestBlock, indent: int) -> list[Line]:
    """``test "name" { period, tables, expectations }``, one item a line."""
    body = [line for item in test.items for line in _test_item(item, indent + 1)]
    return block(f"test {format_string(test.name)}", test.span, body, indent)
