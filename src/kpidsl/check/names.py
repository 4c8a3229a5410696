"""Names pass (KPI01xx): unknown names, fields, functions, arity and misuse of built-ins."""

from __future__ import annotations

import attrs

from kpidsl import ast
from kpidsl.check.context import (
    Ctx,
    Scope,
    children,
    clause_exprs,
    head_span,
    prefix_span,
    selector_text,
    suggest,
)
from kpidsl.model import SHARE_FIELD, KindSchema
from kpidsl.source import Span

BUILTIN_ARITY: dict[str, tuple[int, int | None]] = {
    "attainment": (1, 1),
    "target": (1, 1),
    "prior": (1, 1),
    "min": (2, None),
    "max": (2, None),
    "abs": (1, 1),
}

# Words the grammar reserves; a definition with one of these names is KPI0006.
RESERVED_WORDS = frozenset(
    "plan fact input metric target const table tiers score payout for test invariant import "
    "sum count distinct avg where over credited in period ytd previous to and or not else "
    "by on per step marginal interpolated lookup extend flat above up weight cap floor "
    "threshold requires when then from until true false expect error self default key "
    "date is monotonic".split()
)


@attrs.frozen
class Where:
    """The context of an expression: its scope and the fact kind its fields may name."""

    scope: Scope
    fact: bool = False  # fields allowed (inside an aggregate, a table, per-fact tiers)
    kind: str | None = None  # the only kind fields may name, when known


def names_pass(ctx: Ctx) -> None:
    """Resolve every name, field and call in every scope."""
    for scope, d in ctx.all_definitions():
        check_keyword_name(ctx, d)
        check_definition(ctx, Where(scope), d)


def check_keyword_name(ctx: Ctx, d: ast.Definition) -> None:
    name = d.metric if isinstance(d, ast.Target) else d.name
    if name in RESERVED_WORDS:
        ctx.err("KPI0006", f"`{name}` is a keyword and cannot name a definition",
                head_span(d), "keyword used as a name", help=f"rename it, e.g. `{name}_value`")


def check_definition(ctx: Ctx, w: Where, d: ast.Definition) -> None:
    if isinstance(d, ast.Target):
        check_target_decl(ctx, w, d)
    if isinstance(d, ast.Tiers):
        check_tiers_names(ctx, w, d)
        return
    if isinstance(d, ast.Table):
        kind = d.key.kind if isinstance(d.key, ast.Field) else None
        fw = attrs.evolve(w, fact=True, kind=kind)
        for e in [d.key, *(x.value for x in d.entries), d.default]:
            expr(ctx, fw, e)
        return
    if isinstance(d, ast.Score):
        for line in d.lines:
            if line.ref not in w.scope.visible:
                unknown_name(ctx, w, line.ref, prefix_span(line.span, len(line.ref)))
        return
    if isinstance(d, ast.Payout):
        for e in [d.expr, *clause_exprs(d.clauses)]:
            expr(ctx, w, e)
        return
    if isinstance(d, ast.InputDecl):
        expr(ctx, w, d.default)
    elif isinstance(d, (ast.Metric, ast.Const, ast.Target)):
        expr(ctx, w, d.expr)


def check_target_decl(ctx: Ctx, w: Where, d: ast.Target) -> None:
    found = w.scope.visible.get(d.metric)
    if found is None:
        unknown_name(ctx, w, d.metric, head_span(d))
    elif not isinstance(found, ast.Metric):
        ctx.err("KPI0118", f"`{d.metric}` is not a metric, so it has no target",
                head_span(d), f"`{d.metric}` is a {type(found).__name__.lower()}",
                help="targets are quotas for metrics")


def check_tiers_names(ctx: Ctx, w: Where, d: ast.Tiers) -> None:
    if d.per is not None and d.per not in ctx.model.kinds:
        ctx.err("KPI0112", f"unknown fact kind `{d.per}`", d.span, "in `per`",
                help=suggest(d.per, ctx.model.kinds))
    expr(ctx, attrs.evolve(w, fact=d.per is not None, kind=d.per), d.on)
    for b in d.bands:
        expr(ctx, w, b.value if isinstance(b, ast.Band) else b.y)
    expr(ctx, w, d.above)


def expr(ctx: Ctx, w: Where, e: ast.Expr | None) -> None:
    """Check one expression tree (recursing with the right context)."""
    if e is None:
        return
    if isinstance(e, ast.Name):
        name_ref(ctx, w, e)
    elif isinstance(e, ast.Field):
        field_ref(ctx, w, e)
    elif isinstance(e, ast.Call):
        call(ctx, w, e)
    elif isinstance(e, ast.Aggregate):
        aggregate(ctx, w, e)
    else:
        for child in children(e):
            expr(ctx, w, child)


def name_ref(ctx: Ctx, w: Where, e: ast.Name) -> None:
    found = w.scope.visible.get(e.name)
    if found is None:
        unknown_name(ctx, w, e.name, e.span)
    elif isinstance(found, (ast.Table, ast.Tiers)):
        what = "table" if isinstance(found, ast.Table) else "tiers"
        ctx.err("KPI0121", f"{what} `{e.name}` is used without being called", e.span,
                f"a {what}, not a value", help=f"call it with its argument: `{e.name}(...)`")


def unknown_name(ctx: Ctx, w: Where, name: str, span: Span) -> None:
    elsewhere = ctx.override_only.get(name)
    if elsewhere is not None:
        block = next(s.block for s in ctx.scopes[1:] if name in s.own)
        assert block is not None
        ctx.err("KPI0111", f"`{name}` is not defined for every payee this applies to", span,
                "unknown here", help=f"it is defined only in `for {selector_text(block)}`; "
                "define it in the base plan too, or move this into that block")
        return
    if name in ctx.model.kinds:
        ctx.err("KPI0111", f"`{name}` is a fact kind, not a value", span, "fact kind",
                help=f"aggregate it, e.g. `count {name}` or `sum {name}.amount`")
        return
    ctx.err("KPI0111", f"unknown name `{name}`", span, "not defined",
            help=suggest(name, w.scope.visible))


def field_ref(ctx: Ctx, w: Where, e: ast.Field) -> None:
    kind = ctx.model.kinds.get(e.kind)
    if kind is None:
        ctx.err("KPI0112", f"unknown fact kind `{e.kind}`", e.span, "not a fact kind",
                help=suggest(e.kind, ctx.model.kinds))
        return
    if not w.fact:
        ctx.err("KPI0123", f"fact field `{e.kind}.{'.'.join(e.path)}` used outside an aggregate",
                e.span, "no fact here", help=f"aggregate it (`sum {e.kind}.…`), or price each "
                f"fact with `per {e.kind}`")
        return
    if w.kind is not None and e.kind != w.kind:
        ctx.err("KPI0115", f"field of `{e.kind}` in an aggregate over `{w.kind}`", e.span,
                f"a {e.kind} field", help="an aggregate reads one kind; reach another through "
                "a reference field (`collection.deal.product`)")
        return
    resolve_path(ctx, kind, e)


def resolve_path(ctx: Ctx, kind: KindSchema, e: ast.Field) -> None:
    first = e.path[0] if e.path else ""
    if first not in kind.fields and first != SHARE_FIELD:
        ctx.err("KPI0113", f"`{kind.name}` has no field `{first}`", e.span, "unknown field",
                help=suggest(first, [*kind.fields, SHARE_FIELD]))
        return
    if len(e.path) == 1:
        return
    target = kind.references().get(first)
    if target is None or target not in ctx.model.kinds:
        ctx.err("KPI0114", f"`{kind.name}.{first}` is not a reference to another kind",
                e.span, "cannot navigate", help="only fields typed with a fact kind "
                "(`deal: deal`) can be followed")
        return
    if len(e.path) > 2:
        ctx.err("KPI0114", "a field reference may follow one reference only",
                e.span, f"{len(e.path) - 1} hops", help="add the field you need to "
                f"`{kind.name}` itself")
        return
    ref = ctx.model.kinds[target]
    if e.path[1] not in ref.fields:
        ctx.err("KPI0113", f"`{target}` has no field `{e.path[1]}`", e.span, "unknown field",
                help=suggest(e.path[1], ref.fields))


def aggregate(ctx: Ctx, w: Where, e: ast.Aggregate) -> None:
    if w.fact:
        ctx.err("KPI0132", "an aggregate cannot be nested in a per-fact expression", e.span,
                "nested aggregate", help="define it as a metric and use the metric's name")
        return
    if e.kind not in ctx.model.kinds:
        ctx.err("KPI0112", f"unknown fact kind `{e.kind}`", e.span, "not a fact kind",
                help=suggest(e.kind, ctx.model.kinds))
        return
    inner = attrs.evolve(w, fact=True, kind=e.kind)
    expr(ctx, inner, e.expr)
    expr(ctx, inner, e.where)


def call(ctx: Ctx, w: Where, e: ast.Call) -> None:
    fspan = prefix_span(e.span, len(e.func))
    for a in e.args:
        expr(ctx, w, a)
    if e.func in BUILTIN_ARITY:
        lo, hi = BUILTIN_ARITY[e.func]
        if not check_arity(ctx, e, lo, hi):
            return
        if e.func in ("attainment", "target"):
            metric_arg(ctx, w, e)
        elif e.func == "prior":
            prior_arg(ctx, w, e)
        return
    found = w.scope.visible.get(e.func)
    if isinstance(found, (ast.Table, ast.Tiers)):
        check_arity(ctx, e, 1, 1)
        return
    if found is not None:
        ctx.err("KPI0116", f"`{e.func}` is a {type(found).__name__.lower()}, not a function",
                fspan, "cannot be called", help=f"use it as a value: `{e.func}`")
        return
    callables = [n for n, d in w.scope.visible.items() if isinstance(d, (ast.Table, ast.Tiers))]
    ctx.err("KPI0116", f"unknown function `{e.func}`", fspan, "not a function, table or tiers",
            help=suggest(e.func, [*BUILTIN_ARITY, *callables])
            or f"functions are {', '.join(BUILTIN_ARITY)}, and the plan's tables and tiers")


def check_arity(ctx: Ctx, e: ast.Call, lo: int, hi: int | None) -> bool:
    n = len(e.args)
    if n >= lo and (hi is None or n <= hi):
        return True
    want = str(lo) if hi == lo else f"at least {lo}"
    ctx.err("KPI0117", f"`{e.func}` takes {want} argument{'s' if lo != 1 else ''}, not {n}",
            e.span, f"{n} given")
    return False


def metric_arg(ctx: Ctx, w: Where, e: ast.Call) -> None:
    arg = e.args[0]
    if not isinstance(arg, ast.Name):
        ctx.err("KPI0118", f"`{e.func}` takes the name of a metric", arg.span, "not a name",
                help=f"define a metric and write `{e.func}(its_name)`")
        return
    found = w.scope.visible.get(arg.name)
    if found is None:
        return
    if not isinstance(found, ast.Metric):
        ctx.err("KPI0118", f"`{arg.name}` is not a metric, so it has no target", arg.span,
                f"a {type(found).__name__.lower()}", help="targets are quotas for metrics")
        return
    if not has_target(ctx, arg.name):
        ctx.warn("KPI0119", f"`{arg.name}` has no target in the plan", arg.span,
                 "target must come from data", help=f"add `target {arg.name} = ...` as a "
                 "default, or make sure targets.csv has a row for every payee")


def has_target(ctx: Ctx, metric: str) -> bool:
    key = f"target:{metric}"
    return any(key in s.own for s in ctx.scopes)


def prior_arg(ctx: Ctx, w: Where, e: ast.Call) -> None:
    arg = e.args[0]
    found = w.scope.visible.get(arg.name) if isinstance(arg, ast.Name) else None
    if isinstance(arg, ast.Name) and found is None:
        return
    if not isinstance(found, ast.Payout):
        ctx.err("KPI0120", "`prior` takes the name of a payout component", arg.span,
                "not a payout", help="prior(c) sums what component c paid in the earlier "
                "periods of the fiscal year")
