"""Plan coverage: which parts of a plan the tests exercise, read from the explanation trees.

Items of a plan: every definition (base and in each override block), every
override block, every tier band (and ``above``), both outcomes of every gate
(``requires`` passed / failed, ``when`` met / not met) and every table entry
(and ``else``). An item is covered when some test evaluation's explanations
show it: a node with the definition's span, a node whose ``override`` names
the block, a tier row with the band's label, a gate note, a table row.

Tables and tiers priced per fact (inside an aggregate, or ``tiers ... per
deal``) are not explained fact by fact, so their entries and bands are not
measured (listed apart, not counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.eval.resolve import matches, selector_text
from kpidsl.eval.tiers import EBand
from kpidsl.eval.unparse import unparse
from kpidsl.explain.tree import Explanation
from kpidsl.model import PlanModel
from kpidsl.numbers import fmt
from kpidsl.periods import Period

from . import plandata


@attrs.frozen
class Item:
    """One part of a plan that a test can exercise; ``key`` is how explanations show it."""

    category: str  # definition, override, band, gate, entry
    label: str
    span: Any
    key: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "item": self.label, "source": str(self.span)}


@attrs.frozen
class PlanCoverage:
    """A plan's items and which of them the tests covered."""

    plan: str
    items: tuple[Item, ...]
    covered: frozenset[tuple[Any, ...]]
    unmeasured: tuple[Item, ...] = ()

    @property
    def uncovered(self) -> list[Item]:
        return [i for i in self.items if i.key not in self.covered]

    @property
    def percent(self) -> Decimal:
        return percent_of(len(self.items) - len(self.uncovered), len(self.items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "items": len(self.items),
            "covered": len(self.items) - len(self.uncovered),
            "percent": str(self.percent),
            "uncovered": [i.to_dict() for i in self.uncovered],
            "not_measured": [i.to_dict() for i in self.unmeasured],
        }


def percent_of(done: int, total: int) -> Decimal:
    """``done / total`` in percent to 0.1, rounded down (99.95% never shows as 100.0%)."""
    if total == 0:
        return Decimal("100.0")
    return (Decimal(done * 1000) // Decimal(total) / Decimal(10)).quantize(
        Decimal("0.1"), rounding=ROUND_DOWN
    )


def _def_label(d: ast.Definition) -> str:
    if isinstance(d, ast.Target):
        return f"target {d.metric}"
    kind = type(d).__name__.lower().replace("inputdecl", "input")
    return f"{kind} {d.name}"


def per_fact_names(model: PlanModel) -> set[str]:
    """Tables and tiers called inside an aggregate, or tiers ``per`` a kind: not explained per fact."""
    names = {d.name for d in plandata.definitions(model) if isinstance(d, ast.Tiers) and d.per}
    for d in plandata.definitions(model):
        for node in plandata.walk(d):
            if isinstance(node, ast.Aggregate):
                names |= {n.func for n in plandata.walk(node) if isinstance(n, ast.Call)}
    return names


def items_of(model: PlanModel) -> tuple[list[Item], list[Item]]:
    """Every item of the plan, and the items that cannot be measured (per-fact tables and tiers)."""
    items: list[Item] = []
    unmeasured: list[Item] = []
    per_fact = per_fact_names(model)
    owner: dict[int, str] = {}
    for block in model.overrides:
        items.append(Item("override", selector_text(block).rsplit(" (", 1)[0], block.span,
                          ("override", selector_text(block))))
        for d in block.body:
            owner[id(d)] = selector_text(block).rsplit(" (", 1)[0]
    for d in plandata.definitions(model):
        where = f" ({owner[id(d)]})" if id(d) in owner else ""
        item = Item("definition", _def_label(d) + where, d.span, ("def", d.span))
        if isinstance(d, ast.Table | ast.Tiers) and d.name in per_fact:
            unmeasured.extend([item, *_parts(d, where)])
        else:
            items.extend([item, *_parts(d, where)])
    return items, unmeasured


def _parts(d: ast.Definition, where: str) -> Iterator[Item]:
    if isinstance(d, ast.Tiers):
        for b in d.bands:
            if isinstance(b, ast.Band):
                upper = b.upper.value if b.upper else None
                label = EBand(b.lower.value, upper, b.lower.value, b.lower.percent).label()
            else:
                label = fmt(b.x.value)
            yield Item("band", f"tiers {d.name}{where}: band {label}", b.span, ("band", d.span, label))
        if d.above is not None:
            yield Item("band", f"tiers {d.name}{where}: above", d.above.span, ("band", d.span, "above"))
        if d.extend_flat:
            yield Item("band", f"tiers {d.name}{where}: flat", d.span, ("band", d.span, "flat"))
    elif isinstance(d, ast.Table):
        for e in d.entries:
            yield Item("entry", f'table {d.name}{where}: "{e.key}"', e.span, ("entry", d.span, f'"{e.key}"'))
        if d.default is not None:
            yield Item("entry", f"table {d.name}{where}: else", d.default.span, ("entry", d.span, "else"))
    elif isinstance(d, ast.Payout):
        for c in d.clauses:
            if isinstance(c, ast.Requires):
                text = f"requires {unparse(c.cond)}"
                for result in ("passed", "failed"):
                    yield Item("gate", f"payout {d.name}{where}: {text}: {result}", c.span,
                               ("gate", d.span, text, result))
            elif isinstance(c, ast.When):
                text = f"when {unparse(c.cond)}"
                for result in ("met", "not met"):
                    yield Item("gate", f"payout {d.name}{where}: {text}: {result}", c.span,
                               ("gate", d.span, text, result))


def _walk(nodes: Iterable[Explanation]) -> Iterator[Explanation]:
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def observe(trees: Iterable[Explanation]) -> set[tuple[Any, ...]]:
    """The item keys an evaluation's explanation trees show."""
    seen: set[tuple[Any, ...]] = set()
    for node in _walk(trees):
        if node.span is not None:
            seen.add(("def", node.span))
        if node.override:
            seen.add(("override", node.override.split("): ", 1)[0] + ")"))
        if node.span is None:
            continue
        if node.kind == "tiers":
            seen.update(("band", node.span, row[0]) for row in node.rows)
        elif node.kind == "table":
            for row in node.rows:
                seen.add(("entry", node.span, row[1]))
        for note in node.notes:
            seen.update(_gate_keys(node, note))
    return seen


def _gate_keys(node: Explanation, note: str) -> Iterator[tuple[Any, ...]]:
    if note.startswith("requires ") and ": " in note:
        text, _, result = note.rpartition(": ")
        yield ("gate", node.span, text, "passed" if result == "passed" else "failed")
    elif note.startswith("when "):
        if note.endswith(": not met"):
            yield ("gate", node.span, note[: -len(": not met")], "not met")
        elif ": met" in note:
            yield ("gate", node.span, note.split(": met", 1)[0], "met")


@attrs.define
class Tracker:
    """Collects what test evaluations showed, per plan file."""

    seen: dict[str, set[tuple[Any, ...]]] = attrs.field(factory=dict)

    def add(self, plan: str, trees: Iterable[Explanation]) -> None:
        self.seen.setdefault(plan, set()).update(observe(trees))

    def add_payees(self, plan: str, model: PlanModel, payees: Iterable[dict[str, str]],
                   period: Period, history: Iterable[dict[str, str]] = ()) -> None:
        """Override blocks that apply to a test's payee on some day of the period, with the
        payee's attributes as of that day (the test's ``payee_history`` rows applied: a
        payee promoted from SE before the quarter never matches ``for role SE`` in it)."""
        changes: dict[str, list[tuple[dt.date, str, str]]] = {}
        for h in history:
            try:
                day = dt.date.fromisoformat(h.get("effective_from", ""))
            except ValueError:
                continue  # the binder reports it; the evaluation did not run on it
            changes.setdefault(h.get("payee", ""), []).append((day, h.get("attribute", ""), h.get("value", "")))
        days = {period.start, period.end}
        days |= {d for b in model.overrides for d in (b.start, b.until) if d and period.contains(d)}
        days |= {d for rows in changes.values() for d, _, _ in rows if period.contains(d)}
        seen = self.seen.setdefault(plan, set())
        for row in payees:
            pid = row.get("id", "")
            mine = sorted(changes.get(pid, ()))
            for day in days:
                attributes = {**row, **{a: v for d, a, v in mine if d <= day}}
                for block in model.overrides:
                    if matches(block, pid, attributes, day):
                        seen.add(("override", selector_text(block)))

    def report(self, plan: str, model: PlanModel) -> PlanCoverage:
        items, unmeasured = items_of(model)
        seen = self.seen.get(plan, set())
        return PlanCoverage(plan, tuple(items), frozenset(i.key for i in items if i.key in seen),
                            tuple(unmeasured))
