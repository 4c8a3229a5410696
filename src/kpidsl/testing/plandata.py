"""What a plan says about the data it needs: kinds, payee attributes, periods, targets, inputs.

Used to generate data for invariants (:mod:`kpidsl.testing.strategies`) and to
measure coverage: read-only walks over the plan's AST.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kpidsl import ast
from kpidsl.model import PAYEE_TYPE, VALUE_TYPES, KindSchema, PlanModel
from kpidsl.periods import Period, parse_period, period_of


def walk(node: object) -> Iterator[object]:
    """Every AST node under ``node`` (itself included), depth first."""
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack.extend(reversed(item))
            continue
        if not attrs.has(type(item)):
            continue
        yield item
        for f in reversed(attrs.fields(type(item))):  # type: ignore[arg-type]
            if f.name != "span":
                stack.append(getattr(item, f.name))


def definitions(model: PlanModel) -> list[ast.Definition]:
    """Every definition: the base plan's, then each override block's, in source order."""
    return [*model.base.values(), *(d for b in model.overrides for d in b.body)]


def _field_of(e: object) -> tuple[str, str] | None:
    if isinstance(e, ast.Field) and len(e.path) == 1:
        return e.kind, e.path[0]
    return None


def text_literals(model: PlanModel) -> dict[tuple[str, str], list[str]]:
    """Text values the plan compares fact fields with: ``deal.stage == "won"``, table keys."""
    out: dict[tuple[str, str], list[str]] = {}

    def add(key: tuple[str, str] | None, value: str) -> None:
        if key is not None and value not in out.setdefault(key, []):
            out[key].append(value)

    for d in definitions(model):
        for node in walk(d):
            if isinstance(node, ast.Binary) and node.op in ("==", "!="):
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(b, ast.String):
                        add(_field_of(a), b.value)
            elif isinstance(node, ast.InList):
                for item in node.items:
                    if isinstance(item, ast.String):
                        add(_field_of(node.expr), item.value)
            elif isinstance(node, ast.Table):
                for entry in node.entries:
                    add(_field_of(node.key), entry.key)
    return out


def kinds_in_order(model: PlanModel) -> list[KindSchema]:
    """The plan's fact kinds, a referenced kind before the kinds that reference it."""
    done: list[str] = []

    def visit(name: str, seen: tuple[str, ...]) -> None:
        if name in done or name in seen or name not in model.kinds:
            return
        for ref in model.kinds[name].references().values():
            visit(ref, (*seen, name))
        done.append(name)

    for name in sorted(model.kinds):
        visit(name, ())
    return [model.kinds[n] for n in done]


def selector_values(model: PlanModel) -> dict[str, list[str]]:
    """Per payee attribute named in an override selector, the values named (``payee`` = ids)."""
    out: dict[str, list[str]] = {}
    for block in model.overrides:
        for item in block.selector:
            values = out.setdefault(item.attr, [])
            if item.value not in values:
                values.append(item.value)
    return out


def metrics_with_targets(model: PlanModel) -> list[str]:
    """Metrics whose target the plan reads: attainment/target calls, score lines, plan targets."""
    metrics = {n for n, d in model.base.items() if isinstance(d, ast.Metric)}
    metrics |= {d.name for b in model.overrides for d in b.body if isinstance(d, ast.Metric)}
    found: list[str] = []

    def add(name: str) -> None:
        if name in metrics and name not in found:
            found.append(name)

    for d in definitions(model):
        if isinstance(d, ast.Target):
            add(d.metric)
        for node in walk(d):
            if isinstance(node, ast.Call) and node.func in ("attainment", "target") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Name):
                    add(arg.name)
            elif isinstance(node, ast.ScoreLine):
                add(node.ref)
    return found


def input_decls(model: PlanModel) -> dict[str, ast.InputDecl]:
    """Every input the plan declares (base or override), by name."""
    return {d.name: d for d in definitions(model) if isinstance(d, ast.InputDecl)}


def metric_kinds(model: PlanModel, metric: str) -> list[str]:
    """The fact kinds a metric aggregates, through the metrics it is derived from."""
    seen: set[str] = set()
    kinds: list[str] = []
    todo = [metric]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for d in definitions(model):
            if not isinstance(d, ast.Metric) or d.name != name:
                continue
            for node in walk(d.expr):
                if isinstance(node, ast.Aggregate) and node.kind not in kinds:
                    kinds.append(node.kind)
                elif isinstance(node, ast.Name):
                    todo.append(node.name)
    return kinds


def periods(model: PlanModel) -> list[str]:
    """Candidate periods: the first test's period first, then the rest of its fiscal year."""
    h = model.header
    first: Period | None = None
    for test in model.tests:
        for item in test.items:
            if isinstance(item, ast.TestPeriod) and first is None:
                try:
                    first = parse_period(item.period, h.period, h.fiscal_year_start)
                except ValueError:
                    continue
    if first is None:
        import datetime as dt

        first = period_of(h.effective or dt.date(2026, 1, 1), h.period, h.fiscal_year_start)
    labels = [first.label]
    p = Period(first.fy_start, h.period, h.fiscal_year_start)
    while p.fy_start == first.fy_start:
        if p.label not in labels:
            labels.append(p.label)
        p = p.next()
    return labels


def is_value_field(type_: str) -> bool:
    """Whether a field type is a value (not a payee id nor a reference to another kind)."""
    return type_ in VALUE_TYPES and type_ != PAYEE_TYPE

