"""Gathers the parts of one explanation node while its value is being computed."""

from __future__ import annotations

from typing import ClassVar

import attrs

from kpidsl import ast
from kpidsl.eval.facts import AggResult
from kpidsl.explain.tree import Explanation
from kpidsl.source import Span


@attrs.define
class Collector:
    """Children (inputs used, in first-use order), notes, rows and facts of a node being built."""

    keeps: ClassVar[bool] = True  # False: nothing is kept (the quick payee stage), skip the wording

    top_agg: ast.Aggregate | None = None
    formula: str = ""
    data: bool = False
    children: dict[tuple[str, str], Explanation] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    header: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = attrs.field(factory=list)
    facts: tuple[str, ...] = ()
    fact_count: int = 0

    def add(self, node: Explanation) -> None:
        self.children.setdefault((node.kind, node.name), node)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def facts_from(self, result: AggResult, notes: tuple[str, ...] = ()) -> None:
        self.facts, self.fact_count = result.keys, result.count
        self.notes.extend(n for n in notes if n not in self.notes)
        if result.rows:
            self.header, self.rows = ("fact", "share", "amount"), list(result.rows)

    def build(self, name: str, kind: str, value: str | None, *, formula: str = "",
              span: Span | None = None, override: str | None = None,
              error: str | None = None, unit: str | None = None) -> Explanation:
        return Explanation(
            name=name, kind=kind, value=value, formula=formula or self.formula, span=span,
            override=override, notes=tuple(self.notes), row_header=self.header if self.rows else (),
            rows=tuple(self.rows), facts=self.facts, fact_count=self.fact_count,
            children=tuple(self.children.values()), error=error, unit=unit,
        )
