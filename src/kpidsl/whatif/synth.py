"""The synthetic fact of a what-if: one more fact that a metric's aggregate counts.

It is built mechanically from the metric's aggregate: its kind, the equalities,
booleans, lists and comparisons of its ``where`` condition, and its date window
intersected with the period. Other fields get neutral values (text ``what-if``,
0, false). A condition that cannot be met this way gives a reason instead.

A condition through a reference (``collection.deal.product == "X"``) is met by a
synthetic fact of the referenced kind (a deal with product ``X``, amount 0,
otherwise neutral) that the synthetic fact refers to: both are added. So is a read
through the reference anywhere else in the plan (``product_rate(collection.deal.product)``
in a payout): the plan could not evaluate a fact referring to a deal not in the data.
:func:`alternatives` gives the other deals worth trying, built from the values the
plan compares those fields with (the table's keys, ``==``, ``in``, bounds): the
solver keeps the one giving the smallest answer.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from kpidsl import ast
from kpidsl.data.model import Fact, RowRef, Value
from kpidsl.eval.unparse import unparse
from kpidsl.model import NUMERIC_TYPES, PAYEE_TYPE, VALUE_TYPES, KindSchema, PlanModel
from kpidsl.periods import Period
from kpidsl.whatif.search import walk

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
    fixed: frozenset[str] = frozenset()  # its fields the filter sets, and its key: never varied
    avoid: dict[str, set[str]] = attrs.field(factory=dict)  # values the filter rules out (``!=``)


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


def reads_through(defs: Iterable[ast.Definition], kind: KindSchema) -> dict[str, set[str]]:
    """The fields each reference of ``kind`` is read through anywhere in ``defs`` (metrics,
    payouts, tables keyed by ``collection.deal.product``, gates): ``{"deal": {"product"}}``."""
    refs = kind.references()
    out: dict[str, set[str]] = {}
    for d in defs:
        for node in walk(d):
            if (isinstance(node, ast.Field) and node.kind == kind.name and len(node.path) == 2
                    and node.path[0] in refs):
                out.setdefault(node.path[0], set()).add(node.path[1])
    return out


def build_recipe(model: PlanModel, agg: ast.Aggregate, metric: str, payee: str,
                 period: Period, defs: Iterable[ast.Definition] = ()) -> Recipe:
    """The recipe of one more fact counted by ``agg`` for ``payee`` (see the module doc);
    ``defs``: the definitions in force, whose reads through a reference need a linked fact."""
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
    if summed is not None and b.upper is not None and b.upper <= 0:  # refunds: `amount < 0`
        raise Unsatisfiable(f"{metric} counts only {kind.name}s whose {summed} is at most "
                            f"{_text(b.upper)}: more of it is a negative amount, which lowers "
                            f"{metric} (what-it-takes adds a positive {kind.name} {summed})")
    linked = _linked(b, kind, payee, period, reads_through(defs, kind))  # first: it may name the fact
    values = _fill(b, kind, payee, period)
    date = values.get(kind.date)
    if not isinstance(date, dt.date) or not period.contains(date):
        raise Unsatisfiable(f"a {kind.name} dated inside {period} cannot pass the filter")
    return Recipe(kind, agg.func, summed, values, b.lower, b.upper, linked)


def _linked(b: _Builder, kind: KindSchema, payee: str, period: Period,
            reads: Mapping[str, set[str]]) -> tuple[Linked, ...]:
    """A fact for each reference the filter or the plan reads through (``collection.deal.product``),
    unless the filter names the fact referred to (``collection.deal == "D1"``)."""
    out: list[Linked] = []
    for field, target in sorted(kind.references().items()):
        prefix = f"{field}."
        in_filter = any(n.startswith(prefix) for n in (*b.values, *b.ranges, *b.avoid))
        if field in b.values or not (in_filter or field in reads):
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
        fixed = frozenset({*sub.values, *sub.ranges, sub.kind.key})
        out.append(Linked(field, sub.kind, values, fixed, sub.avoid))
    return tuple(out)


_MAX_VALUES = 12  # values tried per field read through a reference
_MAX_ALTERNATIVES = 48  # synthetic facts referred to, tried in all (the first ones, in order)


def alternatives(recipe: Recipe, defs: Iterable[ast.Definition], period: Period) -> list[Recipe]:
    """``recipe`` and the same with other facts referred to: each field the plan reads through
    the reference (and the filter leaves free) takes the values the plan compares it with
    (``table ... by collection.deal.product`` keys, ``==``, ``in``, a bound, a window's
    last day, true and false) or its neutral value; every combination, the recipe's own
    (all neutral) first, at most :data:`_MAX_ALTERNATIVES`."""
    defs = list(defs)
    reads = reads_through(defs, recipe.kind)
    per_link: list[list[Linked]] = []
    for link in recipe.linked:
        free = sorted(f for f in reads.get(link.field, set()) - link.fixed if f in link.kind.fields)
        choices: list[list[tuple[str, Value]]] = []
        for sub in free:
            found = _compared_values(defs, recipe.kind.name, link, sub, period)
            avoid = link.avoid.get(sub, set())
            found = [v for v in found if _text(v) not in avoid and v != link.values.get(sub)]
            choices.append([(sub, link.values.get(sub)), *((sub, v) for v in found[:_MAX_VALUES])])
        options = [attrs.evolve(link, values={**link.values, **dict(combo)})
                   for combo in itertools.islice(itertools.product(*choices), _MAX_ALTERNATIVES)]
        per_link.append(options)
    combos = itertools.islice(itertools.product(*per_link), _MAX_ALTERNATIVES)
    return [attrs.evolve(recipe, linked=tuple(links)) for links in combos] or [recipe]


def _compared_values(defs: list[ast.Definition], kind: str, link: Linked, sub: str,
                     period: Period) -> list[Value]:
    """The values of ``kind.link.sub`` that the plan tells apart, in the order found."""
    target = (link.field, sub)
    type_ = link.kind.fields.get(sub, "")
    tables = {d.name: d for d in defs if isinstance(d, ast.Table)}
    out: list[Value] = []

    def reads(e: ast.Expr | None) -> bool:
        return isinstance(e, ast.Field) and e.kind == kind and e.path == target

    def add(v: Value) -> None:
        if _fits(v, type_) and v not in out:
            out.append(v)

    for d in defs:
        for node in walk(d):
            if isinstance(node, ast.Table) and reads(node.key):
                for entry in node.entries:
                    add(entry.key)
            elif (isinstance(node, ast.Call) and node.func in tables and node.args
                  and reads(node.args[0])):
                for entry in tables[node.func].entries:
                    add(entry.key)
            elif isinstance(node, ast.InList) and reads(node.expr):
                for item in node.items:
                    if isinstance(item, _LITERALS):
                        add(item.value)
            elif isinstance(node, ast.InWindow) and reads(node.expr):
                add(_window_end(node.window, period))
            elif isinstance(node, ast.Binary) and node.op in _FLIP:
                side, other, op = node.left, node.right, node.op
                if not reads(side):
                    side, other, op = other, side, _FLIP[op]
                if reads(side) and isinstance(other, _LITERALS):
                    add(_passing(other.value, op, type_))
            elif reads(node) and type_ == "bool":
                add(True)
    if type_ == "bool":
        add(True)
        add(False)
    return out


def _passing(value: Value, op: str, type_: str) -> Value:
    """A value that passes ``field op value`` (``> 500``: 501)."""
    if op in ("==", "<=", ">=", "!=") or isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, dt.date):
        day = dt.timedelta(days=1)
        return value + day if op == ">" else value - day
    step = Decimal("0.01") if type_ == "percent" else Decimal(1)
    return value + step if op == ">" else value - step


def _window_end(w: ast.Window, p: Period) -> dt.date:
    if isinstance(w, (ast.PeriodWindow, ast.YtdWindow)):
        return p.end
    if isinstance(w, ast.PreviousPeriodWindow):
        return p.previous().end
    return w.end


def _fits(v: Value, type_: str) -> bool:
    """Whether ``v`` is a value of a field of ``type_``."""
    if type_ == "bool":
        return isinstance(v, bool)
    if type_ in NUMERIC_TYPES:
        return isinstance(v, Decimal)
    if type_ == "date":
        return isinstance(v, dt.date)
    return isinstance(v, str) and (type_ == "text" or type_ not in VALUE_TYPES)


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
