"""Typing one cell in SQL with the reference binder's rules.

A number cell matches the reference's pattern (ASCII digits, groups of three,
underscores) and is cast to ``DECIMAL(38, 12)``; a date is ISO and a Python
date (years 1 to 9999); a boolean one of the six words; a kept text cell has no
surrounding white space (as Python's ``str.strip()`` sees it) and, in CSV, no
line break. Each returns the typed value, the condition that makes the row
bad, and helper columns computed once per row.
"""

from __future__ import annotations

from kpidsl.data.values import NUMBER_PATTERN

from .sources import literal, quote

SCALE = 12  # money is held as DECIMAL(38, 12): sums stay exact up to 10**26
WIDE = f"DECIMAL(38,{SCALE})"  # the type a number cell is parsed to (a typed copy may narrow it)
NUMBER_RE = NUMBER_PATTERN  # kpidsl.data.values: the reference's pattern, written once
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
PY_DATES = "DATE '0001-01-01' AND DATE '9999-12-31'"  # Python's dates
# code points Python's str.strip() removes (the reference strips every cell)
SPACE_POINTS = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, *range(8192, 8203), 8232, 8233,
                8239, 8287, 12288)
COLUMNAR_TYPES = ("money", "number", "date", "bool", "text")


Helpers = list[tuple[str, str]]  # (alias, expression) computed once per row before typing


def _typed(cell: str, vtype: str, native: str, required: bool, kept: bool = True,
           csv: bool = True, tag: str = "_h") -> tuple[str, str, Helpers]:
    """(typed value, row-is-bad condition, helper columns they read) of one cell.

    A text cell that is not kept is only checked for being present: the reference
    would strip it, but nothing reads it. A kept one must not start or end with
    white space, and in CSV must not hold a line break (line numbers would shift).
    Parsing a text cell (pattern match, cast) is done once in a helper column named
    from ``tag``, read by both the value and the check."""
    empty = f"({cell} IS NULL)" if native != "VARCHAR" else f"({cell} IS NULL OR {cell} = '')"
    missing = empty if required else "false"
    if vtype in ("money", "number"):
        if native.startswith("DECIMAL"):
            return cell, missing, []  # exact as stored; sums widen to DECIMAL(38, s)
        if native.startswith(("INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT",
                              "UINTEGER", "USMALLINT", "UTINYINT")):
            return f"CAST({cell} AS DECIMAL(38,0))", missing, []
        ok, value = quote(tag + "_ok"), quote(tag + "_v")
        plain = (f"CASE WHEN contains({cell}, ',') OR contains({cell}, '_') "
                 f"THEN replace(replace({cell}, ',', ''), '_', '') ELSE {cell} END")
        helpers = [(ok, f"regexp_full_match({cell}, {literal(NUMBER_RE)})"),
                   (value, f"TRY_CAST({plain} AS {WIDE})")]
        # DuckDB's decimals have no negative zero: ``-0.00`` (kept as written by the reference) is left to it
        minus_zero = f"({value} = 0 AND starts_with({cell}, '-'))"
        return (f"CASE WHEN {ok} THEN {value} END",
                f"({missing} OR (NOT {empty} AND (NOT coalesce({ok}, false) OR {value} IS NULL OR {minus_zero})))",
                helpers)
    if vtype == "date":
        # the reference's dates are Python's: years 1 to 9999 (DuckDB's year 0 is 1 BC; its
        # 'infinity' dates have no year, and the reference refuses them)
        if native == "DATE":
            return cell, f"({missing} OR NOT coalesce({cell} BETWEEN {PY_DATES}, true))", []
        value = quote(tag + "_v")
        ok = f"(regexp_full_match({cell}, {literal(DATE_RE)}) AND {value} IS NOT NULL AND year({value}) >= 1)"
        return (f"CASE WHEN {ok} THEN {value} END", f"({missing} OR (NOT {empty} AND NOT coalesce({ok}, false)))",
                [(value, f"TRY_CAST({cell} AS DATE)")])
    if vtype == "bool":
        if native == "BOOLEAN":
            return cell, missing, []
        low = f"lower({cell})"  # only for cells other than the common true/false
        ok = f"CASE WHEN {cell} IN ('true', 'false') THEN true ELSE {low} IN ('true', 'yes', '1', 'false', 'no', '0') END"
        return (f"CASE WHEN {cell} = 'true' THEN true WHEN {cell} = 'false' THEN false "
                f"WHEN {low} IN ('true', 'yes', '1', 'false', 'no', '0') THEN {low} IN ('true', 'yes', '1') END",
                f"({missing} OR (NOT {empty} AND NOT coalesce({ok}, false)))", [])
    text = cell if native == "VARCHAR" else f"CAST({cell} AS VARCHAR)"
    if not kept:
        return "NULL", f"({missing})", []
    points = ", ".join(str(p) for p in SPACE_POINTS)
    # a cheap superset: an ASCII control or space at either end, or any non-ASCII character
    # (strings compare bytewise: ``< '!'`` is a first byte below 33)
    maybe = f"({text} < '!' OR {text}[-1] < '!' OR strlen({text}) <> length({text}))"
    exact = f"(unicode({text}) IN ({points}) OR unicode({text}[-1]) IN ({points}))"
    odd = f"(CASE WHEN {maybe} THEN {exact} ELSE false END"
    odd += f" OR contains({text}, chr(10)))" if csv else ")"
    return f"nullif({text}, '')", f"({missing} OR coalesce({odd}, false))", []


def _scale_expr(cell: str, native: str) -> str:
    if native.startswith("DECIMAL"):
        return native.split(",")[1].rstrip(")").strip()
    if native != "VARCHAR":
        return "0"
    return f"CASE WHEN contains({cell}, '.') THEN length({cell}) - strpos({cell}, '.') ELSE 0 END"
