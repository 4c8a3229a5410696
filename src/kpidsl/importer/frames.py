"""Parquet files and in-memory tables (Arrow, pandas, polars) as raw tables.

pyarrow is imported only when such a source is read; pandas and polars are
never imported here: a frame is recognised by its type's module and converted
through Arrow. A row's line is its 1-based position. ``decimal128`` columns
are exact; floating-point columns are refused (KPI0753) unless the source
allows them (``floats = "convert"``), then each value becomes its shortest
round-trip decimal text with a warning when float noise remains.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem

from . import codes
from .cells import decimal_text, float_text
from .problems import Problem, error, warning
from .readers import Read, unreadable


def _pyarrow() -> Any:
    return importlib.import_module("pyarrow")


def read_parquet(path: Path, name: str, display: str, *, floats: str = "reject",
                 decimals: int = 2, only: Collection[str] | None = None) -> Read:
    """A Parquet file (via pyarrow); ``only`` as for :func:`from_arrow`."""
    try:
        pq = importlib.import_module("pyarrow.parquet")
    except ModuleNotFoundError:
        return unreadable(display, "reading Parquet needs pyarrow (pip install 'kpidsl[import]')")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        return unreadable(display, f"not a readable Parquet file ({type(exc).__name__}: {exc})")
    return from_arrow(table, name, display, floats=floats, decimals=decimals, only=only)


def to_arrow(frame: Any) -> Any:
    """An Arrow table of a pyarrow Table, a pandas or a polars DataFrame."""
    module = type(frame).__module__.split(".")[0]
    if module == "pyarrow":
        return frame
    if module == "polars":
        return frame.to_arrow()
    if module == "pandas":
        return _pyarrow().Table.from_pandas(frame, preserve_index=False)
    raise TypeError(f"not a data frame or Arrow table: {type(frame).__name__}")


def read_frame(frame: Any, name: str, display: str | None = None, *, floats: str = "reject",
               decimals: int = 2) -> Read:
    """A raw table of an in-memory pyarrow Table or pandas/polars DataFrame."""
    shown = display or f"<{name}>"
    try:
        table = to_arrow(frame)
    except (TypeError, ModuleNotFoundError) as exc:
        return unreadable(shown, str(exc))
    except Exception as exc:  # conversion errors of the frame library
        return unreadable(shown, f"cannot convert to Arrow ({type(exc).__name__}: {exc})")
    return from_arrow(table, name, shown, floats=floats, decimals=decimals)


def _is_float(pa: Any, type_: Any) -> bool:
    return bool(pa.types.is_floating(type_))


def from_arrow(table: Any, name: str, display: str, *, floats: str = "reject",
               decimals: int = 2, only: Collection[str] | None = None) -> Read:
    """Rows of an Arrow table as text cells; with ``only``, the columns not named (ignored by
    the mapping) are left empty, never checked (a float column among them refuses nothing)."""
    pa = _pyarrow()
    header = tuple(str(n).strip() for n in table.column_names)
    used = [only is None or col in only for col in header]
    seen: dict[str, int] = {}
    for i, col in enumerate(header, start=1):
        if used[i - 1] and col in seen:  # rows as dicts would silently keep the last one
            return None, [error(codes.DUPLICATE_COLUMN, f"column '{col}' appears twice (columns "
                                f"{seen[col]} and {i})", display, column=col, col=i)]
        seen.setdefault(col, i)
    problems: list[Problem] = []
    float_cols = [n for n, f in zip(header, table.schema, strict=True)
                  if _is_float(pa, f.type) and (only is None or n in only)]
    if float_cols and floats != "convert":
        cols = ", ".join(float_cols)
        problems.append(error(codes.FLOAT_COLUMN, f"floating-point column(s) {cols}: binary "
                              "floats are not exact money; store decimal128 or text, or declare "
                              "floats = \"convert\" for this source", display, column=cols))
        return RawTable(name, display, header, (), 0), [*problems, *_all_rows(table, display)]
    rows: list[RawRow] = []
    # by column position, not as dicts by name: two columns may share a name
    columns = [table.column(i).to_pylist() if u else [None] * table.num_rows
               for i, u in enumerate(used)]
    records = zip(*columns, strict=True) if columns else [()] * table.num_rows
    for n, record in enumerate(records, start=1):
        cells, bad = _cells(record, header, n, display, decimals, problems)
        if not bad:
            rows.append(RawRow(RowRef(display, n), tuple(cells), tuple(range(1, len(header) + 1))))
    return RawTable(name, display, header, tuple(rows), 0), problems


def _all_rows(table: Any, display: str) -> list[Problem]:
    return [error(codes.FLOAT_COLUMN, "row rejected with its source (floating-point column)",
                  display, line=n, rejects=True) for n in range(1, table.num_rows + 1)]


UTC_NAMES = frozenset({"UTC", "Etc/UTC", "UTC+00:00", "+00:00", "Z", "GMT", "Etc/GMT"})


def _utc(tz: dt.tzinfo) -> bool:
    """UTC under any of its names (``Zulu``, ``Etc/Universal``, ``GMT0``, ``UCT``): a zone
    at offset 0 in January and in July."""
    if str(tz) in UTC_NAMES:
        return True
    return all(tz.utcoffset(dt.datetime(2026, m, 1)) == dt.timedelta(0) for m in (1, 7))


def python_cell(value: Any, decimals: int = 2) -> tuple[str, bool]:
    """(text, float noise?) of a cell as a Python value (an Arrow scalar's, a workbook's)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        return str(value), False
    if isinstance(value, Decimal):
        return decimal_text(value), False
    if isinstance(value, float):  # float-ok: only when the source allows floats
        return float_text(value, decimals)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and _utc(value.tzinfo):
            # an instant stored in UTC (DuckDB's TIMESTAMPTZ, Spark): its calendar day is the
            # exporter's time zone's, which the file does not say (00:00-08:00 in Beijing is
            # the previous day in UTC); a named zone's local date is kept
            raise ValueProblem(f"a timestamp stored in UTC ({value.isoformat()}): which day it is "
                               "depends on the time zone it was recorded in; export the local date "
                               "(a DATE column, or a timestamp without time zone)")
        return value.date().isoformat(), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    if isinstance(value, str):
        return value.strip(), False
    raise ValueProblem(f"a {type(value).__name__} is not a cell value")


def _cells(record: tuple[Any, ...], header: tuple[str, ...], n: int, display: str,
           decimals: int, problems: list[Problem]) -> tuple[list[str], bool]:
    cells: list[str] = []
    bad = False
    for i, (value, col) in enumerate(zip(record, header, strict=True), start=1):
        try:
            text, noisy = python_cell(value, decimals)
        except ValueProblem as exc:
            problems.append(error(codes.INVALID_VALUE, f"invalid cell: {exc}", display, line=n,
                                  column=col, col=i, value=str(value)[:40],
                                  rejects=True))
            bad, text, noisy = True, "", False
        if noisy:
            problems.append(warning(codes.FLOAT_NOISE, f"number {text} has more than {decimals} "
                                    "decimals, likely floating-point noise; kept exactly",
                                    display, line=n, column=col, col=i, value=text))
        cells.append(text)
    return cells, bad
