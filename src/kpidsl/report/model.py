"""What a report shows, gathered once from a plan, its data and a result.

Everything the HTML and workbook writers need is computed here, so that the
writers only lay it out: per payee, their attributes (as of the period's last
day), figures, explanation trees, the facts behind their figures (only their
own, or their team's for a manager) and the progress toward the next tier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import attrs

from kpidsl.data.model import Dataset, Fact, HistoryRow, Payee
from kpidsl.explain.tree import Explanation
from kpidsl.report.progress import TierProgress, progress_for


@attrs.frozen
class FactRow:
    """One contributing fact: its kind, key and every field as display text."""

    kind: str
    key: str
    fields: tuple[tuple[str, str], ...]
    source: str
    money: frozenset[str] = frozenset()  # the names of the money fields
    numbers: frozenset[str] = frozenset()  # the names of the other number fields


@attrs.frozen
class PayeeView:
    """One payee's statement content."""

    id: str
    name: str
    role: str
    region: str
    manager: str
    total: Decimal | None
    components: tuple[tuple[str, Decimal], ...]
    values: tuple[tuple[str, str], ...]
    errors: tuple[str, ...]
    explanation: Explanation | None
    facts: tuple[FactRow, ...]
    progress: tuple[TierProgress, ...]
    reports: tuple[str, ...]  # the whole subtree below this payee, sorted by id


@attrs.frozen
class ReportModel:
    """The whole report: plan, period, digests, every payee, the components' names."""

    plan_name: str
    plan_version: str | None
    plan_digest: str
    data_digest: str
    period: str
    currency: str
    components: tuple[str, ...]
    payees: tuple[PayeeView, ...]
    ok: bool
    measures: tuple[str, ...] = ()  # what the leaderboard ranks by, first one first

    _by_id: dict[str, PayeeView] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # team pages look members up by id: a scan each time is quadratic in payees
        object.__setattr__(self, "_by_id", {p.id: p for p in self.payees})

    def payee(self, pid: str) -> PayeeView:
        return self._by_id[pid]


def attributes_at(payee: Payee, history: Iterable[HistoryRow], day: dt.date) -> dict[str, str]:
    """The payee's attributes on ``day``: the base row, then history rows in date order
    (``history`` may hold every payee's rows, or only this payee's)."""
    out = dict(payee.attrs)
    rows = sorted((r for r in history if r.payee == payee.id), key=lambda r: (r.effective_from, r.attribute))
    for row in rows:
        if row.effective_from <= day:
            out[row.attribute] = row.value
    return out


def reporting_lines(managers: Mapping[str, str]) -> dict[str, list[str]]:
    """Each manager's direct reports, from payee -> manager."""
    children: dict[str, list[str]] = {}
    for pid, mgr in managers.items():
        if mgr:
            children.setdefault(mgr, []).append(pid)
    return children


def subtree(managers: Mapping[str, str], root: str,
            children: Mapping[str, list[str]] | None = None) -> list[str]:
    """Everyone below ``root`` in the reporting tree (any depth), sorted, cycle-safe.

    ``children``: :func:`reporting_lines` of ``managers``, when it is already built (a
    report asks for every payee's subtree: building it each time would take time
    quadratic in the number of payees)."""
    if children is None:
        children = reporting_lines(managers)
    seen: set[str] = set()
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        if pid in seen or pid == root:
            continue
        seen.add(pid)
        stack.extend(children.get(pid, []))
    return sorted(seen)


FactKey = tuple[str | None, str]  # (kind, key); kind None: a node whose kind is not known


def fact_keys(expl: Explanation | None, kinds: Mapping[Any, str] | None = None) -> set[FactKey]:
    """(kind, key) of every fact listed anywhere in an explanation tree. ``kinds``: the fact
    kind of each aggregate's node, by its span (:func:`aggregate_kinds`): a deal and a
    collection may share a key, and only the one behind the figure is the payee's."""
    keys: set[FactKey] = set()
    stack = [expl] if expl is not None else []
    while stack:
        node = stack.pop()
        if node.facts:
            kind = kinds.get(node.span) if kinds is not None else None
            keys.update((kind, k) for k in node.facts)
        stack.extend(node.children)
    return keys


def aggregate_kinds(model: Any) -> dict[Any, str]:
    """Span -> fact kind, for every node that lists facts: an aggregate's (its span), and a
    definition's that is an aggregate (``metric m = sum ...``: its own node lists them)."""
    from kpidsl import ast

    out: dict[Any, str] = {}
    blocks = [model.base.values(), *(b.body for b in model.overrides)]
    for defs in blocks:
        for d in defs:
            for expr in ast.definition_exprs(d):
                for e in ast.walk(expr):
                    if isinstance(e, ast.Aggregate):
                        out[e.span] = e.kind
            top = getattr(d, "expr", None)  # a metric or payout that is an aggregate lists its facts
            if isinstance(top, ast.Aggregate):
                out[d.span] = top.kind
    return out


def tiers_used(expls: Mapping[str, Explanation]) -> set[str]:
    """Names of the tiers nodes that appear in a payee's explanation trees."""
    names: set[str] = set()
    stack = list(expls.values())
    while stack:
        node = stack.pop()
        if node.kind == "tiers":
            names.add(node.name)
        stack.extend(node.children)
    return names


def _text(value: Any) -> str:
    from kpidsl.eval.result import value_text

    return "" if value is None else str(value_text(value))


class _Gather:
    """Builds :class:`PayeeView` values from a bound data set and an evaluation.

    Everything a payee's view looks up (history rows, the reporting tree, facts by key)
    is indexed once here: a report has a view per payee, and scanning the whole data set
    for each of them took time proportional to payees × facts (100 s for 10,000 payees
    and 150,000 facts)."""

    def __init__(self, plan: Any, dataset: Dataset, day: dt.date, index: Any = None) -> None:
        self.model = plan.model
        # the columnar engine's fact index (kpidsl.columnar.stage.LazyIndex): the data set
        # holds no facts, a payee's are fetched from DuckDB (see build_model)
        self.index = index
        self.dataset = dataset
        self.day = day
        history: dict[str, list[HistoryRow]] = {}
        for row in dataset.history:
            history.setdefault(row.payee, []).append(row)
        self.attrs = {p.id: attributes_at(p, history.get(p.id, ()), day) for p in dataset.payees}
        self.names = {p.id: p.name for p in dataset.payees}
        self.managers = {pid: a.get("manager", "") for pid, a in self.attrs.items()}
        self.children = reporting_lines(self.managers)
        self.by_key = {kind: {f.key: f for f in facts} for kind, facts in dataset.facts.items()}
        self.money = {kind: self.money_fields(kind) for kind in dataset.facts}
        self.numbers = {kind: self.money_fields(kind, ("number",)) for kind in dataset.facts}
        self.kinds = aggregate_kinds(self.model)

    def money_fields(self, kind: str, types: tuple[str, ...] = ("money",)) -> frozenset[str]:
        schema = self.model.kinds.get(kind)
        return frozenset(f for f, t in schema.fields.items() if t in types) if schema else frozenset()

    def facts_for(self, pid: str, keys: set[FactKey]) -> tuple[FactRow, ...]:
        """The facts named in the payee's explanations: exactly those behind their figures
        (a co-seller's collection that follows its deal's credits, a fact of a report who
        moved to another manager mid-period, and not a fact of another kind sharing a key)."""
        wanted = {kind: {k for c, k in keys if c is None or c == kind} for kind in self.by_key}
        found = self._fetched(pid, wanted) if self.index is not None else {
            kind: [f for k in sorted(wanted[kind]) if (f := self.by_key[kind].get(k)) is not None]
            for kind in self.by_key}
        out: list[FactRow] = []
        for kind in sorted(self.by_key):
            for fact in found[kind]:
                fields = tuple((k, _text(v)) for k, v in fact.values.items())
                out.append(FactRow(kind, fact.key, fields, str(fact.ref), self.money[kind], self.numbers[kind]))
        return tuple(out)  # by kind, then key

    def _fetched(self, pid: str, wanted: Mapping[str, set[str]]) -> dict[str, list[Fact]]:
        """:meth:`facts_for`'s facts from DuckDB (the columnar engine): the payee's own first
        (fetched with their chunk), then by key those the trees name that are not the
        payee's own (a manager's team, a co-seller's): a query per kind only for a payee
        who has such facts. Fetching every subtree again for each manager took a query per
        manager and kind, and its team's facts."""
        found = {kind: {f.key: f for f, _ in self.index.credited(kind, [pid], ("any",)) if f.key in keys}
                 for kind, keys in wanted.items()}
        for kind, got in found.items():
            missing = sorted(wanted[kind] - set(got))
            ft = self.index.stage.tables.get(kind) if missing else None
            if ft is not None:
                got.update((f.key, f) for f in self.index.fetch(ft, ft.kind.key, missing))
        return {kind: [got[k] for k in sorted(got)] for kind, got in found.items()}

    def view(self, pid: str, pr: Any) -> PayeeView:
        a = self.attrs.get(pid, {})
        below = subtree(self.managers, pid, self.children)
        expls: Mapping[str, Explanation] = pr.explanations
        keys: set[FactKey] = set()
        for e in expls.values():
            keys |= fact_keys(e, self.kinds)
        values = tuple((k, _text(v)) for k, v in sorted(pr.values.items()) if "@" not in k)
        return PayeeView(
            id=pid,
            name=self.names.get(pid, pid),
            role=a.get("role", ""),
            region=a.get("region", ""),
            manager=a.get("manager", ""),
            total=pr.total,
            components=tuple(pr.components.items()),
            values=values,
            errors=tuple(f"{e.code} {e.name}: {e.message}" for e in pr.errors),
            explanation=expls.get("total"),
            facts=self.facts_for(pid, keys),
            progress=progress_for(self.model, pid, a, self.day, pr.values, tiers_used(expls)),
            reports=tuple(below),
        )


def build_model(plan: Any, raw: Any, result: Any, run: Any = None) -> ReportModel:
    """Gather a report from a ``kpidsl.api.Plan``, its ``RawData`` and the evaluated ``Result``.

    ``run``: the ``kpidsl.columnar.ColumnarRun`` that computed ``result`` (``raw`` is then
    not read): each payee's facts are fetched from DuckDB, a chunk of payees at a time,
    instead of holding every fact of the data in memory."""
    from kpidsl.data.bind import bind
    from kpidsl.periods import parse_period

    h = plan.model.header
    period = parse_period(result.period, h.period, h.fiscal_year_start)
    payees = result.payees
    if run is not None:
        gather = _Gather(plan, run.loaded.dataset, period.end, run.fact_index)
        views = tuple(_columnar_views(gather, run, sorted(payees)))
    else:
        dataset = result.dataset  # the data the result was computed from, bound once
        if dataset is None:  # the columnar engine's result: its facts stayed in DuckDB
            dataset, _ = bind(plan.model, raw.tables)
        gather = _Gather(plan, dataset, period.end)
        views = tuple(gather.view(pid, payees[pid]) for pid in sorted(payees))
    return ReportModel(
        plan_name=plan.name,
        plan_version=plan.version,
        plan_digest=plan.digest,
        data_digest=result.data_digest,
        period=result.period,
        currency=h.currency,
        components=tuple(plan.model.payouts),
        payees=views,
        ok=result.ok,
        measures=rank_measures(plan.model),
    )


def _columnar_views(gather: _Gather, run: Any, ids: list[str]) -> Iterator[PayeeView]:
    """Each payee's view, a chunk of payees at a time: their results with trees that list
    the facts (the run's explain engine), from the chunk's facts fetched at once."""
    for chunk in run.in_chunks(ids):
        explained = run.evaluate(chunk, explain=True).payees
        for pid in chunk:
            yield gather.view(pid, explained[pid])


def rank_measures(model: Any) -> tuple[str, ...]:
    """The leaderboard's measures: the plan's first score, then the first target's attainment."""
    from kpidsl import ast

    scores = [d.name for d in model.base.values() if isinstance(d, ast.Score)]
    targets = [f"attainment({d.metric})" for d in model.base.values() if isinstance(d, ast.Target)]
    return tuple(scores[:1] + targets[:1])
