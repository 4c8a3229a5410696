"""Reading CSV files and data folders into raw tables, reporting every problem.

Files are UTF-8 (a byte-order mark is dropped). A file that is not UTF-8 but
decodes cleanly as GB18030 (the usual export of Chinese spreadsheets) is read
with a warning naming the encoding; anything else is refused with the offset of
the first bad byte. Line numbers are physical lines as an editor shows them
(header = line 1; a quoted cell spanning lines counts every line; blank lines
are skipped but counted). ``RawRow.cols`` holds each cell's CSV column number.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.source import Span

from . import codes
from .model import RawRow, RawTable, RowRef
from .records import table_from_test, tables_from_records

__all__ = ["decode", "read_csv", "read_folder", "table_from_test", "tables_from_records"]

_BOM = b"\xef\xbb\xbf"


def _at(file: str, line: int, col: int = 1, width: int = 1) -> Span:
    return Span(file, line, col, line, col + max(width, 1))


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def decode(data: bytes, display: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of a file's bytes: UTF-8 (BOM stripped), else clean GB18030 with a warning."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = f"{display} is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)"
        return None, [error(codes.UNDECODABLE, msg, _at(display, 1), "UTF-16 byte-order mark")]
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        line, col = _byte_position(data, bad)
        msg = (
            f"{display} is not UTF-8 text (byte 0x{data[bad]:02x} at byte offset {bad}, "
            f"line {line}) nor GB18030; save it as UTF-8"
        )
        return None, [error(codes.UNDECODABLE, msg, _at(display, line, col), "not UTF-8")]
    line, col = _byte_position(data, bad)
    msg = f"{display} is not UTF-8; it was read as GB18030 (first non-UTF-8 byte on line {line})"
    diag = warning(
        codes.ENCODING_DETECTED,
        msg,
        _at(display, line, col),
        "GB18030",
        help="save the file as UTF-8 to silence this warning",
    )
    return text, [diag]


def _records(text: str, display: str) -> tuple[list[tuple[int, list[str]]], list[Diagnostic]]:
    """(first physical line, cells) of every non-blank record of CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: list[tuple[int, list[str]]] = []
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return out, []
        except csv.Error as exc:
            line = reader.line_num
            msg = f"{display} line {line}: malformed CSV ({exc}); the rest of the file was not read"
            return out, [error(codes.MALFORMED_CSV, msg, _at(display, line), "malformed CSV")]
        first, last = last + 1, reader.line_num
        stripped = [c.strip() for c in cells]
        if any(stripped):
            out.append((first, stripped))


def _check_header(header: list[str], line: int, display: str, rows: int) -> list[Diagnostic]:
    skipped = f"; the file's {rows} data row(s) were not read"
    diags: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            msg = f"{display} line {line}: column {i} has an empty header name{skipped}"
            diags.append(error(codes.BAD_HEADER, msg, _at(display, line, i), "empty name"))
        elif name in seen:
            msg = f"{display} line {line}: column '{name}' appears twice (columns {seen[name]} and {i}){skipped}"
            diags.append(error(codes.DUPLICATE_COLUMN, msg, _at(display, line, i), "duplicate"))
        else:
            seen[name] = i
    return diags


def parse_text(text: str, name: str, display: str) -> tuple[RawTable | None, list[Diagnostic]]:
    """A raw table from decoded CSV text (see the module docstring for the rules)."""
    records, diags = _records(text, display)
    if not records:
        msg = f"{display} is empty: a CSV file needs a header line naming its columns"
        return None, [*diags, error(codes.BAD_HEADER, msg, _at(display, 1), "no header")]
    (header_line, header), data = records[0], records[1:]
    header_diags = _check_header(header, header_line, display, len(data))
    if header_diags:
        return None, [*diags, *header_diags]
    rows: list[RawRow] = []
    for line, cells in data:
        if len(cells) != len(header):
            diags.append(_ragged(display, line, cells, header))
            continue
        cols = tuple(range(1, len(cells) + 1))
        rows.append(RawRow(RowRef(display, line), tuple(cells), cols))
    return RawTable(name, display, tuple(header), tuple(rows), header_line), diags


def _ragged(display: str, line: int, cells: list[str], header: list[str]) -> Diagnostic:
    more = len(cells) > len(header)
    what = "more" if more else "fewer"
    msg = (
        f"{display} line {line} has {len(cells)} cells but the header has {len(header)} "
        f"columns ({what}); the row was rejected"
    )
    hint = (
        'quote cells that contain commas ("1,234.50")'
        if more
        else "add the missing cells (an empty cell is just a comma)"
    )
    col = min(len(cells), len(header)) + (1 if more else 0)
    return error(codes.RAGGED_ROW, msg, _at(display, line, max(col, 1)), f"{what} cells", help=hint)


def read_csv(
    path: Path, name: str | None = None, display: str | None = None
) -> tuple[RawTable | None, list[Diagnostic]]:
    """Read one CSV file; ``display`` is the file name used in diagnostics and row refs."""
    shown = display if display is not None else path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read {shown}: {exc.strerror or exc}"
        return None, [error(codes.UNDECODABLE, msg, _at(shown, 1), "unreadable")]
    text, diags = decode(data, shown)
    if text is None:
        return None, diags
    table, more = parse_text(text, name if name is not None else path.stem, shown)
    return table, [*diags, *more]


def read_folder(
    path: Path, display: str | None = None
) -> tuple[dict[str, RawTable], list[Diagnostic]]:
    """Every ``*.csv`` file of a folder (sorted), keyed by file stem.

    Files are shown as ``<folder name>/<file name>`` (or ``display/<file name>``).
    """
    prefix = display if display is not None else path.name
    if not path.is_dir():
        msg = f"data folder {str(path)!r} not found"
        return {}, [error(codes.FOLDER_NOT_FOUND, msg, _at(prefix or str(path), 0), "")]
    tables: dict[str, RawTable] = {}
    diags: list[Diagnostic] = []
    for file in sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file()):
        shown = f"{prefix}/{file.name}" if prefix else file.name
        table, ds = read_csv(file, file.stem, shown)
        diags.extend(ds)
        if table is not None:
            tables[file.stem] = table
    return tables, diags
