"""Types and units pass (KPI02xx) over every definition, in every scope."""

from __future__ import annotations

from kpidsl import ast
from kpidsl.check import units
from kpidsl.check.context import Ctx, head_span, suggest
from kpidsl.check.typing_ import Typer
from kpidsl.model import VALUE_TYPES, def_key

Declared = ast.InputDecl | ast.Metric | ast.Const | ast.Payout


def types_pass(ctx: Ctx) -> None:
    """Check declared types against expressions; fill ``model.types`` for tables and tiers."""
    for scope in ctx.scopes:
        typer = Typer(ctx, scope)
        for d in scope.own.values():
            check_definition(ctx, typer, d)
            if scope.block is not None:
                check_redefinition_type(ctx, d)
    for scope in ctx.scopes:
        for key, d in scope.own.items():
            if isinstance(d, (ast.Table, ast.Tiers)) and key not in ctx.model.types:
                t = Typer(ctx, scope, report=False).callable_type(d)
                if t is not None:
                    ctx.model.types[key] = t


def check_definition(ctx: Ctx, typer: Typer, d: ast.Definition) -> None:
    if isinstance(d, (ast.InputDecl, ast.Metric, ast.Const, ast.Payout)):
        if not known_type(ctx, d):
            return
        value = d.default if isinstance(d, ast.InputDecl) else d.expr
        if value is not None:
            expect(typer, value, d.type)
        if isinstance(d, ast.Payout):
            check_clauses(typer, d)
    elif isinstance(d, ast.Target):
        metric = typer.scope.visible.get(d.metric)
        if isinstance(metric, ast.Metric) and metric.type in VALUE_TYPES:
            expect(typer, d.expr, metric.type)
    elif isinstance(d, ast.Table):
        check_table(typer, d)
    elif isinstance(d, ast.Tiers):
        check_tiers(typer, d)


def known_type(ctx: Ctx, d: Declared) -> bool:
    if d.type in VALUE_TYPES:
        return True
    ctx.err("KPI0201", f"unknown type `{d.type}`", head_span(d), f"`{d.name}` is declared "
            f"`{d.type}`", help=suggest(d.type, VALUE_TYPES) or
            f"use one of: {', '.join(VALUE_TYPES)}")
    return False


def expect(typer: Typer, e: ast.Expr, want: str) -> None:
    got = typer.infer(e)
    if got is not None and not units.assignable(want, got):
        typer.err("KPI0205", f"expected {want}, found {got}", e, got,
                  help=hint(want, got))


def hint(want: str, got: str) -> str | None:
    if want == "money" and got == "percent":
        return "multiply the rate by an amount, e.g. `bookings * rate`"
    if want == "percent" and got == "money":
        return "divide by an amount to get a ratio"
    return f"declare it as {got}, or change the expression to give {want}"


def check_clauses(typer: Typer, d: ast.Payout) -> None:
    for c in d.clauses:
        if isinstance(c, (ast.When, ast.Requires)):
            typer.expect_bool(c.cond, typer.infer(c.cond))
        if isinstance(c, ast.When):
            check_adjustment(typer, c, d.type)
        elif isinstance(c, (ast.Floor, ast.Cap)):
            expect(typer, c.expr, d.type)


def check_adjustment(typer: Typer, c: ast.When, payout_type: str) -> None:
    if c.op != "*":
        expect(typer, c.value, payout_type)
        return
    t = typer.infer(c.value)
    if t is not None and t not in ("percent", "number"):
        typer.err("KPI0215", f"`then *` scales by a rate, not {t}", c.value, t,
                  help="write `then * 50%`, or `then = amount` to replace the value")


def check_table(typer: Typer, d: ast.Table) -> None:
    kt = typer.infer(d.key)
    if kt is not None and kt != "text":
        typer.err("KPI0209", f"a table is keyed by text, not {kt}", d.key, kt,
                  help="use `tiers` for numeric bands")
    typer.value_type(d)


def check_tiers(typer: Typer, d: ast.Tiers) -> None:
    on = typer.infer(d.on)
    if on is not None and on not in units.NUMERIC:
        typer.err("KPI0210", f"tiers need a numeric input, not {on}", d.on, on)
        return
    typer.value_type(d)
    if d.above is not None:
        typer.common([*(b.value if isinstance(b, ast.Band) else b.y for b in d.bands),
                      d.above], "KPI0211")
    attain = isinstance(d.on, ast.Call) and d.on.func == "attainment"
    percent = attain or on == "percent"
    for b in d.bands:
        for bound in bound_numbers(b):
            if bound.value == 0 or bound.percent == percent:
                continue
            what = "percents of attainment" if attain else ("percents" if percent else
                                                            f"plain {on} amounts")
            typer.err("KPI0210", f"band edges of `{d.name}` must be {what}", bound,
                      "percent" if bound.percent else "not a percent",
                      help="write `80%`" if percent else "drop the `%`")


def bound_numbers(b: ast.Band | ast.Point) -> list[ast.Number]:
    if isinstance(b, ast.Point):
        return [b.x]
    return [b.lower] + ([b.upper] if b.upper is not None else [])


def check_redefinition_type(ctx: Ctx, d: ast.Definition) -> None:
    base = ctx.base_scope().own.get(def_key(d))
    if base is None:
        return
    if type(d) is not type(base):
        ctx.err("KPI0217", f"`{def_key(d)}` is redefined as a different kind of definition",
                head_span(d), f"the base plan has a {type(base).__name__.lower()}",
                help="an override replaces a definition with one of the same kind")
        return
    if not isinstance(d, Declared) or not isinstance(base, Declared) or d.type == base.type:
        return
    code = "KPI0130" if isinstance(d, ast.InputDecl) else "KPI0217"
    ctx.err(code, f"override changes the type of `{d.name}` from {base.type} to {d.type}",
            head_span(d), f"declared {d.type} here",
            help=f"keep `{d.name}: {base.type}`; data and callers rely on one type")
