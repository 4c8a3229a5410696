"""``kpidsl diff OLD.kpi NEW.kpi --data DIR --period P [--format table|json] [--top N]``.

Exit codes: 0 clean; 1 when a plan does not load, the data is rejected or an
evaluation error occurs in either version (all reported); 2 on usage errors.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from kpidsl.display import visible

if TYPE_CHECKING:
    from kpidsl.diff.compare import Comparison, PayeeDelta
    from kpidsl.diff.semantic import BlockDiff, PlanDiff

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``diff`` subcommand."""
    p = sub.add_parser("diff", help="compare two plan versions on the same data and period")
    p.add_argument("old", help="the current plan (.kpi)")
    p.add_argument("new", help="the proposed plan (.kpi)")
    p.add_argument("--data", required=True, help="the data folder")
    p.add_argument("--period", required=True, help="e.g. 2026-Q3")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--top", type=int, default=10, help="how many largest movers to show")
    p.add_argument(
        "--engine", choices=("auto", "reference", "columnar"), default="auto",
        help="fact stage: columnar (DuckDB, kpidsl[fast]) for large folders under auto",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kpidsl diff``."""
    from kpidsl import api
    from kpidsl.cli import _use_color, plan_error_text
    from kpidsl.diff.compare import compare
    from kpidsl.paths import DATA_FOLDER, PLAN_FILE, bad_paths

    if bad_paths([(args.old, PLAN_FILE), (args.new, PLAN_FILE), (args.data, DATA_FOLDER)]):
        return EXIT_USAGE
    if args.top < 0:
        print("error: --top must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    plans = []
    for path in (args.old, args.new):
        try:
            plans.append(api.load(path))
        except api.PlanError as e:
            sys.stderr.write(f"{path}: the plan does not load\n")
            sys.stderr.write(plan_error_text(path, e, color=_use_color(sys.stderr)))
    if len(plans) != 2:
        return EXIT_ERRORS
    from kpidsl.cli import canonical_period

    period = canonical_period(plans[1], args.period)
    if period is None or canonical_period(plans[0], period) is None:
        return EXIT_USAGE
    from kpidsl.diff.compare import different_dates

    why = different_dates(plans[0], plans[1], period)
    if why is not None:
        sys.stderr.write(f"error: --period: {why}\n")
        return EXIT_USAGE
    from kpidsl.cli import engine_or_error

    engine = engine_or_error(args.engine, Path(args.data))
    if engine is None:
        return EXIT_USAGE
    comparison = compare(plans[0], plans[1], args.data, period, engine=engine)
    if args.format == "json":
        sys.stdout.write(json.dumps(comparison.to_dict(args.top), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_table(comparison, args.top))
    errors = _errors(comparison)
    if errors:
        sys.stderr.write(errors)
    return EXIT_OK if comparison.ok else EXIT_ERRORS


def _money(v: Decimal | None, signed: bool = False) -> str:
    from kpidsl.display import format_grouped

    if v is None:
        return "error"
    text = format_grouped(v)
    return f"+{text}" if signed and v > 0 else text


def render_definitions(diff: PlanDiff) -> list[str]:
    """The semantic diff as text lines."""
    if not diff.changed and not diff.tests and not diff.invariants:
        return ["Definitions: no changes (layout and comments aside)"]
    lines = ["Definitions changed:"]
    for h in diff.header:
        lines.append(f"  plan header: {h.setting} {h.old} -> {h.new}")
    for k in diff.kinds:
        lines.extend(_change_lines("  ", k.status, k.key, k.old_text, k.new_text, None))
    for block in diff.blocks:
        lines.extend(_block_lines(block))
    for label, items in (("tests", diff.tests), ("invariants", diff.invariants)):
        for c in items:
            lines.append(f"  {label}: {_SIGN[c.status]} {c.key} ({c.status})")
    return lines


_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def _block_lines(block: BlockDiff) -> list[str]:
    head = f"  {block.label}"
    if block.status == "window changed":
        head += f"  (was {block.old_label})"
    elif block.status != "changed":
        head += f"  (block {block.status})"
    lines = [head + ":"]
    for c in block.changes:
        where = f"{c.old_at} -> {c.new_at}" if c.old_at and c.new_at else c.new_at or c.old_at
        lines.extend(_change_lines("    ", c.status, f"{c.kind} {c.key}", c.old_text, c.new_text, where))
    return lines


def _change_lines(indent: str, status: str, title: str, old: str | None, new: str | None,
                  where: str | None) -> list[str]:
    at = f"  ({where})" if where else ""
    lines = [f"{indent}{_SIGN[status]} {title} {status}{at}"]
    if old is not None and new is not None:
        body = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=10_000))[3:]
        return lines + [f"{indent}    {line[0]} {line[1:]}" for line in body]
    for sign, text in (("-", old), ("+", new)):
        if text is not None:
            lines.extend(f"{indent}    {sign} {line}" for line in text.splitlines())
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    from kpidsl.display import ljust, rjust, width

    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(ljust(c, widths[i]) if i == 0 else rjust(c, widths[i])
                         for i, c in enumerate(cells)).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _row(p: PayeeDelta) -> list[str]:
    return [visible(p.payee), _money(p.old_total), _money(p.new_total), _money(p.delta, signed=True)]


def render_table(c: Comparison, top: int = 10) -> str:
    """The human report: definitions, per-payee table, summary, movers, one-sided errors."""
    lines = [visible(f"kpidsl diff: {c.old.plan.name} -> {c.new.plan.name}, period {c.period}"), ""]
    lines += render_definitions(c.plan_diff)
    lines.append("")
    if c.payees:
        lines += _table(["payee", "old", "new", "delta"], [_row(p) for p in c.payees])
        lines.append("")
    if c.rejected:  # no evaluation: no totals to show (0 would read as a result)
        if len(c.rejected_by) == 2:
            lines.append("Not compared: both plans reject the data (see the errors); neither pays anything.")
        else:
            lines.append(f"Not compared: the {c.rejected_by[0]} plan rejects the data (see its errors), so it "
                         "pays nothing and there is no change to show; the other plan's figures are above.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"Payees: {len(c.payees)} ({c.count('up')} up, {c.count('down')} down, "
        f"{c.count('same')} unchanged, {c.count('error')} with errors)"
    )
    lines.append(
        f"Total cost: old {_money(c.old_total)}, new {_money(c.new_total)}, "
        f"change {_money(c.total_delta, signed=True)}"
        + (f" (over the {len(c.compared)} payees with a total in both)" if c.count("error") else "")
    )
    movers = c.movers(top)
    if movers:
        lines += ["", f"Largest movers (top {len(movers)}):"]
        lines += ["  " + r for r in _table(["payee", "old", "new", "delta"], [_row(p) for p in movers])]
    old_only, new_only = c.errors_in_one()
    for label, group, errs in (("old", old_only, "old_errors"), ("new", new_only, "new_errors")):
        if group:
            lines += ["", f"Errors only in the {label} plan:"]
            for p in group:
                lines += [visible(f"  {p.payee}: {e}") for e in getattr(p, errs)]
    return "\n".join(lines) + "\n"


def _errors(c: Comparison) -> str:
    """The data's errors and warnings (a warning both plans get, once) and evaluation errors."""
    out: list[str] = []
    for label, result in (("old", c.old), ("new", c.new)):
        for d in result.data_diagnostics:
            if d.severity == "error":
                out.append(f"error[{d.code}] ({label} plan): {d.message} ({d.span})")
            elif label == "new" and d in c.old.data_diagnostics:
                continue
            else:
                both = label == "old" and d in c.new.data_diagnostics
                out.append(f"{d.severity}[{d.code}]{'' if both else f' ({label} plan)'}: {d.message} ({d.span})")
        if result.evaluation is not None:
            for e in result.evaluation.errors:
                out.append(f"error[{e.code}] ({label} plan): {e.payee}: {e.message}")
    return "".join(visible(line) + "\n" for line in out)  # an ESC in a payee id never reaches the terminal
