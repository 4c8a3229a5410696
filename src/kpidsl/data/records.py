"""Raw tables from Python objects and from a plan test's inline tables.

Both become :class:`RawTable` values of text cells, so the same typing and
validation as for CSV files applies. Python values are turned into text
canonically; a ``float`` is refused (binary floating point cannot hold most
cent amounts exactly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from kpidsl import ast
from kpidsl.diagnostics import Cell, Diagnostic, error
from kpidsl.source import Span

from . import codes
from .model import RawRow, RawTable, RowRef

# Header of the header-less test sections: ``targets { alice bookings 100_000 [period] }``.
HEADERLESS: dict[str, tuple[str, ...]] = {
    "targets": ("payee", "metric", "value", "period"),
    "target": ("payee", "metric", "value", "period"),
    "inputs": ("payee", "name", "value", "period"),
    "input": ("payee", "name", "value", "period"),
}


class _Unsupported(ValueError):
    """A Python value that has no canonical text form."""


def to_text(value: object) -> str:
    """The canonical text of a Python cell value (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise _Unsupported(f"Decimal {value} is not a finite number")
        return format(value, "f")
    if isinstance(value, float):
        raise _Unsupported(f"float {value!r}: use Decimal or str for exact amounts")
    if isinstance(value, dt.datetime):
        raise _Unsupported(f"datetime {value.isoformat()}: use a datetime.date")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise _Unsupported(
        f"{type(value).__name__} value {value!r}: use str, int, Decimal, bool or date"
    )


def tables_from_records(
    name: str, records: Sequence[Mapping[str, object]], display: str | None = None
) -> tuple[RawTable | None, list[Diagnostic]]:
    """A raw table from a list of dicts; a row's ``line`` is its 1-based position in the list.

    The header is every key in first-seen order; a record without a key has an
    empty cell there. A record with an unsupported value is rejected and reported
    (KPI0709), and kept in :attr:`RawTable.dropped` (the unsupported cells empty), so
    that a reference to its key says that it was rejected.
    """
    file = display if display is not None else f"<{name}>"
    header: list[str] = []
    for record in records:
        header.extend(k for k in record if k not in header)
    rows: list[RawRow] = []
    dropped: list[RawRow] = []  # the rejected records: a reference to one's key is to a rejected fact
    diags: list[Diagnostic] = []
    for index, record in enumerate(records, start=1):
        cells, problems = _record_cells(record, header, file, index)
        diags.extend(problems)
        row = RawRow(RowRef(file, index), cells, tuple(range(1, len(cells) + 1)))
        (dropped if problems else rows).append(row)
    header_cells = tuple(str(h).strip() for h in header)
    return RawTable(name, file, header_cells, tuple(rows), 0, tuple(dropped)), diags


def _record_cells(
    record: Mapping[str, object], header: list[str], file: str, index: int
) -> tuple[tuple[str, ...], list[Diagnostic]]:
    cells: list[str] = []
    problems: list[Diagnostic] = []
    for col, key in enumerate(header, start=1):
        try:
            cells.append(to_text(record.get(key)).strip())
        except _Unsupported as exc:
            msg = f"invalid {key} in {file} record {index}: {exc}; the record was rejected"
            span = Span(file, index, col, index, col + 1)
            value = record.get(key)
            problems.append(error(codes.UNSUPPORTED_PYTHON_VALUE, msg, span,
                                  cell=Cell(str(key).strip(), repr(value) if isinstance(value, float) else str(value))))
            cells.append("")  # the cells stay aligned with the header (dropped rows' keys)
    return tuple(cells), problems


def _cell_text(cell: ast.Cell) -> str:
    return "" if cell.text == "-" and not cell.quoted else cell.text.strip()


def _row(file: str, cells: Sequence[ast.Cell], line: int) -> RawRow:
    texts = tuple(_cell_text(c) for c in cells)
    cols = tuple(c.span.col for c in cells)
    return RawRow(RowRef(file, line), texts, cols)


def table_from_test(table: ast.TestTable, file: str, period: str | None = None) -> RawTable:
    """A raw table from an inline test table; ``-`` (unquoted) is an empty cell.

    Rows refer to the lines of the plan file. The header-less ``targets`` and
    ``inputs`` sections get the columns payee, metric/name, value, period; a row
    without a period takes ``period`` (the test's period).
    """
    section = table.section
    rows: list[RawRow] = []
    header: tuple[str, ...]
    if not table.header and section in HEADERLESS:
        header = HEADERLESS[section]
        for cells in table.rows:
            row = _row(file, cells, _line(cells, table))
            if len(row.cells) == 3:
                last = row.cols[-1] if row.cols else 1
                row = RawRow(row.ref, (*row.cells, period or ""), (*row.cols, last))
            rows.append(row)
        return RawTable(section, file, header, tuple(rows), table.span.line)
    header = tuple(_cell_text(c) for c in table.header)
    header_line = table.header[0].span.line if table.header else table.span.line
    for cells in table.rows:
        rows.append(_row(file, cells, _line(cells, table)))
    return RawTable(section, file, header, tuple(rows), header_line)


def _line(cells: Sequence[ast.Cell], table: ast.TestTable) -> int:
    return cells[0].span.line if cells else table.span.line
