"""``kpidsl validate`` without a plan on a large folder: the fact tables checked in DuckDB.

The generic checks (:mod:`.checks`, and the typed columns of :func:`.validate.rows_of`)
build a Python row per row of every file: at a million deals 36 s and 2.8 GB. Here the
small tables (payees, history, targets, inputs, credits, payments) are read as always,
and each other table (deals, collections, a plan's own kinds: the *bulk* tables) is read
by DuckDB as text, where the rows the Python checks could say anything about are found:

* a cell the built-in typing could refuse (the same number pattern, ISO dates of
  years 1 to 9999), an empty required cell, a row of empty cells;
* every row of a repeated key (the key stripped as Python strips it);
* a payee that is not among the payees' kept ids;
* a collection whose deal is not the key of a deal row found with nothing to say
  (a missing deal, or one that may be rejected: its warning depends on it).

Only those rows are then read from the file by the reference reader's rules
(:func:`kpidsl.columnar.worded.read_rows`), with what their problems depend on:
the rows of the same key as Python reads it, the deals their collections and the
credits name. Every other row is one the checks keep without a word, so running the
same checks on the small tables and these rows gives the whole folder's problems,
word for word; rows read per file are DuckDB's counts. Anything the reading of a
file could word (an encoding, a ragged or malformed row, blank lines, line breaks in
cells, an odd header, a floating-point column...) sends the folder to the reference
path instead (:func:`read_bulk` returns why).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from kpidsl.data.folder import FolderTables
from kpidsl.data.model import RawRow, RawTable
from kpidsl.diagnostics import Diagnostic

from .schema import TABLES, schema_for

if TYPE_CHECKING:
    from kpidsl.columnar.sources import SourceFile

# the tables read in full in Python: a folder has few of their rows
SMALL = frozenset({"payees", "payee_history", "targets", "inputs", "credits", "payments"})
CHUNK = 1 << 23


@attrs.frozen
class Bulk:
    """A folder as :func:`kpidsl.api.load_data` reads it, but for the bulk tables only their
    rows with something to say (``rows``: how many each has in all)."""

    tables: FolderTables
    diagnostics: tuple[Diagnostic, ...]
    types: Mapping[str, tuple[str, Mapping[str, str]]]
    rows: Mapping[str, int]


def bulk_sources(folder: Path) -> dict[str, SourceFile]:
    """The folder's files (table -> :class:`~kpidsl.columnar.sources.SourceFile`) that are
    bulk tables, in the format it is read in."""
    from kpidsl.columnar.sources import find_sources

    return {n: s for n, s in find_sources(folder).items() if n not in SMALL}


def wants_bulk(folder: Path) -> bool:
    """``engine="auto"``: DuckDB is installed and the bulk tables' files are large (as
    :func:`kpidsl.columnar.run.wants_columnar`: :data:`~kpidsl.columnar.run.LARGE_BYTES`)."""
    import importlib.util

    from kpidsl.columnar.run import LARGE_BYTES  # read at each call (tests lower it)

    try:
        if importlib.util.find_spec("duckdb") is None:
            return False
    except (ImportError, ValueError):  # pragma: no cover
        return False
    if not folder.is_dir():
        return False
    return sum(s.path.stat().st_size for s in bulk_sources(folder).values()) >= LARGE_BYTES


@attrs.define
class _Table:
    """A bulk table in DuckDB: ``sql`` holds per row its key ``k`` (text as Python strips it),
    the deal it names ``d`` (collections) and ``bad``; ``pos`` is a row's 0-based position."""

    name: str
    src: SourceFile  # display as the reference reader shows it
    header: tuple[str, ...]
    sql: str
    pos: str
    rows: int = 0
    payees: bool = False  # ``p``: the payee, checked against the payees' kept ids


def read_bulk(folder: Path) -> Bulk | str:
    """The folder read for :func:`.validate.validate_generic` with its bulk tables checked in
    DuckDB, or why it must be read in full (a text)."""
    from kpidsl.columnar.sources import connect, find_sources

    if not folder.is_dir():
        return "not a folder"
    sources = find_sources(folder)
    fmt = next(iter(sources.values())).format if sources else "csv"
    con = connect()
    try:
        got = _parquet_folder(con, folder, sources) if fmt == "parquet" else _csv_folder(folder)
        if isinstance(got, str):
            return got
        tables, diags, types, bulk_files = got
        return _check(con, tables, diags, types, bulk_files)
    finally:
        con.close()


def _csv_folder(folder: Path) -> tuple[FolderTables, list[Diagnostic], dict[str, Any], dict[str, SourceFile]] | str:
    """:func:`kpidsl.data.csvread.read_folder`, the bulk tables' files left out (their
    :class:`SourceFile`, shown as that reader shows them, are returned apart)."""
    from kpidsl.columnar.sources import SourceFile
    from kpidsl.data.csvread import csv_files, read_csv

    tables = FolderTables(folder.name)
    diags: list[Diagnostic] = []
    bulk: dict[str, SourceFile] = {}
    stems: set[str] = set()
    for entry, shown in csv_files(folder, folder.name, diags):
        if entry.stem in stems:  # deals.csv and deals.CSV: one table to the reader, the last read
            return f"two files of table {entry.stem}"
        stems.add(entry.stem)
        if entry.stem not in SMALL:
            bulk[entry.stem] = SourceFile(entry.stem, entry, "csv", shown)
            continue
        table, ds = read_csv(entry, entry.stem, shown)
        diags.extend(ds)
        if table is not None:
            tables[entry.stem] = table
    return tables, diags, {}, bulk


def _parquet_folder(con: Any, folder: Path, sources: Mapping[str, SourceFile]
                    ) -> tuple[FolderTables, list[Diagnostic], dict[str, Any], dict[str, SourceFile]]:
    """:func:`kpidsl.api._parquet_data`, the bulk tables left out."""
    from kpidsl.columnar.sources import column_types, folder_tables, raw_table, unread

    tables = folder_tables(folder, sources, {n: raw_table(con, s) for n, s in sources.items() if n in SMALL})
    types = {n: (s.display, column_types(con, s)) for n, s in sources.items()}
    bulk = {n: s for n, s in sources.items() if n not in SMALL}
    return tables, list(unread(folder, sources)), types, bulk


def _check(con: Any, tables: FolderTables, diags: list[Diagnostic], types: dict[str, Any],
           files: Mapping[str, SourceFile]) -> Bulk | str:
    """The bulk tables of ``files`` checked in DuckDB, their rows with something to say read
    by the reference reader's rules and added to ``tables``."""
    from kpidsl.columnar.worded import read_rows

    from .checks import dedupe
    from .validate import _float_columns, rows_of

    floats = {d.span.file for d in _float_columns(types)}
    if any(src.display in floats for src in files.values()):
        return "a floating-point column in a bulk table"
    payees = "payees" in tables
    if payees:
        kept, _ = dedupe("payees", rows_of(tables["payees"])[0], schema_for("payees").key)
        ids = sorted({r.values.get("id", "") for r in kept})
        con.execute("CREATE OR REPLACE TABLE _bulk_payees AS SELECT unnest(CAST(? AS VARCHAR[])) AS id", [ids])
    bulk: dict[str, _Table] = {}
    for i, (name, src) in enumerate(sorted(files.items())):
        got = _load(con, name, src, f"_bulk_{i}", payees)
        if isinstance(got, str):
            return got
        bulk[name] = got
    flagged = {name: _flagged(con, t, bulk) for name, t in bulk.items()}
    sources = {n: t.src for n, t in bulk.items()}
    headers = {n: t.header for n, t in bulk.items()}
    rows: dict[str, dict[int, RawRow]] = {n: {} for n in bulk}
    cache: dict[str, bytes] = {}
    if "credits" in tables:  # and the facts credits name (a credit for an unknown fact, or not)
        facts = _column(tables["credits"], "fact")
        for name, t in bulk.items():
            flagged[name] = sorted({*flagged[name], *_positions(con, t, "k", facts)})
    if not read_rows(con, sources, headers, rows, cache, flagged):
        return "a row reads otherwise than by the reference reader (a lone CR, an empty row...)"
    pending = flagged
    first = True
    while any(pending.values()):
        found: dict[str, set[int]] = {n: set() for n in bulk}
        for name, t in bulk.items():  # the rows of the same key, as Python reads it ("D7 " is D7)
            found[name] |= _positions(con, t, "k", {_cell(t, rows[name][r], schema_for(name).key[0])
                                                    for r in pending.get(name, ())})
        coll, deals = bulk.get("collections"), bulk.get("deals")
        if coll is not None and deals is not None and "deal" in coll.header:
            # the deals the collections read name (present and kept: no dangling warning)
            found["deals"] |= _positions(con, deals, "k", {_cell(coll, rows["collections"][r], "deal")
                                                           for r in pending.get("collections", ())})
            if first:  # the collections of a deal with something to say, by its key as Python reads it
                found["collections"] |= _positions(con, coll, "d", {_cell(deals, rows["deals"][r], "id")
                                                                    for r in flagged.get("deals", ())})
        first = False
        pending = {n: sorted(p for p in found[n] if p not in rows[n]) for n in bulk}
        if not read_rows(con, sources, headers, rows, cache, pending):
            return "a row reads otherwise than by the reference reader (a lone CR, an empty row...)"
    if not all(_aligned(con, t, rows[name]) for name, t in bulk.items()):
        return "DuckDB's rows are not the file's rows at the same positions"
    for name, t in bulk.items():
        tables[name] = RawTable(name, t.src.display, t.header, tuple(rows[name][r] for r in sorted(rows[name])), 1)
    return Bulk(tables, tuple(diags), types, {n: t.rows for n, t in bulk.items()})


def _cell(t: _Table, row: RawRow, column: str) -> str:
    """A row's cell as the checks read it (``Row.values.get(column, "")``)."""
    return row.cells[t.header.index(column)] if column in t.header else ""


def _column(table: RawTable, column: str) -> set[str]:
    if column not in table.header:
        return set()
    at = table.header.index(column)
    return {r.cells[at] for r in table.rows if at < len(r.cells)}


def _stripped(cell: str, space: str) -> str:
    """SQL: ``cell`` (text or NULL) as Python's ``str.strip()`` leaves it. Trimming a set of
    characters is slow: only a cell that starts or ends with a control, a space or a
    character beyond ASCII is trimmed (strings compare bytewise)."""
    ends = f"{cell} < '!' OR {cell} >= chr(128) OR {cell}[-1] < '!' OR {cell}[-1] >= chr(128)"
    return f"(CASE WHEN {cell} IS NULL THEN '' WHEN {ends} THEN trim({cell}, {space}) ELSE {cell} END)"


def _space() -> str:
    """SQL: the characters Python's ``str.strip()`` removes."""
    from kpidsl.columnar.cells import SPACE_POINTS
    from kpidsl.columnar.sources import literal

    return literal("".join(chr(p) for p in SPACE_POINTS))


def _load(con: Any, name: str, src: SourceFile, sql: str, payees: bool) -> _Table | str:
    """``src`` in DuckDB as ``sql``: per row its key, deal and whether the checks could say
    anything of it; or why the reference must read it."""
    from kpidsl.columnar.sources import _as_text, column_types, quote, relation_sql

    schema, known = schema_for(name), name in TABLES
    if len(schema.key) != 1:
        return f"{src.display}: a key of {len(schema.key)} columns"
    odd = [c for c, kind in schema.types if kind not in ("money", "number", "date")]
    if odd:
        return f"{src.display}: column(s) {', '.join(odd)} typed in Python"
    if src.format == "csv":
        why = _csv_problem(src.path)
        if why:
            return f"{src.display}: {why}"
    try:
        ctypes = column_types(con, src)
    except Exception as exc:  # DuckDB cannot read it: the reference words why
        return f"{src.display}: {type(exc).__name__}"
    if src.format == "csv":
        header = _csv_header(src.path)
        if header is None or header != tuple(ctypes):
            return f"{src.display}: a header the CSV reader reads otherwise (empty, spaced, repeated names)"
        text = {c: quote(c) for c in header}
        pos, rel = "rowid", relation_sql(src)
    else:
        if "file_row_number" in ctypes:
            return f"{src.display}: a column named file_row_number"
        header = tuple(ctypes)
        text = {c: _as_text(c, t) for c, t in ctypes.items()}
        pos, rel = "r", relation_sql(src, rows=True)
    if known and any(c not in header for c in schema.required):
        return f"{src.display}: a required column is missing"
    space = _space()
    need = {c for c in header if not known or c in schema.required or c in dict(schema.types)
            or c in (schema.key[0], "payee", "deal")}
    alias = {c: f"_t{i}" for i, c in enumerate(header) if c in need}
    inner = ", ".join(f"{_stripped(text[c], space)} AS {a}" for c, a in alias.items())
    bad = [f"{alias[c]} = ''" for c in schema.required if known]
    from kpidsl.columnar.cells import DATE_RE, NUMBER_RE  # the checks of the columnar typing

    for c, kind in schema.types:
        if c not in header:
            continue
        t = alias[c]
        if kind == "date":
            ok = f"coalesce(regexp_full_match({t}, '{DATE_RE}') AND year(TRY_CAST({t} AS DATE)) >= 1, false)"
        else:
            ok = f"regexp_full_match({t}, '{NUMBER_RE}')"
        bad.append(f"({t} <> '' AND NOT {ok})")
    if not known or not schema.required:  # a row of empty cells: the reader skips it
        bad.append("(" + " AND ".join(f"{a} = ''" for a in alias.values()) + ")")
    key = alias.get(schema.key[0], "''")
    deal = alias["deal"] if name == "collections" and "deal" in header else "NULL"
    payee = alias["payee"] if payees and "payee" in header else "NULL"
    first = "file_row_number AS r, " if pos == "r" else ""
    try:  # a projection only (no join): a CSV row's rowid is its position in the file
        con.execute(f"CREATE OR REPLACE TABLE {sql} AS SELECT {first}{key} AS k, {payee} AS p, {deal} AS d, "
                    f"({' OR '.join(bad) or 'false'}) AS bad FROM (SELECT *, {inner} FROM {rel})")
        rows = int(con.execute(f"SELECT count(*) FROM {sql}").fetchone()[0])
    except Exception as exc:  # a ragged row, a malformed one, not UTF-8...: the reference words it
        return f"{src.display}: {type(exc).__name__}"
    if src.format == "csv":
        from kpidsl.columnar.sources import csv_lines, layout_problem

        why = layout_problem(src.display, csv_lines(src.path), rows)
        if why:
            return why
    return _Table(name, src, header, sql, pos, rows, payee != "NULL")


def _says(t: _Table) -> str:
    """SQL: a row of ``t`` the checks could say something about (a bad cell, a repeated key,
    an unknown payee)."""
    unknown = " OR (p <> '' AND p NOT IN (SELECT id FROM _bulk_payees))" if t.payees else ""
    return f"(bad OR k IN (SELECT k FROM {t.sql} GROUP BY k HAVING count(*) > 1){unknown})"


def _flagged(con: Any, t: _Table, bulk: Mapping[str, _Table]) -> list[int]:
    """The positions of ``t``'s rows with something to say, and (collections) of those
    naming no deal found with nothing to say (a missing or maybe rejected deal: a warning)."""
    where = _says(t)
    deals = bulk.get("deals")
    if t.name == "collections" and deals is not None and "deal" in t.header:
        where += f" OR d NOT IN (SELECT k FROM {deals.sql} WHERE NOT {_says(deals)})"
    return sorted(int(r) for (r,) in con.execute(f"SELECT {t.pos} FROM {t.sql} WHERE {where}").fetchall())


def _aligned(con: Any, t: _Table, rows: Mapping[int, RawRow]) -> bool:
    """Whether DuckDB's rows at the positions read are the rows read there (key, payee and
    deal as the checks read them): a guard that positions are the file's rows."""
    if not rows:
        return True
    con.execute("CREATE OR REPLACE TABLE _bulk_rows AS SELECT unnest(CAST(? AS BIGINT[])) AS r", [sorted(rows)])
    got = {int(r): (k, p, d) for r, k, p, d in con.execute(
        f"SELECT {t.pos}, k, p, d FROM {t.sql} WHERE {t.pos} IN (SELECT r FROM _bulk_rows)").fetchall()}
    key = schema_for(t.name).key[0]
    return got == {r: (_cell(t, row, key), _cell(t, row, "payee") if t.payees else None,
                       _cell(t, row, "deal") if t.name == "collections" and "deal" in t.header else None)
                   for r, row in rows.items()}


def _positions(con: Any, t: _Table, column: str, values: set[str]) -> set[int]:
    """The positions of ``t``'s rows whose ``column`` (k or d) is one of ``values``."""
    if not values:
        return set()
    con.execute("CREATE OR REPLACE TABLE _bulk_values AS SELECT unnest(CAST(? AS VARCHAR[])) AS v", [sorted(values)])
    return {int(r) for (r,) in con.execute(
        f"SELECT {t.pos} FROM {t.sql} WHERE {column} IN (SELECT v FROM _bulk_values)").fetchall()}


def _csv_header(path: Path) -> tuple[str, ...] | None:
    """The header as both readers read it, or None when they may differ (none, an empty,
    spaced or repeated name)."""
    from kpidsl.columnar.sources import csv_header

    header = csv_header(path)
    if not header or any(not h or h != h.strip() for h in header) or len(set(header)) != len(header):
        return None
    return header


def _csv_problem(path: Path) -> str | None:
    """Why a CSV file is left to the reference reader before DuckDB reads it: empty, UTF-16,
    or a lone CR line end (the reference reader's line numbers count it)."""
    with path.open("rb") as f:
        head = f.read(2)
        if not head:
            return "an empty file"
        if head in (b"\xff\xfe", b"\xfe\xff"):
            return "UTF-16 text"
        f.seek(0)
        carry = False  # the previous chunk ended in CR
        while chunk := f.read(CHUNK):
            if carry and not chunk.startswith(b"\n"):
                return "a lone CR line end"
            body = chunk[:-1] if chunk.endswith(b"\r") else chunk
            if body.count(b"\r") != body.count(b"\r\n"):
                return "a lone CR line end"
            carry = chunk.endswith(b"\r")
    return "a lone CR line end" if carry else None
