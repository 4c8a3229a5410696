"""Excel ``.xlsx`` sources via openpyxl (read-only, cached formula values).

* The line of a row is its sheet row number (as Excel shows it).
* The header row is given (``header_row``), else the first non-empty row:
  sheets often open with a title block.
* Merged cells: the value belongs to the top-left cell; the other cells of the
  range are empty (that is how the file stores them).
* Date and datetime cells become ISO dates (a time of day is dropped);
  numeric cells become exact decimal text by the shortest round-trip of the
  stored binary float, with a warning (KPI0752) when more than ``decimals``
  places remain — float noise from a formula, kept as is.
* Columns with an empty header are ignored, with a warning if they hold values.
* Without a ``sheet``, the first *visible* sheet is read (a hidden sheet of old data
  is not taken for the table).
* The sheet's stored size (its ``dimension`` tag, stale in files some exporters write)
  is not trusted: every stored row is read.
* A cell holding an Excel error (``#N/A`` of a failed lookup, ``#DIV/0!``) rejects its
  row, with the error as the value.
* An integer shown with leading zeros (number format ``00000``: id ``00123``) is read
  as it is shown.
* A workbook on the 1904 date system (Excel for Mac) gets a warning: date cells are
  read right, but plain numbers read as ``excel_serial`` dates count from 1900.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem

from . import codes
from .frames import python_cell
from .problems import Problem, error, warning
from .readers import Read, unreadable


class ExcelError(str):
    """A cell's Excel error value (``#N/A``): never data."""


ZEROS = re.compile(r"0+")  # a number format that pads integers with leading zeros


def cell_text(value: Any, decimals: int = 2) -> tuple[str, bool]:
    """(text, float noise?) of a cell value as openpyxl gives it (the frames' conversion)."""
    if isinstance(value, dt.time) and not isinstance(value, dt.datetime):
        raise ValueProblem("a time of day is not a cell value the data folder can hold")
    if isinstance(value, ExcelError):
        raise ValueProblem(f"the Excel error {value} (a formula that failed, e.g. a lookup that "
                           "found nothing), not a value")
    return python_cell(value, decimals)


def _value(cell: Any) -> Any:
    """A cell's value, an Excel error marked as such, and an integer with a zero-padding
    number format (``00000``) as the text it shows."""
    value = cell.value
    if getattr(cell, "data_type", None) == "e":
        return ExcelError(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        fmt = getattr(cell, "number_format", "") or ""
        if ZEROS.fullmatch(fmt):
            return str(value).zfill(len(fmt))
    return value


def _open(path: Path, display: str) -> tuple[Any, str | None]:
    try:
        openpyxl = importlib.import_module("openpyxl")
    except ModuleNotFoundError:
        return None, "reading .xlsx needs openpyxl (pip install 'kpidsl[import]')"
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True), None
    except Exception as exc:  # openpyxl raises many types for damaged files
        return None, f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})"


def read_xlsx(path: Path, name: str, display: str, *, sheet: str | None = None,
              header_row: int | None = None, decimals: int = 2) -> Read:
    """One sheet of a workbook as a raw table (see the module docstring)."""
    wb, reason = _open(path, display)
    if wb is None:
        return unreadable(display, reason or "unknown error")
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            names = ", ".join(wb.sheetnames)
            return unreadable(display, f"no sheet named {sheet!r} (sheets: {names})")
        visible = [w for w in wb.worksheets if getattr(w, "sheet_state", "visible") == "visible"]
        ws = wb[sheet] if sheet is not None else (visible or wb.worksheets)[0]
        if hasattr(ws, "reset_dimensions"):  # read every stored row, whatever the size tag says
            ws.reset_dimensions()
        rows = [(n, tuple(_value(c) for c in r)) for n, r in enumerate(ws.iter_rows(), start=1)]
        table, problems = _table(rows, name, f"{display}[{ws.title}]", str(ws.title), header_row, decimals)
        if getattr(wb, "epoch", None) == dt.datetime(1904, 1, 1):
            problems = [*problems, warning(
                codes.DATE_SYSTEM, "the workbook uses the 1904 date system (Excel for Mac): date cells "
                "are read right, but plain numbers read as excel_serial dates count from 1900 and "
                "would come out 1,462 days early; format those cells as dates in the workbook",
                f"{display}[{ws.title}]", sheet=str(ws.title))]
        return table, problems
    finally:
        wb.close()


def _table(rows: list[tuple[int, tuple[Any, ...]]], name: str, shown: str, sheet: str,
           header_row: int | None, decimals: int) -> Read:
    filled = [(n, r) for n, r in rows if any(v is not None and str(v).strip() for v in r)]
    if header_row is None:
        header_row = filled[0][0] if filled else 1
    head = next((r for n, r in rows if n == header_row), ())
    header = [str(v).strip() if v is not None else "" for v in head]
    if not any(header):
        return None, [error(codes.BAD_HEADER, f"sheet row {header_row} is empty: no header",
                            shown, line=header_row, sheet=sheet)]
    keep = [i for i, h in enumerate(header) if h]
    problems = _header_problems(header, keep, header_row, shown, sheet)
    if any(p.severity == "error" for p in problems):
        return None, problems
    out: list[RawRow] = []
    dropped = 0
    for n, r in filled:
        if n <= header_row:
            continue
        dropped += any(i < len(r) and r[i] is not None for i in range(len(r)) if i not in keep)
        cells, bad = _cells(r, keep, header, n, shown, sheet, decimals, problems)
        if not bad and any(cells):
            out.append(RawRow(RowRef(shown, n), tuple(cells), tuple(i + 1 for i in keep)))
    if dropped:
        problems.append(warning(codes.EXTRA_COLUMNS, f"{dropped} row(s) have values in columns "
                                "without a header; those cells were ignored", shown,
                                line=header_row, sheet=sheet))
    return RawTable(name, shown, tuple(header[i] for i in keep), tuple(out), header_row), problems


def _header_problems(header: list[str], keep: list[int], line: int, shown: str,
                     sheet: str) -> list[Problem]:
    seen: dict[str, int] = {}
    out: list[Problem] = []
    for i in keep:
        if header[i] in seen:
            out.append(error(codes.DUPLICATE_COLUMN, f"column '{header[i]}' appears twice "
                             f"(columns {seen[header[i]] + 1} and {i + 1})", shown, line=line,
                             column=header[i], col=i + 1, sheet=sheet))
        seen.setdefault(header[i], i)
    return out


def _cells(r: tuple[Any, ...], keep: list[int], header: list[str], n: int, shown: str,
           sheet: str, decimals: int, problems: list[Problem]) -> tuple[list[str], bool]:
    cells: list[str] = []
    bad = False
    for i in keep:
        value = r[i] if i < len(r) else None
        try:
            text, noisy = cell_text(value, decimals)
        except ValueProblem as exc:
            problems.append(error(codes.INVALID_VALUE, f"invalid cell: {exc}", shown, line=n,
                                  column=header[i], col=i + 1, value=str(value), sheet=sheet,
                                  rejects=True))
            bad, text, noisy = True, "", False
        if noisy:
            problems.append(warning(codes.FLOAT_NOISE, f"number {text} has more than {decimals} "
                                    "decimals, likely floating-point noise from a formula; kept "
                                    "exactly as stored (round it in the workbook, or raise "
                                    "`float_decimals` for this source)", shown, line=n,
                                    column=header[i], col=i + 1, value=text, sheet=sheet))
        cells.append(text)
    return cells, bad
