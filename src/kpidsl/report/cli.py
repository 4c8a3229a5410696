"""``kpidsl report``: statements, team pages and a leaderboard as HTML, or a workbook.

    kpidsl report PLAN --data DIR --period P --out DIR [--format html|xlsx] [--format json] [--force]

``--format html`` (the default) writes a static site into ``--out``;
``--format xlsx`` writes ``--out`` itself when it ends in ``.xlsx``, else
``report.xlsx`` inside the ``--out`` folder. ``--format json`` (alone, or
beside html/xlsx) prints the list of files written as JSON. Exit codes: 0
written and every payee evaluated, 1 plan/data/evaluation errors (a run with
evaluation errors still writes the report, marking the failing payees), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
FORMATS = ("html", "xlsx", "json")


def _formats(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in parts if p not in FORMATS]
    if bad or not parts:
        raise argparse.ArgumentTypeError(f"unknown format {text!r}; choose from {', '.join(FORMATS)}")
    return parts


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``kpidsl report`` on the main command line."""
    p = sub.add_parser("report", help="write payee statements, team pages and a leaderboard (HTML or xlsx)")
    p.add_argument("plan", help="the plan file (.kpi)")
    p.add_argument("--data", required=True, help="the data folder (payees.csv, deals.csv, ...)")
    p.add_argument("--period", required=True, help="e.g. 2026-Q3")
    p.add_argument("--out", required=True, help="the output folder (or .xlsx file)")
    p.add_argument(
        "--format", type=_formats, action="append", default=None,
        help="html (default) or xlsx; add json to print the files written as JSON",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output")
    p.add_argument(
        "--engine", choices=("auto", "reference", "columnar"), default="auto",
        help="fact stage: columnar (DuckDB, kpidsl[fast]) for large folders under auto",
    )
    p.set_defaults(func=cmd_report)


def _chosen(args: argparse.Namespace) -> tuple[str, bool]:
    flat = [f for group in (args.format or []) for f in group]
    kinds = [f for f in flat if f != "json"]
    if len(set(kinds)) > 1:
        raise ValueError("choose one of html or xlsx")
    return (kinds[0] if kinds else "html"), "json" in flat


def _target(out: Path, kind: str) -> Path:
    if kind == "xlsx" and out.suffix.lower() != ".xlsx":
        return out / "report.xlsx"
    return out


def _evaluate(args: argparse.Namespace) -> tuple[Any, Any, Any, Any] | int:
    """The plan, its raw data (None on the columnar engine), the result, and the columnar
    run that computed it (None on the reference engine)."""
    from kpidsl import api
    from kpidsl.cli import _errors_text, _use_color, engine_or_error, plan_error_text

    try:
        plan = api.load(args.plan)
    except api.PlanError as e:
        sys.stderr.write(plan_error_text(args.plan, e, color=_use_color(sys.stderr)))
        return EXIT_ERRORS
    engine = engine_or_error(args.engine, Path(args.data))
    if engine is None:
        return EXIT_USAGE
    raw = run = None
    try:
        if engine != "reference" and (engine == "columnar" or _large(plan, Path(args.data))):
            # the figures in bulk; each statement's trees and facts a chunk of payees at a
            # time from DuckDB (build_model), never every fact in memory
            result, run = plan.run_folder(Path(args.data), args.period, engine="columnar", every_field=True)
        else:
            raw = api.load_data(args.data)
            result = plan.evaluate(raw, args.period, explain=True)  # every statement shows its trees
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if result.evaluation is None:
        sys.stderr.write(_errors_text(result, Path(args.plan).parent))
        print("error: the data was rejected; no report was written", file=sys.stderr)
        return EXIT_ERRORS
    if not result.ok or result.data_diagnostics:  # the data's warnings too, as eval shows them
        sys.stderr.write(_errors_text(result, Path(args.plan).parent))
    return plan, raw, result, run


def _large(plan: Any, folder: Path) -> bool:
    from kpidsl.columnar import wants_columnar

    return wants_columnar(plan.model, folder)


def _write(kind: str, out: Path, model: Any, force: bool) -> list[Path]:
    from kpidsl.report.site import site_pages, tty_progress, write_file, write_tree

    if kind == "xlsx":
        from kpidsl.report.xlsx import workbook_bytes

        return [write_file(out, workbook_bytes(model), force=force)]
    return write_tree(out, site_pages(model, tty_progress()), force=force)


def cmd_report(args: argparse.Namespace) -> int:
    """Evaluate the plan and write the report; print what was written."""
    try:
        kind, as_json = _chosen(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    from kpidsl.paths import DATA_FOLDER, PLAN_FILE, bad_paths

    if bad_paths([(args.plan, PLAN_FILE), (args.data, DATA_FOLDER)]):
        return EXIT_USAGE
    out = _target(Path(args.out), kind)
    if out.exists() and not args.force:
        print(f"error: {out} exists; pass --force to replace it", file=sys.stderr)
        return EXIT_USAGE
    got = _evaluate(args)
    if isinstance(got, int):
        return got
    plan, raw, result, run = got
    from kpidsl.report.model import build_model
    from kpidsl.report.site import OutputExists

    try:
        written = _write(kind, out, build_model(plan, raw, result, run), args.force)
    except OutputExists:
        print(f"error: {out} exists; pass --force to replace it", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if as_json:
        doc = {"format": kind, "out": str(out), "ok": result.ok, "files": [str(p) for p in written]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        main = out / "index.html" if kind == "html" else out
        print(f"wrote {len(written)} file{'s' if len(written) != 1 else ''}: open {main}")
    return EXIT_OK if result.ok else EXIT_ERRORS
