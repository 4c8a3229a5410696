"""The plan's abstract syntax tree: frozen attrs nodes with tuple children.

Every node carries a ``span`` that is excluded from equality, so two plans that
differ only in layout compare equal (the formatter's round-trip property).
Nodes are built only by :mod:`kpidsl.syntax.transform`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import attrs

from kpidsl.source import NO_SPAN, Span


def _span() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------


@attrs.frozen
class Number:
    """A numeric literal; ``80%`` has value 0.80 and ``percent=True``."""

    value: Decimal
    percent: bool = False
    text: str = attrs.field(default="", eq=False)
    span: Span = _span()


@attrs.frozen
class String:
    """A text literal in double quotes."""

    value: str
    span: Span = _span()


@attrs.frozen
class DateLit:
    """A date literal ``2026-07-01``."""

    value: dt.date
    span: Span = _span()


@attrs.frozen
class Bool:
    """``true`` or ``false``."""

    value: bool
    span: Span = _span()


@attrs.frozen
class Name:
    """A reference to a definition, input or constant by name."""

    name: str
    span: Span = _span()


@attrs.frozen
class Field:
    """A fact field: ``deal.amount``; ``collection.deal.product`` is one hop."""

    kind: str
    path: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class Unary:
    """``-x`` or ``not x``."""

    op: str
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Binary:
    """Arithmetic (+ - * /), comparison (== != < <= > >=) or logic (and, or)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Call:
    """``f(args)``: a built-in (attainment, target, prior, min, max, abs) or a tiers/table."""

    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class PeriodWindow:
    """``in period``: the evaluation period (a segment's dates within it)."""

    span: Span = _span()


@attrs.frozen
class YtdWindow:
    """``in ytd``: fiscal-year start to the end of the period (or segment)."""

    span: Span = _span()


@attrs.frozen
class PreviousPeriodWindow:
    """``in previous period``: the period before the evaluation period."""

    span: Span = _span()


@attrs.frozen
class DateRangeWindow:
    """``in 2026-02-01 to 2026-07-31``: an explicit inclusive date range."""

    start: dt.date
    end: dt.date
    span: Span = _span()


Window = PeriodWindow | YtdWindow | PreviousPeriodWindow | DateRangeWindow


@attrs.frozen
class InWindow:
    """``deal.signed_on in period``: a date tested against a time window."""

    expr: Expr
    window: Window
    span: Span = _span()


@attrs.frozen
class InList:
    """``deal.stage in ("won", "closed")``: membership in a literal list."""

    expr: Expr
    items: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class Fallback:
    """``expr else fallback``: the fallback replaces an evaluation error of expr."""

    expr: Expr
    fallback: Expr
    span: Span = _span()


@attrs.frozen
class Aggregate:
    """An aggregate over the payee's credited facts of one kind.

    ``func`` is one of sum, count, count_distinct, avg, min, max. ``kind`` is the
    fact kind (explicit for ``count deal``, else inferred by the checker and
    filled in by the transformer when the expression names one kind). ``scope``
    is "self", "team" or "self+team"; ``credit`` the credit types counted.
    """

    func: str
    kind: str
    expr: Expr | None
    scope: str = "self"
    credit: tuple[str, ...] = ("split",)
    where: Expr | None = None
    span: Span = _span()


Expr = (
    Number
    | String
    | DateLit
    | Bool
    | Name
    | Field
    | Unary
    | Binary
    | Call
    | InWindow
    | InList
    | Fallback
    | Aggregate
)


# --------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------


@attrs.frozen
class PlanHeader:
    """The ``plan "Name" { ... }`` block: currency, period, rounding and dates."""

    name: str
    currency: str = "CNY"
    period: str = "quarter"
    rounding_mode: str = "half_up"
    quantum: Decimal = Decimal("0.01")
    precision: int = 28
    fiscal_year_start: int = 1
    effective: dt.date | None = None
    changes: str = "any_day"
    version: str | None = None
    settings: tuple[str, ...] = attrs.field(default=(), eq=False)
    span: Span = _span()


@attrs.frozen
class Import:
    """``import "shared/rates.kpi"``: definitions from another file under the root."""

    path: str
    span: Span = _span()


@attrs.frozen
class FieldDecl:
    """``name: type`` inside a fact kind; the type may name another kind (a reference)."""

    name: str
    type: str
    span: Span = _span()


@attrs.frozen
class FactKind:
    """``fact deal { ... }``: declares a kind or extends a built-in one."""

    name: str
    key: str | None
    date: str | None
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class InputDecl:
    """``input collaboration: percent [default 0%]``: a value people enter per payee."""

    name: str
    type: str
    default: Expr | None = None
    span: Span = _span()


@attrs.frozen
class Metric:
    """``metric name: type = expr``: an aggregate over facts or a derived expression."""

    name: str
    type: str
    expr: Expr
    span: Span = _span()


@attrs.frozen
class Target:
    """``target metric = expr``: the plan's default quota for a metric."""

    metric: str
    expr: Expr
    span: Span = _span()


@attrs.frozen
class Const:
    """``const name: type = expr [per period]``; per-period constants prorate in segments."""

    name: str
    type: str
    expr: Expr
    per_period: bool = False
    span: Span = _span()


@attrs.frozen
class TableEntry:
    """One ``"key" : value`` row of a table."""

    key: str
    value: Expr
    span: Span = _span()


@attrs.frozen
class Table:
    """``table name by expr { "k": v ... else: v }``: a lookup keyed by text."""

    name: str
    key: Expr
    entries: tuple[TableEntry, ...]
    default: Expr | None
    span: Span = _span()


@attrs.frozen
class Band:
    """``lower to upper : value`` (``upper`` None for ``and up``)."""

    lower: Number
    upper: Number | None
    value: Expr
    span: Span = _span()


@attrs.frozen
class Point:
    """``x : y``: one point of an interpolated pay curve."""

    x: Number
    y: Expr
    span: Span = _span()


@attrs.frozen
class Tiers:
    """``tiers name mode [per kind] on input { bands }``.

    ``mode`` is step, marginal, interpolated or lookup. ``above`` gives what
    applies above a closed last band; ``extend_flat`` extends an interpolated
    curve's end values.
    """

    name: str
    mode: str
    per: str | None
    on: Expr
    bands: tuple[Band | Point, ...]
    extend_flat: bool = False
    above: Expr | None = None
    span: Span = _span()


@attrs.frozen
class ScoreLine:
    """``name weight 40% [cap 150%] [threshold 50%]``."""

    ref: str
    weight: Number
    cap: Number | None = None
    threshold: Number | None = None
    span: Span = _span()


@attrs.frozen
class Score:
    """``score name { lines }``: a weighted scorecard; its value is a percent."""

    name: str
    lines: tuple[ScoreLine, ...]
    span: Span = _span()


@attrs.frozen
class When:
    """``when cond then * 50%`` (op is one of * + - =)."""

    cond: Expr
    op: str
    value: Expr
    span: Span = _span()


@attrs.frozen
class Requires:
    """``requires cond``: the component is zero when cond is false."""

    cond: Expr
    span: Span = _span()


@attrs.frozen
class Floor:
    """``floor expr``."""

    expr: Expr
    span: Span = _span()


@attrs.frozen
class Cap:
    """``cap expr``."""

    expr: Expr
    span: Span = _span()


Clause = When | Requires | Floor | Cap


@attrs.frozen
class Payout:
    """``payout name: money = expr`` with clauses in written order."""

    name: str
    type: str
    expr: Expr
    clauses: tuple[Clause, ...] = ()
    span: Span = _span()


Definition = InputDecl | Metric | Target | Const | Table | Tiers | Score | Payout


@attrs.frozen
class SelectorItem:
    """``role SE``, ``region west``, ``payee "p-1043"``, ``team "华南大区"`` or ``attr value``."""

    attr: str
    value: str
    span: Span = _span()


@attrs.frozen
class Override:
    """``for selector [from D] [until D] { definitions }``."""

    selector: tuple[SelectorItem, ...]
    start: dt.date | None
    until: dt.date | None
    body: tuple[Definition, ...]
    span: Span = _span()


# --------------------------------------------------------------------------
# Tests and invariants
# --------------------------------------------------------------------------


@attrs.frozen
class Cell:
    """One raw cell of an inline test table; typed later like a CSV cell."""

    text: str
    quoted: bool = False
    span: Span = _span()


@attrs.frozen
class TestTable:
    """``deals { header / rows }`` (``header`` empty for targets/inputs rows)."""

    section: str
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    span: Span = _span()


@attrs.frozen
class TestPeriod:
    """``period 2026-Q3`` inside a test."""

    period: str
    span: Span = _span()


@attrs.frozen
class Expect:
    """``expect alice.commission == 5_100.00`` (name ``total`` for the total)."""

    payee: str
    name: str
    op: str
    value: Expr
    span: Span = _span()


@attrs.frozen
class ExpectError:
    """``expect error KPI0301 [for alice[.name]] [in "file.kpi"]``."""

    code: str
    payee: str | None = None
    name: str | None = None
    file: str | None = None
    span: Span = _span()


TestItem = TestPeriod | TestTable | Expect | ExpectError


@attrs.frozen
class TestBlock:
    """``test "name" { ... }``: a unit test of the plan with inline data."""

    name: str
    items: tuple[TestItem, ...]
    span: Span = _span()


@attrs.frozen
class Invariant:
    """``invariant commission is monotonic in bookings`` or ``invariant spiff <= 5_000``."""

    name: str
    op: str
    arg: Expr
    span: Span = _span()


Item = Import | FactKind | Definition | Override | TestBlock | Invariant


@attrs.frozen
class Comment:
    """A ``//`` comment, kept for the formatter (not part of equality of plans)."""

    text: str
    line: int


@attrs.frozen
class Module:
    """One parsed ``.kpi`` file: an optional header and its items in source order."""

    header: PlanHeader | None
    items: tuple[Item, ...]
    file: str = attrs.field(default="<string>", eq=False)
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False)
    span: Span = _span()


# --------------------------------------------------------------------------
# Walking: the one place that knows which nodes hold sub-expressions
# --------------------------------------------------------------------------


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr`` (an aggregate's expression and filter included)."""
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, InWindow):
        return (expr.expr,)
    if isinstance(expr, InList):
        return (expr.expr, *expr.items)
    if isinstance(expr, Fallback):
        return (expr.expr, expr.fallback)
    if isinstance(expr, Aggregate):
        return tuple(e for e in (expr.expr, expr.where) if e is not None)
    return ()


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Every expression node under ``expr``, pre-order."""
    if expr is None:
        return
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def clause_exprs(clauses: tuple[Clause, ...]) -> list[Expr]:
    """The expressions of payout clauses, in written order."""
    out: list[Expr] = []
    for c in clauses:
        if isinstance(c, When):
            out += [c.cond, c.value]
        elif isinstance(c, Requires):
            out.append(c.cond)
        else:
            out.append(c.expr)
    return out


def definition_exprs(d: Definition) -> list[Expr]:
    """The top-level expressions of a definition; a score names metrics and inputs only."""
    if isinstance(d, InputDecl):
        return [d.default] if d.default is not None else []
    if isinstance(d, (Metric, Target, Const)):
        return [d.expr]
    if isinstance(d, Table):
        out = [d.key, *(e.value for e in d.entries)]
        return out + ([d.default] if d.default is not None else [])
    if isinstance(d, Tiers):
        vals = [b.value if isinstance(b, Band) else b.y for b in d.bands]
        return [d.on, *vals] + ([d.above] if d.above is not None else [])
    if isinstance(d, Payout):
        return [d.expr, *clause_exprs(d.clauses)]
    return []
