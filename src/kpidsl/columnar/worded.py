"""Wording the problems of a few fact rows: the reference binder on those rows alone.

The columnar checks find, in SQL, every fact row the reference binder would say
something about: a cell that does not type, an unknown payee, a repeated key, a
reference to a fact that is not there (:func:`.facttable.flag_table` holds their
positions). Binding the whole folder in Python to word them cost ~47 s and 3 GB
for three bad rows among a million deals. Here only those rows are bound, with
what their diagnostics depend on:

* every row of a repeated key (the binder names the first one), the key as
  the reference reads it (stripped: ``D7 `` repeats ``D7``);
* the rows that refer to a flagged row (``collection`` of a rejected ``deal``:
  "that deal was rejected");
* the facts every included row refers to, transitively (present and accepted,
  so that the binder does not call them missing).

A row's diagnostics depend on nothing else (its cells, the payees, its key's
other rows, the status of the facts it refers to), so the subset's diagnostics
are the whole folder's, row for row and word for word. The rows are read from
the source file itself: a CSV file's lines by the reference reader's own rules
(the loader has checked that every row is one line), a Parquet file's rows with
the reference's cell text.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

import attrs

from kpidsl.data.bind import BindResult, bind_result
from kpidsl.data.folder import FolderTables
from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import PlanModel

from .facttable import FactTable, flag_table
from .sources import SourceFile, column_types, quote, relation_sql

CHUNK = 1 << 16  # bytes whose line ends are counted at once when skipping to a line


@attrs.frozen
class Worded:
    """The reference binder's diagnostics for the whole folder, from the flagged rows."""

    rows: frozenset[RowRef]  # every fact row bound here
    result: BindResult  # the binding (small tables in full, fact tables those rows)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.result.diagnostics

    @property
    def rejected(self) -> frozenset[RowRef]:
        return self.result.rejected


def word_rows(con: Any, model: PlanModel, tables: FolderTables, facts: Mapping[str, SourceFile],
              headers: Mapping[str, tuple[str, ...]], loaded: Mapping[str, FactTable]) -> Worded | None:
    """The diagnostics of binding ``tables`` (the small tables; fact tables header only)
    with the flagged fact rows of ``loaded`` and what they depend on (``headers``: each fact
    file's columns); None when a row cannot be read back as the reference reads it (then
    bind the whole folder)."""
    rows: dict[str, dict[int, RawRow]] = {kind: {} for kind in loaded}
    files: dict[str, bytes] = {}  # each CSV file's bytes, read once however many rounds read it
    flagged = {kind: [int(r) for (r,) in con.execute(f"SELECT r FROM {quote(flag_table(kind))}").fetchall()]
               for kind, ft in loaded.items() if ft.flagged}
    if not _read(con, facts, headers, rows, files, flagged):
        return None
    refs = [(kind, field, target) for kind, ft in sorted(loaded.items())
            for field, target in sorted(ft.kind.references().items())
            if target in loaded and field in headers[kind] and loaded[target].kind.key in headers[target]]
    # the rows referring to a flagged row, by the flagged row's key as the reference reads it
    found: dict[str, set[int]] = {}
    for kind, field, target in refs:
        at = headers[target].index(loaded[target].kind.key)
        keys = {rows[target][r].cells[at] for r in flagged.get(target, ())} - {""}
        found.setdefault(kind, set()).update(_positions(con, loaded[kind], field, keys))
    pending = _new(rows, found)
    if not _read(con, facts, headers, rows, files, pending):
        return None
    pending = {kind: list(rows[kind]) for kind in rows}  # every row read: the rows of the same key
    while any(pending.values()):  # (as the reference reads it: "D7 " is D7), the facts they refer to
        found = {}
        for kind, ft in loaded.items():
            if ft.kind.key in headers[kind]:
                at = headers[kind].index(ft.kind.key)
                keys = {rows[kind][r].cells[at] for r in pending.get(kind, ())} - {""}
                found.setdefault(kind, set()).update(_positions(con, ft, ft.kind.key, keys))
        for kind, field, target in refs:
            at = headers[kind].index(field)
            values = {rows[kind][r].cells[at] for r in pending.get(kind, ())} - {""}
            found.setdefault(target, set()).update(_positions(con, loaded[target], loaded[target].kind.key, values))
        pending = _new(rows, found)
        if not _read(con, facts, headers, rows, files, pending):
            return None
    bound = FolderTables(tables.folder, tables, tables.suffix, tables.unreadable)
    every: set[RowRef] = set()
    for kind, got in rows.items():
        src = facts[kind]
        ordered = tuple(got[r] for r in sorted(got))
        bound[src.name] = RawTable(src.name, src.display, headers[kind], ordered, 1)
        every.update(r.ref for r in ordered)
    result = bind_result(model, bound)
    return Worded(frozenset(every), result)


def _new(rows: Mapping[str, Mapping[int, RawRow]], found: Mapping[str, set[int]]) -> dict[str, list[int]]:
    """The positions of ``found`` not read yet, per kind."""
    return {kind: sorted(p for p in positions if p not in rows[kind]) for kind, positions in found.items()}


def read_rows(con: Any, sources: Mapping[str, SourceFile], headers: Mapping[str, tuple[str, ...]],
              rows: dict[str, dict[int, RawRow]], files: dict[str, bytes], positions: Mapping[str, list[int]]) -> bool:
    """Rows of ``sources`` (table -> file) by position (0-based: row ``n`` is on line ``n + 2``)
    into ``rows`` (table -> position -> row), as the reference reader reads them (``files``: each CSV
    file's bytes, read once); False when one cannot be read so (a lone CR line end, a blank
    row, a ragged one...). Also used by ``kpidsl validate`` without a plan
    (:mod:`kpidsl.importer.bulkcheck`)."""
    return _read(con, sources, headers, rows, files, positions)


def _read(con: Any, facts: Mapping[str, SourceFile], headers: Mapping[str, tuple[str, ...]],
          rows: dict[str, dict[int, RawRow]], files: dict[str, bytes], positions: Mapping[str, list[int]]) -> bool:
    """Read ``positions`` (per kind) from the source files into ``rows``; False when a row
    cannot be read as the reference reads it."""
    for kind, unsorted in positions.items():
        wanted = sorted(set(unsorted))
        if not wanted:
            continue
        src = facts[kind]
        if src.format == "csv" and kind not in files:
            files[kind] = src.path.read_bytes()
        got = (_csv_rows(src, files[kind], wanted, headers[kind]) if src.format == "csv"
               else _parquet_rows(con, src, wanted, headers[kind]))
        if got is None:
            return False
        rows[kind].update(zip(wanted, got, strict=True))
    return True


def _positions(con: Any, ft: FactTable, field: str, values: set[str]) -> list[int]:
    """The positions of the rows of ``ft`` whose ``field`` is one of ``values``."""
    if not values:
        return []
    con.execute("CREATE OR REPLACE TABLE _word_values AS SELECT unnest(CAST(? AS VARCHAR[])) AS v",
                [sorted(values)])
    return [int(r) for (r,) in con.execute(
        f"SELECT {ft.line} FROM {quote(ft.table)} WHERE {quote(field)} IN (SELECT v FROM _word_values)").fetchall()]


def _csv_rows(src: SourceFile, data: bytes, rows: list[int], header: tuple[str, ...]) -> tuple[RawRow, ...] | None:
    """Rows ``rows`` (0-based; row ``n`` is on line ``n + 2``) of a CSV file (``data``: its
    bytes) whose every row is one line, as the reference reader reads them; None if one
    cannot be."""
    wanted = [r + 2 for r in rows]
    lines = _lines(data, wanted)
    if lines is None:
        return None
    width = len(header)
    cols = tuple(range(1, width + 1))
    out = []
    for number, raw in zip(wanted, lines, strict=True):
        try:
            text = raw.decode("utf-8")
            [cells] = list(csv.reader([text], strict=True))
        except (UnicodeDecodeError, csv.Error, ValueError):
            return None
        stripped = tuple(c.strip() for c in cells)
        if len(cells) != width or not any(stripped):  # ragged, or a blank record the reference skips
            return None
        out.append(RawRow(RowRef(src.display, number), stripped, cols))
    return tuple(out)


def _lines(data: bytes, wanted: list[int]) -> list[bytes] | None:
    """The physical lines ``wanted`` (1-based, ascending) of ``data`` without their line
    end, for a file whose lines end in LF or CR LF; None for one with a lone CR (read by
    the reference reader as a line end too: the caller binds the whole folder)."""
    if data.count(b"\r") != data.count(b"\r\n"):
        return None
    out: list[bytes] = []
    pos, line, size = 0, 1, len(data)
    for k in wanted:  # ``line`` is the line holding position ``pos``
        while line < k:
            end = min(pos + CHUNK, size)
            ends = data.count(b"\n", pos, end)
            if line + ends < k and end < size:  # line k starts beyond this chunk
                line, pos = line + ends, end
                continue
            while line < k:  # within this chunk: line by line
                at = data.find(b"\n", pos)
                if at < 0:
                    return None
                line, pos = line + 1, at + 1
        at = data.find(b"\n", pos)
        raw = data[pos:] if at < 0 else data[pos:at]
        out.append(raw[:-1] if raw.endswith(b"\r") else raw)
    return out


def _parquet_rows(con: Any, src: SourceFile, rows: list[int],
                  header: tuple[str, ...]) -> tuple[RawRow, ...] | None:
    """Rows ``rows`` of a Parquet file with the cells :func:`.sources.raw_table` reads."""
    from .sources import _as_text

    types = column_types(con, src)
    if "file_row_number" in types:  # a column of that name hides DuckDB's row numbers
        return None
    cols = ", ".join(_as_text(n, t) for n, t in types.items())
    con.execute("CREATE OR REPLACE TABLE _word_rows AS SELECT unnest(CAST(? AS BIGINT[])) AS r", [rows])
    got = con.execute(f"SELECT file_row_number, {cols} FROM {relation_sql(src, rows=True)} "
                      "WHERE file_row_number IN (SELECT r FROM _word_rows) ORDER BY file_row_number").fetchall()
    if len(got) != len(rows):
        return None
    width = tuple(range(1, len(header) + 1))
    out = tuple(RawRow(RowRef(src.display, int(r[0]) + 2), tuple("" if c is None else c.strip() for c in r[1:]),
                       width) for r in got)
    return None if any(not any(r.cells) for r in out) else out  # a row of empty cells: the reader skips it
