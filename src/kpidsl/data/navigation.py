"""Which reference fields a plan navigates through (``collection.deal.product``).

A fact whose reference names a fact that is not in the data is a data error
when the plan reads through that reference anywhere (base plan or override
block, any expression: metrics, aggregates' filters, tables' keys, tiers'
``on``, payout clauses...), and only a warning otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

from kpidsl import ast
from kpidsl.model import PlanModel
from kpidsl.source import Span


def navigated_references(model: PlanModel) -> dict[tuple[str, str], Span]:
    """(kind, reference field) -> the first place (in source order) the plan reads through it."""
    found: dict[tuple[str, str], Span] = {}
    for e in _all_exprs(model):
        if isinstance(e, ast.Field) and len(e.path) >= 2:
            key = (e.kind, e.path[0])
            if key not in found or _before(e.span, found[key]):
                found[key] = e.span
    return found


def read_kinds(model: PlanModel) -> dict[str, Span]:
    """Kind -> the first place the plan reads facts of it: an aggregate, or a reference hop."""
    found: dict[str, Span] = {}

    def note(kind: str, span: Span) -> None:
        if kind in model.kinds and (kind not in found or _before(span, found[kind])):
            found[kind] = span

    for e in _all_exprs(model):
        if isinstance(e, ast.Aggregate):
            note(e.kind, e.span)
        elif isinstance(e, ast.Field) and len(e.path) >= 2 and e.kind in model.kinds:
            target = model.kinds[e.kind].references().get(e.path[0])
            if target is not None:
                note(target, e.span)
    return found


def compared_literals(model: PlanModel) -> dict[tuple[str, str], frozenset[str]]:
    """(kind, field) -> the text literals the plan compares that field to (``==``, ``!=``, ``in``,
    and the keys of a table looked up ``by`` that field)."""
    found: dict[tuple[str, str], set[str]] = {}
    for e in _all_exprs(model):
        pairs: list[tuple[ast.Expr, ast.Expr]] = []
        if isinstance(e, ast.Binary) and e.op in ("==", "!="):
            pairs = [(e.left, e.right), (e.right, e.left)]
        elif isinstance(e, ast.InList):
            pairs = [(e.expr, item) for item in e.items]
        for field, literal in pairs:
            if isinstance(field, ast.Field) and len(field.path) == 1:
                if isinstance(literal, ast.String):
                    found.setdefault((field.kind, field.path[0]), set()).add(literal.value)
    for d in _definitions(model):  # a table's keys: a value matching none takes its `else`
        if isinstance(d, ast.Table) and isinstance(d.key, ast.Field) and len(d.key.path) == 1:
            found.setdefault((d.key.kind, d.key.path[0]), set()).update(e.key for e in d.entries)
    return {k: frozenset(v) for k, v in found.items()}


def credit_types(model: PlanModel) -> frozenset[str]:
    """The credit types the plan names: ``split``, and those its aggregates count
    (``credited overlay``); ``any`` names none."""
    found = {"split"}
    for e in _all_exprs(model):
        if isinstance(e, ast.Aggregate):
            found.update(t for t in e.credit if t != "any")
    return frozenset(found)


def _all_exprs(model: PlanModel) -> Iterator[ast.Expr]:
    for d in _definitions(model):
        for top in ast.definition_exprs(d):
            yield from ast.walk(top)


def _before(a: Span, b: Span) -> bool:
    return (a.file, a.line, a.col) < (b.file, b.line, b.col)


def _definitions(model: PlanModel) -> Iterator[ast.Definition]:
    yield from model.base.values()
    for block in model.overrides:
        yield from block.body
