"""``import``: read every source of a mapping, normalize, validate, and write the data folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import attrs

from . import codes
from .checks import validate
from .mapping import Mapping, Source, load_mapping
from .output import REPORT_NAME, table_csv, write_folder
from .problems import Problem, error, has_errors
from .readers import Read, detect_format, read_csv, read_json, read_jsonl, unreadable
from .schema import schema_for
from .transform import Row, apply


@attrs.frozen
class SourceReport:
    """Row accounting of one source: read = accepted + rejected, exactly. A source refused as
    a whole before any row was read (a missing file, a wrong encoding, no header) is
    ``status = "not read"`` with its ``reason``: its counts are no rows, not an empty file
    (they are 0 here and ``null`` in the JSON report)."""

    source: str
    table: str
    format: str
    sha256: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    status: str = "read"
    reason: str = ""

    @property
    def not_read(self) -> bool:
        return self.status == NOT_READ

    def to_dict(self) -> dict[str, Any]:
        out = attrs.asdict(self)
        if self.not_read:
            out.update(rows_read=None, rows_accepted=None, rows_rejected=None)
        else:
            out["reason"] = None
        return out


NOT_READ = "not read"


def _why_not_read(src: Source, problems: list[Problem]) -> str:
    """The reason a source was refused before any row was read: its first error."""
    first = next((p for p in problems if p.severity == "error"), None)
    if first is None:
        return "no table was read"
    message = first.message
    for prefix in (f"cannot read {first.file}: ", f"{first.file}: "):
        message = message.removeprefix(prefix)
    return f"{first.code}: {message}"


@attrs.frozen
class ImportResult:
    """Everything an import found; ``files`` is the data folder to write (name → bytes)."""

    sources: tuple[SourceReport, ...]
    problems: tuple[Problem, ...]
    files: dict[str, bytes]
    tables: dict[str, int]

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)

    def report(self, complete: bool) -> dict[str, Any]:
        return {
            "complete": complete,
            "ok": self.ok,
            "sources": [s.to_dict() for s in self.sources],
            "tables": dict(sorted(self.tables.items())),
            "errors": sum(p.severity == "error" for p in self.problems),
            "warnings": sum(p.severity == "warning" for p in self.problems),
            "problems": [p.to_dict() for p in self.problems],
        }


def read_source(src: Source, base: Path) -> tuple[Read, str, str]:
    """(read result, format, sha256) of one source; paths are relative to the mapping."""
    path = base / src.file
    shown = src.file
    fmt = src.format or detect_format(path)
    digest = ""
    try:
        digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return unreadable(shown, exc.strerror or str(exc)), fmt or "?", digest
    if fmt is None:
        return unreadable(shown, "unknown file type; declare format = csv|tsv|xlsx|json|jsonl|parquet"
                          + (" (.xls workbooks: save as .xlsx)" if path.suffix == ".xls" else "")
                          ), "?", digest
    return _dispatch(src, fmt, path, shown), fmt, digest


def _dispatch(src: Source, fmt: str, path: Path, shown: str) -> Read:
    name = src.table
    only = set(src.columns) or None  # cells of columns the mapping ignores are not checked
    if fmt in ("csv", "tsv"):
        return read_csv(path, name, shown, encoding=src.encoding, header_row=src.header_row,
                        delimiter="\t" if fmt == "tsv" else ",")
    if fmt == "json":
        return read_json(path, name, shown, only)
    if fmt == "jsonl":
        return read_jsonl(path, name, shown, only)
    if fmt == "xlsx":
        from .excel import read_xlsx

        return read_xlsx(path, name, shown, sheet=src.sheet, header_row=src.header_row,
                         decimals=src.float_decimals, only=only)
    from .frames import read_parquet

    return read_parquet(path, name, shown, floats=src.floats, decimals=src.float_decimals,
                        only=only)


def _rejected_lines(problems: list[Problem]) -> set[tuple[str, int]]:
    return {(p.file, p.line) for p in problems if p.rejects and p.line > 0}


def run_import(mapping: Mapping, base: Path) -> ImportResult:
    """Import every source of a validated mapping (nothing is written here)."""
    from kpidsl.gcpause import gc_paused

    # millions of cells, rows and dicts, none of them in a cycle: the cyclic collector's
    # passes were a fifth of a 1M-row import (103 -> 83 s measured with it off)
    with gc_paused():
        return _run_import(mapping, base)


def _run_import(mapping: Mapping, base: Path) -> ImportResult:
    problems: list[Problem] = []
    rows: dict[str, list[Row]] = {}
    pending: list[tuple[Source, str, str, int, list[Row], str]] = []
    for src in mapping.source:
        (table, read_problems), fmt, digest = read_source(src, base)
        sheet = table.file[len(src.file) + 1 : -1] if table and table.file != src.file else None
        sheet = sheet or (src.sheet if fmt == "xlsx" else None)
        read_problems = [attrs.evolve(p, sheet=sheet) if sheet else p for p in read_problems]
        refused = any(p.rejects and p.line == 0 and p.severity == "error" for p in read_problems)
        accepted, more = ([], []) if table is None else apply(
            src, table, schema_for(src.table, src.key), sheet)
        if refused:
            accepted = []
        found = [*read_problems, *more]
        problems += found
        early = _rejected_lines(read_problems)
        read = (len(table.rows) if table else 0) + len(early - _lines(table))
        rows.setdefault(src.table, []).extend(accepted)
        why = _why_not_read(src, read_problems) if table is None and not read else ""
        pending.append((src, fmt, digest, read, accepted, why))
    kept, found = validate(rows, lambda name: _key(mapping, name))
    problems += found
    survivors = {id(r) for rs in kept.values() for r in rs}
    reports = []
    for src, fmt, digest, read, accepted, why in pending:
        n_acc = sum(id(r) in survivors for r in accepted)
        status = NOT_READ if why else "read"
        reports.append(SourceReport(src.label(), src.table, fmt, digest, read, n_acc, read - n_acc,
                                    status, why))
    files = {f"{name}.csv": table_csv(kept[name], schema_for(name, _key_list(mapping, name)))
             for name in sorted(kept)}
    ordered = tuple(sorted(problems, key=Problem.sort_key))
    return ImportResult(tuple(reports), ordered, files, {n: len(r) for n, r in kept.items()})


def _lines(table: Any) -> set[tuple[str, int]]:
    return {(r.ref.file, r.ref.line) for r in table.rows} if table else set()


def _key_list(mapping: Mapping, name: str) -> list[str] | None:
    return next((s.key for s in mapping.source if s.table == name and s.key), None)


def _key(mapping: Mapping, name: str) -> tuple[str, ...]:
    return schema_for(name, _key_list(mapping, name)).key


def import_mapping(path: Path) -> tuple[ImportResult | None, list[Problem]]:
    """Load a mapping file and run the import; mapping problems come back instead of a result.
    The mapping's warnings (keys without effect, KPI0756) are among the result's problems."""
    mapping, problems = load_mapping(path)
    if mapping is None:
        return None, problems
    result = run_import(mapping, path.parent)
    if problems:
        ordered = tuple(sorted([*problems, *result.problems], key=Problem.sort_key))
        result = attrs.evolve(result, problems=ordered)
    return result, []


def write(result: ImportResult, out: Path, *, force: bool = False, partial: bool = False) -> bool:
    """Write the data folder and its report; with errors only when ``partial``. True if written."""
    if not result.ok and not partial:
        return False
    report = json.dumps(result.report(complete=result.ok), ensure_ascii=False, indent=2) + "\n"
    write_folder(out, {**result.files, REPORT_NAME: report.encode("utf-8")}, force=force)
    return True


def mapping_error(message: str, file: str) -> Problem:
    return error(codes.BAD_MAPPING, message, file)
