"""Readers of import sources into raw tables: CSV, JSON, JSON Lines; dispatch by format.

Every reader returns ``(RawTable | None, problems)``. Rows refused while
reading (a ragged CSV row) are problems with ``rejects=True`` and count as
read and rejected. Excel is in :mod:`.excel`, Parquet and data frames in
:mod:`.frames`; their libraries are imported only when such a source is read.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpidsl.data import csvread
from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem

from . import codes
from .cells import decimal_text
from .problems import Problem, error, from_diagnostic

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
}

Read = tuple[RawTable | None, list[Problem]]


def detect_format(path: Path) -> str | None:
    """The source format by file suffix, or None when unknown."""
    return FORMATS.get(path.suffix.lower())


def unreadable(display: str, reason: str, line: int = 0) -> Read:
    return None, [error(codes.SOURCE_UNREADABLE, f"cannot read {display}: {reason}", display,
                        line=line)]


def _blank_before(text: str, header_row: int) -> str:
    """Lines before the header row emptied (line numbers are kept)."""
    lines = text.splitlines(keepends=True)
    cut = max(header_row - 1, 0)
    return "".join("\n" for _ in lines[:cut]) + "".join(lines[cut:])


def read_csv(path: Path, name: str, display: str, *, encoding: str | None = None,
             header_row: int | None = None) -> Read:
    """A CSV file via :mod:`kpidsl.data.csvread` (UTF-8/BOM/GB18030 detection) or a declared encoding."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(display, exc.strerror or str(exc))
    problems: list[Problem] = []
    if encoding is None:
        text, diags = csvread.decode(data, display)
        problems += [from_diagnostic(d) for d in diags]
        if text is None:
            return None, problems
    else:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            return unreadable(display, f"not {encoding} text ({exc})")
        text = text.removeprefix("\ufeff")
    if header_row:
        text = _blank_before(text, header_row)
    table, diags = csvread.parse_text(text, name, display)
    for d in diags:
        p = from_diagnostic(d)
        problems.append(p if d.code != codes.RAGGED_ROW else _rejecting(p))
    return table, problems


def _rejecting(p: Problem) -> Problem:
    import attrs

    return attrs.evolve(p, rejects=True)


def json_cell(value: Any) -> str:
    """JSON scalars as text; numbers arrive as exact Decimal (``parse_float=Decimal``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, str):
        return value.strip()
    raise ValueProblem("a nested array or object is not a cell value")


class _Record(dict[str, Any]):
    """A JSON object as read, knowing the keys it gives more than once (``repeated``)."""

    repeated: tuple[str, ...] = ()


def _record(pairs: list[tuple[str, Any]]) -> _Record:
    """``object_pairs_hook``: a JSON object whose repeated keys (also after stripping spaces:
    ``"amount"`` and ``" amount"``) are noted, not silently resolved to the last value."""
    out, seen, repeated = _Record(), set(), []
    for key, value in pairs:
        name = str(key).strip()
        if name in seen:
            repeated.append(name)
        seen.add(name)
        out[key] = value
    out.repeated = tuple(repeated)
    return out


def table_from_objects(objects: list[tuple[int, Any]], name: str, display: str) -> Read:
    """A raw table from (line, object) pairs; the header is every key in first-seen order."""
    header: dict[str, None] = {}
    problems: list[Problem] = []
    for _line, obj in objects:
        if isinstance(obj, dict):
            header.update(dict.fromkeys(str(k).strip() for k in obj))
    names = tuple(header)
    rows: list[RawRow] = []
    for line, obj in objects:
        if not isinstance(obj, dict):
            problems.append(error(codes.INVALID_VALUE, "a record must be a JSON object", display,
                                  line=line, value=json.dumps(obj, default=str)[:40],
                                  rejects=True))
            continue
        repeated = getattr(obj, "repeated", ())
        if repeated:
            problems.append(error(codes.INVALID_VALUE, f"key '{repeated[0]}' is given more than once in "
                                  "this record: which value is meant is not known", display, line=line,
                                  column=repeated[0], value=json.dumps(obj, default=str)[:40], rejects=True))
            continue
        cells: list[str] = []
        bad = False
        values = {str(k).strip(): v for k, v in obj.items()}
        for i, col in enumerate(names, start=1):
            try:
                cells.append(json_cell(values.get(col)))
            except ValueProblem as exc:
                bad = True
                problems.append(error(codes.INVALID_VALUE, f"invalid value in column {col}: {exc}",
                                      display, line=line, column=col, col=i, rejects=True,
                                      value=json.dumps(values.get(col), default=str)[:40]))
        if not bad:
            rows.append(RawRow(RowRef(display, line), tuple(cells), tuple(range(1, len(names) + 1))))
    return RawTable(name, display, names, tuple(rows), 0), problems


def read_json(path: Path, name: str, display: str) -> Read:
    """A JSON array of objects; a record's line is its 1-based position in the array."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"), parse_float=Decimal, object_pairs_hook=_record)
    except OSError as exc:
        return unreadable(display, exc.strerror or str(exc))
    except UnicodeDecodeError as exc:
        return unreadable(display, f"not UTF-8 text ({exc})")
    except json.JSONDecodeError as exc:
        return unreadable(display, f"invalid JSON ({exc.msg}, line {exc.lineno})", exc.lineno)
    if not isinstance(data, list):
        return unreadable(display, "a JSON source must be an array of objects")
    return table_from_objects(list(enumerate(data, start=1)), name, display)


def read_jsonl(path: Path, name: str, display: str) -> Read:
    """JSON Lines: one object per line; the line is the physical line (blank lines skipped)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return unreadable(display, exc.strerror or str(exc))
    except UnicodeDecodeError as exc:
        return unreadable(display, f"not UTF-8 text ({exc})")
    objects: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            objects.append((line, json.loads(raw, parse_float=Decimal, object_pairs_hook=_record)))
        except json.JSONDecodeError as exc:
            problems.append(error(codes.INVALID_VALUE, f"invalid JSON ({exc.msg})", display,
                                  line=line, value=raw.strip()[:40], rejects=True))
    table, more = table_from_objects(objects, name, display)
    return table, [*problems, *more]
