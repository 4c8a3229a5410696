"""``kpidsl what-it-takes PLAN --data DIR --period P --payee ID --metric M (--next-tier | --payout X)``.

Exit codes: 0 when answered (reachable, already reached or unreachable, each
with its reason); 1 when the plan does not load or the data is rejected; 2 on
usage errors (unknown payee, metric, component or period included).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpidsl.whatif.solve import Answer

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``what-it-takes`` subcommand."""
    p = sub.add_parser("what-it-takes",
                       help="the smallest extra amount of a metric that reaches a tier or a payout")
    p.add_argument("plan", help="the plan file (.kpi)")
    p.add_argument("--data", required=True, help="the data folder")
    p.add_argument("--period", required=True, help="e.g. 2026-Q3")
    p.add_argument("--payee", required=True, help="the payee id")
    p.add_argument("--metric", required=True, help="the metric to add to (e.g. bookings)")
    goal = p.add_mutually_exclusive_group(required=True)
    goal.add_argument("--next-tier", action="store_true", help="reach the next band of the tiers on it")
    goal.add_argument("--payout", type=_amount, default=None, help="reach this total (or --component)")
    p.add_argument("--component", default=None, help="with --payout: this component instead of the total")
    p.add_argument("--tiers", default=None, help="with --next-tier: which tiers (default: the first)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument(
        "--engine", choices=("auto", "reference", "columnar"), default="auto",
        help="fact stage: columnar (DuckDB, kpidsl[fast]) for large folders under auto",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kpidsl what-it-takes``."""
    from kpidsl import api, ast
    from kpidsl.cli import _use_color, plan_error_text
    from kpidsl.diagnostics import KpiError
    from kpidsl.paths import DATA_FOLDER, PLAN_FILE, bad_paths
    from kpidsl.render import render_text
    from kpidsl.whatif.solve import what_it_takes

    if bad_paths([(args.plan, PLAN_FILE), (args.data, DATA_FOLDER)]):
        return EXIT_USAGE
    if args.component is not None and args.payout is None:
        print("error: --component goes with --payout", file=sys.stderr)
        return EXIT_USAGE
    try:
        plan = api.load(args.plan)
    except api.PlanError as e:  # files named from the current folder, as `check` names them
        sys.stderr.write(plan_error_text(args.plan, e, color=_use_color(sys.stderr)))
        return EXIT_ERRORS
    defs = [*plan.model.base.values(), *(d for b in plan.model.overrides for d in b.body)]
    tiers = sorted({d.name for d in defs if isinstance(d, ast.Tiers)})
    if args.tiers is not None and args.tiers not in tiers:
        print(f"error: --tiers: the plan has no tiers {args.tiers!r} (it has: {', '.join(tiers)})",
              file=sys.stderr)
        return EXIT_USAGE
    from kpidsl.cli import engine_or_error

    engine = engine_or_error(args.engine, Path(args.data))
    if engine is None:
        return EXIT_USAGE
    try:
        answer = what_it_takes(plan, args.data, args.period, args.payee, args.metric,
                               next_tier=args.next_tier, payout=args.payout,
                               component=args.component, tiers=args.tiers, engine=engine)
    except KpiError as e:
        sys.stderr.write(render_text(e.diagnostics, {}, color=_use_color(sys.stderr)))
        return EXIT_ERRORS
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_answer(answer, args.payee, args.period))
    if answer.warnings:  # the data's warnings, as eval shows them
        sys.stderr.write(render_text(list(answer.warnings), {}, color=_use_color(sys.stderr)))
    return EXIT_OK


def _fig(v: Decimal | None) -> str:
    from kpidsl.display import format_grouped

    if v is None:
        return "error"
    if v.as_tuple().exponent < -6:  # type: ignore[operator]
        # six decimals, cut downwards and marked: 0.9999999 rounded was shown as 1.000000,
        # as if the 100% edge it falls short of were reached
        return format_grouped(v.quantize(Decimal("0.000001"), context=_DISPLAY)) + "…"
    return format_grouped(v)


_DISPLAY = Context(prec=60, rounding=ROUND_FLOOR)


def render_answer(a: Answer, payee: str, period: str) -> str:
    """The answer as text: the amount (or why not), the synthetic deal, before and after."""
    lines = [f"what it takes: {payee}, {period}, {a.metric} -> {a.goal}", ""]
    if a.status == "reachable" and a.amount is not None:
        lines.append(f"  {_fig(a.amount)} more {a.metric}")
        lines.append(f"  ({a.method})")
    elif a.status == "already":
        lines.append(f"  nothing more needed: {a.reason}")
    else:
        lines.append(f"  unreachable: {a.reason}")
    if a.deal and a.status != "already":
        count = f" (x {a.amount} facts)" if a.deal.get("amount") == "0" and a.amount else ""
        lines += ["", f"  the extra fact{count}:"]
        lines += [f"    {k}: {v}" for k, v in a.deal.items()]
        for field, row in a.referenced.items():
            lines += ["", f"  and the new {field} it refers to (add it too; built for what the plan reads of it):"]
            lines += [f"    {k}: {v}" for k, v in row.items()]
    if a.before:
        if a.segment is not None:
            lines += ["", f"  the period is split: the figures are those of its last segment, {a.segment},",
                      "  where the extra fact is dated"]
        lines += ["", *_figures_table(a)]
    return "\n".join(lines) + "\n"


def _figures_table(a: Answer) -> list[str]:
    """figure / before / after, aligned by terminal width (a Chinese name takes two columns
    a character) and wide enough for every figure."""
    from kpidsl.display import ljust, rjust, width

    rows = [("figure", "before", "after")]
    rows += [(name, _fig(before), _fig(a.after[name]) if name in a.after else "")
             for name, before in a.before.items()]
    w = [max(24, *(width(r[0]) for r in rows)),
         *(max(16, *(width(r[i]) for r in rows)) for i in (1, 2))]
    return [f"  {ljust(n, w[0])} {rjust(b, w[1])} {rjust(x, w[2])}".rstrip() for n, b, x in rows]
