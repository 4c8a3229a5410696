"""Typing and checking a fact table inside DuckDB, without a Python object per row.

Each declared field is typed in SQL with the reference binder's rules (the
same number pattern, ISO dates, the six boolean words); a row whose cell would
be rejected (bad number, bad date, empty required cell, surrounding
whitespace, a line break) is marked ``_bad``. Duplicate keys, unknown payees
and dangling references are SQL checks. Any problem sends the data to the
reference binder, which reports every bad row with file, line, column, value
and reason exactly as without DuckDB.
"""

from __future__ import annotations

from typing import Any

import attrs

from kpidsl.model import PAYEE_TYPE, KindSchema

from .sources import SourceFile, column_types, float_columns, literal, quote, relation_sql


def used_fields(model: Any) -> dict[str, set[str]]:
    """Fields the plan reads, by kind (``collection.deal.product`` reads deal.product too)."""
    from kpidsl import ast

    out: dict[str, set[str]] = {}
    defs: list[object] = list(model.base.values())
    for block in model.overrides:
        defs.extend(block.body)
    stack = list(defs)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Field):
            kind = model.kinds.get(node.kind)
            out.setdefault(node.kind, set()).add(node.path[0])
            if kind is not None and len(node.path) > 1:
                out.setdefault(kind.fields.get(node.path[0], ""), set()).add(node.path[1])
        elif isinstance(node, (tuple, list)):
            stack.extend(node)
        else:
            stack.extend(getattr(node, a.name) for a in getattr(type(node), "__attrs_attrs__", ()))
    return out

SCALE = 12  # money is held as DECIMAL(38, 12): sums stay exact up to 10**26
NUMBER_RE = r"^[+-]?(?:\d+(?:_\d+)*|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
# code points Python's str.strip() removes (the reference strips every cell)
SPACE_POINTS = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, *range(8192, 8203), 8232, 8233,
                8239, 8287, 12288)
COLUMNAR_TYPES = ("money", "number", "date", "bool", "text")


@attrs.frozen
class FactTable:
    """A typed fact table in DuckDB: its SQL name, kind, source and decimal scale per field."""

    table: str
    kind: KindSchema
    source: SourceFile
    scales: dict[str, int]
    rows: int
    columns: frozenset[str] = frozenset()


def unsupported_fields(kind: KindSchema) -> list[str]:
    """Fields the columnar typing does not handle (percent and count cells, custom types)."""
    ok = (*COLUMNAR_TYPES, PAYEE_TYPE)
    return [f for f, t in kind.fields.items() if t not in ok and t not in _kind_names(kind)]


def _kind_names(kind: KindSchema) -> tuple[str, ...]:
    return tuple(kind.references().values())


def load_fact_table(con: Any, kind: KindSchema, src: SourceFile, optional: tuple[str, ...],
                    used: set[str] | None = None) -> tuple[FactTable | None, list[str]]:
    """Create ``f_<kind>`` typed from ``src``; problems (as text) mean: use the reference binder.

    Only ``used`` fields (with the key, payee and reference fields) are kept; every
    field is still checked, text fields that are kept also for surrounding space.
    """
    keep = set(kind.fields) if used is None else {*used, kind.key, *kind.references(),
                                                   *(f for f, t in kind.fields.items() if t == PAYEE_TYPE)}
    types = column_types(con, src)
    floats = float_columns(types)
    if floats:
        return None, [f"{src.display}: floating-point column(s) {', '.join(floats)} cannot hold "
                      "exact decimals"]
    missing = [f for f in kind.fields if f not in types and f not in optional]
    if missing:
        return None, [f"{src.display}: missing column(s) {', '.join(missing)}"]
    selects, bads, scale_cols = [], [], []
    for field, ftype in kind.fields.items():
        native = types.get(field, "VARCHAR").upper()
        cell = quote(field) if field in types else "CAST(NULL AS VARCHAR)"
        typed, bad = _typed(cell, _value_type(kind, ftype), native, field not in optional,
                            field in keep, src.format == "csv")
        if field in keep:
            selects.append(f"{typed} AS {quote(field)}")
        bads.append(bad)
        if _value_type(kind, ftype) in ("money", "number") and field in keep:
            scale_cols.append(field)
            selects.append(f"{_scale_expr(cell, native)} AS {quote('_sc_' + field)}")
    table = f"f_{kind.name}"
    con.execute(f"CREATE OR REPLACE TABLE {quote(table)} AS SELECT {', '.join(selects)}, "
                f"({' OR '.join(bads)}) AS _bad FROM {relation_sql(src)}")
    return _check(con, table, kind, src, scale_cols)


def _check(con: Any, table: str, kind: KindSchema, src: SourceFile,
           scale_cols: list[str]) -> tuple[FactTable | None, list[str]]:
    t, key = quote(table), quote(kind.key)
    scales = ", ".join(f"max({quote('_sc_' + c)})" for c in scale_cols) or "0"
    row = con.execute(f"SELECT count(*), count(*) FILTER (WHERE _bad), count(DISTINCT {key}), "
                      f"{scales} FROM {t}").fetchone()
    total, bad, distinct = int(row[0]), int(row[1]), int(row[2])
    problems = []
    if bad:
        first = con.execute(f"SELECT min(rowid) FROM {t} WHERE _bad").fetchone()[0]
        problems.append(f"{src.display}: {bad} row(s) fail typed parsing (first on line {int(first) + 2})")
    if distinct != total:
        problems.append(f"{src.display}: {total - distinct} duplicate {kind.name} key(s)")
    for field, ftype in kind.fields.items():
        if ftype == PAYEE_TYPE:
            n = con.execute(f"SELECT count(*) FROM {t} f ANTI JOIN _payees p ON f.{quote(field)} = p.id "
                            f"WHERE f.{quote(field)} IS NOT NULL").fetchone()[0]
            if n:
                problems.append(f"{src.display}: {n} row(s) name an unknown payee in {field}")
    got = {c: int(v or 0) for c, v in zip(scale_cols, row[3:], strict=False)}
    if any(v > SCALE for v in got.values()):
        problems.append(f"{src.display}: more than {SCALE} decimal places")
    if problems:
        return None, problems
    for c in scale_cols:
        con.execute(f"ALTER TABLE {t} DROP COLUMN {quote('_sc_' + c)}")
    cols = con.execute(f"SELECT * FROM {t} LIMIT 0").description
    return FactTable(table, kind, src, got, total, frozenset(str(c[0]) for c in cols)), []


def dangling(con: Any, tables: dict[str, FactTable]) -> list[str]:
    """References to facts that are not in the data (a warning or error the binder words)."""
    problems = []
    for ft in tables.values():
        for field, target in sorted(ft.kind.references().items()):
            other = tables.get(target)
            if other is None:
                continue
            n = con.execute(
                f"SELECT count(*) FROM {quote(ft.table)} f ANTI JOIN {quote(other.table)} o "
                f"ON f.{quote(field)} = o.{quote(other.kind.key)} WHERE f.{quote(field)} IS NOT NULL"
            ).fetchone()[0]
            if n:
                problems.append(f"{ft.source.display}: {n} reference(s) in {field} to a missing {target}")
    return problems


def _value_type(kind: KindSchema, ftype: str) -> str:
    if ftype == PAYEE_TYPE or ftype in _kind_names(kind):
        return "text"
    return ftype


def _typed(cell: str, vtype: str, native: str, required: bool, kept: bool = True,
           csv: bool = True) -> tuple[str, str]:
    """(typed value, row-is-bad condition) of one cell.

    A text cell that is not kept is only checked for being present: the reference
    would strip it, but nothing reads it. A kept one must not start or end with
    white space, and in CSV must not hold a line break (line numbers would shift)."""
    empty = f"({cell} IS NULL)" if native != "VARCHAR" else f"({cell} IS NULL OR {cell} = '')"
    missing = empty if required else "false"
    if vtype in ("money", "number"):
        if native.startswith("DECIMAL"):
            return cell, missing  # exact as stored; sums widen to DECIMAL(38, s)
        if native.startswith(("INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
                              "UINTEGER", "USMALLINT", "UTINYINT")):
            return f"CAST({cell} AS DECIMAL(38,0))", missing
        ok = f"regexp_full_match({cell}, {literal(NUMBER_RE)})"
        value = f"TRY_CAST(replace(replace({cell}, ',', ''), '_', '') AS DECIMAL(38,{SCALE}))"
        return (f"CASE WHEN {ok} THEN {value} END",
                f"({missing} OR (NOT {empty} AND (NOT coalesce({ok}, false) OR {value} IS NULL)))")
    if vtype == "date":
        if native == "DATE":
            return cell, missing
        value = f"TRY_CAST({cell} AS DATE)"
        ok = f"(regexp_full_match({cell}, {literal(DATE_RE)}) AND {value} IS NOT NULL)"
        return f"CASE WHEN {ok} THEN {value} END", f"({missing} OR (NOT {empty} AND NOT coalesce({ok}, false)))"
    if vtype == "bool":
        if native == "BOOLEAN":
            return cell, missing
        low = f"lower({cell})"
        ok = f"{low} IN ('true', 'yes', '1', 'false', 'no', '0')"
        return (f"CASE WHEN {ok} THEN {low} IN ('true', 'yes', '1') END",
                f"({missing} OR (NOT {empty} AND NOT coalesce({ok}, false)))")
    text = cell if native == "VARCHAR" else f"CAST({cell} AS VARCHAR)"
    if not kept:
        return "NULL", f"({missing})"
    points = ", ".join(str(p) for p in SPACE_POINTS)
    maybe = f"({text}[1] < '!' OR {text}[-1] < '!' OR strlen({text}) <> length({text}))"  # cheap superset
    exact = f"(unicode({text}) IN ({points}) OR unicode({text}[-1]) IN ({points}))"
    odd = f"(CASE WHEN {maybe} THEN {exact} ELSE false END"
    odd += f" OR contains({text}, chr(10)))" if csv else ")"
    return f"nullif({text}, '')", f"({missing} OR coalesce({odd}, false))"


def _scale_expr(cell: str, native: str) -> str:
    if native.startswith("DECIMAL"):
        return native.split(",")[1].rstrip(")").strip()
    if native != "VARCHAR":
        return "0"
    return f"CASE WHEN contains({cell}, '.') THEN length({cell}) - strpos({cell}, '.') ELSE 0 END"
