"""Which definitions apply to a payee on a date, and the segments of a period.

Resolution (contract, "Overrides and effective dates"): only blocks whose
selector matches the payee's attributes as of the date and whose window
contains the date apply; the most specific wins (payee > more attributes >
fewer > base plan); among blocks of equal specificity the one with the later
``from`` wins (versions of one selector), then the later block in the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from kpidsl import ast
from kpidsl.data.model import HistoryRow, Payee
from kpidsl.model import PlanModel, def_key
from kpidsl.periods import Period

_DAY = dt.timedelta(days=1)


@attrs.frozen
class Applied:
    """A definition in force, with the override block that supplied it and why."""

    definition: ast.Definition
    block: ast.Override | None = None
    why: str | None = None


@attrs.frozen
class Segment:
    """A part of a period inside which definitions and payee attributes do not change."""

    start: dt.date
    end: dt.date
    defs: Mapping[str, Applied]
    attrs: Mapping[str, str]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def attrs_on(payee: Payee, history: Iterable[HistoryRow], day: dt.date) -> dict[str, str]:
    """The payee's attributes as of ``day``: the payee row, then history rows dated on or before."""
    out = dict(payee.attrs)
    for row in sorted(history, key=lambda r: (r.effective_from, r.attribute, r.value)):
        if row.effective_from <= day:
            out[row.attribute] = row.value
    return out


def selector_text(block: ast.Override) -> str:
    """``for role SE and region west from 2026-07-01 (plan.kpi:52:1)``."""
    items = " and ".join(f"{i.attr} {_quote(i.value)}" for i in block.selector)
    text = f"for {items}"
    if block.start is not None:
        text += f" from {block.start.isoformat()}"
    if block.until is not None:
        text += f" until {block.until.isoformat()}"
    return f"{text} ({block.span})"


def _quote(v: str) -> str:
    return v if v.isidentifier() else f'"{v}"'


def matches(block: ast.Override, payee_id: str, attributes: Mapping[str, str], day: dt.date) -> bool:
    """Whether ``block`` applies to the payee on ``day``."""
    if block.start is not None and day < block.start:
        return False
    if block.until is not None and day > block.until:
        return False
    for item in block.selector:
        actual = payee_id if item.attr == "payee" else attributes.get(item.attr)
        if actual != item.value:
            return False
    return True


def specificity(block: ast.Override, index: int) -> tuple[int, int, dt.date, int]:
    """Sort key: payee selectors first, then attribute count, later ``from``, later block."""
    is_payee = any(i.attr == "payee" for i in block.selector)
    return (int(is_payee), len(block.selector), block.start or dt.date.min, index)


def why_text(block: ast.Override, payee_id: str) -> str:
    """``for role SE (plan.kpi:52:1): alice has role SE``."""
    facts = " and ".join(
        f"id {_quote(i.value)}" if i.attr == "payee" else f"{i.attr} {_quote(i.value)}"
        for i in block.selector
    )
    return f"{selector_text(block)}: {payee_id} has {facts}"


def resolve(model: PlanModel, payee_id: str, attributes: Mapping[str, str], day: dt.date) -> dict[str, Applied]:
    """Every definition in force for the payee on ``day``, by definition key."""
    out = {k: Applied(d) for k, d in model.base.items()}
    best: dict[str, tuple[int, int, dt.date, int]] = {}
    for index, block in enumerate(model.overrides):
        if not matches(block, payee_id, attributes, day):
            continue
        spec = specificity(block, index)
        for d in block.body:
            key = def_key(d)
            if key not in best or spec > best[key]:
                best[key] = spec
                out[key] = Applied(d, block, why_text(block, payee_id))
    return out


def split_points(model: PlanModel, history: Iterable[HistoryRow], period: Period) -> list[dt.date]:
    """Dates inside the period (after its first day) where something may change."""
    points: set[dt.date] = set()
    for block in model.overrides:
        if block.start is not None:
            points.add(block.start)
        if block.until is not None:
            points.add(block.until + _DAY)
    points.update(r.effective_from for r in history)
    return sorted(p for p in points if period.start < p <= period.end)


def segments(model: PlanModel, payee: Payee, history: tuple[HistoryRow, ...], period: Period,
             end: dt.date | None = None) -> list[Segment]:
    """The period cut where the payee's definitions or selected attributes change (adjacent
    equal parts merged).

    Role and region count (the contract's attributes), and any other attribute an override's
    selector names (``team``, ``level``...). A change of another (a new manager, a custom
    attribute no block selects on) cannot change what the payee is paid under: it does not
    cut the period, which would prorate targets and apply tiers per part
    (docs/semantics-decisions.md, "Overrides and segments")."""
    last = min(period.end, end) if end is not None else period.end
    starts = [period.start, *(p for p in split_points(model, history, period) if p <= last)]
    selected = selected_attributes(model)
    out: list[Segment] = []
    for i, start in enumerate(starts):
        stop = starts[i + 1] - _DAY if i + 1 < len(starts) else last
        attributes = attrs_on(payee, history, start)
        defs = resolve(model, payee.id, attributes, start)
        if out and _same(out[-1], defs, attributes, selected):
            prev = out[-1]
            out[-1] = Segment(prev.start, stop, prev.defs, prev.attrs)
        else:
            out.append(Segment(start, stop, defs, attributes))
    return out


def selected_attributes(model: PlanModel) -> frozenset[str]:
    """Role, region and the payee attributes that override selectors name (``payee`` is the
    id, not one)."""
    named = {i.attr for block in model.overrides for i in block.selector if i.attr != "payee"}
    return frozenset({"role", "region", *named})


def _same(seg: Segment, defs: Mapping[str, Applied], attributes: Mapping[str, str],
          selected: frozenset[str]) -> bool:
    if any(seg.attrs.get(a) != attributes.get(a) for a in selected) or seg.defs.keys() != defs.keys():
        return False
    return all(seg.defs[k].definition is defs[k].definition for k in defs)
