"""What a report shows, gathered once from a plan, its data and a result.

Everything the HTML and workbook writers need is computed here, so that the
writers only lay it out: per payee, their attributes (as of the period's last
day), figures, explanation trees, the facts behind their figures (only their
own, or their team's for a manager) and the progress toward the next tier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
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

    def payee(self, pid: str) -> PayeeView:
        for p in self.payees:
            if p.id == pid:
                return p
        raise KeyError(pid)


def attributes_at(payee: Payee, history: Iterable[HistoryRow], day: dt.date) -> dict[str, str]:
    """The payee's attributes on ``day``: the base row, then history rows in date order."""
    out = dict(payee.attrs)
    rows = sorted((r for r in history if r.payee == payee.id), key=lambda r: (r.effective_from, r.attribute))
    for row in rows:
        if row.effective_from <= day:
            out[row.attribute] = row.value
    return out


def subtree(managers: Mapping[str, str], root: str) -> list[str]:
    """Everyone below ``root`` in the reporting tree (any depth), sorted, cycle-safe."""
    children: dict[str, list[str]] = {}
    for pid, mgr in managers.items():
        if mgr:
            children.setdefault(mgr, []).append(pid)
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
    """Builds :class:`PayeeView` values from a bound data set and an evaluation."""

    def __init__(self, plan: Any, dataset: Dataset, day: dt.date) -> None:
        self.model = plan.model
        self.dataset = dataset
        self.day = day
        self.attrs = {p.id: attributes_at(p, dataset.history, day) for p in dataset.payees}
        self.names = {p.id: p.name for p in dataset.payees}
        self.managers = {pid: a.get("manager", "") for pid, a in self.attrs.items()}
        self.credits: dict[tuple[str, str], set[str]] = {}
        for c in dataset.credits:
            self.credits.setdefault((c.kind, c.fact), set()).add(c.payee)

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
        out: list[FactRow] = []
        for kind in sorted(self.dataset.facts):
            pfield = self.payee_field(kind)
            for fact in self.dataset.facts[kind]:
                if fact.key not in keys or not (_credited(fact, pfield, self.credits) & allowed):
                    continue
                fields = tuple((k, _text(v)) for k, v in fact.values.items())
                out.append(FactRow(kind, fact.key, fields, str(fact.ref), self.money_fields(kind)))
        return tuple(sorted(out, key=lambda f: (f.kind, f.key)))

    def view(self, pid: str, pr: Any) -> PayeeView:
        a = self.attrs.get(pid, {})
        below = subtree(self.managers, pid)
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


def build_model(plan: Any, raw: Any, result: Any) -> ReportModel:
    """Gather a report from a ``kpidsl.api.Plan``, its ``RawData`` and the evaluated ``Result``."""
    from kpidsl.data.bind import bind
    from kpidsl.periods import parse_period

    h = plan.model.header
    period = parse_period(result.period, h.period, h.fiscal_year_start)
    dataset, _ = bind(plan.model, raw.tables)
    gather = _Gather(plan, dataset, period.end)
    payees = result.payees
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


def rank_measures(model: Any) -> tuple[str, ...]:
    """The leaderboard's measures: the plan's first score, then the first target's attainment."""
    from kpidsl import ast

    scores = [d.name for d in model.base.values() if isinstance(d, ast.Score)]
    targets = [f"attainment({d.metric})" for d in model.base.values() if isinstance(d, ast.Target)]
    return tuple(scores[:1] + targets[:1])
