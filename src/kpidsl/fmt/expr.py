"""Expressions printed with the fewest parentheses their precedence allows.

Precedence, loosest first: ``else`` < ``or`` < ``and`` < ``not`` <
comparison/``in`` < ``+ -`` < ``* /`` < unary minus < postfix (calls, atoms).
Arithmetic and logic associate to the left; comparisons do not chain.
An aggregate (``sum x where c``) reads to the end of its clauses, so it is
bare only where a whole expression stands; elsewhere it is parenthesized.
"""

from __future__ import annotations

import re

import attrs

from kpidsl import ast
from kpidsl.numbers import fmt

__all__ = [
    "ADD",
    "format_expr",
    "format_number",
    "format_operand",
    "format_string",
    "is_identifier",
    "quote_word",
    "split_where",
]

_NAME = re.compile(r"[^\W\d]\w*")

ELSE, OR, AND, NOT, CMP, ADD, MUL, UNARY, ATOM = range(9)

_BINARY_LEVEL = {
    "or": OR,
    "and": AND,
    "==": CMP,
    "!=": CMP,
    "<": CMP,
    "<=": CMP,
    ">": CMP,
    ">=": CMP,
    "+": ADD,
    "-": ADD,
    "*": MUL,
    "/": MUL,
}

# Words the grammar reserves; a bare word that is one of these is quoted.
KEYWORDS = frozenset(
    """above and any avg by cap changes const count credited currency date default distinct
    effective else error expect extend fact false fiscal_year_start flat floor for from import
    in input interpolated invariant is key lookup marginal max metric min monotonic not on or
    over overlay payout per period plan precision previous requires rounding score self split
    step sum table target team test then threshold tiers to true until up version weight when
    where ytd""".split()
)


def format_number(num: ast.Number) -> str:
    """The literal as written when known (``1_000_000``), else its digits at its own
    scale (``1.50`` stays ``1.50``: a literal's scale can show in a result)."""
    if num.text:
        if num.percent and not num.text.endswith("%"):
            return num.text + "%"
        return num.text
    value = num.value.scaleb(2) if num.percent else num.value
    return fmt(value) + ("%" if num.percent else "")


def format_string(value: str) -> str:
    """A double-quoted literal; backslash and quote are escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def is_identifier(word: str) -> bool:
    """True when ``word`` lexes as a name: a letter or _ first, then letters, digits, _."""
    return _NAME.fullmatch(word) is not None


def quote_word(word: str) -> str:
    """A name bare when it can be, else a quoted string (``"p-1043"``)."""
    if is_identifier(word) and word not in KEYWORDS:
        return word
    return format_string(word)


def level(expr: ast.Expr) -> int:
    """How tightly an expression binds (see the module docstring)."""
    if isinstance(expr, ast.Fallback | ast.Aggregate):
        return ELSE
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVEL[expr.op]
    if isinstance(expr, ast.Unary):
        return NOT if expr.op == "not" else UNARY
    if isinstance(expr, ast.InWindow | ast.InList):
        return CMP
    return ATOM


def format_expr(expr: ast.Expr, *, top: bool = True) -> str:
    """Print ``expr``; ``top`` means a whole expression stands here (aggregates bare)."""
    if isinstance(expr, ast.Aggregate):
        return _aggregate(expr) if top else f"({_aggregate(expr)})"
    if isinstance(expr, ast.Fallback):
        # Inside parentheses a whole expression stands again, so the left side is bare.
        text = f"{format_expr(expr.expr)} else {_operand(expr.fallback, OR)}"
        return text if top else f"({text})"
    return _FORMATTERS[type(expr)](expr)


def format_operand(expr: ast.Expr, minimum: int) -> str:
    """``expr`` where the grammar wants at least ``minimum`` (e.g. ``ADD`` for arith)."""
    return _operand(expr, minimum)


def _operand(expr: ast.Expr, minimum: int) -> str:
    """An operand that must bind at least as tightly as ``minimum``."""
    text = format_expr(expr, top=False)
    if isinstance(expr, ast.Aggregate | ast.Fallback):
        return text  # already parenthesized
    return f"({text})" if level(expr) < minimum else text


def _binary(expr: ast.Expr) -> str:
    assert isinstance(expr, ast.Binary)
    lvl = _BINARY_LEVEL[expr.op]
    if lvl == CMP:
        return f"{_operand(expr.left, ADD)} {expr.op} {_operand(expr.right, ADD)}"
    return f"{_operand(expr.left, lvl)} {expr.op} {_operand(expr.right, lvl + 1)}"


def _unary(expr: ast.Expr) -> str:
    assert isinstance(expr, ast.Unary)
    if expr.op == "not":
        return f"not {_operand(expr.operand, NOT)}"
    inner = expr.operand
    text = _operand(inner, UNARY)
    return f"- {text}" if text.startswith("-") else f"-{text}"


def _in_window(expr: ast.Expr) -> str:
    assert isinstance(expr, ast.InWindow)
    return f"{_operand(expr.expr, ADD)} in {format_window(expr.window)}"


def format_window(window: ast.Window) -> str:
    """``period``, ``ytd``, ``previous period`` or ``2026-02-01 to 2026-07-31``."""
    if isinstance(window, ast.PeriodWindow):
        return "period"
    if isinstance(window, ast.YtdWindow):
        return "ytd"
    if isinstance(window, ast.PreviousPeriodWindow):
        return "previous period"
    return f"{window.start.isoformat()} to {window.end.isoformat()}"


def _in_list(expr: ast.Expr) -> str:
    assert isinstance(expr, ast.InList)
    items = ", ".join(format_expr(item, top=False) for item in expr.items)
    return f"{_operand(expr.expr, ADD)} in ({items})"


def _call(expr: ast.Expr) -> str:
    assert isinstance(expr, ast.Call)
    return f"{expr.func}({', '.join(format_expr(arg, top=False) for arg in expr.args)})"


def split_where(expr: ast.Expr) -> tuple[str, str] | None:
    """A whole-expression aggregate cut before ``where`` (for wrapping long lines)."""
    fallback = ""
    if isinstance(expr, ast.Fallback) and isinstance(expr.expr, ast.Aggregate):
        fallback = f" else {_operand(expr.fallback, OR)}"
        expr = expr.expr
    if not isinstance(expr, ast.Aggregate) or expr.where is None:
        return None
    head = _aggregate(attrs.evolve(expr, where=None))
    return head, f"where {_operand(expr.where, OR)}{fallback}"


def _aggregate(agg: ast.Aggregate) -> str:
    if agg.func == "count" and agg.expr is None:
        text = f"count {agg.kind}"
    else:
        func = "count distinct" if agg.func == "count_distinct" else agg.func
        assert agg.expr is not None
        text = f"{func} {_operand(agg.expr, ADD)}"
    if agg.scope != "self":
        text += " over " + ("self + team" if agg.scope == "self+team" else agg.scope)
    if agg.credit != ("split",):
        text += " credited " + ", ".join(agg.credit)
    if agg.where is not None:
        text += " where " + _operand(agg.where, OR)
    return text


def _atom(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Number):
        return format_number(expr)
    if isinstance(expr, ast.String):
        return format_string(expr.value)
    if isinstance(expr, ast.DateLit):
        return expr.value.isoformat()
    if isinstance(expr, ast.Bool):
        return "true" if expr.value else "false"
    if isinstance(expr, ast.Name):
        return expr.name
    assert isinstance(expr, ast.Field)
    return ".".join((expr.kind, *expr.path))


_FORMATTERS = {
    ast.Number: _atom,
    ast.String: _atom,
    ast.DateLit: _atom,
    ast.Bool: _atom,
    ast.Name: _atom,
    ast.Field: _atom,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Call: _call,
    ast.InWindow: _in_window,
    ast.InList: _in_list,
}
