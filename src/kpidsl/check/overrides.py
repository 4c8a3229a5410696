"""Overrides pass (KPI05xx): selectors, windows, versions and ambiguous redefinitions."""

from __future__ import annotations

import datetime as dt

from kpidsl import ast
from kpidsl.check import selectors
from kpidsl.check.context import KEYWORDS_TUPLE, Ctx, head_span, selector_text
from kpidsl.diagnostics import Label

MONTHS_PER_PERIOD = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def overrides_pass(ctx: Ctx) -> None:
    """Check each block on its own, then each redefined name across blocks."""
    for block in ctx.model.overrides:
        check_block(ctx, block)
    names: dict[str, list[tuple[ast.Override, ast.Definition]]] = {}
    for scope in ctx.scopes[1:]:
        assert scope.block is not None
        for key, d in scope.own.items():
            names.setdefault(key, []).append((scope.block, d))
    for key, defs in names.items():
        check_name(ctx, key, defs)


def check_block(ctx: Ctx, block: ast.Override) -> None:
    seen: dict[str, ast.SelectorItem] = {}
    for item in block.selector:
        if item.attr in seen:
            ctx.err("KPI0503", f"selector names `{item.attr}` twice", item.span,
                    "second time", secondary=(Label(seen[item.attr].span, "first time"),),
                    help="a payee has one value per attribute; write two blocks instead")
        seen.setdefault(item.attr, item)
    if block.start and block.until and block.until < block.start:
        ctx.err("KPI0504", f"`until {block.until}` is before `from {block.start}`",
                block.span, "empty window", help="`until` is the last day (inclusive) the "
                "block applies; it must not precede `from`")
    for body_item in block.body:
        if not isinstance(body_item, KEYWORDS_TUPLE):
            what = type(body_item).__name__.lower()
            ctx.err("KPI0505", f"a `for` block cannot contain a {what}", body_item.span,
                    "not a definition", help="override blocks hold definitions (metric, "
                    "target, const, table, tiers, score, payout); move this to the top level")
    if not block.body:
        ctx.warn("KPI0507", "override block redefines nothing", block.span, "empty block")
    if ctx.model.header.changes == "at_period_boundaries":
        check_boundaries(ctx, block)


def check_boundaries(ctx: Ctx, block: ast.Override) -> None:
    h = ctx.model.header
    step = MONTHS_PER_PERIOD.get(h.period, 3)
    if block.start is not None and not period_start(block.start, step, h.fiscal_year_start):
        ctx.err("KPI0506", f"`from {block.start}` is not the first day of a {h.period}",
                block.span, "mid-period change",
                help="the plan says `changes at_period_boundaries`: start the block on a "
                f"{h.period}'s first day, or declare `changes any_day`")
    until = block.until
    if until is not None and until != dt.date.max and not period_start(
        until + dt.timedelta(days=1), step, h.fiscal_year_start
    ):
        ctx.err("KPI0506", f"`until {until}` is not the last day of a {h.period}",
                block.span, "mid-period change",
                help="end the block on a period's last day (until is inclusive)")


def period_start(day: dt.date, months: int, fiscal_start: int) -> bool:
    return day.day == 1 and (day.month - fiscal_start) % months == 0


Defs = list[tuple[ast.Override, ast.Definition]]


def check_name(ctx: Ctx, key: str, defs: Defs) -> None:
    for i, (a, da) in enumerate(defs):
        for b, db in defs[i + 1:]:
            if selectors.items(a) == selectors.items(b):
                check_versions(ctx, key, a, da, b, db)
            elif selectors.specificity(a) == selectors.specificity(b):
                check_ambiguity(ctx, key, defs, (a, da), (b, db))


def check_versions(ctx: Ctx, key: str, a: ast.Override, da: ast.Definition,
                   b: ast.Override, db: ast.Definition) -> None:
    if a.start != b.start:
        return
    start = f"from {a.start}" if a.start else "with no start date"
    ctx.err("KPI0502", f"`{show(key)}` is redefined twice for the same payees {start}",
            head_span(db), "second version", secondary=(Label(head_span(da), "first version"),),
            help="versions of one selector need different `from` dates; merge the blocks "
                 "or give the later one its start date")


def check_ambiguity(ctx: Ctx, key: str, defs: Defs, first: tuple[ast.Override, ast.Definition],
                    second: tuple[ast.Override, ast.Definition]) -> None:
    (a, da), (b, db) = first, second
    meet = selectors.can_meet(a, b)
    if meet is None:
        return
    union = selectors.items(a) | selectors.items(b)
    deciders = [selectors.window(c) for c, _ in defs if selectors.items(c) >= union]
    if selectors.covered(meet, deciders):
        return
    both = " and ".join(sorted({f"{i.attr} {i.value}" for i in (*a.selector, *b.selector)}))
    ctx.err("KPI0501", f"ambiguous overrides of `{show(key)}`: a payee can match both "
            f"`for {selector_text(a)}` and `for {selector_text(b)}`", head_span(db),
            f"redefined for {selector_text(b)}",
            secondary=(Label(head_span(da), f"also redefined for {selector_text(a)}"),),
            notes=(f"both apply {describe(meet)} with equal specificity",),
            help=f"add a more specific block `for {both} {{ ... }}` that decides, "
                 "or make the selectors exclusive")


def describe(w: selectors.Window) -> str:
    start = "" if w[0] == dt.date.min else f" from {w[0]}"
    end = "" if w[1] == dt.date.max else f" until {w[1]}"
    return (start + end).strip() or "at all dates"


def show(key: str) -> str:
    return f"target {key[7:]}" if key.startswith("target:") else key
