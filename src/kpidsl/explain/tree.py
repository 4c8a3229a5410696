"""Explanation trees: why a figure has its value, down to the facts behind it.

The engine builds these while it evaluates (one per named value per payee);
renderers in this package turn them into a terminal tree, JSON or HTML.
"""

from __future__ import annotations

from typing import Any

import attrs

from kpidsl.source import Span


@attrs.frozen
class Explanation:
    """One node: a named value (or a part of one) with how it was obtained.

    ``kind`` is one of: payout, metric, derived, const, input, target,
    attainment, tiers, table, score, gate, clause, segment, facts, expr.
    ``value`` is the exact decimal (or bool/text) as a string, None on error.
    ``rows``/``row_header`` hold tabular detail (tier slices, score lines,
    contributing facts) whose figures reconcile with ``value``.
    """

    name: str
    kind: str
    value: str | None
    formula: str = ""
    span: Span | None = None
    override: str | None = None
    notes: tuple[str, ...] = ()
    row_header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    facts: tuple[str, ...] = ()
    fact_count: int = 0
    children: tuple[Explanation, ...] = ()
    error: str | None = None
    unit: str | None = None  # the declared type of a named value: money, percent, count...

    def _repr_html_(self) -> str:
        """Rich display in Jupyter: the collapsible explanation tree."""
        from kpidsl.report.notebook import explanation_html

        return explanation_html(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a stable key order; empty parts are left out."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "value": self.value}
        if self.formula:
            out["formula"] = self.formula
        if self.span is not None:
            out["source"] = str(self.span)
        if self.override:
            out["override"] = self.override
        if self.notes:
            out["notes"] = list(self.notes)
        if self.rows:
            out["table"] = {"header": list(self.row_header), "rows": [list(r) for r in self.rows]}
        if self.facts or self.fact_count:
            out["facts"] = {"count": self.fact_count, "keys": list(self.facts)}
        if self.error:
            out["error"] = self.error
        if self.unit:
            out["unit"] = self.unit
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out
