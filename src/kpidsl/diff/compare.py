"""Two plan versions evaluated on the same data and period, payee by payee.

Totals and deltas are exact decimals (a local context, never the thread's).
The total cost change covers the payees that have a total in both versions;
a payee that fails in either version is listed apart and left out of the sums.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from kpidsl.api import Plan, RawData, Result, load_data
from kpidsl.diff.semantic import PlanDiff, diff_models
from kpidsl.numbers import fmt

_CTX = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.Inexact])
ZERO = Decimal(0)


def diff_plans(old: Plan, new: Plan) -> PlanDiff:
    """The definitions that changed from ``old`` to ``new`` (see :mod:`kpidsl.diff.semantic`)."""
    return diff_models(old.model, new.model, old.sources, new.sources)


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for v in values:
        total = _CTX.add(total, v)
    return total


@attrs.frozen
class ComponentDelta:
    """One payout component of one payee in both versions (None: no value there).

    A component that one version does not define counts as 0 there (docs/diff.md); one
    that it defines but that has no value for the payee (its evaluation failed, or the
    version's data was rejected) makes the change unknown: ``delta`` is None, never a
    difference from 0 that no plan change caused."""

    old: Decimal | None
    new: Decimal | None
    old_defined: bool = True
    new_defined: bool = True

    @property
    def delta(self) -> Decimal | None:
        if (self.old is None and self.old_defined) or (self.new is None and self.new_defined):
            return None
        new = ZERO if self.new is None else self.new
        old = ZERO if self.old is None else self.old
        return _CTX.subtract(new, old)

    def to_dict(self) -> dict[str, str | None]:
        return {"old": _s(self.old), "new": _s(self.new), "delta": _s(self.delta)}


@attrs.frozen
class PayeeDelta:
    """One payee's old and new total; ``delta`` is None when either version failed."""

    payee: str
    old_total: Decimal | None
    new_total: Decimal | None
    components: Mapping[str, ComponentDelta]
    old_errors: tuple[str, ...] = ()
    new_errors: tuple[str, ...] = ()

    @property
    def delta(self) -> Decimal | None:
        if self.old_total is None or self.new_total is None:
            return None
        return _CTX.subtract(self.new_total, self.old_total)

    @property
    def direction(self) -> str:
        """``up``, ``down``, ``same``, or ``error`` when a version has no total."""
        d = self.delta
        if d is None:
            return "error"
        return "up" if d > 0 else "down" if d < 0 else "same"

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": _s(self.old_total), "new": _s(self.new_total), "delta": _s(self.delta),
            "direction": self.direction,
            "components": {k: c.to_dict() for k, c in self.components.items()},
            "old_errors": list(self.old_errors), "new_errors": list(self.new_errors),
        }


def _s(v: Decimal | None) -> str | None:
    return None if v is None else fmt(v)


@attrs.frozen
class Comparison:
    """A plan diff plus the per-payee and total effect of the change on one data set."""

    period: str
    old: Result
    new: Result
    plan_diff: PlanDiff
    payees: tuple[PayeeDelta, ...]

    @property
    def compared(self) -> tuple[PayeeDelta, ...]:
        return tuple(p for p in self.payees if p.delta is not None)

    @property
    def old_total(self) -> Decimal:
        return _sum(p.old_total for p in self.compared if p.old_total is not None)

    @property
    def new_total(self) -> Decimal:
        return _sum(p.new_total for p in self.compared if p.new_total is not None)

    @property
    def total_delta(self) -> Decimal:
        return _CTX.subtract(self.new_total, self.old_total)

    def count(self, direction: str) -> int:
        return sum(1 for p in self.payees if p.direction == direction)

    def movers(self, top: int) -> list[PayeeDelta]:
        """The ``top`` largest changes by absolute delta; ties by payee id."""
        moved = [p for p in self.compared if p.direction != "same"]
        moved.sort(key=lambda p: (-abs(p.delta or ZERO), p.payee))
        return moved[:max(top, 0)]

    def errors_in_one(self) -> tuple[list[PayeeDelta], list[PayeeDelta]]:
        """Payees failing only in the old version, and only in the new one."""
        old_only = [p for p in self.payees if p.old_total is None and p.new_total is not None]
        new_only = [p for p in self.payees if p.new_total is None and p.old_total is not None]
        return old_only, new_only

    @property
    def ok(self) -> bool:
        """Both evaluations ran without a data or evaluation error."""
        return self.old.ok and self.new.ok

    @property
    def rejected(self) -> bool:
        """The data was rejected for either version: nothing was evaluated, so there are no
        totals to compare (a total of 0 would read as a result)."""
        return self.old.evaluation is None or self.new.evaluation is None

    @property
    def rejected_by(self) -> tuple[str, ...]:
        """The versions (``old``, ``new``) whose plan rejected the data: a plan may reject
        data the other accepts (it reads through a reference the data leaves dangling)."""
        return tuple(v for v, r in (("old", self.old), ("new", self.new)) if r.evaluation is None)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        old_only, new_only = self.errors_in_one()
        return {
            "period": self.period,
            "old_plan": self.old.plan.info(),
            "new_plan": self.new.plan.info(),
            "definitions": self.plan_diff.to_dict(),
            "summary": {
                "payees": len(self.payees),
                "compared": len(self.compared),
                "up": self.count("up"), "down": self.count("down"),
                "same": self.count("same"), "error": self.count("error"),
                "old_total": None if self.rejected else fmt(self.old_total),
                "new_total": None if self.rejected else fmt(self.new_total),
                "total_delta": None if self.rejected else fmt(self.total_delta),
                "data_rejected": self.rejected,
                "data_rejected_by": list(self.rejected_by),
            },
            "movers": [p.payee for p in self.movers(top)],
            "errors_only_in_old": [p.payee for p in old_only],
            "errors_only_in_new": [p.payee for p in new_only],
            "payees": {p.payee: p.to_dict() for p in self.payees},
            "data_errors": {
                "old": [d.message for d in self.old.data_diagnostics if d.severity == "error"],
                "new": [d.message for d in self.new.data_diagnostics if d.severity == "error"],
            },
            "data_warnings": {
                "old": [d.message for d in self.old.data_diagnostics if d.severity != "error"],
                "new": [d.message for d in self.new.data_diagnostics if d.severity != "error"],
            },
        }


def _error_texts(result: Result, payee: str) -> tuple[str, ...]:
    pr = result.payees.get(payee)
    if pr is None:
        return ("not evaluated",) if result.evaluation is not None else ("data rejected",)
    return tuple(f"{e.code} {e.name}: {e.message}" for e in pr.errors)


def _payee_delta(pid: str, old: Result, new: Result, components: list[str]) -> PayeeDelta:
    po, pn = old.payees.get(pid), new.payees.get(pid)
    comps = {
        c: ComponentDelta(po.components.get(c) if po else None, pn.components.get(c) if pn else None,
                          c in old.plan.model.payouts, c in new.plan.model.payouts)
        for c in components
    }
    return PayeeDelta(
        pid,
        po.total if po is not None else None,
        pn.total if pn is not None else None,
        comps,
        _error_texts(old, pid) if po is None or po.errors else (),
        _error_texts(new, pid) if pn is None or pn.errors else (),
    )


def compare(
    old: Plan, new: Plan, data: RawData | str | Path | Mapping[str, Any], period: str,
    *, as_of: Any = None, payees: Iterable[str] | None = None, engine: str = "reference",
) -> Comparison:
    """Evaluate both plans on the same data and period and compare them payee by payee.

    ``engine`` as for :meth:`Plan.evaluate`: with a data folder and ``auto`` or
    ``columnar``, each version evaluates the folder on the columnar fact stage (when
    large), rather than both on the folder read once by the reference reader."""
    why = different_dates(old, new, period)
    if why is not None:
        raise ValueError(why)
    source: RawData | str | Path
    if isinstance(data, (str, Path)) and engine != "reference":
        source = data  # each version loads the folder on its engine
    else:
        source, engine = (data if isinstance(data, RawData) else load_data(data)), "reference"
    wanted = list(payees) if payees is not None else None
    r_old = old.evaluate(source, period, as_of=as_of, payees=wanted, engine=engine)
    r_new = new.evaluate(source, period, as_of=as_of, payees=wanted, engine=engine)
    components = list(old.model.payouts)
    components += [c for c in new.model.payouts if c not in components]
    ids = sorted(set(r_old.payees) | set(r_new.payees))
    rows = tuple(_payee_delta(pid, r_old, r_new, components) for pid in ids)
    return Comparison(period, r_old, r_new, diff_plans(old, new), rows)


def different_dates(old: Plan, new: Plan, period: str) -> str | None:
    """Why ``period`` cannot be compared: it names other dates in the two plans (another
    ``fiscal_year_start``: 2026-Q3 is July-September for one, October-December for the
    other), so a change would be the calendar's, not the plan's. None when the dates agree
    (or a plan does not read the period: its evaluation reports that)."""
    from kpidsl.periods import PeriodError, parse_period

    spans = []
    for plan in (old, new):
        h = plan.model.header
        try:
            p = parse_period(period, h.period, h.fiscal_year_start)
        except PeriodError:
            return None
        spans.append((p.start, p.end))
    if spans[0] == spans[1]:
        return None
    (a0, a1), (b0, b1) = spans
    return (f"period {period} is {a0}..{a1} in the old plan and {b0}..{b1} in the new one (their "
            "fiscal years start on other days): the two would be paid for different dates")
