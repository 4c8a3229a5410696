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


def fact_keys(expl: Explanation | None) -> set[str]:
    """Keys of every fact listed anywhere in an explanation tree."""
    keys: set[str] = set()
    stack = [expl] if expl is not None else []
    while stack:
        node = stack.pop()
        keys.update(node.facts)
        stack.extend(node.children)
    return keys


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


def _credited(fact: Fact, payee_field: str | None, credits: Mapping[tuple[str, str], set[str]]) -> set[str]:
    """The payees a fact is credited to: its credit rows, else its own payee field."""
    rows = credits.get((fact.kind, fact.key))
    if rows:
        return rows
    value = fact.values.get(payee_field) if payee_field else None
    return {value} if isinstance(value, str) else set()


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
        self.credits: dict[tuple[str, str], set[str]] = {}
        for c in dataset.credits:
            self.credits.setdefault((c.kind, c.fact), set()).add(c.payee)
        self.by_key = {kind: {f.key: f for f in facts} for kind, facts in dataset.facts.items()}
        self.payee_fields = {kind: self.payee_field(kind) for kind in dataset.facts}
        self.money = {kind: self.money_fields(kind) for kind in dataset.facts}

    def payee_field(self, kind: str) -> str | None:
        schema = self.model.kinds.get(kind)
        if schema is None:
            return None
        return next((f for f, t in schema.fields.items() if t == "payee"), None)

    def money_fields(self, kind: str) -> frozenset[str]:
        schema = self.model.kinds.get(kind)
        return frozenset(f for f, t in schema.fields.items() if t == "money") if schema else frozenset()

    def facts_for(self, pid: str, keys: set[str], allowed: set[str]) -> tuple[FactRow, ...]:
        """Facts named in the payee's explanations AND credited to the payee (or their team)."""
        found = self._fetched(pid, keys, allowed) if self.index is not None else {
            kind: self._credited(kind, keys, allowed) for kind in self.by_key}
        out: list[FactRow] = []
        for kind in sorted(self.by_key):
            for fact in found[kind]:
                fields = tuple((k, _text(v)) for k, v in fact.values.items())
                out.append(FactRow(kind, fact.key, fields, str(fact.ref), self.money[kind]))
        return tuple(out)  # by kind, then key

    def _credited(self, kind: str, keys: set[str], allowed: set[str]) -> list[Fact]:
        """The facts of ``kind`` with one of ``keys`` credited to one of ``allowed``, by key."""
        index, pfield = self.by_key[kind], self.payee_fields[kind]
        found = (index.get(key) for key in sorted(keys))
        return [f for f in found if f is not None and _credited(f, pfield, self.credits) & allowed]

    def _fetched(self, pid: str, keys: set[str], allowed: set[str]) -> dict[str, list[Fact]]:
        """:meth:`_credited` of every kind from DuckDB (the columnar engine: credited by the
        payee field, no splits): the payee's own facts first (fetched with their chunk); a
        manager's team only when the trees name facts that are not the manager's own (a
        plan paying on the team, whose trees fetched them already). Fetching every subtree
        again for each manager took a query per manager and kind, and its team's facts."""
        found = {kind: {f.key: f for f, _ in self.index.credited(kind, [pid], ("any",)) if f.key in keys}
                 for kind in self.by_key}
        if len(allowed) > 1 and keys - {k for got in found.values() for k in got}:
            team = sorted(allowed)
            for kind, got in found.items():
                got.update((f.key, f) for f, _ in self.index.credited(kind, team, ("any",)) if f.key in keys)
        return {kind: [got[k] for k in sorted(got)] for kind, got in found.items()}

    def view(self, pid: str, pr: Any) -> PayeeView:
        a = self.attrs.get(pid, {})
        below = subtree(self.managers, pid, self.children)
        allowed = {pid, *below}
        expls: Mapping[str, Explanation] = pr.explanations
        keys: set[str] = set()
        for e in expls.values():
            keys |= fact_keys(e)
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
            facts=self.facts_for(pid, keys, allowed),
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
