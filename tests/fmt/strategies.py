"""Hypothesis strategies that build valid ``ast.Module`` values.

The values are the ones the parser can produce: names avoid keywords, numbers
are non-negative (negatives are ``Unary("-", ...)``), an aggregate's ``kind`` is
filled from its first field as the transformer does, test tables have a header
unless they are ``targets``/``inputs``, and so on. Spans are left out (they do
not take part in equality).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from kpidsl import ast
from kpidsl.fmt.expr import ADD, KEYWORDS, format_operand

_ASCII = "abcdefghijklmnopqrstuvwxyz"
_CJK = "回款额销售目标提成华南大区"
_RESERVED = KEYWORDS | {"deal", "collection"}

names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(_ASCII + _CJK + "_"),
    st.text(alphabet=_ASCII + _CJK + "_0123456789", max_size=6),
).filter(lambda n: n not in _RESERVED)

types = st.sampled_from(["money", "count", "number", "percent", "bool", "text", "date"])
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


# --------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------


def _with_separators(digits: str) -> str:
    """``1234567`` -> ``1_234_567`` (the grammar allows ``_`` between digits)."""
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return "_".join(reversed(groups))


@st.composite
def numbers(draw: st.DrawFn, percent: bool | None = None) -> ast.Number:
    """A non-negative literal, sometimes with its source text (``1_000``), sometimes not."""
    whole = draw(st.integers(0, 10**9))
    places = draw(st.integers(0, 3))
    frac = draw(st.integers(0, 10**places - 1)) if places else 0
    is_pct = draw(st.booleans()) if percent is None else percent
    digits = str(whole)
    written = _with_separators(digits) if draw(st.booleans()) else digits
    text = written + (f".{frac:0{places}d}" if places else "")
    value = Decimal(text.replace("_", ""))
    if is_pct:
        value = value.scaleb(-2)
        text += "%"
    keep_text = draw(st.booleans())
    return ast.Number(value, is_pct, text if keep_text else "")


atoms: st.SearchStrategy[ast.Expr] = st.one_of(
    numbers(),
    st.builds(ast.String, texts),
    st.builds(ast.DateLit, dates),
    st.builds(ast.Bool, st.booleans()),
    st.builds(ast.Name, names),
    st.builds(ast.Field, names, st.lists(names, min_size=1, max_size=2).map(tuple)),
)

windows = st.one_of(
    st.just(ast.PeriodWindow()),
    st.just(ast.YtdWindow()),
    st.just(ast.PreviousPeriodWindow()),
    st.builds(ast.DateRangeWindow, dates, dates),
)

_BINARY_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]
_CALLS = ["attainment", "target", "prior", "min", "max", "abs"]


def first_field(*exprs: Any) -> ast.Field | None:
    """The first field left to right, as the transformer finds an aggregate's kind."""
    for node in exprs:
        if isinstance(node, ast.Field):
            return node
        if isinstance(node, tuple):
            found = first_field(*node)
        elif attrs.has(type(node)):
            found = first_field(
                *(getattr(node, f.name) for f in attrs.fields(type(node)) if f.name != "span")
            )
        else:
            found = None
        if found is not None:
            return found
    return None


def _aggregate(func: str, expr: ast.Expr | None, kind: str, opts: tuple[Any, ...]) -> ast.Aggregate:
    scope, credit, where = opts
    if func != "count":
        field = first_field(expr, where)
        kind = field.kind if field else ""
    return ast.Aggregate(func, kind, expr, scope, credit, where)


def _min_max_ok(agg: ast.Aggregate) -> bool:
    """``min (x)`` reads as a call, so a min/max aggregate cannot start with a parenthesis."""
    if agg.func not in ("min", "max") or agg.expr is None:
        return True
    return not format_operand(agg.expr, ADD).startswith("(")


def _compound(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    credits = st.lists(
        st.sampled_from(["split", "overlay", "any"]), min_size=1, max_size=2, unique=True
    ).map(tuple)
    agg_opts = st.tuples(
        st.sampled_from(["self", "team", "self+team"]), credits, st.none() | children
    )
    aggregates = st.one_of(
        st.builds(
            _aggregate,
            st.sampled_from(["sum", "avg", "min", "max", "count_distinct"]),
            children,
            st.just(""),
            agg_opts,
        ),
        st.builds(_aggregate, st.just("count"), st.none(), names, agg_opts),
    ).filter(_min_max_ok)
    return st.one_of(
        st.builds(ast.Unary, st.sampled_from(["-", "not"]), children),
        st.builds(ast.Binary, st.sampled_from(_BINARY_OPS), children, children),
        st.builds(
            ast.Call,
            st.sampled_from(_CALLS) | names,
            st.lists(children, max_size=3).map(tuple),
        ),
        st.builds(ast.InWindow, children, windows),
        st.builds(ast.InList, children, st.lists(children, min_size=1, max_size=3).map(tuple)),
        st.builds(ast.Fallback, children, children),
        aggregates,
    )


exprs: st.SearchStrategy[ast.Expr] = st.recursive(atoms, _compound, max_leaves=8)


# --------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------


def _band(lower: ast.Number, upper: ast.Number | None, value: ast.Expr) -> ast.Band:
    return ast.Band(lower, upper, value)


tier_rows = st.one_of(
    st.builds(_band, numbers(), st.none() | numbers(), exprs),
    st.builds(ast.Point, numbers(), exprs),
)

score_lines = st.builds(
    ast.ScoreLine, names, numbers(), st.none() | numbers(), st.none() | numbers()
)

clauses = st.one_of(
    st.builds(ast.When, exprs, st.sampled_from(["*", "+", "-", "="]), exprs),
    st.builds(ast.Requires, exprs),
    st.builds(ast.Floor, exprs),
    st.builds(ast.Cap, exprs),
)

definitions = st.one_of(
    st.builds(ast.InputDecl, names, types, st.none() | exprs),
    st.builds(ast.Metric, names, types, exprs),
    st.builds(ast.Target, names, exprs),
    st.builds(ast.Const, names, types, exprs, st.booleans()),
    st.builds(
        ast.Table,
        names,
        exprs,
        st.lists(st.builds(ast.TableEntry, texts, exprs), max_size=3).map(tuple),
        st.none() | exprs,
    ),
    st.builds(
        ast.Tiers,
        names,
        st.sampled_from(["step", "marginal", "interpolated", "lookup"]),
        st.none() | names,
        exprs,
        st.lists(tier_rows, max_size=3).map(tuple),
        extend_flat=st.booleans(),
        above=st.none() | exprs,
    ),
    st.builds(ast.Score, names, st.lists(score_lines, max_size=3).map(tuple)),
    st.builds(ast.Payout, names, types, exprs, st.lists(clauses, max_size=3).map(tuple)),
)


# --------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------

selector_values = st.one_of(names, texts, st.integers(0, 99).map(str))

overrides = st.builds(
    ast.Override,
    st.lists(st.builds(ast.SelectorItem, names, selector_values), min_size=1, max_size=2).map(
        tuple
    ),
    st.none() | dates,
    st.none() | dates,
    st.lists(definitions, max_size=2).map(tuple),
)

facts = st.builds(
    ast.FactKind,
    names,
    st.none() | names,
    st.none() | names,
    st.lists(st.builds(ast.FieldDecl, names, types | names), max_size=3).map(tuple),
)

_raw_cell_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Z"),
        blacklist_characters='{}"\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85',
    ),
    min_size=1,
    max_size=6,
).filter(lambda t: t != "-" and "//" not in t and not t.isspace())

cells = st.one_of(
    st.builds(ast.Cell, _raw_cell_text, st.just(False)),
    st.just(ast.Cell("", False)),
    st.builds(ast.Cell, texts, st.just(True)),
)


@st.composite
def test_tables(draw: st.DrawFn) -> ast.TestTable:
    """A headerless ``targets``/``inputs`` table or a table with a header row."""
    section = draw(st.sampled_from(["targets", "inputs", "payees", "deals", "collections"]))
    if section in ("targets", "inputs"):
        rows = draw(st.lists(st.lists(cells, min_size=3, max_size=4).map(tuple), max_size=3))
        return ast.TestTable(section, (), tuple(rows))
    width = draw(st.integers(1, 4))
    header = tuple(draw(st.lists(cells, min_size=width, max_size=width)))
    row = st.lists(cells, min_size=width, max_size=width).map(tuple)
    rows = draw(st.lists(row, max_size=3))
    return ast.TestTable(section, header, tuple(rows))


_period_labels = st.one_of(
    st.integers(2000, 2099).map(str),
    st.builds(lambda y, q: f"{y}-Q{q}", st.integers(2000, 2099), st.integers(1, 4)),
    st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2000, 2099), st.integers(1, 12)),
)


@st.composite
def expect_errors(draw: st.DrawFn) -> ast.ExpectError:
    code = f"KPI{draw(st.integers(0, 9999)):04d}"
    payee = draw(st.none() | texts)
    name = draw(st.none() | names) if payee is not None else None
    return ast.ExpectError(code, payee, name, draw(st.none() | texts))


test_items = st.one_of(
    st.builds(ast.TestPeriod, _period_labels),
    test_tables(),
    st.builds(
        ast.Expect,
        texts,
        names,
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        exprs,
    ),
    expect_errors(),
)

invariants = st.one_of(
    st.builds(
        ast.Invariant,
        names,
        st.just("monotonic"),
        st.one_of(
            st.builds(ast.Name, names),
            st.builds(ast.Field, names, st.lists(names, min_size=1, max_size=2).map(tuple)),
        ),
    ),
    st.builds(ast.Invariant, names, st.sampled_from(["<=", ">=", "==", "<", ">", "!="]), exprs),
)

items = st.one_of(
    definitions,
    st.builds(ast.Import, texts),
    facts,
    overrides,
    st.builds(ast.TestBlock, texts, st.lists(test_items, max_size=3).map(tuple)),
    invariants,
)

headers = st.builds(
    ast.PlanHeader,
    texts,
    currency=st.sampled_from(["CNY", "USD", "EUR"]),
    period=st.sampled_from(["month", "quarter", "half", "year"]),
    rounding_mode=st.sampled_from(["half_up", "half_even", "down", "up", "half_down"]),
    quantum=st.sampled_from([Decimal("0.01"), Decimal("1"), Decimal("0.0001"), Decimal("100")]),
    precision=st.integers(16, 100),  # KPI0008 below 16
    fiscal_year_start=st.integers(1, 12),
    effective=st.none() | dates,
    changes=st.sampled_from(["any_day", "at_period_boundaries"]),
    version=st.none() | texts,
)

modules = st.builds(ast.Module, st.none() | headers, st.lists(items, max_size=4).map(tuple))


# --------------------------------------------------------------------------
# Comparing modules
# --------------------------------------------------------------------------


def scale_aware(obj: Any) -> Any:
    """``obj`` (a module, an item, an expression) as nested tuples that compare as the
    modules do (the fields that take part in equality, spans and comments left out), but
    with every Decimal compared by its digits *and* scale (``Decimal.as_tuple()``):
    ``0.010 == 0.01`` as numbers, yet a quantum of ``0.010`` shows three decimals, so a
    formatter that rewrote one into the other would change the plan's results."""
    if isinstance(obj, Decimal):
        return ("Decimal", obj.as_tuple())
    if attrs.has(type(obj)):
        return (type(obj).__name__, *(
            (f.name, scale_aware(getattr(obj, f.name))) for f in attrs.fields(type(obj)) if f.eq
        ))
    if isinstance(obj, (tuple, list)):
        return tuple(scale_aware(x) for x in obj)
    if isinstance(obj, dict):
        return tuple(sorted((k, scale_aware(v)) for k, v in obj.items()))
    return obj
