"""``validate``: check a data folder, generically or against a plan, and account for every row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from kpidsl.data import codes as data_codes
from kpidsl.data.model import RawTable, RowRef
from kpidsl.data.values import ValueProblem, parse_value
from kpidsl.diagnostics import Diagnostic

from . import codes
from .checks import validate as generic_checks
from .problems import Problem, error, from_diagnostic
from .schema import TABLES, schema_for
from .transform import Row

if TYPE_CHECKING:
    from kpidsl.api import Plan
    from kpidsl.data.bind import SourceSummary


@attrs.frozen
class FileSummary:
    """Rows of one data file: read = accepted + rejected. A file refused before any row
    was read (not UTF-8 text, no header...) is ``status = "not read"`` with its ``reason``
    (its first error): it is not a file of no rows. The JSON report lists it under
    ``not_read``, the text summary with ``-`` counts (as ``kpidsl import`` does)."""

    source: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    status: str = "read"
    reason: str = ""

    def counts(self) -> dict[str, object]:
        return {"source": self.source, "rows_read": self.rows_read,
                "rows_accepted": self.rows_accepted, "rows_rejected": self.rows_rejected}


@attrs.frozen
class ValidateResult:
    """Per-file row accounting and every problem found."""

    files: tuple[FileSummary, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "files": [f.counts() for f in self.files if f.status == "read"],
                "not_read": [{"source": f.source, "reason": f.reason}
                             for f in self.files if f.status != "read"],
                "problems": [p.to_dict() for p in self.problems]}


def rows_of(table: RawTable) -> tuple[list[Row], list[Problem]]:
    """Rows of a data-folder table, typed columns checked by docs/data.md rules."""
    schema = schema_for(table.name)
    missing = [c for c in schema.required if c not in table.header]
    if missing and table.name in TABLES:
        msg = (f"required column(s) {', '.join(missing)} missing; all {len(table.rows)} row(s) "
               "rejected")
        return [], [error(codes.MISSING_COLUMN, msg, table.file, line=table.header_line,
                          rejects=True)]
    rows: list[Row] = []
    problems: list[Problem] = []
    for raw in table.rows:
        values = dict(zip(table.header, raw.cells, strict=False))
        where = {h: (h, raw.cols[i] if i < len(raw.cols) else i + 1)
                 for i, h in enumerate(table.header)}
        row = Row(raw.ref, values, where)
        bad = [p for c in table.header if (p := _cell(table.name, row, c)) is not None]
        problems += bad
        if not bad:
            rows.append(row)
    return rows, problems


def _cell(table: str, row: Row, column: str) -> Problem | None:
    schema = schema_for(table)
    text = row.values.get(column, "")
    name, col = row.locate(column)
    where = {"line": row.ref.line, "column": name, "col": col, "value": text, "rejects": True}
    if not text:
        if table in TABLES and column in schema.required:
            return error(codes.EMPTY_REQUIRED, f"empty {column}: a value is required", row.ref.file,
                         **where)
        return None
    kind = schema.type_of(column)
    if kind is None:
        return None
    try:
        parse_value(kind, text)
    except ValueProblem as exc:
        return error(codes.INVALID_VALUE, f"invalid {column} '{text}': {exc}", row.ref.file,
                     **where)
    return None


def _summaries(tables: Mapping[str, RawTable], problems: list[Problem], kept: dict[str, list[Row]],
               counts: Mapping[str, int] | None = None) -> tuple[FileSummary, ...]:
    """Rows read, accepted and rejected per file. ``counts``: the tables of which only some
    rows were checked here (:mod:`.bulkcheck`), and how many rows each has in all: every
    other row of theirs is accepted."""
    out = []
    for name in sorted(tables):
        table = tables[name]
        lines = {r.ref.line for r in table.rows}
        early = {p.line for p in problems if p.file == table.file and p.code in _READ_REJECTING}
        accepted = len({r.ref.line for r in kept.get(name, [])})
        if counts is not None and name in counts:
            read = counts[name]
            out.append(FileSummary(table.file, read, read - len(lines | early) + accepted,
                                   len(lines | early) - accepted))
            continue
        read = len(lines | early)
        out.append(FileSummary(table.file, read, accepted, read - accepted))
    return tuple(out)


def validate_generic(folder: Path, engine: str = "auto") -> ValidateResult:
    """Checks that need no plan (see :mod:`.checks`) plus the built-in columns' types.

    ``engine``: ``reference`` reads every row in Python; ``columnar`` (``auto``: a large
    folder, with DuckDB) checks the fact tables in DuckDB and only their rows with something
    to say are read and checked in Python (:mod:`.bulkcheck`): the same report, in seconds
    and little memory; a folder it cannot read exactly as the reference reads it is read
    by the reference."""
    if engine not in ("auto", "reference", "columnar"):
        raise ValueError(f"engine must be reference, columnar or auto, not {engine!r}")
    if engine == "columnar" or (engine == "auto" and _large_generic(folder)):
        from .bulkcheck import read_bulk

        bulk = read_bulk(folder)
        if not isinstance(bulk, str):
            return _generic(bulk.tables, bulk.diagnostics, bulk.types, bulk.rows)
    from kpidsl.api import load_data

    raw = load_data(folder)  # a folder of CSV files, or of Parquet files (as evaluation reads it)
    return _generic(raw.tables, raw.diagnostics, raw.types)


def _large_generic(folder: Path) -> bool:
    from .bulkcheck import wants_bulk

    return wants_bulk(folder)


def _generic(tables: Mapping[str, RawTable], read: Sequence[Diagnostic],
             types: Mapping[str, tuple[str, Mapping[str, str]]],
             counts: Mapping[str, int] | None = None) -> ValidateResult:
    """:func:`validate_generic` on tables as read (``counts``: see :func:`_summaries`)."""
    diags = [*read, *_float_columns(types)]
    files = {t.file for t in tables.values()}
    problems = [_ragged(from_diagnostic(d), files) for d in diags]
    rows: dict[str, list[Row]] = {}
    for name in sorted(tables):
        rows[name], found = rows_of(tables[name])
        problems += found
    cut = {n: (t.file, t.read_to) for n, t in tables.items() if t.read_to is not None}
    kept, found = generic_checks(rows, rejected=_read_ids(tables), cut=cut)
    problems += found
    refused = _refused(diags)  # a binary-float column: no row of its file is accepted
    kept.update({name: [] for name in tables if tables[name].file in refused})
    summaries = _summaries(tables, problems, kept, counts) + _not_read(diags, files)
    return ValidateResult(summaries, tuple(sorted(problems, key=Problem.sort_key)))


def _read_ids(tables: Mapping[str, RawTable]) -> dict[str, dict[str, RowRef]]:
    """Per table, where each id was first read: its rows rejected by a cell or for their
    shape (KPI0705) included, so that a reference to one says its row was rejected."""
    out: dict[str, dict[str, RowRef]] = {}
    for name, table in tables.items():
        if "id" not in table.header:
            continue
        at = table.header.index("id")
        ids = out[name] = {}
        for row in sorted((*table.rows, *table.dropped), key=lambda r: r.ref.line):
            if at < len(row.cells) and row.cells[at]:
                ids.setdefault(row.cells[at], row.ref)
    return out


# rows the reader rejects: a ragged row; a malformed record (in a file whose header was
# read), which stops the read there: the rows after it are not read (its message says so)
_READ_REJECTING = (codes.RAGGED_ROW, codes.MALFORMED_CSV)
# the errors of a file refused before any row was read (no table)
_REFUSING = frozenset({data_codes.UNDECODABLE, data_codes.BAD_HEADER, data_codes.DUPLICATE_COLUMN,
                       data_codes.MALFORMED_CSV})


def _ragged(p: Problem, files: set[str]) -> Problem:
    """A reading problem that rejects its row (``files``: those read as tables)."""
    return attrs.evolve(p, rejects=True) if p.code in _READ_REJECTING and p.file in files else p


def _not_read(diags: Sequence[Diagnostic], files: set[str]) -> tuple[FileSummary, ...]:
    """A summary for each file refused before any row was read: listed, not left out."""
    first: dict[str, Diagnostic] = {}
    for d in diags:
        f = d.span.file
        if d.severity == "error" and d.code in _REFUSING and f not in files:
            first.setdefault(f, d)
    out = []
    for f, d in sorted(first.items()):
        message = d.message
        for prefix in (f"cannot read {f}: ", f"{f}: "):
            message = message.removeprefix(prefix)
        out.append(FileSummary(f, 0, 0, 0, "not read", f"{d.code}: {message}"))
    return tuple(out)


def validate_with_plan(folder: Path, plan: Plan, engine: str = "auto") -> ValidateResult:
    """The full binding validation of :func:`kpidsl.data.bind.bind_result` for a loaded plan,
    on the folder as evaluation reads it (:func:`kpidsl.api.load_data`: CSV or Parquet files).

    ``engine``: as for evaluation. On the columnar engine (``auto``: a large folder, with
    DuckDB) the fact files are checked in DuckDB and only the rows with something to say are
    bound by the reference binder (:mod:`kpidsl.columnar.worded`): the same report, in
    seconds and little memory where binding millions of rows took minutes and gigabytes."""
    from kpidsl.api import load_data
    from kpidsl.data.bind import bind_result, summarize

    model = plan.model
    if engine == "columnar" or (engine == "auto" and _large(plan, folder)):
        return _columnar(folder, plan)
    raw = load_data(folder)
    tables: Mapping[str, RawTable] = raw.tables  # a FolderTables: a missing file is named with its suffix
    diags = raw.diagnostics_for(model)  # with KPI0753 for a float column the plan reads as a number
    result = bind_result(model, tables)
    return _report(diags, result.diagnostics, result.rejected, summarize(model, tables, result, diags))


def _large(plan: Plan, folder: Path) -> bool:
    from kpidsl.columnar.run import wants_columnar

    return wants_columnar(plan.model, folder)


def _columnar(folder: Path, plan: Plan) -> ValidateResult:
    """:func:`validate_with_plan` through :func:`kpidsl.columnar.load_folder`."""
    from kpidsl.columnar import load_folder

    loaded = load_folder(plan.model, folder, engine="columnar")
    read = {id(d) for d in loaded.read}
    return _report(loaded.read, [d for d in loaded.diagnostics if id(d) not in read], loaded.rejected,
                   loaded.summaries)


def _report(read: Sequence[Diagnostic], bound: Sequence[Diagnostic], rejected: frozenset[RowRef],
            summaries: Sequence[SourceSummary]) -> ValidateResult:
    """The report of a plan's binding: the reading problems (a ragged row is rejected), the
    binding's (rejected or not, by ``rejected``), and rows read/accepted/rejected per file."""
    read_files = {s.file for s in summaries}
    problems = [*(_ragged(from_diagnostic(d), read_files) for d in read),
                *(from_diagnostic(d, rejected) for d in bound)]
    refused = _refused([*read, *bound])
    files = [FileSummary(s.file, s.rows_read, 0, s.rows_read) if s.file in refused
             else FileSummary(s.file, s.rows_read, s.rows_accepted, s.rows_rejected)
             for s in summaries]
    files += _not_read(read, read_files)
    return ValidateResult(tuple(files), tuple(sorted(problems, key=Problem.sort_key)))


def _refused(diags: Sequence[Diagnostic]) -> set[str]:
    """The files with a binary floating-point column refused (KPI0753): evaluation pays
    nothing on such data, so none of their rows counts as accepted."""
    return {d.span.file for d in diags if d.code == codes.FLOAT_COLUMN and d.severity == "error"}


def _float_columns(types: Mapping[str, tuple[str, Mapping[str, str]]]) -> list[Diagnostic]:
    """Without a plan, KPI0753 for each binary floating-point column of a typed (Parquet)
    file that a built-in table types as a number (``deals.amount``, ``targets.value``...)."""
    from kpidsl.columnar.sources import FLOAT_TYPES, float_column_error

    out: list[Diagnostic] = []
    for name, (display, column_types) in sorted(types.items()):
        schema = schema_for(name)
        numbers = {c for c, t in schema.types if t in ("money", "number", "percent", "count")}
        numbers.update(("value",) if name in ("targets", "inputs") else ())
        out.extend(float_column_error(display, col, column, type_name)
                   for col, (column, type_name) in enumerate(column_types.items(), start=1)
                   if column in numbers and type_name.upper() in FLOAT_TYPES)
    return out
