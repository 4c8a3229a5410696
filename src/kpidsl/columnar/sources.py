"""Finding a data folder's files and reading its small tables; DuckDB is imported lazily.

Fact tables (deals, collections, a plan's own kinds) stay in DuckDB; the small
tables (payees, history, targets, inputs, credits, payments) become ordinary
:class:`RawTable` values for the reference binder. Parquet cells are shown to
the binder as text (``CAST(... AS VARCHAR)``), which is exact for DECIMAL,
DATE and BOOLEAN columns; a floating-point column is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.diagnostics import Diagnostic

FORMATS = ("csv", "parquet")
FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL")
FIELD_LIMIT = 131_072  # the csv module's default field_size_limit(): a longer line is left to it


@attrs.frozen
class SourceFile:
    """One table's file: its stem, path, format and the name diagnostics show."""

    name: str
    path: Path
    format: str
    display: str


def find_sources(folder: Path, fmt: str = "auto") -> dict[str, SourceFile]:
    """Every table of ``folder`` in one format (``auto``: Parquet when every table has it)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower()[1:] in FORMATS)
    by_format = {f: {p.stem: p for p in files if p.suffix.lower() == "." + f} for f in FORMATS}
    if fmt == "auto":
        csv_names, pq_names = set(by_format["csv"]), set(by_format["parquet"])
        fmt = "parquet" if pq_names and csv_names <= pq_names else "csv"
    chosen = by_format[fmt]
    return {n: SourceFile(n, p, fmt, f"{folder.name}/{p.name}") for n, p in sorted(chosen.items())}


def unread(folder: Path, sources: Mapping[str, SourceFile]) -> list[Diagnostic]:
    """KPI0715 for each entry of ``folder`` that is not one of ``sources`` (as the CSV reader
    reports them); hidden files and the import report are passed over. A CSV file beside the Parquet file of the
    same table (``deals.csv`` and ``deals.parquet``) is not read either, and says so, naming
    the file read in its place: an edited CSV file is never paid on its old Parquet twin silently."""
    from kpidsl.data import codes
    from kpidsl.data.csvread import not_read
    from kpidsl.data.folder import passed_over
    from kpidsl.diagnostics import warning
    from kpidsl.source import Span

    fmt = next(iter(sources.values())).format if sources else "csv"
    chosen = {s.path.name for s in sources.values()}
    twins = {s.name: s for s in sources.values()} if fmt == "parquet" else {}
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if passed_over(entry.name) or entry.name in chosen:
            continue
        shown = f"{folder.name}/{entry.name}"
        twin = twins.get(entry.stem) if entry.is_file() and entry.suffix.lower() == ".csv" else None
        if twin is not None:
            msg = (f"{shown} was not read: the tables of this data folder are read from its .{fmt} "
                   f"files ({twin.display} is read in its place)")
            out.append(warning(codes.NOT_READ, msg, Span(shown, 0, 1, 0, 2),
                               help=f"if {entry.name} holds the newer data, write {twin.path.name} from it again; "
                                    "otherwise move it out of the data folder"))
            continue
        out.append(not_read(entry, shown, fmt))
    return out


def csv_header(path: Path) -> tuple[str, ...] | None:
    """A CSV file's header as written (UTF-8, the first record), or None when it cannot be
    read so: DuckDB names an empty header cell ``column8``, where the reference reader
    reports it, so the two must agree before the columnar stage reads the file."""
    import csv
    import io

    with path.open("rb") as f:
        head = f.read(1 << 16)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for record in csv.reader(io.StringIO(text, newline="")):
        return tuple(record)
    return None


CHUNK = 1 << 23
QUOTE_SPACES = (b' "', b'" ')


def csv_lines(path: Path) -> int | str:
    """A CSV file's number of lines up to its last non-blank one, counted as the reference
    reader counts them (line ends CR LF, LF or CR); or why DuckDB may read its cells differently.

    DuckDB's row ``n`` is cited as line ``n + 2`` (warnings, explanations): that holds when
    the file has one line per row and the header, i.e. no blank line (the reference counts
    it, DuckDB skips it) and no line break inside a cell. DuckDB also drops the spaces
    between a quoted cell and its comma, where the reference reads ``, "x"`` as the text
    ``"x"`` and refuses ``"x" ,``: a space next to a quote is left to the reference."""
    lf = cr = crlf = 0
    content, prev, tail = False, b"", b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if prev + chunk[:1] in QUOTE_SPACES or (b'"' in chunk and any(q in chunk for q in QUOTE_SPACES)):
                return "a space next to a quote (the reference keeps it, DuckDB drops it)"
            lf += chunk.count(b"\n")
            if b"\r" in chunk or prev == b"\r":
                cr += chunk.count(b"\r")
                crlf += chunk.count(b"\r\n") + (prev + chunk[:1] == b"\r\n")
            end = len(chunk)
            while end and chunk[end - 1] in (10, 13):  # the trailing line ends (few)
                end -= 1
            tail = chunk[end:] if end else tail + chunk
            content, prev = content or end > 0, chunk[-1:]
    inner = lf + cr - crlf - (tail.count(b"\n") + tail.count(b"\r") - tail.count(b"\r\n"))
    return inner + 1 if content else 0


def layout_problem(display: str, lines: int | str, rows: int) -> str | None:
    """Why a CSV fact file of ``lines`` (:func:`csv_lines`) read as ``rows`` rows goes to the
    reference reader, or None."""
    if isinstance(lines, str):
        return f"{display}: {lines}"
    if lines != rows + 1:
        return (f"{display}: {lines} lines for {rows} rows and a header (blank lines, or line "
                "breaks in cells: line numbers would differ)")
    return None


DEFAULT_MEMORY_MB = 256


class SettingError(ValueError):
    """A setting from the environment that cannot be used (its name and value are in the message)."""


def memory_mb(setting: int | None = None) -> int:
    """The memory limit of kpidsl's DuckDB connections, in MB: ``setting``, else the
    environment's ``KPIDSL_MEMORY_MB``, else :data:`DEFAULT_MEMORY_MB`; 0 for DuckDB's own
    default (80% of the machine's memory).

    The typed fact tables are kept in DuckDB's memory; past the limit DuckDB writes what it
    holds to temporary files (:func:`spill_dir`) and reads them back as needed, which the
    operating system's file cache makes cheap: at 5M deals from CSV a first run peaked at
    ~750 MB with no limit and under 500 MB with 256 MB (docs/performance.md)."""
    import os

    if setting is None:
        text = os.environ.get("KPIDSL_MEMORY_MB", "").strip()
        if not text:
            return DEFAULT_MEMORY_MB
        if not text.isascii() or not text.isdigit():
            raise SettingError(f"KPIDSL_MEMORY_MB={text!r} is not a whole number of megabytes "
                               "(0 for DuckDB's own limit)")
        setting = int(text)
    if setting < 0:
        raise SettingError(f"a memory limit of {setting} MB: give 0 (DuckDB's own limit) or more")
    return setting


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB's out-of-memory error: the limit's doing, not the file's, so
    never a reason to send a file to the reference (which would take far more memory)."""
    return type(exc).__name__ == "OutOfMemoryException"


def spill_dir() -> str:
    """A folder for DuckDB's temporary files that is this connection's alone, in the system's
    temporary folder (DuckDB's own default is ``.tmp`` in the working directory). DuckDB makes
    it when it first needs it and removes it when the connection closes."""
    import tempfile
    import uuid

    return str(Path(tempfile.gettempdir()) / f"kpidsl-duckdb-{uuid.uuid4().hex}")


def connect(threads: int | None = None, memory: int | None = None) -> Any:
    """A fresh in-memory DuckDB connection (imported here, never at module import), its memory
    limited to :func:`memory_mb` (``memory``: the limit in MB; 0 for DuckDB's own)."""
    import duckdb

    limit = memory_mb(memory)
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET temp_directory = {literal(spill_dir())}")
    _in_utc(con)
    if limit:
        con.execute(f"SET memory_limit = '{limit}MB'")
    con.execute("SET preserve_insertion_order = true")  # rowid is a CSV row's line minus 2
    con.execute("SET enable_progress_bar = false")  # DuckDB draws one on a terminal past 2 s
    # freed memory goes back to the system while a query runs, not only at its end: a first
    # run from CSV at 5M deals peaked at a median 776 MB instead of 859 MB, in the same time
    try:
        con.execute("SET allocator_background_threads = true")
    except duckdb.Error:  # an allocator without them
        pass
    return Limited(con) if limit else con


def _in_utc(con: Any) -> None:
    """A TIMESTAMPTZ cell reads as text in the session's time zone, by default the process's
    (TZ): fixed, so that the same file reads the same on every machine. A session setting:
    each cursor (:func:`session`) is set too."""
    import duckdb

    try:
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error:  # a DuckDB without time zones (no ICU): it shows them in UTC anyway
        pass


def session(con: Any) -> Any:
    """A cursor of ``con``: its own connection to the same database, for another thread (a
    DuckDB connection serves one statement at a time), in UTC as ``con`` is. A cursor does
    not inherit the session's time zone: it would show a TIMESTAMPTZ in the machine's."""
    cur = con.cursor()
    _in_utc(cur)
    return cur


class Limited:
    """A DuckDB connection under kpidsl's memory limit: a statement that needs more than the
    limit allows (DuckDB cannot spill every operator: a sort of 5M rows into a new table ran
    out at 256 MB) is run again with DuckDB's own limit, which the connection keeps from
    then on. The limit costs memory, never a result. Everything else is the connection's."""

    def __init__(self, con: Any, lifted: list[bool] | None = None) -> None:
        self._con = con
        self._lifted = lifted if lifted is not None else [False]  # shared with its cursors

    def execute(self, query: str, *args: Any) -> Any:
        try:
            return self._con.execute(query, *args)
        except Exception as exc:
            if self._lifted[0] or not out_of_memory(exc):
                raise
        self._con.execute("RESET memory_limit")  # the database's setting: every cursor's too
        self._lifted[0] = True
        return self._con.execute(query, *args)

    def cursor(self) -> Limited:
        return Limited(self._con.cursor(), self._lifted)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def relation_sql(src: SourceFile, rows: bool = False) -> str:
    """The SQL table function reading ``src``; CSV is read as text, header on line 1.

    CSV options as the reference reader reads: no comment lines, no skipped lines, and no
    line longer than the CSV module's cell limit (a longer cell stops the reference's read).

    ``rows``: a Parquet file's rows also give ``file_row_number`` (0-based)."""
    import csv

    path = str(src.path).replace("'", "''")
    if src.format == "parquet":
        return f"read_parquet('{path}', file_row_number = true)" if rows else f"read_parquet('{path}')"
    return (f"read_csv('{path}', all_varchar = true, header = true, strict_mode = true, "
            "quote = '\"', escape = '\"', delim = ',', null_padding = false, comment = '', skip = 0, "
            f"max_line_size = {min(csv.field_size_limit(), FIELD_LIMIT)})")


class SourceChanged(RuntimeError):
    """A fact file read in place (not copied) changed after it was checked: load the folder again."""


def file_stamp(path: Path, source: bool = True) -> tuple[int, ...]:
    """What says a file has not changed since: its size and modification time (ns) and, for a
    ``source`` file (not a cache's typed copy), its device, inode and change time too. A file
    replaced by one of the same size, its modification time set back, still has another inode
    or change time; a typed copy's change time moves when another run marks it used (its
    access time), so a copy is known by its size and modification time (it is never rewritten
    in place: :mod:`.cache`)."""
    st = path.stat()
    if not source:
        return st.st_size, st.st_mtime_ns
    return st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_ctime_ns


def column_types(con: Any, src: SourceFile) -> dict[str, str]:
    """Column name -> DuckDB type name, in file order."""
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation_sql(src)}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def raw_table(con: Any, src: SourceFile) -> RawTable:
    """A small Parquet table as text cells for the reference binder (rows numbered from 2, in
    file order). A row whose cells are all empty after stripping (empty texts, NULLs) is
    skipped, as the CSV reader skips a blank line or a line of empty cells; the rows after it
    keep their own numbers (a skipped row still counts, as a blank line does in a CSV file)."""
    types = column_types(con, src)
    cols = ", ".join(_as_text(n, t) for n, t in types.items())
    rows = con.execute(f"SELECT {cols} FROM {relation_sql(src)}").fetchall()
    header = tuple(types)
    width = tuple(range(1, len(header) + 1))
    display = src.display
    out = tuple(RawRow(RowRef(display, line), cells, width)
                for line, row in enumerate(rows, 2)  # every cell is VARCHAR (see _as_text)
                if any(cells := tuple(["" if c is None else c.strip() for c in row])))
    return RawTable(src.name, src.display, header, out, 1)


def folder_tables(folder: Path, sources: Mapping[str, SourceFile], tables: Mapping[str, RawTable],
                  unreadable: Iterable[str] = ()) -> Any:
    """``tables`` as read from ``folder`` (a :class:`~kpidsl.data.folder.FolderTables`): the
    binder then reports a fact file the plan reads that is not there (KPI0714), named with the
    folder's format (``deals.parquet``), rather than take the kind as having no facts.
    ``unreadable``: the stems of files that are there but could not be read (not missing)."""
    from kpidsl.data.folder import FolderTables

    fmt = next(iter(sources.values())).format if sources else "csv"
    return FolderTables(folder.name, tables, "." + fmt, unreadable)


def column_cells(tables: list[RawTable], column: str) -> set[str]:
    """The non-empty cells (stripped) of ``column`` in ``tables`` that have it."""
    out: set[str] = set()
    for table in tables:
        if column in table.header:
            i = table.header.index(column)
            out.update(c for row in table.rows if len(row.cells) > i and (c := row.cells[i].strip()))
    return out


def _as_text(name: str, type_name: str) -> str:
    q = quote(name)
    if type_name.upper() == "BOOLEAN":
        return f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END"
    return f"CAST({q} AS VARCHAR)"


# the numbers the small tables hold (the rest of their cells are ids, names and periods)
NUMBER_COLUMNS = {"targets": ("value",), "inputs": ("value",), "payments": ("amount",), "credits": ("share",)}


def float_problems(con: Any, model: Any, sources: Mapping[str, SourceFile]) -> list[Diagnostic]:
    """KPI0753 for each Parquet column the plan reads as a number (see :func:`float_errors`)."""
    typed = {n: (s.display, column_types(con, s)) for n, s in sources.items() if s.format == "parquet"}
    return float_errors(model, typed)


def float_errors(model: Any, typed: Mapping[str, tuple[str, Mapping[str, str]]]) -> list[Diagnostic]:
    """KPI0753 for each column of a typed file (table -> (shown name, column types)) that the
    plan reads as a number (a fact field, a target, input, payment or share) and that is
    stored as binary floating point: its values cannot carry most cent amounts exactly, so
    they are not read as if they were decimals."""
    from kpidsl.data.bind import route

    out: list[Diagnostic] = []
    for name, (display, types) in sorted(typed.items()):
        role = route(model, name)
        if role is None:
            continue
        read = tuple(model.kinds[role[5:]].fields) if role.startswith("fact:") else NUMBER_COLUMNS.get(role, ())
        out.extend(float_column_error(display, col, column, type_name)
                   for col, (column, type_name) in enumerate(types.items(), start=1)
                   if column in read and type_name.upper() in FLOAT_TYPES)
    return out


def float_column_error(display: str, col: int, column: str, type_name: str) -> Diagnostic:
    """KPI0753 for column ``column`` (the ``col``-th) of a typed file, stored as binary floating point."""
    from kpidsl.diagnostics import error
    from kpidsl.importer.codes import FLOAT_COLUMN
    from kpidsl.source import Span

    msg = (f"{display} column {column} is {type_name} (binary floating point): most cent "
           "amounts cannot be held exactly, so its values were not read as decimals")
    return error(FLOAT_COLUMN, msg, Span(display, 1, col, 1, col + len(column)),
                 help="store it as DECIMAL (e.g. DECIMAL(18,2)) or as text; `kpidsl import` "
                      "can convert it (floats = \"convert\")")


def float_columns(types: Mapping[str, str]) -> list[str]:
    """Columns stored as binary floating point, which cannot hold cents exactly."""
    return [n for n, t in types.items() if t.upper() in FLOAT_TYPES]


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
