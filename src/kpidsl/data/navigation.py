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
    """(kind, field) -> the text literals the plan compares that field to (``==``, ``!=``, ``in``)."""
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
    return {k: frozenset(v) for k, v in found.items()}


def _all_exprs(model: PlanModel) -> Iterator[ast.Expr]:
    for d in _definitions(model):
        for top in _definition_exprs(d):
            yield from _walk(top)


def _before(a: Span, b: Span) -> bool:
    return (a.file, a.line, a.col) < (b.file, b.line, b.col)


def _definitions(model: PlanModel) -> Iterator[ast.Definition]:
    yield from model.base.values()
    for block in model.overrides:
        yield from block.body


def _definition_exprs(d: ast.Definition) -> list[ast.Expr]:
    if isinstance(d, ast.InputDecl):
        return [d.default] if d.default is not None else []
    if isinstance(d, (ast.Metric, ast.Target, ast.Const)):
        return [d.expr]
    if isinstance(d, ast.Table):
        out = [d.key, *(entry.value for entry in d.entries)]
        return out + ([d.default] if d.default is not None else [])
    if isinstance(d, ast.Tiers):
        values = [b.value if isinstance(b, ast.Band) else b.y for b in d.bands]
        return [d.on, *values] + ([d.above] if d.above is not None else [])
    if isinstance(d, ast.Payout):
        return [d.expr, *_clause_exprs(d.clauses)]
    return []  # a score names its lines' metrics and inputs: no fields


def _clause_exprs(clauses: tuple[ast.Clause, ...]) -> list[ast.Expr]:
    out: list[ast.Expr] = []
    for c in clauses:
        if isinstance(c, ast.When):
            out += [c.cond, c.value]
        elif isinstance(c, ast.Requires):
            out.append(c.cond)
        else:
            out.append(c.expr)
    return out


def _walk(e: ast.Expr) -> Iterator[ast.Expr]:
    yield e
    for child in _children(e):
        yield from _walk(child)


def _children(e: ast.Expr) -> tuple[ast.Expr, ...]:
    if isinstance(e, ast.Unary):
        return (e.operand,)
    if isinstance(e, ast.Binary):
        return (e.left, e.right)
    if isinstance(e, ast.Call):
        return e.args
    if isinstance(e, ast.InWindow):
        return (e.expr,)
    if isinstance(e, ast.InList):
        return (e.expr, *e.items)
    if isinstance(e, ast.Fallback):
        return (e.expr, e.fallback)
    if isinstance(e, ast.Aggregate):
        return tuple(x for x in (e.expr, e.where) if x is not None)
    return ()
