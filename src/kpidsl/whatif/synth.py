"""The synthetic fact of a what-if: one more fact that a metric's aggregate counts.

It is built mechanically from the metric's aggregate: its kind, the equalities,
booleans, lists and comparisons of its ``where`` condition, and its date window
intersected with the period. Other fields get neutral values (text ``what-if``,
0, false). A condition that cannot be met this way gives a reason instead.

A condition through a reference (``collection.deal.product == "X"``) is met by a
synthetic fact of the referenced kind (a deal with product ``X``, amount 0,
otherwise neutral) that the synthetic fact refers to: both are added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import attrs

from kpidsl import ast
from kpidsl.data.model import Fact, RowRef, Value
from kpidsl.eval.unparse import unparse
from kpidsl.model import NUMERIC_TYPES, PAYEE_TYPE, KindSchema, PlanModel
from kpidsl.periods import Period

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_LITERALS = (ast.String, ast.Number, ast.Bool, ast.DateLit)


class Unsatisfiable(Exception):
    """The metric's filter cannot be met by a synthetic fact; the message says why."""


@attrs.frozen
class Linked:
    """A synthetic fact the synthetic fact refers to through ``field`` (its deal), built to
    pass the conditions the filter reads through that reference."""

    field: str  # the reference field of the recipe's kind (``deal``)
    kind: KindSchema  # the kind it refers to
    values: dict[str, Value]  # its key aside


@attrs.frozen
class Recipe:
    """How to build the synthetic fact(s): kind, summed field, fixed values, bounds."""

    kind: KindSchema
    func: str  # "sum" | "count"
    field: str | None  # the summed field; None for count
    values: dict[str, Value]
    lower: Decimal | None = None  # the filter's bounds on the summed field
    upper: Decimal | None = None
    linked: tuple[Linked, ...] = ()  # facts the synthetic fact(s) refer to, added with them

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of the facts it builds: its own, and those it refers to."""
        return (self.kind.name, *(link.kind.name for link in self.linked))

    @property
    def quantum(self) -> Decimal:
        return Decimal(1) if self.func == "count" else Decimal("0.01")

    @property
    def unit(self) -> str:
        """What the amount counts, in words: ``deal facts`` for a count, ``deal amount`` for a sum."""
        return f"{self.kind.name} facts" if self.func == "count" else f"{self.kind.name} amount"

    def facts(self, amount: Decimal, taken: set[str]) -> list[Fact]:
        """The fact(s) adding ``amount``: one fact for a sum, ``amount`` facts for a count,
        after the facts they refer to (:attr:`linked`, one each, whatever the count).
        ``taken``: keys the data has (of any kind built), which no synthetic fact takes."""
        n = int(amount) if self.func == "count" else 1
        linked = self._linked(taken)
        out: list[Fact] = list(linked.values())
        own = self._own(linked)
        taken = self._taken(taken, linked)
        i = made = 0
        while made < n:
            i += 1
            key = f"WHATIF-{i}"
            if key in taken:
                continue
            values = dict(own)
            values[self.kind.key] = key
            if self.field is not None:
                values[self.field] = amount
            out.append(Fact(self.kind.name, key, values, RowRef("<what-it-takes>", i)))
            made += 1
        return out

    def row(self, amount: Decimal | None, taken: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
        """The synthetic row as text (the summed field set to ``amount``), keyed as the first
        fact :meth:`facts` builds: a key the data has already would be a duplicate there."""
        linked = self._linked(taken)
        values = self._own(linked)
        values[self.kind.key] = _free_key(self._taken(taken, linked))
        if self.field is not None:
            values[self.field] = amount  # None (empty) when there is no answer
        return {k: _text(values.get(k)) for k in self.kind.fields}

    def linked_rows(self, taken: set[str] | frozenset[str] = frozenset()) -> dict[str, dict[str, str]]:
        """The rows of the facts the synthetic fact refers to, as text, by reference field."""
        return {field: {k: _text(f.values.get(k)) for k in self._kind(f.kind).fields}
                for field, f in self._linked(taken).items()}

    def _kind(self, name: str) -> KindSchema:
        return next(link.kind for link in self.linked if link.kind.name == name)

    def _linked(self, taken: set[str] | frozenset[str]) -> dict[str, Fact]:
        """The linked facts by reference field, each with a key of its own (two references
        to one kind, or a kind referring to itself, never share one)."""
        out: dict[str, Fact] = {}
        for link in self.linked:
            key = _free_key(taken | {f.key for f in out.values() if f.kind == link.kind.name})
            out[link.field] = Fact(link.kind.name, key, {**link.values, link.kind.key: key},
                                   RowRef("<what-it-takes>", 0))
        return out

    def _taken(self, taken: set[str] | frozenset[str], linked: dict[str, Fact]) -> set[str]:
        """``taken`` and the linked facts' keys of the recipe's own kind."""
        return set(taken) | {f.key for f in linked.values() if f.kind == self.kind.name}

    def _own(self, linked: dict[str, Fact]) -> dict[str, Value]:
        """The synthetic fact's values, its references naming the linked facts."""
        return {**self.values, **{field: f.key for field, f in linked.items()}}


def _free_key(taken: set[str] | frozenset[str]) -> str:
    """The first ``WHATIF-n`` not taken."""
    return next(k for i in range(1, len(taken) + 2) if (k := f"WHATIF-{i}") not in taken)


def _text(v: Value) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    return format(v, "f") if isinstance(v, Decimal) else v


def metric_aggregate(d: ast.Definition, metric: str) -> ast.Aggregate:
    """The aggregate a metric sums, or :class:`Unsatisfiable` for a derived metric."""
    expr = d.expr if isinstance(d, ast.Metric) else None
    if isinstance(expr, ast.Fallback):
        expr = expr.expr
    if not isinstance(expr, ast.Aggregate):
        text = unparse(expr) if expr is not None else type(d).__name__
        raise Unsatisfiable(f"{metric} is not an aggregate over facts ({metric} = {text}); "
                            "ask for one of the metrics it is computed from")
    return expr


class _Builder:
    """Collects field values from the conjuncts of a ``where`` condition."""

    def __init__(self, kind: KindSchema, summed: str | None, period: Period,
                 kinds: Mapping[str, KindSchema]) -> None:
        self.kind = kind
        self.summed = summed
        self.period = period
        self.kinds = kinds  # the plan's kinds, for a condition through a reference
        self.values: dict[str, Value] = {}
        self.avoid: dict[str, set[str]] = {}
        self.ranges: dict[str, tuple[dt.date, dt.date]] = {}
        self.lower: Decimal | None = None
        self.upper: Decimal | None = None

    def field(self, e: ast.Expr) -> str | None:
        """The field ``e`` reads: ``amount``, or ``deal.product`` through a reference."""
        if not isinstance(e, ast.Field) or e.kind != self.kind.name:
            return None
        if len(e.path) == 1:
            return e.path[0] if e.path[0] in self.kind.fields or e.path[0] == "share" else None
        target = self.kinds.get(self.kind.references().get(e.path[0], ""))
        if len(e.path) == 2 and target is not None and e.path[1] in target.fields:
            return ".".join(e.path)
        return None

    def type_of(self, name: str) -> str | None:
        """The type of a field :meth:`field` named."""
        ref, _, sub = name.partition(".")
        if not sub:
            return self.kind.fields.get(name)
        return self.kinds[self.kind.references()[ref]].fields.get(sub)

    def assign(self, name: str, value: Value, cond: ast.Expr) -> None:
        if name in self.values and self.values[name] != value:
            raise Unsatisfiable(f"`{unparse(cond)}` contradicts {name} = {_text(self.values[name])}")
        self.values[name] = value

    def conj(self, e: ast.Expr) -> None:
        if isinstance(e, ast.Binary) and e.op == "and":
            self.conj(e.left)
            self.conj(e.right)
        elif isinstance(e, ast.Binary) and e.op == "or":
            self._either(e)
        elif self.field(e) is not None:
            self.assign(self.field(e) or "", True, e)
        elif isinstance(e, ast.Unary) and e.op == "not" and self.field(e.operand) is not None:
            self.assign(self.field(e.operand) or "", False, e)
        elif isinstance(e, ast.InWindow) and self.field(e.expr) is not None:
            self._window(self.field(e.expr) or "", e.window, e)
        elif isinstance(e, ast.InList) and self.field(e.expr) is not None and e.items:
            first = e.items[0]
            if not isinstance(first, _LITERALS):
                raise Unsatisfiable(f"cannot satisfy `{unparse(e)}` mechanically")
            self.assign(self.field(e.expr) or "", first.value, e)
        elif isinstance(e, ast.Binary) and e.op in _FLIP:
            self._compare(e)
        else:
            raise Unsatisfiable(f"cannot satisfy `{unparse(e)}` mechanically")

    def _either(self, e: ast.Binary) -> None:
        saved = (dict(self.values), dict(self.ranges), self.lower, self.upper)
        try:
            self.conj(e.left)
        except Unsatisfiable:
            self.values, self.ranges, self.lower, self.upper = saved
            self.conj(e.right)

    def _compare(self, e: ast.Binary) -> None:
        left, op, right = e.left, e.op, e.right
        if self.field(left) is None:
            left, right, op = right, left, _FLIP[op]
        name = self.field(left)
        if name is None or not isinstance(right, _LITERALS):
            raise Unsatisfiable(f"cannot satisfy `{unparse(e)}` mechanically")
        value = right.value
        if op == "==":
            self.assign(name, value, e)
        elif op == "!=":
            self.avoid.setdefault(name, set()).add(str(value))
        elif not isinstance(value, Decimal):
            raise Unsatisfiable(f"cannot satisfy `{unparse(e)}` mechanically")
        elif name == self.summed:
            self._bound(op, value)
        else:
            step = Decimal("0.01") if self.type_of(name) == "percent" else Decimal(1)
            self.assign(name, value + step if op == ">" else value - step if op == "<" else value, e)

    def _bound(self, op: str, value: Decimal) -> None:
        cent = Decimal("0.01")
        if op in (">", ">="):
            low = value + cent if op == ">" else value
            self.lower = low if self.lower is None else max(self.lower, low)
        else:
            high = value - cent if op == "<" else value
            self.upper = high if self.upper is None else min(self.upper, high)

    def _window(self, name: str, w: ast.Window, e: ast.Expr) -> None:
        p = self.period
        if isinstance(w, ast.PeriodWindow):
            lo, hi = p.start, p.end
        elif isinstance(w, ast.YtdWindow):
            lo, hi = p.fy_start, p.end
        elif isinstance(w, ast.PreviousPeriodWindow):
            lo, hi = p.previous().start, p.previous().end
        else:
            lo, hi = w.start, w.end
        if "." not in name:  # the fact itself is dated inside the period; a fact it refers
            lo, hi = max(lo, p.start), min(hi, p.end)  # to may be older (a deal signed last year)
        if name in self.ranges:
            lo, hi = max(lo, self.ranges[name][0]), min(hi, self.ranges[name][1])
        if lo > hi:
            raise Unsatisfiable(f"`{unparse(e)}` admits no date inside the period {p}")
        self.ranges[name] = (lo, hi)


def build_recipe(model: PlanModel, agg: ast.Aggregate, metric: str, payee: str,
                 period: Period) -> Recipe:
    """The recipe of one more fact counted by ``agg`` for ``payee`` (see the module doc)."""
    if agg.func not in ("sum", "count"):
        raise Unsatisfiable(f"{metric} is a `{agg.func}` aggregate: one more fact does not add "
                            "its amount to it (the metric is not additive)")
    if agg.scope == "team":
        raise Unsatisfiable(f"{metric} counts only the facts of the payee's team (`over team`): "
                            f"a fact credited to {payee} does not count toward it")
    if "split" not in agg.credit and "any" not in agg.credit:
        raise Unsatisfiable(f"{metric} counts only {', '.join(agg.credit)} credits")
    kind = model.kinds[agg.kind]
    summed = _summed_field(agg, kind, metric)
    b = _Builder(kind, summed, period, model.kinds)
    if agg.where is not None:
        b.conj(agg.where)
    linked = _linked(b, kind, payee, period)  # first: it may name the fact referred to
    values = _fill(b, kind, payee, period)
    date = values.get(kind.date)
    if not isinstance(date, dt.date) or not period.contains(date):
        raise Unsatisfiable(f"a {kind.name} dated inside {period} cannot pass the filter")
    return Recipe(kind, agg.func, summed, values, b.lower, b.upper, linked)


def _linked(b: _Builder, kind: KindSchema, payee: str, period: Period) -> tuple[Linked, ...]:
    """A fact for each reference the filter reads through (``collection.deal.product``),
    unless the filter names the fact referred to (``collection.deal == "D1"``)."""
    out: list[Linked] = []
    for field, target in sorted(kind.references().items()):
        prefix = f"{field}."
        if field in b.values or not any(n.startswith(prefix) for n in (*b.values, *b.ranges, *b.avoid)):
            continue
        sub = _Builder(b.kinds[target], None, period, b.kinds)
        sub.values = {n[len(prefix):]: v for n, v in b.values.items() if n.startswith(prefix)}
        sub.ranges = {n[len(prefix):]: r for n, r in b.ranges.items() if n.startswith(prefix)}
        sub.avoid = {n[len(prefix):]: a for n, a in b.avoid.items() if n.startswith(prefix)}
        named = sub.values.get(sub.kind.key)
        if isinstance(named, str):  # `collection.deal.id == "D1"`: that deal, as given
            b.values[field] = named
            continue
        values = _fill(sub, sub.kind, payee, period)
        values.pop(sub.kind.key, None)
        out.append(Linked(field, sub.kind, values))
    return tuple(out)


def _summed_field(agg: ast.Aggregate, kind: KindSchema, metric: str) -> str | None:
    if agg.func == "count":
        return None
    e = agg.expr
    if (isinstance(e, ast.Field) and e.kind == kind.name and len(e.path) == 1
            and kind.fields.get(e.path[0]) in NUMERIC_TYPES):
        return e.path[0]
    text = unparse(e) if e is not None else ""
    raise Unsatisfiable(f"{metric} sums `{text}`, not one numeric field of a {kind.name}")


def _fill(b: _Builder, kind: KindSchema, payee: str, period: Period) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for name, type_ in kind.fields.items():
        if name in b.values:
            values[name] = b.values[name]
        elif name in b.ranges or name == kind.date:
            values[name] = b.ranges.get(name, (period.start, period.end))[1]  # the last day: "one more deal closed by the period's end"
        elif type_ == PAYEE_TYPE:
            values[name] = payee
        elif type_ in NUMERIC_TYPES:
            values[name] = Decimal(0)
        elif type_ == "bool":
            values[name] = False
        elif type_ == "date":
            values[name] = period.end
        elif type_ == "text":
            values[name] = _neutral_text(b.avoid.get(name, set()))
        else:  # a reference to another kind: a key no fact has (the data's check warns of it,
            # and the row can be pasted into the data; left empty, the row was rejected)
            values[name] = _neutral_text(b.avoid.get(name, set()))
    return values


def _neutral_text(avoid: set[str]) -> str:
    text, i = "what-if", 1
    while text in avoid:
        i += 1
        text = f"what-if-{i}"
    return text
