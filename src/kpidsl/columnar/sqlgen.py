"""Aggregates of a plan as SQL over one typed fact table, or the reason they stay in Python.

Supported (computed columnar): ``sum``/``count``/``count_distinct``/``min``/
``max``/``avg`` over ``self``, with any credit type, of a field or ``+ - *`` of
fields and numbers, filtered by ``and``/``or``/``not``, comparisons, ``in
[...]``, bare boolean fields and date windows. Not supported (evaluated by the
reference fact stage on the payee's facts fetched from DuckDB): ``over team``,
navigation (``collection.deal.product``), tables and tiers per fact, ``/``,
names and targets inside an aggregate, ``share`` when credit rows exist, and
fallbacks (``else``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kpidsl import ast
from kpidsl.model import KindSchema

from .sources import literal, quote

NUMERIC = ("money", "number", "percent", "count")


class Unsupported(Exception):
    """A construct the columnar stage leaves to the reference fact stage; the message says which."""


Windows = dict[str, tuple[dt.date, dt.date]]


def window_key(w: ast.Window) -> str:
    """A name for a window (the SQL bounds are bound per period)."""
    if isinstance(w, ast.PeriodWindow):
        return "period"
    if isinstance(w, ast.YtdWindow):
        return "ytd"
    if isinstance(w, ast.PreviousPeriodWindow):
        return "previous"
    return f"{w.start.isoformat()}..{w.end.isoformat()}"


# aggregates of values whose arithmetic in the reference (products per fact, additions) is done
# in the plan's context, of ``precision`` digits: beyond them it would round
WIDE_FUNCS = ("sum", "avg", "min", "max")


class AggregateSQL:
    """The SQL of one aggregate: its value expression and FILTER condition over ``f_<kind>``."""

    def __init__(self, agg: ast.Aggregate, kind: KindSchema, windows: Windows, credits: bool,
                 scales: dict[str, int] | None = None, row_scales: frozenset[str] = frozenset()) -> None:
        self.agg, self.kind, self.windows = agg, kind, windows
        self.scales = scales or {}
        self.row_scales = row_scales
        if agg.scope != "self":
            raise Unsupported(f"scope `over {agg.scope}`")
        if agg.func not in ("sum", "count", "count_distinct", "min", "max", "avg"):
            raise Unsupported(f"aggregate function {agg.func}")
        if credits:
            raise Unsupported("credit rows (splits) in the data")
        self.counted = "any" in agg.credit or "split" in agg.credit
        self.where = self.cond(agg.where) if agg.where is not None else "true"
        self.value = self.expr(agg.expr) if agg.expr is not None else "1"
        self.scale = self.scale_of(agg.expr) if agg.expr is not None else None
        # the value's decimal places row by row, when a field's cells were written with
        # different numbers of them (``50000`` and ``49999.5``): the reference keeps each
        # cell's own, so a sum has the most of its rows', a min or max its row's
        self.row_scale = self.scale_sql(agg.expr) if agg.expr is not None and \
            agg.func in ("sum", "avg", "min", "max") else None

    def scale_of(self, e: ast.Expr) -> int | None:
        """Decimal places of the exact per-fact value (sums keep them), None if not a number."""
        if isinstance(e, ast.Field):
            return 0 if e.path == ("share",) else self.scales.get(e.path[0])
        if isinstance(e, ast.Number):
            text = format(e.value, "f")
            return len(text.split(".")[1]) if "." in text else 0
        if isinstance(e, ast.Unary):
            return self.scale_of(e.operand)
        if isinstance(e, ast.Binary) and e.op in ("+", "-", "*"):
            a, b = self.scale_of(e.left), self.scale_of(e.right)
            if a is None or b is None:
                return None
            return a + b if e.op == "*" else max(a, b)
        return None

    def scale_sql(self, e: ast.Expr) -> str | None:
        """SQL of the per-row decimal places of ``e``, or None when they are the same on every
        row (:attr:`scale` then holds them)."""
        if isinstance(e, ast.Field):
            return quote("_sc_" + e.path[0]) if len(e.path) == 1 and e.path[0] in self.row_scales else None
        if isinstance(e, ast.Unary):
            return self.scale_sql(e.operand)
        if isinstance(e, ast.Binary) and e.op in ("+", "-", "*"):
            a, b = self.scale_sql(e.left), self.scale_sql(e.right)
            if a is None and b is None:
                return None
            a = a if a is not None else str(self.scale_of(e.left) or 0)
            b = b if b is not None else str(self.scale_of(e.right) or 0)
            return f"({a} + {b})" if e.op == "*" else f"greatest({a}, {b})"
        return None

    def select(self, alias: str) -> list[str]:
        """The SELECT items: ``<alias>_v`` (value) and ``<alias>_n`` (facts counted), and with
        per-row scales ``<alias>_s``: the decimal places of the value (a sum's widest, or
        those of the row a min or max comes from: the first in key order among equals)."""
        cond = self.where if self.counted else "false"
        func = {"count": "count", "count_distinct": "count", "sum": "sum", "min": "min", "max": "max",
                "avg": "sum"}[self.agg.func]
        arg = f"DISTINCT {self.value}" if self.agg.func == "count_distinct" else self.value
        if self.agg.func == "count":
            arg = "*"
        items = [f"{func}({arg}) FILTER (WHERE {cond}) AS {quote(alias + '_v')}",
                 f"count(*) FILTER (WHERE {cond}) AS {quote(alias + '_n')}"]
        if self.row_scale is not None:
            if self.agg.func in ("min", "max"):
                way = "ASC" if self.agg.func == "min" else "DESC"
                pick = f"first({self.row_scale} ORDER BY {self.value} {way}, {quote(self.kind.key)} ASC)"
            else:
                pick = f"max({self.row_scale})"
            items.append(f"{pick} FILTER (WHERE {cond}) AS {quote(alias + '_s')}")
        if self.agg.func in WIDE_FUNCS:  # the largest magnitude: whether the reference's arithmetic rounds
            items.append(f"max(abs({self.value})) FILTER (WHERE {cond}) AS {quote(alias + '_m')}")
        return items

    # ---- expressions --------------------------------------------------------------

    def field(self, e: ast.Field) -> tuple[str, str]:
        if e.path[0] == "share" and len(e.path) == 1:
            return "CAST(1 AS DECIMAL(38,0))", "number"
        if len(e.path) != 1:
            raise Unsupported(f"navigation `{'.'.join(e.path)}`")
        ftype = self.kind.fields.get(e.path[0])
        if ftype is None:
            raise Unsupported(f"unknown field {e.path[0]}")
        vtype = ftype if ftype in (*NUMERIC, "date", "bool", "text") else "text"
        return quote(e.path[0]), vtype

    def expr(self, e: ast.Expr) -> str:
        sql, _ = self.typed(e)
        return sql

    def typed(self, e: ast.Expr) -> tuple[str, str]:
        if isinstance(e, ast.Field):
            return self.field(e)
        if isinstance(e, ast.Number):
            return _number(e.value), "number"
        if isinstance(e, ast.String):
            return literal(e.value), "text"
        if isinstance(e, ast.DateLit):
            return f"DATE '{e.value.isoformat()}'", "date"
        if isinstance(e, ast.Bool):
            return ("true" if e.value else "false"), "bool"
        if isinstance(e, ast.Unary) and e.op == "-":
            return f"(- {self.expr(e.operand)})", "number"
        if isinstance(e, ast.Binary) and e.op in ("+", "-", "*"):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})", "number"
        raise Unsupported(f"expression {type(e).__name__}")

    def cond(self, e: ast.Expr) -> str:
        """A condition that is true exactly where the reference's Python test is True."""
        if isinstance(e, ast.Binary) and e.op in ("and", "or"):
            return f"({self.cond(e.left)} {e.op.upper()} {self.cond(e.right)})"
        if isinstance(e, ast.Unary) and e.op == "not":
            return f"(NOT {self.cond(e.operand)})"
        if isinstance(e, ast.Binary) and e.op in ("==", "!=", "<", "<=", ">", ">="):
            return self.compare(e)
        if isinstance(e, ast.InList):
            items = ", ".join(self.expr(i) for i in e.items)
            return f"coalesce({self.expr(e.expr)} IN ({items}), false)"
        if isinstance(e, ast.InWindow):
            return self.in_window(e)
        sql, vtype = self.typed(e)
        if vtype != "bool":
            raise Unsupported("a non-boolean condition")
        return f"coalesce({sql}, false)"

    def compare(self, e: ast.Binary) -> str:
        a, b = self.expr(e.left), self.expr(e.right)
        if e.op == "==":
            return f"({a} IS NOT DISTINCT FROM {b})"
        if e.op == "!=":
            return f"({a} IS DISTINCT FROM {b})"
        return f"coalesce({a} {e.op} {b}, false)"

    def in_window(self, e: ast.InWindow) -> str:
        sql, vtype = self.typed(e.expr)
        if vtype != "date":
            raise Unsupported("`in` a window of a non-date")
        w = e.window
        lo, hi = (w.start, w.end) if isinstance(w, ast.DateRangeWindow) else self.windows[window_key(w)]
        return f"coalesce({sql} BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}', false)"


def _number(v: Decimal) -> str:
    text = format(v, "f")
    scale = len(text.split(".")[1]) if "." in text else 0
    if scale > 18:
        raise Unsupported("a number literal with more than 18 decimals")
    return f"CAST('{text}' AS DECIMAL(38,{scale}))"


def aggregates_of(e: ast.Expr | None) -> list[ast.Aggregate]:
    """Every aggregate inside an expression (not nested inside another aggregate)."""
    if e is None:
        return []
    if isinstance(e, ast.Aggregate):
        return [e]
    out: list[ast.Aggregate] = []
    for c in ast.children(e):
        out.extend(aggregates_of(c))
    return out
