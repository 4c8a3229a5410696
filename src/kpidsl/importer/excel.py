"""Excel ``.xlsx`` sources via openpyxl (read-only, cached formula values).

* The line of a row is its sheet row number (as Excel shows it).
* The header row is given (``header_row``), else the first non-empty row:
  sheets often open with a title block.
* Merged cells: the value belongs to the top-left cell; the other cells of the
  range are empty (that is how the file stores them). A range spanning data rows shows its
  value on each of them in Excel, but only its first row holds it: each mapped cell it leaves
  empty on a later data row gets a warning (KPI0755) naming the range and the row of its
  value; the value is never filled down. The ranges come from the ``<mergeCells>`` part of
  the sheet's XML, read in the same streaming pass as its rows.
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
  row, with the error as the value; so does a formula whose value was never calculated
  and saved (a workbook written by a program and not saved by Excel): it is not empty.
* A number of 10^15 or more rejects its row: Excel keeps 15 significant digits, so an
  18-digit id or account number typed as a number has already lost its last digits.
* An integer shown with leading zeros (number format ``00000``: id ``00123``) is read
  as it is shown.
* A number shown as a percentage (``12.5%``) is read as stored (``0.125``); its two extra
  decimals are not float noise, and its text is a :class:`StoredRatio`: in a column declared
  ``percent = true`` it is the one number without a % sign that is not ambiguous.
* Hidden rows and columns (hidden in Excel, or rows a filter leaves out) are read like the
  others, never skipped: a warning (KPI0757) names each run of hidden data rows and each
  hidden mapped column holding values.
* A value stored in a cell of a merged range other than its first (top-left) one is not
  shown by Excel; it is read as stored, with a warning (KPI0758) naming the cell, the range
  and the value.
* A workbook on the 1904 date system (Excel for Mac) gets a warning: date cells are
  read right, but plain numbers read as ``excel_serial`` dates count from 1900.
"""

from __future__ import annotations

import bisect
import datetime as dt
import importlib
import re
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Any

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem

from . import codes
from .cells import StoredRatio
from .frames import python_cell
from .problems import Problem, error, warning
from .readers import Read, unreadable
from .transform import _escaped


class ExcelError(str):
    """A cell's Excel error value (``#N/A``): never data."""


class Uncalculated(str):
    """A formula cell without a saved value (``=VLOOKUP(...)``): never data, never empty."""


class NotADate(str):
    """A number in a date-formatted cell that is no calendar date: beyond the dates Excel can
    show (it shows ``####``), or 60, Excel's 1900-02-29."""


class Percent(float):  # float-ok: a number shown as a percentage, as the file stores it
    """A cell shown as a percentage (``12.5%`` stored as ``0.125``): two more decimals are
    its own, not float noise."""


EXCEL_DIGITS = 1e15  # float-ok: from here on a stored number has lost digits past the 15th


ZEROS = re.compile(r"0+")  # a number format that pads integers with leading zeros


def cell_text(value: Any, decimals: int = 2) -> tuple[str, bool]:
    """(text, float noise?) of a cell value as openpyxl gives it (the frames' conversion)."""
    if isinstance(value, dt.time) and not isinstance(value, dt.datetime):
        raise ValueProblem("a time of day is not a cell value the data folder can hold")
    if isinstance(value, ExcelError):
        raise ValueProblem(f"the Excel error {value} (a formula that failed, e.g. a lookup that "
                           "found nothing), not a value")
    if isinstance(value, NotADate):
        raise ValueProblem(f"a date cell holding {value}, which is no calendar date (Excel's "
                           "1900-02-29, which never was, or beyond 9999-12-31: Excel shows ####)")
    if isinstance(value, Uncalculated):
        raise ValueProblem(f"the formula {value} has no saved value (the workbook was written by "
                           "a program and never calculated); open it in Excel and save it")
    if isinstance(value, float) and abs(value) >= EXCEL_DIGITS:  # float-ok
        raise ValueProblem("a number of 16 or more digits: Excel keeps only 15 significant "
                           "digits, so the digits after the 15th were lost when it was typed "
                           "(an id or account number entered as a number); format the column "
                           "as text and enter it again")
    if isinstance(value, Percent):
        text, noisy = python_cell(value, decimals + 2)
        return StoredRatio(text), noisy
    return python_cell(value, decimals)


def _value(cell: Any) -> Any:
    """A cell's value, an Excel error marked as such, and an integer with a zero-padding
    number format (``00000``) as the text it shows."""
    value = cell.value
    if getattr(cell, "data_type", None) == "e":
        return ExcelError(value)
    if isinstance(value, Uncalculated | NotADate):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        fmt = getattr(cell, "number_format", "") or ""
        if ZEROS.fullmatch(fmt):
            return str(value).zfill(len(fmt))
    if (isinstance(value, float | int) and not isinstance(value, bool)
            and "%" in (getattr(cell, "number_format", "") or "")):
        return Percent(value)  # 100% is stored as the integer 1
    return value


def _open(path: Path, display: str) -> tuple[Any, str | None]:
    try:
        openpyxl = importlib.import_module("openpyxl")
    except ModuleNotFoundError:
        return None, "reading .xlsx needs openpyxl (pip install 'kpidsl[import]')"
    try:
        with warnings.catch_warnings():  # "extension is not supported" and the like: not data
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True), None
    except Exception as exc:  # openpyxl raises many types for damaged files
        return None, f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})"


def read_xlsx(path: Path, name: str, display: str, *, sheet: str | None = None,
              header_row: int | None = None, decimals: int = 2,
              only: Collection[str] | None = None) -> Read:
    """One sheet of a workbook as a raw table (see the module docstring); with ``only``, the
    cells of other columns (ignored by the mapping) are left empty, never checked."""
    wb, reason = _open(path, display)
    if wb is None:
        return unreadable(display, reason or "unknown error")
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            names = ", ".join(wb.sheetnames)
            return unreadable(display, f"no sheet named {sheet!r} (sheets: {names})")
        visible = [w for w in wb.worksheets if getattr(w, "sheet_state", "visible") == "visible"]
        ws = wb[sheet] if sheet is not None else (visible or wb.worksheets)[0]
        try:
            rows, merged, hidden = _rows(wb, ws)
        except Exception as exc:  # a damaged sheet (bad XML, a malformed number) fails mid-read
            return unreadable(f"{display}[{ws.title}]",
                              f"a damaged sheet ({type(exc).__name__}: {exc})")
        table, problems = _table(rows, name, f"{display}[{ws.title}]", str(ws.title), header_row,
                                 decimals, only, merged, hidden)
        if getattr(wb, "epoch", None) == dt.datetime(1904, 1, 1):
            problems = [*problems, warning(
                codes.DATE_SYSTEM, "the workbook uses the 1904 date system (Excel for Mac): date cells "
                "are read right, but plain numbers read as excel_serial dates count from 1900 and "
                "would come out 1,462 days early; format those cells as dates in the workbook",
                f"{display}[{ws.title}]", sheet=str(ws.title))]
        return table, problems
    finally:
        wb.close()


Rows = list[tuple[int, tuple[Any, ...]]]


class Hidden:
    """The rows and columns (1-based numbers) a sheet hides: hidden in Excel, or rows a filter
    leaves out (the file marks both the same way)."""

    def __init__(self, rows: Collection[int] = (), cols: Collection[int] = ()) -> None:
        self.rows = frozenset(rows)
        self.cols = frozenset(cols)


def _true(flag: Any) -> bool:
    return flag is True or str(flag).strip().lower() in ("1", "true")


def _hidden_cols(spans: Any) -> set[int]:
    """Hidden column numbers of ``(min, max, hidden)`` column spans (``<col>`` elements)."""
    out: set[int] = set()
    for lo, hi, flag in spans:
        if _true(flag):
            try:
                first, last = int(lo), int(hi or lo)
            except (TypeError, ValueError):
                continue
            out.update(range(first, min(last, 16384) + 1))  # the last column of a sheet: XFD
    return out


def _rows(wb: Any, ws: Any) -> tuple[Rows, list[str], Hidden]:
    """(sheet row, values) of every stored row, whatever the sheet's size tag says, the
    sheet's merged ranges (``F4:F5``) and its hidden rows and columns; a formula without a
    saved value comes as :class:`Uncalculated` (openpyxl gives it as an empty cell).

    A read-only worksheet does not expose its merged ranges, but its parser reads them: the
    ``<mergeCells>`` element comes after ``<sheetData>`` in the same XML stream, so they
    cost no second pass over the sheet and no workbook loaded in normal mode. So do its
    ``<col>`` elements and each ``<row>``'s ``hidden`` attribute."""
    if not hasattr(ws, "_get_source"):  # not a read-only sheet: no formula check
        merged = [str(r.coord) for r in getattr(getattr(ws, "merged_cells", None), "ranges", ())]
        hidden = Hidden(
            [n for n, d in getattr(ws, "row_dimensions", {}).items() if _true(d.hidden)],
            _hidden_cols((d.min, d.max, d.hidden)
                         for d in getattr(ws, "column_dimensions", {}).values()))
        return [(n, tuple(_value(c) for c in r)) for n, r in enumerate(ws.iter_rows(), start=1)
                ], merged, hidden
    reader = importlib.import_module("openpyxl.worksheet._reader")

    class Parser(reader.WorkSheetParser):  # type: ignore[misc,name-defined]
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            # no saved value: no <v>, or an empty one not typed as text (t="str" is a
            # formula's saved empty text, =IF(...,"",...), which Excel writes as <v></v>)
            formula = element.find(reader.FORMULA_TAG)
            if (formula is not None and not element.findtext(reader.VALUE_TAG)
                    and element.get("t", "n") != "str"):
                cell["value"] = Uncalculated(f"={formula.text}" if formula.text else "(formula)")
            elif (cell["data_type"] == "e" and element.get("t", "n") == "n") or (
                    cell["data_type"] == "d" and self.epoch.year == 1899
                    and element.findtext(reader.VALUE_TAG) in ("60", "60.0")):
                # a date-formatted number beyond dates (openpyxl: #VALUE! and a warning), or
                # 60: Excel's 1900-02-29 (its 1900 leap-year bug; openpyxl: 1900-02-28)
                cell["data_type"], cell["value"] = "n", NotADate(element.findtext(reader.VALUE_TAG))
            return cell

    with ws._get_source() as src, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's own: what matters is reported per cell
        parser = Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        rows = [(n, tuple(_value(c) for c in ws._get_row(cells))) for n, cells in parser.parse()]
    merges = getattr(parser, "merged_cells", None)  # set once the whole stream is parsed
    hidden = Hidden(
        [int(n) for n, attrs in parser.row_dimensions.items() if _true(attrs.get("hidden"))],
        _hidden_cols((a.get("min"), a.get("max"), a.get("hidden"))
                     for a in parser.column_dimensions.values()))
    return rows, [str(m.ref) for m in getattr(merges, "mergeCell", None) or () if m.ref], hidden


def _table(rows: Rows, name: str, shown: str, sheet: str, header_row: int | None,
           decimals: int, only: Collection[str] | None = None,
           merged: Collection[str] = (), hidden: Hidden | None = None) -> Read:
    filled = [(n, r) for n, r in rows if any(v is not None and str(v).strip() for v in r)]
    if header_row is None:
        header_row = filled[0][0] if filled else 1
    head = next((r for n, r in rows if n == header_row), ())
    header = [str(v).strip() if v is not None else "" for v in head]
    if not any(header):
        return None, [error(codes.BAD_HEADER, f"sheet row {header_row} is empty: no header",
                            shown, line=header_row, sheet=sheet)]
    keep = [i for i, h in enumerate(header) if h]
    used = {i for i in keep if only is None or header[i] in only}
    problems = _header_problems(header, [i for i in keep if i in used], header_row, shown, sheet)
    if any(p.severity == "error" for p in problems):
        return None, problems
    out: list[RawRow] = []
    dropped = 0
    for n, r in filled:
        if n <= header_row:
            continue
        dropped += any(i < len(r) and r[i] is not None for i in range(len(r)) if i not in keep)
        cells, bad = _cells(r, keep, used, header, n, shown, sheet, decimals, problems)
        if not bad and any(r[i] is not None and str(r[i]).strip() for i in keep if i < len(r)):
            out.append(RawRow(RowRef(shown, n), tuple(cells), tuple(i + 1 for i in keep)))
    data_rows = {n for n, _ in filled if n > header_row}
    problems += _merge_problems(merged, rows, data_rows, used, header, shown, sheet, decimals)
    problems += _hidden_problems(hidden or Hidden(), rows, data_rows, used, header, header_row,
                                 shown, sheet)
    if dropped:
        problems.append(warning(codes.EXTRA_COLUMNS, f"{dropped} row(s) have values in columns "
                                "without a header; those cells were ignored", shown,
                                line=header_row, sheet=sheet))
    return RawTable(name, shown, tuple(header[i] for i in keep), tuple(out), header_row), problems


_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    """(first column, first row, last column, last row), 1-based, of ``F4:F5`` (or ``F4``)."""
    corners = [_REF.fullmatch(part) for part in ref.upper().split(":")]
    if not 1 <= len(corners) <= 2 or not all(corners):
        return None
    cols = [_column_number(m.group(1)) for m in corners if m]
    rows = [int(m.group(2)) for m in corners if m]
    return min(cols), min(rows), max(cols), max(rows)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def _letters(col: int) -> str:
    """The column letters of a 1-based column number (28 → AB)."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def _filled(value: Any) -> bool:
    return value is not None and bool(str(value).strip())


def _shown_text(value: Any, decimals: int) -> str:
    """A cell's value as a message shows it (escaped; an invalid one as it is)."""
    try:
        text = cell_text(value, decimals)[0]
    except ValueProblem:
        text = str(value)
    return _escaped(text)


def _merge_problems(merged: Collection[str], rows: Rows, data_rows: set[int], used: set[int],
                    header: list[str], shown: str, sheet: str, decimals: int) -> list[Problem]:
    """Warnings for the mapped cells of data rows that a merged range hides or empties.

    * A value stored in a cell of the range other than its first (KPI0758): Excel shows the
      first cell's value over the whole range, the file holds this one too, and it is read.
    * An empty cell of a range spanning rows whose value is in an earlier data row
      (KPI0755): Excel shows the value on every row of the range, the file holds it in the
      first only. Ranges starting in the title block or the header, ranges within one row
      and cells of columns the mapping ignores hide no data there."""
    out: list[Problem] = []
    if not merged or not data_rows:
        return out
    by_row = dict(rows)
    ordered = sorted(data_rows)
    for ref in merged:
        bounds = _bounds(ref)
        if bounds is None:
            continue
        c1, r1, c2, r2 = bounds
        columns = [i for i in sorted(used) if c1 - 1 <= i < c2]
        if not columns:
            continue
        top = by_row.get(r1, ())
        value = top[c1 - 1] if c1 - 1 < len(top) else None
        text = _shown_text(value, decimals) if _filled(value) else None
        spills = r2 > r1 and r1 in data_rows and text is not None  # a title or header range not
        span = ref.upper().replace("$", "")
        first = f"{_letters(c1)}{r1}"
        for n in ordered[bisect.bisect_left(ordered, r1):bisect.bisect_right(ordered, r2)]:
            row = by_row.get(n, ())
            for i in columns:
                if n == r1 and i == c1 - 1:
                    continue  # the range's own value
                place = f"{shown} row {n}, column {_letters(i + 1)} ({header[i]})"
                if i < len(row) and _filled(row[i]):
                    hidden = _shown_text(row[i], decimals)
                    what = (f"the value {text} of {first}" if text is not None
                            else f"nothing (its first cell {first} is empty)")
                    out.append(warning(
                        codes.HIDDEN_UNDER_MERGE, f"{place}: holds {hidden}, which Excel does "
                        f"not show: the cell is under the merged range {span}, which shows {what}; "
                        "it was read as stored: unmerge the range to see it, then keep or clear "
                        "it", shown, line=n, column=header[i], col=i + 1,
                        value=hidden, sheet=sheet))
                elif spills and n > r1:
                    where = f"row {r1}" if i == c1 - 1 else f"cell {first}"
                    out.append(warning(
                        codes.MERGED_CELL, f"{place}: empty: the cell is part of the merged range "
                        f"{span}, whose value {text} is in {where}; unmerge the range and fill "
                        "each row if the value belongs to each",
                        shown, line=n, column=header[i], col=i + 1, sheet=sheet))
    return out


def _runs(numbers: Collection[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive numbers: {3, 4, 5, 9} -> [(3, 5), (9, 9)]."""
    out: list[tuple[int, int]] = []
    for n in sorted(numbers):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _hidden_problems(hidden: Hidden, rows: Rows, data_rows: set[int], used: set[int],
                     header: list[str], header_row: int, shown: str, sheet: str
                     ) -> list[Problem]:
    """A warning (KPI0757) for each run of hidden sheet rows holding data rows, at its first
    data row, and for each hidden mapped column holding a value in a data row, at the header.
    They are read like the others: a row hidden in Excel (often an old or cancelled one) is
    never dropped, and never read without a word either."""
    out: list[Problem] = []
    if not data_rows:
        return out
    ordered = sorted(data_rows)
    for lo, hi in _runs(hidden.rows):
        inside = ordered[bisect.bisect_left(ordered, lo):bisect.bisect_right(ordered, hi)]
        if not inside:
            continue
        a, b, k = inside[0], inside[-1], len(inside)
        rows_text = f"row {a}" if a == b else f"rows {a}-{b}"
        count = "" if k == 1 else f" ({k} data rows)"
        out.append(warning(
            codes.HIDDEN_IN_EXCEL, f"{shown} {rows_text}: hidden in Excel (hidden, or left out "
            f"by a filter){count}; read like the visible rows, not skipped: if they are not to "
            "be imported (old or cancelled rows), delete them from the sheet",
            shown, line=a, sheet=sheet))
    for i in sorted(used):
        if i + 1 not in hidden.cols:
            continue
        if not any(i < len(r) and _filled(r[i]) for n, r in rows if n in data_rows):
            continue
        out.append(warning(
            codes.HIDDEN_IN_EXCEL, f"{shown} column {_letters(i + 1)} ({header[i]}): hidden in "
            "Excel; its values are read like those of the visible columns: check them in the "
            "workbook (unhide the column)", shown, line=header_row, column=header[i], col=i + 1,
            sheet=sheet))
    return out


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


def _cells(r: tuple[Any, ...], keep: list[int], used: set[int], header: list[str], n: int,
           shown: str, sheet: str, decimals: int, problems: list[Problem]
           ) -> tuple[list[str], bool]:
    cells: list[str] = []
    bad = False
    for i in keep:
        value = r[i] if i < len(r) and i in used else None
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
