"""Hypothesis strategies that generate data for a plan: payees, facts, whole data sets.

The data is derived from the plan itself: payees take the roles, regions and
other attributes (and payee ids) that the plan's override selectors name, so
override blocks get exercised; facts of every kind have fields typed by the
kind's schema, text fields drawn from the values the plan compares them with
(``deal.stage == "won"``, table keys); amounts are ``Decimal`` cents (negative
ones too, unless ``nonnegative``), often the plan's own boundary values
(:mod:`kpidsl.testing.boundaries`) or a cent either side; dates fall in the period (or earlier in its
fiscal year); targets and inputs are given for every metric and input the plan
reads. Needs ``hypothesis`` (``pip install kpidsl[test]``)::

    from hypothesis import given
    from kpidsl.testing.strategies import datasets

    @given(data=datasets(plan, "2026-Q3"))
    def test_never_negative(data):
        result = plan.evaluate(data, "2026-Q3")
        assert all(p.total is None or p.total >= 0 for p in result.payees.values())
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from kpidsl import api, ast
from kpidsl.model import PAYEE_TYPE, KindSchema, PlanModel
from kpidsl.periods import Period, parse_period

from . import plandata
from .boundaries import boundaries, near, target_values
from .build import Record, Scenario

GENERIC_IDS = ("p1", "p2", "p3", "p4")
MAX_PAYEES = 3
MAX_FACTS = 6


def _model(plan: api.Plan | PlanModel) -> PlanModel:
    return plan.model if isinstance(plan, api.Plan) else plan


def _period(model: PlanModel, period: str | None) -> Period:
    h = model.header
    return parse_period(period or plandata.periods(model)[0], h.period, h.fiscal_year_start)


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    """Decimal amounts with two decimals, from ``low`` to ``high`` cents (often whole units)."""
    whole = st.integers(low // 100, high // 100).map(Decimal)
    return st.one_of(whole, st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2)))


def biased(general: st.SearchStrategy[Decimal], edges: Sequence[Decimal], *,
           nonnegative: bool = False, only: bool = False) -> st.SearchStrategy[Decimal]:
    """``general`` mixed with the boundary values ``edges`` and a cent either side (``only``: no ``general``)."""
    values = near(edges, nonnegative=nonnegative)
    if only:
        return st.sampled_from((Decimal(0), *values))
    return st.one_of(st.sampled_from(values), general) if values else general


def value_of_type(type_: str, *, nonnegative: bool = False, period: Period | None = None,
                  texts: Sequence[str] = (), edges: Sequence[Decimal] = (),
                  edges_only: bool = False) -> st.SearchStrategy[Any]:
    """A value of a plan type: money in cents, whole counts, percents as ratios, dates...

    Money and numbers favour ``edges`` (see :mod:`kpidsl.testing.boundaries`), or
    are only those (and 0) with ``edges_only``.
    """
    if type_ == "money":
        return biased(cents(0 if nonnegative else -2_000_000, 50_000_000), edges, nonnegative=nonnegative,
                      only=edges_only)
    if type_ == "count":
        return st.integers(0, 20)
    if type_ == "number":
        return biased(cents(0 if nonnegative else -10_000, 1_000_000), edges, nonnegative=nonnegative,
                      only=edges_only)
    if type_ == "percent":
        return st.integers(0, 150).map(lambda n: Decimal(n).scaleb(-2))
    if type_ == "bool":
        return st.booleans()
    if type_ == "date":
        p = period or Period(parse_period("2026", "year").start, "year")
        return st.one_of(st.dates(p.start, p.end), st.dates(p.fy_start, p.end))
    if type_ == "period" and period is not None:
        return st.just(period.label)
    # the plan's own values twice as likely as another one, so filters are met
    return st.sampled_from([*texts, *texts, "other"] if texts else ["c1", "c2"])


def payees(plan: api.Plan | PlanModel, max_size: int = MAX_PAYEES) -> st.SearchStrategy[list[Record]]:
    """``payees`` rows: ids (generic or named by ``for payee`` blocks), selector attributes, a tree."""
    model = _model(plan)
    selectors = plandata.selector_values(model)
    pool = [*GENERIC_IDS[:max_size], *(v for v in selectors.get("payee", []) if v not in GENERIC_IDS)]
    attributes = ["role", "region", *(a for a in selectors if a not in ("payee", "role", "region"))]
    generic = {"role": "rep", "region": "central"}

    @st.composite
    def build(draw: st.DrawFn) -> list[Record]:
        ids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_size, unique=True))
        rows: list[Record] = []
        for i, pid in enumerate(ids):
            row: Record = {"id": pid}
            for attr in attributes:
                row[attr] = draw(st.sampled_from([generic.get(attr, "other"), *selectors.get(attr, [])]))
            row["manager"] = draw(st.sampled_from(["", *ids[:i]])) if i else ""
            rows.append(row)
        return rows

    return build()


@attrs.frozen
class FactContext:
    """What one fact's fields are drawn from: payees, keys of referenced kinds, the period."""

    model: PlanModel
    payee_ids: tuple[str, ...]
    period: Period
    keys: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    nonnegative: bool = False
    literals: dict[tuple[str, str], list[str]] = attrs.field(factory=dict)
    # kind -> key -> record, for facts that reference them (a collection pays its deal)
    records: dict[str, dict[str, Record]] = attrs.field(factory=dict)
    edges: tuple[Decimal, ...] = ()  # the plan's boundary amounts, favoured by money fields
    edges_only: bool = False  # money fields take only boundary amounts (the boundary pre-pass)
    _fields: dict[str, list[tuple[str, Any]]] = attrs.field(factory=dict)

    def field_strategies(self, kind: KindSchema) -> list[tuple[str, Any]]:
        """Per field of ``kind``: the key marker, ``payee``, a referenced kind, or a strategy."""
        if kind.name not in self._fields:
            out: list[tuple[str, Any]] = []
            for name, type_ in kind.fields.items():
                if name == kind.key or type_ == PAYEE_TYPE or type_ in self.model.kinds:
                    out.append((name, None))
                else:
                    out.append((name, value_of_type(type_, nonnegative=self.nonnegative, period=self.period,
                                                    texts=self.literals.get((kind.name, name), ()),
                                                    edges=self.edges, edges_only=self.edges_only)))
            self._fields[kind.name] = sorted(out, key=lambda f: kind.fields[f[0]] not in self.model.kinds)
        return self._fields[kind.name]


def context(plan: api.Plan | PlanModel, payee_ids: Sequence[str], period: str | None = None, *,
            keys: dict[str, tuple[str, ...]] | None = None, nonnegative: bool = False) -> FactContext:
    """A :class:`FactContext` for drawing facts of the plan's kinds."""
    model = _model(plan)
    return FactContext(model, tuple(payee_ids), _period(model, period), dict(keys or {}), nonnegative,
                       plandata.text_literals(model), edges=boundaries(model))


def key_prefix(kind: KindSchema) -> str:
    """``D`` for deals, ``C`` for collections, else the kind's first letters (``ACT``)."""
    return {"deal": "D", "collection": "C"}.get(kind.name, kind.name[:3].upper())


def draw_fact(draw: st.DrawFn, ctx: FactContext, kind: KindSchema, key: str) -> Record:
    """Draw one fact of ``kind`` with key ``key``, every field typed by the schema."""
    row: Record = {}
    like: Record = {}  # the first referenced fact: its payee and same-named values may carry over
    for name, strategy in ctx.field_strategies(kind):
        type_ = kind.fields[name]
        if name != kind.key and name in like and type_ == _type_in(ctx, like, name) and draw(st.sampled_from([True, False])):
            row[name] = like[name]
        elif name == kind.key:
            row[name] = key
        elif type_ == PAYEE_TYPE:
            row[name] = draw(st.sampled_from(ctx.payee_ids))
        elif strategy is None:
            row[name] = draw(st.sampled_from(ctx.keys.get(type_) or ("-",)))
            if not like:
                like = {**ctx.records.get(type_, {}).get(row[name], {}), "__kind__": type_}
        else:
            row[name] = draw(strategy)
    return {name: row[name] for name in kind.fields}


def _type_in(ctx: FactContext, like: Record, name: str) -> str | None:
    kind = ctx.model.kinds.get(like.get("__kind__", ""))
    return kind.fields.get(name) if kind is not None else None


def fact(ctx: FactContext, kind: KindSchema, key: str) -> st.SearchStrategy[Record]:
    """One fact of ``kind`` with key ``key``."""
    return st.composite(lambda draw: draw_fact(draw, ctx, kind, key))()


def draw_facts(draw: st.DrawFn, ctx: FactContext, kind: KindSchema, max_size: int = MAX_FACTS) -> list[Record]:
    """Up to ``max_size`` facts of ``kind`` (none when a kind it references has no facts)."""
    if any(not ctx.keys.get(r) for r in kind.references().values()):
        return []
    prefix = key_prefix(kind)
    n = draw(st.integers(0, max_size))
    return [draw_fact(draw, ctx, kind, f"{prefix}{i + 1}") for i in range(n)]


def facts(plan: api.Plan | PlanModel, kind: str, payee_ids: Sequence[str] = ("p1",),
          period: str | None = None, *, keys: dict[str, tuple[str, ...]] | None = None,
          nonnegative: bool = False, max_size: int = MAX_FACTS) -> st.SearchStrategy[list[Record]]:
    """Up to ``max_size`` facts of ``kind`` (keys ``D1``, ``D2``...) credited to ``payee_ids``."""
    ctx = context(plan, payee_ids, period, keys=keys, nonnegative=nonnegative)
    schema = ctx.model.kinds[kind]
    return st.composite(lambda draw: draw_facts(draw, ctx, schema, max_size))()


def _targets(draw: st.DrawFn, model: PlanModel, ids: Sequence[str], period: Period,
             metrics: Sequence[str]) -> list[Record]:
    defaults = {d.metric for d in model.base.values() if isinstance(d, ast.Target)}
    rows: list[Record] = []
    for pid in ids:
        for metric in metrics:
            if metric in defaults and not draw(st.booleans()):
                continue
            type_ = model.types.get(metric, "money")
            if type_ == "count":
                value: Any = draw(st.integers(1, 30))
            elif type_ == "percent":
                value = draw(st.integers(10, 100).map(lambda n: Decimal(n).scaleb(-2)))
            else:
                value = draw(st.one_of(st.sampled_from(target_values(model)), cents(100_000, 100_000_000)))
            rows.append({"payee": pid, "metric": metric, "period": period.label, "value": value})
    return rows


def _inputs(draw: st.DrawFn, ids: Sequence[str], period: Period,
            decls: dict[str, ast.InputDecl]) -> list[Record]:
    rows: list[Record] = []
    for pid in ids:
        for name, decl in decls.items():
            if decl.default is not None and not draw(st.booleans()):
                continue
            value = draw(value_of_type(decl.type, nonnegative=True, period=period))
            rows.append({"payee": pid, "name": name, "period": period.label, "value": value})
    return rows


def scenarios(plan: api.Plan | PlanModel, period: str | None = None, *,
              nonnegative: bool = False, edges_only: bool = False) -> st.SearchStrategy[Scenario]:
    """A whole data set with its period (drawn from the plan's fiscal year when not given).

    ``edges_only``: money amounts are only the plan's boundary values (see
    :mod:`kpidsl.testing.boundaries`), for a first pass that aims at thresholds.
    """
    model = _model(plan)
    labels = [period] if period is not None else plandata.periods(model)
    h = model.header
    literals = plandata.text_literals(model)
    metrics, decls = plandata.metrics_with_targets(model), plandata.input_decls(model)
    kinds = plandata.kinds_in_order(model)
    who = payees(model)
    edges = boundaries(model)
    percent_inputs = frozenset(n for n, d in plandata.input_decls(model).items() if d.type == "percent")

    @st.composite
    def build(draw: st.DrawFn) -> Scenario:
        p = parse_period(draw(st.sampled_from(labels)), h.period, h.fiscal_year_start)
        people = draw(who)
        ids = tuple(r["id"] for r in people)
        tables: dict[str, list[Record]] = {"payees": people}
        ctx = FactContext(model, ids, p, {}, nonnegative, literals, edges=edges, edges_only=edges_only)
        for kind in kinds:
            rows = draw_facts(draw, ctx, kind)
            ctx.keys[kind.name] = tuple(r[kind.key] for r in rows)
            ctx.records[kind.name] = {r[kind.key]: r for r in rows}
            tables[kind.file_stem or kind.name] = rows
        tables["targets"] = _targets(draw, model, ids, p, metrics)
        tables["inputs"] = _inputs(draw, ids, p, decls)
        return Scenario(p.label, {k: tuple(v) for k, v in tables.items()}, percent_inputs)

    return build()


def datasets(plan: api.Plan | PlanModel, period: str | None = None, *,
             nonnegative: bool = False) -> st.SearchStrategy[api.RawData]:
    """Generated data sets as :class:`kpidsl.api.RawData`, ready for ``plan.evaluate``."""
    return scenarios(plan, period, nonnegative=nonnegative).map(lambda s: s.raw())
