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
import glob
import io
import re
from collections.abc import Iterator
from pathlib import Path

import attrs

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.source import Span

from . import codes
from .folder import FolderTables, passed_over
from .model import RawRow, RawTable, RowRef
from .records import table_from_test, tables_from_records

__all__ = ["decode", "read_csv", "read_folder", "table_from_test", "tables_from_records"]

_BOM = b"\xef\xbb\xbf"


def _at(file: str, line: int, col: int = 1, width: int = 1) -> Span:
    return Span(file, line, col, line, col + max(width, 1))


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """(line, byte column) of ``offset``, lines ending as the CSV reader ends them (CR LF, LF
    or a lone CR), so that the line is the one other diagnostics name."""
    before = data[:offset]
    line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
    return line, offset - (max(before.rfind(b"\n"), before.rfind(b"\r")) + 1) + 1


def _utf16_without_bom(data: bytes) -> bool:
    """Whether ``data`` looks like UTF-16 saved without a byte-order mark: it is valid UTF-8
    when its text is ASCII, so it would be read as text with a NUL beside every character.
    In its first 4 KiB, at least one byte in 16 is NUL (a Chinese text has fewer than ASCII),
    three in four of them at even offsets or at odd ones (a stray NUL in a UTF-8 cell, or a
    run of them, is neither)."""
    sample = data[:4096]
    nuls = sample.count(0)
    if len(sample) < 2 or nuls * 16 < len(sample):
        return False
    return max(sample[0::2].count(0), sample[1::2].count(0)) * 4 >= nuls * 3


def decode(data: bytes, display: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of a file's bytes: UTF-8 (BOM stripped), else clean GB18030 with a warning."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = f"{display} is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)"
        return None, [error(codes.UNDECODABLE, msg, _at(display, 1))]
    if _utf16_without_bom(data):
        msg = (
            f"{display} is UTF-16 text (without a byte-order mark); "
            "save it as UTF-8 (CSV UTF-8 in spreadsheet programs)"
        )
        return None, [error(codes.UNDECODABLE, msg, _at(display, 1))]
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        bad = exc.start
    try:
        text = data.decode("gb18030").removeprefix("\ufeff")  # GB18030's own byte-order mark
    except UnicodeDecodeError:
        line, col = _byte_position(data, bad)
        msg = (
            f"{display} is not UTF-8 text (byte 0x{data[bad]:02x} at byte offset {bad}, "
            f"line {line}) nor GB18030; save it as UTF-8"
        )
        return None, [error(codes.UNDECODABLE, msg, _at(display, line, col))]
    line, col = _byte_position(data, bad)
    msg = f"{display} is not UTF-8; it was read as GB18030 (first non-UTF-8 byte on line {line})"
    diag = warning(
        codes.ENCODING_DETECTED,
        msg,
        _at(display, line, col),
        help="save the file as UTF-8 to silence this warning",
    )
    return text, [diag]


Cells = tuple[str, ...]


@attrs.define
class _Records:
    """The non-blank records of CSV text, stripped: ``cells[i]`` starts on physical line
    ``lines[i]`` (two lists rather than a pair per record: less to allocate per row)."""

    lines: list[int] = attrs.field(factory=list)
    cells: list[Cells] = attrs.field(factory=list)
    read_to: int | None = None  # the last line read, when a malformed record stopped the read


def _records(text: str, display: str) -> tuple[_Records, list[Diagnostic]]:
    """Every non-blank record of CSV text, with its first physical line."""
    fast = _single_line_records(text)
    if fast is not None:
        return fast, []
    return _records_by_line(text, display)


def _single_line_records(text: str) -> _Records | None:
    """The records of a file whose every record is one physical line (the usual case);
    None if the CSV module finds an error or some quoted cell spans lines, which
    :func:`_records_by_line` then reads record by record to number lines and word the error.

    Every record takes at least one line, so as many records as lines means one line each:
    record ``n`` (blank ones included) is then on line ``n``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out = _Records()
    strip, line = str.strip, 0
    try:
        for line, cells in enumerate(reader, start=1):
            stripped = tuple(map(strip, cells))
            if any(stripped):
                out.lines.append(line)
                out.cells.append(stripped)
    except csv.Error:
        return None
    return out if reader.line_num == line else None


def _records_by_line(text: str, display: str) -> tuple[_Records, list[Diagnostic]]:
    """:func:`_records` one record at a time: line numbers of quoted cells spanning lines,
    and the read stopped at a malformed record or an over-long cell, with its error."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out = _Records()
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return out, []
        except csv.Error as exc:
            out.read_to = last
            header = out.cells[0] if out.cells else None
            if str(exc).startswith(_FIELD_LIMIT_ERROR):
                return out, [_overlong(text, last + 1, display, header)]
            if str(exc).startswith(_END_OF_DATA_ERROR):  # the line where it stopped is the last
                return out, [_never_closed(text, last + 1, display, header)]
            line = reader.line_num
            msg = f"{display} line {line}: malformed CSV ({exc}); the rest of the file was not read"
            return out, [error(codes.MALFORMED_CSV, msg, _at(display, line))]
        first, last = last + 1, reader.line_num
        stripped = tuple(c.strip() for c in cells)
        if any(stripped):
            out.lines.append(first)
            out.cells.append(stripped)


_FIELD_LIMIT_ERROR = "field larger than field limit"
_END_OF_DATA_ERROR = "unexpected end of data"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@attrs.frozen
class _LongCell:
    """Where the CSV module gave up on a cell longer than its limit."""

    column: int  # CSV column number
    quoted: bool
    stop_line: int  # physical line holding the character beyond the limit


def _line_offset(text: str, line: int) -> int:
    """Character offset where physical ``line`` (1-based) starts; lines end as the CSV module
    reads them (``\\r\\n``, ``\\r`` or ``\\n``)."""
    if line <= 1:
        return 0
    for n, m in enumerate(_LINE_BREAK.finditer(text), start=2):
        if n == line:
            return m.end()
    return len(text)


def _line_count(text: str) -> int:
    """Physical lines of ``text`` as an editor shows them."""
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (1 if text and not text.endswith(("\n", "\r")) else 0)


def _find_long_cell(text: str, line: int, limit: int) -> _LongCell | None:
    """The first cell of the record starting on ``line`` that grows beyond ``limit`` characters,
    following the CSV module's rules (a ``"`` opens a quoted cell only as its first character,
    ``""`` inside it is one character, every character of a quoted line break counts)."""
    pos, n, column = _line_offset(text, line), len(text), 1
    while True:
        size = 0
        quoted = text.startswith('"', pos)
        if quoted:
            pos += 1
            while pos < n:
                c = text[pos]
                if c == '"':
                    if not text.startswith('"', pos + 1):
                        pos += 1
                        break
                    pos += 1
                elif c == "\n" or (c == "\r" and not text.startswith("\n", pos + 1)):
                    line += 1
                size, pos = size + 1, pos + 1
                if size > limit:
                    return _LongCell(column, True, line)
        else:
            while pos < n and text[pos] not in ",\r\n":
                size, pos = size + 1, pos + 1
                if size > limit:
                    return _LongCell(column, False, line)
        if not text.startswith(",", pos):
            return None
        pos, column = pos + 1, column + 1


def _overlong(text: str, line: int, display: str, header: Cells | None) -> Diagnostic:
    """KPI0713 for a cell beyond the CSV module's field limit, in the record starting on ``line``
    (located like every bad cell: the row's first line and the cell's CSV column). The read
    stops there: the limit is kept, such a cell is a broken file rather than a value."""
    limit = csv.field_size_limit()
    end = _line_count(text)
    cell = _find_long_cell(text, line, limit)
    if cell is None:  # not expected: the CSV module's count and ours differ; say what is known
        cell = _LongCell(1, False, line)
    named = f" ({header[cell.column - 1]})" if header and cell.column <= len(header) else ""
    rest = f"line {line}" if line == end else f"lines {line} to {end}"
    where = f"{display} line {line}, column {cell.column}{named}"
    if cell.quoted and cell.stop_line > line:
        msg = (
            f"{where}: a quoted cell is still open on line {cell.stop_line}, after more than "
            f"{limit:,} characters (the limit for one cell); the rest of the file "
            f"({rest}) was not read"
        )
        hint = (
            'the `"` that opens this cell is probably never closed, so the cell swallowed the '
            'lines after it: close it (a quote inside a quoted cell is written `""`)'
        )
    else:
        msg = (
            f"{where}: a cell of more than {limit:,} characters (the limit for one cell); "
            f"the rest of the file ({rest}) was not read"
        )
        hint = "a cell this long is not a value a plan can use: shorten it or leave the text out"
    return error(codes.MALFORMED_CSV, msg, _at(display, line, cell.column), help=hint)


def _open_quote_column(text: str, line: int) -> int:
    """The CSV column of the quoted cell still open at the end of ``text``, in the record
    starting on ``line`` (a ``"`` opens a cell only as its first character, ``""`` inside
    it is a quote); 1 if there is none."""
    pos, n, column = _line_offset(text, line), len(text), 1
    while pos < n:
        if text.startswith('"', pos):
            end = pos + 1
            while True:
                end = text.find('"', end)
                if end < 0:
                    return column
                if not text.startswith('"', end + 1):
                    break
                end += 2
            pos = end + 1
        while pos < n and text[pos] not in ",\r\n":
            pos += 1
        if not text.startswith(",", pos):
            return 1
        pos, column = pos + 1, column + 1
    return 1


def _never_closed(text: str, line: int, display: str, header: Cells | None) -> Diagnostic:
    """KPI0713 for a quoted cell that is never closed, at the line of its record and its column
    (the CSV module stops at the end of the file): every line from there on was not read."""
    column = _open_quote_column(text, line)
    end = _line_count(text)
    named = f" ({header[column - 1]})" if header and column <= len(header) else ""
    rest = f"line {line}" if line == end else f"lines {line} to {end}"
    msg = (
        f"{display} line {line}, column {column}{named}: a quoted cell is never closed "
        f"(malformed CSV); the rest of the file ({rest}) was not read"
    )
    hint = 'close the `"` that opens this cell (a quote inside a quoted cell is written `""`)'
    return error(codes.MALFORMED_CSV, msg, _at(display, line, column), help=hint)


def _check_header(header: Cells, line: int, display: str, rows: int) -> list[Diagnostic]:
    skipped = f"; the file's {rows} data row(s) were not read"
    diags: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            msg = f"{display} line {line}: column {i} has an empty header name{skipped}"
            diags.append(error(codes.BAD_HEADER, msg, _at(display, line, i)))
        elif name in seen:
            msg = f"{display} line {line}: column '{name}' appears twice (columns {seen[name]} and {i}){skipped}"
            diags.append(error(codes.DUPLICATE_COLUMN, msg, _at(display, line, i)))
        else:
            seen[name] = i
    return diags


def _trim_unnamed(
    header: Cells, data: list[Cells], line: int, display: str
) -> tuple[Cells, list[Cells], list[Diagnostic]]:
    """Drop trailing unnamed columns whose cells are all empty (Excel adds them), with a warning.

    If any of their cells holds a value, nothing is dropped: the empty header
    name is then reported as an error by :func:`_check_header`.
    """
    named = len(header)
    while named and not header[named - 1]:
        named -= 1
    if named in (0, len(header)):
        return header, data, []
    if any(any(cells[named:]) for cells in data):
        return header, data, []
    trimmed = [cells[:named] if len(cells) <= len(header) else cells for cells in data]
    numbers = ", ".join(str(i) for i in range(named + 1, len(header) + 1))
    msg = (
        f"{display} line {line}: trailing column(s) {numbers} have no name and no values; "
        "they were ignored"
    )
    span = _at(display, line, named + 1)
    diag = warning(codes.EXTRA_COLUMNS, msg, span, help="delete the empty columns in the spreadsheet")
    return header[:named], trimmed, [diag]


def parse_text(text: str, name: str, display: str) -> tuple[RawTable | None, list[Diagnostic]]:
    """A raw table from decoded CSV text (see the module docstring for the rules)."""
    records, diags = _records(text, display)
    if not records.cells and diags:  # the read stopped before the header line: KPI0713 says where
        return None, diags
    if not records.cells:
        msg = f"{display} is empty: a CSV file needs a header line naming its columns"
        return None, [*diags, error(codes.BAD_HEADER, msg, _at(display, 1))]
    header_line, header = records.lines[0], records.cells[0]
    header, data, trimmed = _trim_unnamed(header, records.cells[1:], header_line, display)
    diags.extend(trimmed)
    header_diags = _check_header(header, header_line, display, len(data))
    if header_diags:
        return None, [*diags, *header_diags]
    rows = _raw_rows(records.lines[1:], data, header, display, diags)
    dropped = _dropped(records.lines[1:], data, header, display) if len(rows) < len(data) else ()
    return RawTable(name, display, header, rows, header_line, dropped, records.read_to), diags


def _raw_rows(
    lines: list[int], data: list[Cells], header: Cells, display: str, diags: list[Diagnostic]
) -> tuple[RawRow, ...]:
    """The rows with a cell per column; each other row is reported (KPI0705) and left out.
    Every row has the same CSV column numbers, so they share one ``cols`` tuple."""
    width = len(header)
    cols = tuple(range(1, width + 1))
    rows = tuple(
        [
            RawRow(RowRef(display, line), cells, cols)
            for line, cells in zip(lines, data, strict=True)
            if len(cells) == width
        ]
    )
    if len(rows) < len(data):
        diags.extend(
            _ragged(display, line, cells, header)
            for line, cells in zip(lines, data, strict=True)
            if len(cells) != width
        )
    return rows


def _dropped(lines: list[int], data: list[Cells], header: Cells, display: str) -> tuple[RawRow, ...]:
    """The rows :func:`_raw_rows` left out (KPI0705), their cells as read."""
    width = len(header)
    return tuple(RawRow(RowRef(display, line), cells, tuple(range(1, len(cells) + 1)))
                 for line, cells in zip(lines, data, strict=True) if len(cells) != width)


def _ragged(display: str, line: int, cells: Cells, header: Cells) -> Diagnostic:
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
    return error(codes.RAGGED_ROW, msg, _at(display, line, max(col, 1)), help=hint)


def read_csv(
    path: Path, name: str | None = None, display: str | None = None
) -> tuple[RawTable | None, list[Diagnostic]]:
    """Read one CSV file; ``display`` is the file name used in diagnostics and row refs."""
    shown = display if display is not None else path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"cannot read {shown}: {exc.strerror or exc}"
        return None, [error(codes.UNDECODABLE, msg, _at(shown, 1))]
    text, diags = decode(data, shown)
    if text is None:
        return None, diags
    table, more = parse_text(text, name if name is not None else path.stem, shown)
    return table, [*diags, *more]


def read_folder(path: Path, display: str | None = None) -> tuple[FolderTables, list[Diagnostic]]:
    """Every ``*.csv`` file of a folder (sorted), keyed by file stem.

    Files are shown as ``<folder name>/<file name>`` (or ``display/<file name>``).
    A folder named ``*.csv`` is an error; any other file or folder is reported
    as not read (a warning); hidden files (``.DS_Store``) and ``import-report.json`` are skipped.
    """
    prefix = display if display is not None else path.name
    tables = FolderTables(prefix)
    if not path.is_dir():
        msg = f"data folder {str(path)!r} not found"
        return tables, [error(codes.FOLDER_NOT_FOUND, msg, _at(prefix or str(path), 0))]
    diags: list[Diagnostic] = []
    for entry, shown in csv_files(path, prefix, diags):
        table, ds = read_csv(entry, entry.stem, shown)
        diags.extend(ds)
        if table is not None:
            tables[entry.stem] = table
        else:
            tables.unreadable.add(entry.stem)
    return tables, diags


def csv_files(path: Path, prefix: str, diags: list[Diagnostic]) -> Iterator[tuple[Path, str]]:
    """The ``*.csv`` files of the folder ``path`` (sorted by name), each with the name it is
    shown by (``prefix/name``); every other entry is KPI0715 in ``diags`` (hidden files and
    ``import-report.json`` are passed over). Of two files of one table (``deals.CSV`` and
    ``deals.csv``), the last by name is read and the other is KPI0715 too."""
    found: list[tuple[Path, str]] = []
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        shown = f"{prefix}/{entry.name}" if prefix else entry.name
        if passed_over(entry.name):
            continue
        if entry.suffix.lower() != ".csv" or not entry.is_file():
            diags.append(not_read(entry, shown))
            continue
        found.append((entry, shown))
    read = {entry.stem: entry for entry, _ in found}
    for entry, shown in found:
        if read[entry.stem] is not entry:
            diags.append(not_read(entry, shown))
            continue
        yield entry, shown


def _read_instead(entry: Path, fmt: str) -> str | None:
    """The name of the file read as ``entry``'s table when ``entry`` is a second file of it
    (``deals.CSV`` beside ``deals.csv``: the last by name is read), else None."""
    if entry.suffix.lower() != f".{fmt}":
        return None
    names = sorted(
        p.name
        for p in entry.parent.glob(f"{glob.escape(entry.stem)}.*")
        if p.stem == entry.stem and p.suffix.lower() == f".{fmt}" and p.is_file()
    )
    return names[-1] if names and names[-1] != entry.name else None


def not_read(entry: Path, shown: str, fmt: str = "csv") -> Diagnostic:
    """KPI0715 for a file or folder of the data folder that is not one of its ``fmt`` tables."""
    span = _at(shown, 0)
    if entry.is_dir() and entry.suffix.lower() == f".{fmt}":
        msg = f"{shown} is a folder, not a {fmt.upper()} file: its contents were not read"
        return error(codes.NOT_READ, msg, span, help=f"put the {fmt.upper()} file itself in the data folder")
    if entry.is_dir():
        msg = f"{shown} is a folder and was not read: kpidsl reads the .{fmt} files of the data folder"
        return warning(codes.NOT_READ, msg, span)
    read = _read_instead(entry, fmt)
    if read is not None:
        shown_read = f"{shown[: len(shown) - len(entry.name)]}{read}"
        msg = (
            f"{shown} was not read: it is a second file of table '{entry.stem}', "
            f"and {shown_read} is read"
        )
        return error(codes.NOT_READ, msg, span, help="merge the files into one, or move one out of the folder")
    if fmt != "csv":
        msg = f"{shown} was not read: the tables of this data folder are read from its .{fmt} files"
        return warning(codes.NOT_READ, msg, span, help="or move it out of the data folder")
    msg = (
        f"{shown} was not read: kpidsl reads .csv files from a data folder; "
        "convert it with `kpidsl import`"
    )
    return warning(codes.NOT_READ, msg, span, help="or move it out of the data folder")
