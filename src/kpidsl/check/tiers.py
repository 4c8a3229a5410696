"""Tiers and tables pass (KPI03xx): band order, gaps, overlaps, modes and calls."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from kpidsl import ast
from kpidsl.check.context import Ctx, Scope, children, definition_exprs, head_span, walk
from kpidsl.diagnostics import Label


def tiers_pass(ctx: Ctx) -> None:
    """Check every tiers and table definition, and every call of a tiers."""
    for _scope, d in ctx.all_definitions():
        if isinstance(d, ast.Tiers):
            check_tiers(ctx, d)
        elif isinstance(d, ast.Table):
            check_table(ctx, d)
    for scope, d in ctx.all_definitions():
        for e in definition_exprs(d):
            check_calls(ctx, scope, e, in_fact=isinstance(d, (ast.Table, ast.Tiers)))


def check_tiers(ctx: Ctx, d: ast.Tiers) -> None:
    if d.extend_flat and d.mode != "interpolated":
        ctx.err("KPI0307", f"`extend flat` applies to interpolated tiers, not {d.mode}",
                head_span(d), f"{d.mode} tiers", help="remove `extend flat`; use `above : "
                "value` for what applies above a closed last band")
    if d.per is not None and not any(isinstance(x, ast.Field) and x.kind == d.per
                                     for x in walk(d.on)):
        ctx.err("KPI0308", f"`per {d.per}` tiers must be on a {d.per} field", d.on.span,
                f"does not read `{d.per}`", help=f"price each fact on its own value, e.g. "
                f"`on {d.per}.amount`")
    if not d.bands:
        ctx.err("KPI0315", f"tiers `{d.name}` have no bands", head_span(d), "empty")
        return
    if d.mode == "interpolated":
        check_points(ctx, d)
    else:
        check_bands(ctx, d)


def check_points(ctx: Ctx, d: ast.Tiers) -> None:
    prev: ast.Point | None = None
    for p in d.bands:
        if not isinstance(p, ast.Point):
            ctx.err("KPI0310", "an interpolated curve takes points `x : y`, not bands",
                    p.span, "a band", help="write each point as `100% : 100%`")
            return
        if prev is not None and p.x.value <= prev.x.value:
            ctx.err("KPI0306", "curve points must be strictly increasing", p.x.span,
                    f"not above {prev.x.text or prev.x.value}",
                    secondary=(Label(prev.x.span, "previous point"),),
                    help="sort the points by their input and remove duplicates")
        prev = p
    if d.above is not None:
        ctx.err("KPI0314", "`above` does not apply to an interpolated curve", d.above.span,
                "not allowed here", help="use `extend flat` to keep the end value")


def check_bands(ctx: Ctx, d: ast.Tiers) -> None:
    bands = [b for b in d.bands if isinstance(b, ast.Band)]
    if len(bands) != len(d.bands):
        point = next(b for b in d.bands if isinstance(b, ast.Point))
        ctx.err("KPI0310", f"{d.mode} tiers take bands `lower to upper : value`", point.span,
                "a point", help="write `0 to 10_000 : 1%`, or make the tiers interpolated")
        return
    first = bands[0].lower
    if first.value != 0:
        ctx.err("KPI0304", "the first band must start at 0", first.span,
                f"starts at {text(first)}", help="start the first band at 0; values below "
                "the first edge (refunds included) take the first band")
    for prev, band in itertools.pairwise(bands):
        check_pair(ctx, prev, band)
    for band in bands:
        if band.upper is not None and band.upper.value <= band.lower.value:
            ctx.err("KPI0316", "a band's upper edge must be above its lower edge",
                    band.upper.span, f"not above {text(band.lower)}")
    last = bands[-1]
    if d.above is not None and last.upper is None:
        ctx.warn("KPI0314", "`above` never applies: the last band is open-ended",
                 d.above.span, "unreachable", help="remove `above`, or close the last band")


def check_pair(ctx: Ctx, prev: ast.Band, band: ast.Band) -> None:
    lower = band.lower
    if prev.upper is None:
        ctx.err("KPI0305", "an open-ended band (`and up`) must be the last band", prev.span,
                "open-ended", secondary=(Label(band.span, "a band follows it"),),
                help=f"close it: `{text(prev.lower)} to {text(lower)}`")
        return
    if lower.value < prev.lower.value:
        ctx.err("KPI0303", "bands are not in ascending order", lower.span,
                f"starts below {text(prev.lower)}", help="list the bands from the lowest up")
    elif lower.value < prev.upper.value:
        ctx.err("KPI0302", "bands overlap", lower.span, f"starts at {text(lower)}",
                secondary=(Label(prev.upper.span, f"previous band ends at {text(prev.upper)}"),),
                help=f"start this band at {text(prev.upper)}")
    elif lower.value > prev.upper.value:
        ctx.err("KPI0301", "gap between bands", lower.span, f"starts at {text(lower)}",
                secondary=(Label(prev.upper.span, f"previous band ends at {text(prev.upper)}"),),
                help=f"start this band at {text(prev.upper)} (bands are [lower, upper))")


def text(n: ast.Number) -> str:
    if n.text:
        return n.text
    if n.percent:
        return f"{(n.value * 100).normalize():f}%"
    return f"{n.value.normalize():f}"


def check_table(ctx: Ctx, d: ast.Table) -> None:
    if d.default is None:
        ctx.err("KPI0311", f"table `{d.name}` has no `else`", head_span(d), "no else entry",
                help="add `else : value` for keys the table does not list")
    seen: dict[str, ast.TableEntry] = {}
    for e in d.entries:
        if e.key in seen:
            ctx.err("KPI0312", f"key \"{e.key}\" appears twice in table `{d.name}`", e.span,
                    "duplicate key", secondary=(Label(seen[e.key].span, "first listed here"),),
                    help="keep one entry per key")
        else:
            seen[e.key] = e


def check_calls(ctx: Ctx, scope: Scope, e: ast.Expr, in_fact: bool) -> None:
    for call, fact in calls(e, in_fact):
        d = scope.visible.get(call.func)
        if not isinstance(d, ast.Tiers) or len(call.args) != 1:
            continue
        if d.per is not None and not fact:
            ctx.err("KPI0313", f"`{d.name}` prices each {d.per}; call it inside an aggregate",
                    call.span, "outside an aggregate",
                    help=f"write `sum {d.name}({d.per}.amount) where ...`")
        check_marginal_base(ctx, d, call)


def calls(e: ast.Expr, fact: bool) -> Iterator[tuple[ast.Call, bool]]:
    """Every call under ``e`` with whether it sits in a per-fact context."""
    if isinstance(e, ast.Call):
        yield e, fact
    inner = fact or isinstance(e, ast.Aggregate)
    for c in children(e):
        yield from calls(c, inner)


def check_marginal_base(ctx: Ctx, d: ast.Tiers, call: ast.Call) -> None:
    on = d.on
    if d.mode != "marginal" or not isinstance(on, ast.Call) or on.func != "attainment":
        return
    if not on.args or not isinstance(on.args[0], ast.Name):
        return
    metric = on.args[0].name
    arg = call.args[0]
    if isinstance(arg, ast.Name) and arg.name == metric:
        return
    ctx.err("KPI0309", f"marginal tiers on attainment({metric}) slice `{metric}` itself",
            arg.span, f"base is not `{metric}`",
            secondary=(Label(on.span, "edges are attainment of this metric"),),
            help="use a step or lookup rate times the other base")
