"""Reading explanation trees back from the JSON that :func:`render_json` writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kpidsl.explain.tree import Explanation
from kpidsl.source import Span

__all__ = ["explanation_from_dict", "explanations_from_json"]


def _span(text: str | None) -> Span | None:
    """``plan.kpi:24:3`` back to a span (start position only; the file may contain ':')."""
    if not text:
        return None
    file, line, col = text.rsplit(":", 2)
    return Span(file, int(line), int(col), int(line), int(col))


def explanation_from_dict(data: Mapping[str, Any]) -> Explanation:
    """The inverse of ``Explanation.to_dict`` (spans keep file, line and column)."""
    table = data.get("table") or {}
    facts = data.get("facts") or {}
    return Explanation(
        name=str(data["name"]),
        kind=str(data["kind"]),
        value=None if data.get("value") is None else str(data["value"]),
        formula=str(data.get("formula", "")),
        span=_span(data.get("source")),
        override=data.get("override"),
        notes=tuple(str(n) for n in data.get("notes", ())),
        row_header=tuple(str(h) for h in table.get("header", ())),
        rows=tuple(tuple(str(c) for c in r) for r in table.get("rows", ())),
        facts=tuple(str(k) for k in facts.get("keys", ())),
        fact_count=int(facts.get("count", 0)),
        children=tuple(explanation_from_dict(c) for c in data.get("children", ())),
        error=data.get("error"),
        unit=data.get("unit"),
    )


def explanations_from_json(text: str) -> list[Explanation]:
    """Parse the output of ``render_json`` (one tree or a list of trees)."""
    data = json.loads(text)
    items = data if isinstance(data, list) else [data]
    return [explanation_from_dict(d) for d in items]
