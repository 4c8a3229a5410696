"""Scores and payouts pass (KPI04xx): weights, line references, floors and caps."""

from __future__ import annotations

from decimal import Decimal

from kpidsl import ast
from kpidsl.check import selectors
from kpidsl.check.context import Ctx, Scope, head_span, prefix_span, selector_text
from kpidsl.check.names import has_target
from kpidsl.diagnostics import Label
from kpidsl.source import Span

HUNDRED = Decimal(1)


def scores_pass(ctx: Ctx) -> None:
    """Check score lines, score weights for every override combination, and payouts."""
    for scope, d in ctx.all_definitions():
        if isinstance(d, ast.Score):
            check_lines(ctx, scope, d)
        elif isinstance(d, ast.Payout):
            check_payout(ctx, d)
    for name in score_names(ctx):
        check_weights(ctx, name)


def check_lines(ctx: Ctx, scope: Scope, d: ast.Score) -> None:
    seen: dict[str, ast.ScoreLine] = {}
    for line in d.lines:
        ref = prefix_span(line.span, len(line.ref))
        if line.ref in seen:
            ctx.err("KPI0408", f"`{line.ref}` has two lines in score `{d.name}`", ref,
                    "listed again", secondary=(Label(seen[line.ref].span, "first line"),),
                    help="merge the two lines into one with the summed weight")
        seen.setdefault(line.ref, line)
        check_line_ref(ctx, scope, line, ref)
        check_line_numbers(ctx, line)


def check_line_ref(ctx: Ctx, scope: Scope, line: ast.ScoreLine, ref: Span) -> None:
    found = scope.visible.get(line.ref)
    if found is None:
        return
    if isinstance(found, ast.InputDecl):
        if found.type not in ("percent", "number"):
            ctx.err("KPI0403", f"input `{line.ref}` is {found.type}; a score line needs an "
                    "attainment", ref, found.type, help="declare the input as percent")
        return
    if not isinstance(found, ast.Metric):
        ctx.err("KPI0403", f"`{line.ref}` is a {type(found).__name__.lower()}; score lines "
                "are metrics with a target, or inputs", ref, "not a metric or input",
                help="score a metric (its attainment counts) or an input (its value counts)")
    elif not has_target(ctx, line.ref):
        ctx.warn("KPI0404", f"metric `{line.ref}` has no target in the plan", ref,
                 "target must come from data",
                 help=f"add `target {line.ref} = ...`, or supply targets for every payee")


def check_line_numbers(ctx: Ctx, line: ast.ScoreLine) -> None:
    if not line.weight.percent or line.weight.value <= 0:
        ctx.err("KPI0405", "a weight is a positive percent", line.weight.span,
                "not a positive percent", help="write weights like `40%`")
    for what, n in (("cap", line.cap), ("threshold", line.threshold)):
        if n is not None and (not n.percent or n.value < 0):
            ctx.err("KPI0405", f"a score line's {what} is a percent of attainment", n.span,
                    "not a percent", help=f"write `{what} 150%`")
    if line.cap is not None and line.threshold is not None and line.cap.value < line.threshold.value:
        ctx.warn("KPI0410", "the cap is below the threshold", line.cap.span, "cap",
                 secondary=(Label(line.threshold.span, "threshold"),),
                 notes=("the threshold compares the uncapped attainment; the cap applies after it",))


def score_names(ctx: Ctx) -> list[str]:
    names = [n for s in ctx.scopes for n, d in s.own.items() if isinstance(d, ast.Score)]
    return list(dict.fromkeys(names))


def total(d: ast.Score) -> Decimal:
    return sum((line.weight.value for line in d.lines), Decimal(0))


def pct(v: Decimal) -> str:
    return f"{(v * 100).normalize():f}%"


def check_weights(ctx: Ctx, name: str) -> None:
    base = ctx.base_scope().own.get(name)
    if isinstance(base, ast.Score) and total(base) != HUNDRED:
        ctx.err("KPI0401", f"weights of score `{name}` sum to {pct(total(base))}, not 100%",
                head_span(base), f"sums to {pct(total(base))}",
                help="adjust the weights so they add up to exactly 100%")
    blocks = [s.block for s in ctx.scopes[1:] if s.block is not None and name in s.own]
    failing: dict[int, list[str]] = {}
    for combo in selectors.joint_sets(blocks):
        chosen = [blocks[i] for i in combo]
        win = selectors.winner(chosen)
        if win is None:
            continue
        d = next(s.own[name] for s in ctx.scopes if s.block is win)
        if isinstance(d, ast.Score) and total(d) != HUNDRED:
            failing.setdefault(id(win), []).append(
                " + ".join(f"`for {selector_text(b)}`" for b in chosen))
    for scope in ctx.scopes[1:]:
        if scope.block is not None and id(scope.block) in failing:
            report_block(ctx, name, scope, failing[id(scope.block)])


def report_block(ctx: Ctx, name: str, scope: Scope, combos: list[str]) -> None:
    d = scope.own[name]
    assert isinstance(d, ast.Score)
    shown = combos[:3] + ([f"... and {len(combos) - 3} more"] if len(combos) > 3 else [])
    ctx.err("KPI0402", f"weights of score `{name}` sum to {pct(total(d))}, not 100%, for "
            f"payees under {scope.describe()}", head_span(d), f"sums to {pct(total(d))}",
            notes=tuple(f"effective when these blocks apply: {c}" for c in shown),
            help="an override replaces the whole score: its weights must add up to 100%")


def check_payout(ctx: Ctx, d: ast.Payout) -> None:
    if d.type != "money":
        ctx.err("KPI0407", f"payout `{d.name}` is {d.type}; payouts are money", head_span(d),
                f"declared {d.type}", help=f"declare `payout {d.name}: money`, or make it a "
                "metric or const")
    floors = [c for c in d.clauses if isinstance(c, ast.Floor)]
    caps = [c for c in d.clauses if isinstance(c, ast.Cap)]
    for what, group in (("floor", floors), ("cap", caps)):
        if len(group) > 1:
            ctx.err("KPI0409", f"payout `{d.name}` has more than one {what}", group[1].span,
                    f"second {what}", secondary=(Label(group[0].span, f"first {what}"),),
                    help=f"keep one {what}; use `min`/`max` to combine limits")
    if floors and caps:
        lo, hi = constant(floors[0].expr), constant(caps[0].expr)
        if lo is not None and hi is not None and lo > hi:
            ctx.err("KPI0406", "the floor is above the cap", floors[0].expr.span,
                    "floor", secondary=(Label(caps[0].expr.span, "cap"),),
                    help="the floor must not exceed the cap")


def constant(e: ast.Expr) -> Decimal | None:
    """The value of a constant literal expression (``5_000``, ``-100``), else None."""
    if isinstance(e, ast.Number):
        return e.value
    if isinstance(e, ast.Unary) and e.op == "-":
        inner = constant(e.operand)
        return -inner if inner is not None else None
    return None
