"""Helpers shared by the binders: column lookup, cell spans and a diagnostic sink.

A data diagnostic's span is ``Span(file, line, col, line, col + len(text))``
where ``line`` is the row's physical line and ``col`` the cell's entry in
``RawRow.cols``: the CSV column number for CSV files and Python records, the
character column for inline test tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs

from kpidsl.diagnostics import Cell, Diagnostic, Label, error, warning
from kpidsl.source import Span

from . import codes
from .model import RawRow, RawTable, RowRef, Value
from .values import ValueProblem, ambiguous_percent, plain, shift


@attrs.define
class Sink:
    """Collects diagnostics and the rows that were rejected."""

    diagnostics: list[Diagnostic] = attrs.field(factory=list)
    rejected: set[RowRef] = attrs.field(factory=set)

    def reject(self, row: RawRow, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)
        self.rejected.add(row.ref)

    def reject_all(self, row: RawRow, diags: Iterable[Diagnostic]) -> None:
        for diag in diags:
            self.reject(row, diag)

    def add(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)


class View:
    """A raw table with its columns looked up by name."""

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.index = {name: i for i, name in enumerate(table.header)}

    def has(self, column: str) -> bool:
        return column in self.index

    def text(self, row: RawRow, column: str) -> str:
        i = self.index.get(column)
        if i is None:
            return ""
        cells = row.cells
        return cells[i] if i < len(cells) else ""

    def span(self, row: RawRow, column: str) -> Span:
        i = self.index.get(column, 0)
        col = row.cols[i] if i < len(row.cols) else i + 1
        width = max(len(self.text(row, column)), 1)
        return Span(row.ref.file, row.ref.line, col, row.ref.line, col + width)

    def cell(self, row: RawRow, column: str) -> Cell:
        """The cell a diagnostic at ``span(row, column)`` is about: its column and text."""
        return Cell(column, self.text(row, column))

    def header_span(self, column: str | None = None) -> Span:
        col = self.index.get(column, 0) + 1 if column is not None else 1
        line = self.table.header_line
        return Span(self.table.file, line, col, line, col + max(len(column or ""), 1))

    def where(self, row: RawRow, column: str) -> str:
        """``deals.csv line 7, column amount``."""
        return f"{row.ref.file} line {row.ref.line}, column {column}"


def located(span: Span, message: str) -> Label:
    """A secondary label whose message starts with its location: data files are shown
    without an excerpt, so the location would otherwise be lost."""
    return Label(span, f"{span.file}:{span.line}:{span.col}: {message}")


def invalid(
    view: View, row: RawRow, column: str, reason: str, code: str = codes.INVALID_VALUE
) -> Diagnostic:
    """``invalid amount '12,3O0.00' in deals.csv line 7, column amount: not a decimal number``."""
    text = view.text(row, column)
    msg = f"invalid {column} '{text}' in {view.where(row, column)}: {reason}"
    return error(code, msg, view.span(row, column), cell=view.cell(row, column))


def empty_required(view: View, row: RawRow, column: str) -> Diagnostic:
    msg = f"empty {column} in {view.where(row, column)}: a value is required"
    return error(codes.EMPTY_REQUIRED, msg, view.span(row, column), cell=view.cell(row, column))


def check_percent(
    view: View, row: RawRow, column: str, value: Value, problems: list[Diagnostic]
) -> None:
    """A percent cell written as a bare number beyond ±1 (``65``) is ambiguous: an error."""
    text = view.text(row, column)
    if not isinstance(value, Decimal) or not ambiguous_percent(text, value):
        return
    msg = (
        f"ambiguous percent '{text}' in {view.where(row, column)}: "
        f"write {text}% or the ratio {plain(shift(value, -2))}"
    )
    problems.append(
        error(
            codes.PERCENT_WITHOUT_SIGN,
            msg,
            view.span(row, column),
            notes=("a percent is written with % (65%) or as a ratio from -1 to 1 (0.65)",),
            cell=view.cell(row, column),
        )
    )


def typed(
    view: View,
    row: RawRow,
    column: str,
    parse: Callable[[str], Value],
    problems: list[Diagnostic],
    *,
    required: bool = True,
) -> Value:
    """Parse one cell, appending a diagnostic to ``problems`` when it is empty or invalid."""
    text = view.text(row, column)
    if not text:
        if required:
            problems.append(empty_required(view, row, column))
        return None
    try:
        return parse(text)
    except ValueProblem as exc:
        problems.append(invalid(view, row, column, str(exc)))
        return None


def check_columns(
    view: View, required: Iterable[str], known: Iterable[str], sink: Sink, what: str
) -> bool:
    """Report missing required columns (rejecting every row) and unknown ones; True if usable."""
    table = view.table
    if not table.rows and not table.header:
        return True
    missing = [c for c in required if not view.has(c)]
    known_set = set(known)
    extra = [c for c in table.header if c not in known_set]
    if extra:
        names = ", ".join(extra)
        msg = f"{table.file}: column(s) {names} are not fields of {what} and were ignored"
        sink.add(warning(codes.EXTRA_COLUMNS, msg, view.header_span(extra[0]),
                         cell=Cell(extra[0], extra[0])))
    if not missing:
        return True
    names = ", ".join(missing)
    msg = (
        f"{table.file} has no column {names} (required for {what}); "
        f"its {len(table.rows)} row(s) were rejected"
    )
    sink.add(
        error(
            codes.MISSING_COLUMN,
            msg,
            view.header_span(),
            notes=(f"columns found: {', '.join(table.header) or '(none)'}",),
            cell=Cell(missing[0], ""),
        )
    )
    sink.rejected.update(r.ref for r in table.rows)
    return False


def check_shape(view: View, sink: Sink) -> list[RawRow]:
    """Rows with as many cells as the header; others (and duplicate headers) are rejected."""
    table = view.table
    if len(view.index) != len(table.header) or any(not h for h in table.header):
        msg = (
            f"{table.file}: the header has an empty or repeated column name; its rows were rejected"
        )
        sink.add(error(codes.DUPLICATE_COLUMN, msg, view.header_span()))
        sink.rejected.update(r.ref for r in table.rows)
        return []
    width = len(table.header)
    good = [row for row in table.rows if len(row.cells) == width]
    if len(good) == len(table.rows):
        return good
    for row in table.rows:
        if len(row.cells) == width:
            continue
        msg = (
            f"{row.ref.file} line {row.ref.line} has {len(row.cells)} cells but the header has "
            f"{len(table.header)} columns; the row was rejected"
        )
        span = Span(row.ref.file, row.ref.line, 1, row.ref.line, 2)
        sink.reject(row, error(codes.RAGGED_ROW, msg, span))
    return good


class KeyIndex:
    """First occurrence of each key, to report every later duplicate citing the first."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, ...], tuple[View, RawRow]] = {}

    def claim(self, view: View, row: RawRow, key: tuple[str, ...]) -> bool:
        """Record ``row`` as the first with ``key``; False if an earlier row has it."""
        if key in self.first:
            return False
        self.first[key] = (view, row)
        return True

    def duplicate(
        self, view: View, row: RawRow, key: tuple[str, ...], column: str, what: str
    ) -> Diagnostic | None:
        if self.claim(view, row, key):
            return None
        first_view, first = self.first[key]
        shown = " / ".join(key)
        msg = (
            f"duplicate {what} '{shown}' in {view.where(row, column)}: "
            f"first defined at {first.ref.file} line {first.ref.line}; the row was rejected"
        )
        first_span = first_view.span(first, column)
        return error(
            codes.DUPLICATE_KEY,
            msg,
            view.span(row, column),
            secondary=(located(first_span, "first defined here"),),
            cell=view.cell(row, column),
        )
