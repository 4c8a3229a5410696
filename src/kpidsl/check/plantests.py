"""Tests and invariants pass (KPI08xx): names, periods and inline tables of plan tests."""

from __future__ import annotations

import re

from kpidsl import ast
from kpidsl.check.context import Ctx, prefix_span, suggest
from kpidsl.diagnostics import Label
from kpidsl.model import KindSchema

PERIOD_FORMS = {
    "month": (r"\d{4}-(0[1-9]|1[0-2])", "2026-03"),
    "quarter": (r"\d{4}-Q[1-4]", "2026-Q3"),
    "half": (r"\d{4}-H[12]", "2026-H2"),
    "year": (r"\d{4}", "2026"),
}
FIXED_SECTIONS: dict[str, tuple[str, ...] | None] = {
    "payees": None,  # any attribute column
    "targets": None,
    "inputs": None,
    "credits": ("kind", "fact", "payee", "share", "type"),
    "payments": ("payee", "component", "period", "amount"),
    "payee_history": ("payee", "attribute", "value", "effective_from"),
}
MONOTONIC_OPS = ("monotonic", "is monotonic in", "monotonic_in")


def tests_pass(ctx: Ctx) -> None:
    """Check plan tests and invariants against the plan's names and kinds."""
    seen: dict[str, ast.TestBlock] = {}
    for test in ctx.model.tests:
        if test.name in seen:
            ctx.err("KPI0810", f"two tests are named \"{test.name}\"", test.span,
                    "second test", secondary=(Label(seen[test.name].span, "first test"),),
                    help="give every test its own name: reports cite tests by name")
        seen.setdefault(test.name, test)
        check_test(ctx, test)
    for inv in ctx.model.invariants:
        check_invariant(ctx, inv)


def value_names(ctx: Ctx) -> set[str]:
    return {*ctx.model.types, *ctx.model.payouts, "total"}


def check_test(ctx: Ctx, test: ast.TestBlock) -> None:
    periods = [i for i in test.items if isinstance(i, ast.TestPeriod)]
    for extra in periods[1:]:  # a test evaluates one period: a second was silently not run
        ctx.err("KPI0811", f"test \"{test.name}\" has more than one `period`", extra.span, "second period",
                secondary=(Label(periods[0].span, "first period"),),
                help="a test evaluates one period: write a test per period")
    payees: set[str] | None = None
    for item in test.items:
        if isinstance(item, ast.TestTable) and item.section == "payees":
            payees = column_values(item, "id")
    for item in test.items:
        if isinstance(item, ast.TestPeriod):
            check_period(ctx, item)
        elif isinstance(item, ast.TestTable):
            check_table(ctx, item)
        elif isinstance(item, ast.Expect):
            check_expect(ctx, item, payees)


def column_values(table: ast.TestTable, column: str) -> set[str]:
    names = [c.text for c in table.header]
    if column not in names:
        return set()
    i = names.index(column)
    return {row[i].text for row in table.rows if i < len(row)}


def check_period(ctx: Ctx, item: ast.TestPeriod) -> None:
    granularity = ctx.model.header.period
    pattern, example = PERIOD_FORMS.get(granularity, PERIOD_FORMS["quarter"])
    if not re.fullmatch(pattern, item.period):
        ctx.err("KPI0804", f"test period `{item.period}` is not a {granularity}", item.span,
                f"the plan is paid per {granularity}", help=f"write a {granularity} like "
                f"`{example}`")


def check_table(ctx: Ctx, table: ast.TestTable) -> None:
    kind = ctx.model.kind_by_stem(table.section)
    if table.section in FIXED_SECTIONS:
        check_fixed_columns(ctx, table, FIXED_SECTIONS[table.section])
        check_named_rows(ctx, table)
    elif kind is not None:
        check_kind_columns(ctx, table, kind)
    else:
        sections = [*FIXED_SECTIONS, *(k.file_stem for k in ctx.model.kinds.values())]
        ctx.err("KPI0805", f"unknown test table `{table.section}`",
                prefix_span(table.span, len(table.section)), "not a fact kind or data table",
                help=suggest(table.section, sections) or f"use one of: {', '.join(sections)}")


def check_kind_columns(ctx: Ctx, table: ast.TestTable, kind: KindSchema) -> None:
    for cell in table.header:
        if cell.text not in kind.fields:
            ctx.err("KPI0806", f"`{kind.name}` has no field `{cell.text}`", cell.span,
                    "unknown column", help=suggest(cell.text, kind.fields)
                    or f"declare it: `fact {kind.name} {{ {cell.text}: text }}`")


def check_fixed_columns(ctx: Ctx, table: ast.TestTable, columns: tuple[str, ...] | None) -> None:
    if columns is None:
        return
    for cell in table.header:
        if cell.text not in columns:
            ctx.err("KPI0806", f"`{table.section}` has no column `{cell.text}`", cell.span,
                    "unknown column", help=suggest(cell.text, columns)
                    or f"columns are: {', '.join(columns)}")


def check_named_rows(ctx: Ctx, table: ast.TestTable) -> None:
    """Rows of ``targets``/``inputs`` are ``payee name value [period]``: check the name."""
    if table.section == "targets":
        known = {k for k, d in ctx.model.base.items() if isinstance(d, ast.Metric)}
    elif table.section == "inputs":
        known = set(ctx.model.inputs)
    else:
        return
    what = "metric" if table.section == "targets" else "input"
    for row in table.rows:
        if len(row) >= 2 and row[1].text not in known:
            ctx.err("KPI0809", f"`{row[1].text}` is not a {what} of the plan", row[1].span,
                    f"unknown {what}", help=suggest(row[1].text, known))


def check_expect(ctx: Ctx, item: ast.Expect, payees: set[str] | None) -> None:
    names = value_names(ctx)
    if item.name not in names:
        ctx.err("KPI0801", f"`{item.name}` is not a value of the plan", item.span,
                "unknown value", help=suggest(item.name, names))
    if payees is not None and item.payee not in payees:
        ctx.err("KPI0808", f"payee `{item.payee}` is not in this test's payees", item.span,
                "unknown payee", help=suggest(item.payee, payees))


def check_invariant(ctx: Ctx, inv: ast.Invariant) -> None:
    names = value_names(ctx)
    if inv.name not in names:
        ctx.err("KPI0802", f"invariant on unknown value `{inv.name}`", inv.span,
                "unknown value", help=suggest(inv.name, names))
    if inv.op not in MONOTONIC_OPS:
        return
    arg = inv.arg
    if isinstance(arg, ast.Name) and isinstance(ctx.model.base.get(arg.name),
                                                (ast.Metric, ast.InputDecl)):
        return
    if isinstance(arg, ast.Field) and arg.kind in ctx.model.kinds and len(arg.path) == 1 \
            and arg.path[0] in ctx.model.kinds[arg.kind].fields:
        return
    ctx.err("KPI0803", "`monotonic in` needs a metric, an input or a fact field", arg.span,
            "not a metric or field", help="name what varies, e.g. `is monotonic in bookings` "
            "or `in deal.amount`")
