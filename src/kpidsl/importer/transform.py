"""Applying a source's mapping to its raw table: renamed columns, mapped values, typed cells.

A row with any bad cell is rejected with one problem per bad cell (file,
sheet row or line, source column, value, reason). A source that lacks a
required column is refused as a whole: one error, every row rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import ValueProblem, parse_period_text

from . import codes
from .cells import (
    AmbiguousPercent,
    BarePercent,
    StoredRatio,
    normalize,
    parse_date,
    parse_number,
    plain,
)
from .mapping import NumberFormat, Source
from .problems import Problem, error, warning
from .schema import TableSchema

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _escaped(text: str) -> str:
    """Text for a one-line message: control characters (a line break, NUL) as ``\\x0a``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _loose(text: str) -> str:
    """A header without its whitespace, NFKC-normalized: to suggest the header meant."""
    return "".join(normalize(text).split())


@attrs.frozen
class Row:
    """One accepted row: target column → text, and where each cell came from."""

    ref: RowRef
    values: Mapping[str, str]
    where: Mapping[str, tuple[str, int]] = attrs.field(factory=dict)
    sheet: str | None = None

    def locate(self, column: str) -> tuple[str, int]:
        return self.where.get(column, (column, 0))


@attrs.frozen
class Plan:
    """Resolved columns of one source: target → (source header, index) or None (default only)."""

    targets: tuple[tuple[str, tuple[str, int] | None], ...]


def resolve(src: Source, table: RawTable, schema: TableSchema, sheet: str | None
            ) -> tuple[Plan | None, list[Problem]]:
    """Match the mapping's columns to the source header; refuse the source if one is missing."""
    index = {h: i for i, h in enumerate(table.header)}
    # a JSON key or Parquet column named "" (or " "): a data-folder column without a name
    # would make the written file unreadable (KPI0703)
    columns = src.columns or {h: h for h in table.header if h}
    problems: list[Problem] = []
    if "" in table.header and "" not in columns:
        problems.append(warning(codes.EXTRA_COLUMNS, "a column without a name was ignored",
                                table.file, line=table.header_line, sheet=sheet))
    targets: list[tuple[str, tuple[str, int] | None]] = []
    missing: list[str] = []
    loose = {_loose(h): h for h in table.header}
    for source_col, target in columns.items():
        if source_col in index:
            targets.append((target, (source_col, index[source_col])))
        elif target in src.defaults:
            targets.append((target, None))
        else:
            near = loose.get(_loose(source_col))  # a line break or full-width space in the header
            hint = f" (the header has '{_escaped(near)}')" if near is not None else ""
            missing.append(f"'{_escaped(source_col)}' (→ {target}){hint}")
    mapped = {t for t, _ in targets}
    targets += [(t, None) for t in src.defaults if t not in mapped]
    mapped |= set(src.defaults)
    missing += [f"{c} (required by {src.table})" for c in schema.required
                if c not in mapped and c not in columns.values()]  # (else listed above)
    line = table.header_line
    # without `columns` the mapping cannot check these keys: a misspelt value map
    # ([source.values.stge]) would leave every value unmapped, silently
    unknown = [f"{section}.{c}" for section in ("values", "dates", "numbers")
               for c in getattr(src, section) if c not in mapped]
    if unknown and not missing:
        msg = (f"{', '.join(unknown)}: not a column of this source ({', '.join(sorted(mapped))}); "
               f"all {len(table.rows)} row(s) rejected")
        return None, [error(codes.BAD_MAPPING, msg, table.file, line=line, sheet=sheet,
                            rejects=True)]
    if missing:
        msg = (f"column(s) {', '.join(missing)} not found in the header "
               f"({', '.join(map(_escaped, table.header))}); all {len(table.rows)} row(s) rejected")
        problems.append(error(codes.MISSING_COLUMN, msg, table.file, line=line, sheet=sheet,
                              rejects=True))
        return None, problems
    extra = [h for h in table.header if h not in columns and h]
    if extra and src.columns:
        problems.append(warning(codes.EXTRA_COLUMNS, f"columns not in the mapping were ignored: "
                                f"{', '.join(map(_escaped, extra))}", table.file, line=line,
                                sheet=sheet))
    return Plan(tuple(targets)), problems


def _map_value(src: Source, column: str, text: str) -> str:
    table = src.values.get(column)
    if table is None or not text:
        return text
    if text in table:
        return table[text]
    if normalize(text) in table:
        return table[normalize(text)]
    if column in src.strict_values:
        raise ValueProblem(f"not one of the mapped values ({', '.join(table)})")
    return text


def convert(src: Source, schema: TableSchema, column: str, text: str, *,
            default: bool = False) -> str:
    """A cell's canonical text for the data folder, by the mapping and the table's known types.

    A declared default is a target value: it is typed but not looked up in the value map.
    """
    if "\x00" in text:
        raise ValueProblem("a NUL character (byte 0) in the cell: a damaged file, or text in "
                           "another encoding (UTF-16?) than the one it was read with")
    text = text if default else _map_value(src, column, text)
    if not text:
        return text
    kind = schema.type_of(column)
    if column in src.dates or kind == "date":
        return parse_date(text, src.date_formats(column)).isoformat()
    fmt = src.numbers.get(column)
    if fmt is not None or kind in ("money", "number", "percent"):
        fmt = fmt or NumberFormat(percent=kind == "percent")
        value = parse_number(text, thousands=fmt.thousands, currency=fmt.currency,
                             percent=fmt.percent or kind == "percent",
                             negative_parens=fmt.negative_parens)
        bare = "%" not in normalize(text) and not isinstance(text, StoredRatio)
        if bare and fmt.percent and kind != "percent" and not default and value != 0:
            # a column declared as written with % signs: 60 is 60% or 6000%, 0.6 is 0.6% or
            # 60%; only a workbook number formatted as a percentage is a ratio as it stands
            raise BarePercent(value, column)
        if bare and (kind == "percent" or fmt.percent) and abs(value) > 1:
            # a share (at most 100%) from a workbook, or a default (a data-folder value), is a
            # ratio: beyond ±1 it is ambiguous, as in a data folder (KPI0712)
            raise AmbiguousPercent(value)
        return plain(value)
    if kind == "period":
        return parse_period_text(normalize(text))[0]
    return text


def apply(src: Source, table: RawTable, schema: TableSchema, sheet: str | None
          ) -> tuple[list[Row], list[Problem]]:
    """The accepted rows of a source and the problems of the rejected ones."""
    plan, problems = resolve(src, table, schema, sheet)
    if plan is None:
        return [], problems
    rows: list[Row] = []
    for raw in table.rows:
        row, bad = _row(src, schema, plan, raw, sheet)
        problems += bad
        if row is not None:
            rows.append(row)
    return rows, problems


def _row(src: Source, schema: TableSchema, plan: Plan, raw: RawRow, sheet: str | None
         ) -> tuple[Row | None, list[Problem]]:
    values: dict[str, str] = {}
    where: dict[str, tuple[str, int]] = {}
    bad: list[Problem] = []
    for target, origin in plan.targets:
        text, name, col = "", target, 0
        if origin is not None:
            name, i = origin
            text = raw.cells[i] if i < len(raw.cells) else ""
            col = raw.cols[i] if i < len(raw.cols) else i + 1
        default = not text and target in src.defaults
        if default:
            text = src.defaults[target]
        where[target] = (name, col)
        try:
            values[target] = convert(src, schema, target, text, default=default)
        except ValueProblem as exc:
            code = (codes.PERCENT_WITHOUT_SIGN if isinstance(exc, AmbiguousPercent) else
                    codes.BARE_PERCENT if isinstance(exc, BarePercent) else None)
            bad.append(_bad(raw, name, target, col, text, str(exc), sheet,
                            code or codes.INVALID_VALUE))
            continue
        if not values[target] and target in schema.required:
            bad.append(_bad(raw, name, target, col, text, "a value is required", sheet,
                            codes.EMPTY_REQUIRED))
    if bad:
        return None, bad
    return Row(raw.ref, values, where, sheet), []


def _bad(raw: RawRow, name: str, target: str, col: int, text: str, reason: str,
         sheet: str | None, code: str = codes.INVALID_VALUE) -> Problem:
    column = name if name == target else f"{name} (→ {target})"
    what = f"invalid {target} '{_escaped(text)}'" if text else f"empty {target}"
    return error(code, f"{what}: {reason}; the row was rejected", raw.ref.file,
                 line=raw.ref.line, column=column, col=col, value=text, sheet=sheet, rejects=True)
