"""Text values that differ from a literal the plan compares them to only in case or spaces.

``deal.stage == "won"`` never matches a deal whose stage is ``Won``: values are
compared exactly, so such a fact silently drops out of a metric. Each one gets
a warning (the data may be right, and the plan may mean it).
"""

from __future__ import annotations

from collections.abc import Mapping

from kpidsl.diagnostics import warning
from kpidsl.model import PlanModel

from . import codes
from .model import Fact, RawRow
from .navigation import compared_literals
from .tableview import Sink, View


def fold(text: str) -> str:
    """A text as compared for KPI0717: without surrounding space, case-folded."""
    return text.strip().casefold()


def case_mismatches(
    model: PlanModel,
    facts: Mapping[str, Mapping[str, Fact]],
    rows: Mapping[tuple[str, str], tuple[View, RawRow]],
    sink: Sink,
    compared: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> None:
    """Warn for every fact text value that equals a compared literal but for case or spaces
    (``compared``: :func:`compared_literals` of the model, when already known)."""
    compared = compared_literals(model) if compared is None else compared
    for (kind, field), literals in sorted(compared.items()):
        by_fold = {fold(lit): lit for lit in sorted(literals, reverse=True)}
        for key in sorted(facts.get(kind, {})):
            value = facts[kind][key].values.get(field)
            if not isinstance(value, str) or value in literals:
                continue
            literal = by_fold.get(fold(value))
            if literal is None or (kind, key) not in rows:
                continue
            view, row = rows[kind, key]
            msg = (
                f"{kind} {key} {field} '{value}' is not '{literal}': values are compared exactly "
                f"({view.where(row, field)})"
            )
            hint = f"write '{literal}' in the data if this {kind} should count"
            sink.add(warning(codes.CASE_MISMATCH, msg, view.span(row, field), help=hint))
