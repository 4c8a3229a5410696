"""Expressions back to plan text, for the ``formula`` of explanations and error messages."""

from __future__ import annotations

from kpidsl import ast

_PREC = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
         "+": 5, "-": 5, "*": 6, "/": 6}


_CACHE: dict[int, tuple[ast.Expr, str]] = {}
_CACHE_LIMIT = 50_000


def unparse(e: ast.Expr) -> str:
    """Plan text for an expression (normalized spacing, minimal parentheses).

    Remembered per node (by identity, the node kept alive beside its text): the
    payee stage asks for the same formulas for every payee."""
    hit = _CACHE.get(id(e))
    if hit is not None and hit[0] is e:
        return hit[1]
    text = _up(e, 0)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(e)] = (e, text)
    return text


def _number(n: ast.Number) -> str:
    if n.text:
        return n.text
    if n.percent:
        return f"{format(n.value.scaleb(2).normalize(), 'f')}%"
    return format(n.value, "f")


def unparse_window(w: ast.Window) -> str:
    """``period``, ``ytd``, ``previous period`` or ``2026-01-01 to 2026-03-31``."""
    return _window(w)


def _window(w: ast.Window) -> str:
    if isinstance(w, ast.PeriodWindow):
        return "period"
    if isinstance(w, ast.YtdWindow):
        return "ytd"
    if isinstance(w, ast.PreviousPeriodWindow):
        return "previous period"
    return f"{w.start.isoformat()} to {w.end.isoformat()}"


def _aggregate(a: ast.Aggregate) -> str:
    func = "count distinct" if a.func == "count_distinct" else a.func
    text = f"{func} {a.kind}" if a.expr is None else f"{func} {_up(a.expr, 0)}"
    if a.scope != "self":
        text += " over " + ("self + team" if a.scope == "self+team" else a.scope)
    if a.credit != ("split",):
        text += " credited " + ", ".join(a.credit)
    if a.where is not None:
        text += f" where {_up(a.where, 0)}"
    return text


def _up(e: ast.Expr, ctx: int) -> str:
    if isinstance(e, ast.Number):
        return _number(e)
    if isinstance(e, ast.String):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(e, ast.DateLit):
        return e.value.isoformat()
    if isinstance(e, ast.Bool):
        return "true" if e.value else "false"
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Field):
        return ".".join((e.kind, *e.path))
    if isinstance(e, ast.Unary):
        sep = " " if e.op == "not" else ""
        return _wrap(f"{e.op}{sep}{_up(e.operand, 7)}", 7, ctx)
    if isinstance(e, ast.Binary):
        p = _PREC.get(e.op, 3)
        return _wrap(f"{_up(e.left, p)} {e.op} {_up(e.right, p + 1)}", p, ctx)
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(_up(a, 0) for a in e.args)})"
    if isinstance(e, ast.InWindow):
        return _wrap(f"{_up(e.expr, 4)} in {_window(e.window)}", 3, ctx)
    if isinstance(e, ast.InList):
        return _wrap(f"{_up(e.expr, 4)} in ({', '.join(_up(i, 0) for i in e.items)})", 3, ctx)
    if isinstance(e, ast.Fallback):
        return _wrap(f"{_up(e.expr, 1)} else {_up(e.fallback, 1)}", 0, ctx)
    return _wrap(_aggregate(e), 0, ctx)


def _wrap(text: str, prec: int, ctx: int) -> str:
    return f"({text})" if prec < ctx else text
