"""Readers of import sources into raw tables: CSV, JSON, JSON Lines; dispatch by format.

Every reader returns ``(RawTable | None, problems)``. Rows refused while
reading (a ragged CSV row) are problems with ``rejects=True`` and count as
read and rejected. Excel is in :mod:`.excel`, Parquet and data frames in
:mod:`.frames`; their libraries are imported only when such a source is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path
from typing import Any

from kpidsl.data import csvread
from kpidsl.data.codes import ENCODING_DETECTED
from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem

from . import codes
from .cells import decimal_text
from .problems import Problem, error, from_diagnostic

FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
}

Read = tuple[RawTable | None, list[Problem]]


def detect_format(path: Path) -> str | None:
    """The source format by file suffix, or None when unknown."""
    return FORMATS.get(path.suffix.lower())


def unreadable(display: str, reason: str, line: int = 0) -> Read:
    return None, [error(codes.SOURCE_UNREADABLE, f"cannot read {display}: {reason}", display,
                        line=line)]


_BREAK = re.compile(r"\r\n|\r|\n")  # line ends as the CSV reader counts them


def _line_count(text: str) -> int:
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return breaks + (1 if text and not text.endswith(("\n", "\r")) else 0)


def _blank_before(text: str, header_row: int) -> str:
    """Lines before the header row emptied (line numbers are kept). Lines end at ``\\r\\n``,
    ``\\r`` or ``\\n`` as the CSV reader reads them, not also at a form feed or U+2028
    (``str.splitlines``): the header would be taken from a later line."""
    cut = max(header_row - 1, 0)
    breaks = list(itertools.islice(_BREAK.finditer(text), cut))
    return "\n" * len(breaks) + (text[breaks[-1].end():] if breaks else text)


def _utf16(data: bytes) -> str | None:
    """The encoding to declare for UTF-16 text: ``utf-16`` with a byte-order mark (Excel's
    "Unicode Text"), ``utf-16-le``/``-be`` when it looks like UTF-16 without one (valid UTF-8
    when its text is ASCII, a NUL beside every character): one byte in 16 or more is NUL,
    three in four of them at odd offsets (LE) or even ones."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:4096]
    nuls = head.count(0)
    if len(head) < 2 or nuls * 16 < len(head):
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if max(odd, even) * 4 < nuls * 3:
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


_CJK = re.compile(r"[\u3400-\u9fff]+")


def _garbling(data: bytes, encoding: str) -> str | None:
    """Why a declared encoding would garble the file: it is not UTF-8, but the file is UTF-8
    text with Chinese characters (GBK decodes most UTF-8 Chinese without an error: 上海 comes
    out as 涓婃捣). GBK text is valid UTF-8 only by a rare chance, and then it holds no
    Chinese characters read as UTF-8 (芦苇 reads as «έ)."""
    if data.isascii() or codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return None
    try:
        word = _CJK.search(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None
    if word is None:
        return None
    text = word.group()[:8]
    shown = text.encode("utf-8").decode(encoding, errors="replace")
    return (f"the file is UTF-8 text, not {encoding}: read as {encoding} its text would be garbled "
            f"({text} would read as {shown}); remove `encoding` (UTF-8 is the default)")


_CJK3 = re.compile(r"[\u3400-\u9fff].*[\u3400-\u9fff].*[\u3400-\u9fff]")


def _utf8_line(data: bytes) -> tuple[int, str] | None:
    """Why a file that is not UTF-8 as a whole cannot be read as GB18030 either: a line of it
    is UTF-8 Chinese (two exports of different systems pasted together), which GB18030 would
    garble (上海 as 涓婃捣). Three Chinese characters or more: GBK text forms valid UTF-8
    Chinese only by a rare chance, three in a row practically never."""
    for n, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        if _CJK3.search(text):
            return n, (f"line {n} is UTF-8 text ({text.strip()[:20]}) but the file is not: it "
                       "mixes UTF-8 and GB18030 (GBK) text, and either way some of it would be "
                       "garbled; save the whole file in one encoding")
    return None


def _as_csv(text: str, delimiter: str, display: str) -> tuple[str | None, list[Problem]]:
    """Delimited text (tab-separated) rewritten comma-separated, record for record: a record
    keeps its physical lines (a quoted cell its line breaks), so line numbers stay right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            writer.writerow(cells)
    except csv.Error as exc:
        return None, unreadable(display, f"malformed tab-separated text ({exc})",
                                reader.line_num)[1]
    return out.getvalue(), []


def read_csv(path: Path, name: str, display: str, *, encoding: str | None = None,
             header_row: int | None = None, delimiter: str = ",") -> Read:
    """A CSV file via :mod:`kpidsl.data.csvread` (UTF-8/BOM/GB18030 detection) or a declared
    encoding; ``delimiter="\\t"`` for tab-separated text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return unreadable(display, exc.strerror or str(exc))
    problems: list[Problem] = []
    if encoding is None:
        utf16 = _utf16(data)
        if utf16 is not None:
            first = data[:4096].decode(utf16, errors="replace").partition("\n")[0]
            tsv = " and format = \"tsv\"" if "\t" in first and delimiter != "\t" else ""
            return unreadable(display, f"UTF-16 text; declare encoding = \"{utf16}\"{tsv} for "
                              "this source, or save it as UTF-8", 1)
        text, diags = csvread.decode(data, display)
        problems += [from_diagnostic(d) for d in diags]
        if text is None:
            return None, problems
        mixed = _utf8_line(data) if any(d.code == ENCODING_DETECTED for d in diags) else None
        if mixed is not None:
            return unreadable(display, mixed[1], mixed[0])
    else:
        garbled = _garbling(data, encoding)
        if garbled is not None:
            return unreadable(display, garbled)
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            return unreadable(display, f"not {encoding} text ({exc})")
        text = text.removeprefix("\ufeff")
    if header_row:
        lines = _line_count(text)
        if header_row > lines:
            return unreadable(display, f"header_row = {header_row}, but the file has only "
                              f"{lines} line(s)")
        text = _blank_before(text, header_row)
    if delimiter != ",":
        converted, bad = _as_csv(text, delimiter, display)
        if converted is None:
            return None, [*problems, *bad]
        text = converted
    table, diags = csvread.parse_text(text, name, display)
    for d in diags:
        p = from_diagnostic(d)
        # a ragged row, or a malformed or over-long record that stopped the read: the row
        # at that line was read and is rejected (the rows after it are not read at all)
        problems.append(_rejecting(p) if d.code in _REJECTING else p)
    return table, problems


_REJECTING = (codes.RAGGED_ROW, codes.MALFORMED_CSV)


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
    if isinstance(value, float):  # float-ok: NaN and Infinity are all json gives as floats
        raise ValueProblem(f"{json.dumps(value)} is not a finite number")
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


def table_from_objects(objects: list[tuple[int, Any]], name: str, display: str,
                       only: Collection[str] | None = None) -> Read:
    """A raw table from (line, object) pairs; the header is every key in first-seen order.
    With ``only``, the values of other keys (ignored by the mapping) are left empty, unchecked."""
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
        repeated = [k for k in getattr(obj, "repeated", ()) if only is None or k in only]
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
                cells.append(json_cell(values.get(col) if only is None or col in only else None))
            except ValueProblem as exc:
                bad = True
                problems.append(error(codes.INVALID_VALUE, f"invalid value in column {col}: {exc}",
                                      display, line=line, column=col, col=i, rejects=True,
                                      value=json.dumps(values.get(col), default=str)[:40]))
        if not bad:
            rows.append(RawRow(RowRef(display, line), tuple(cells), tuple(range(1, len(names) + 1))))
    return RawTable(name, display, names, tuple(rows), 0), problems


def read_json(path: Path, name: str, display: str, only: Collection[str] | None = None) -> Read:
    """A JSON array of objects; a record's line is its 1-based position in the array."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"), parse_float=Decimal, object_pairs_hook=_record)
    except OSError as exc:
        return unreadable(display, exc.strerror or str(exc))
    except UnicodeDecodeError as exc:
        return unreadable(display, f"not UTF-8 text ({exc})")
    except json.JSONDecodeError as exc:
        return unreadable(display, f"invalid JSON ({exc.msg}, line {exc.lineno})", exc.lineno)
    except (ValueError, RecursionError) as exc:  # an integer of 4300+ digits, deep nesting
        return unreadable(display, f"invalid JSON ({exc})")
    if not isinstance(data, list):
        return unreadable(display, "a JSON source must be an array of objects")
    return table_from_objects(list(enumerate(data, start=1)), name, display, only)


def read_jsonl(path: Path, name: str, display: str, only: Collection[str] | None = None) -> Read:
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
        except (ValueError, RecursionError) as exc:  # an integer of 4300+ digits, deep nesting
            problems.append(error(codes.INVALID_VALUE, f"invalid JSON ({exc})", display,
                                  line=line, value=raw.strip()[:40], rejects=True))
    table, more = table_from_objects(objects, name, display, only)
    return table, [*problems, *more]
