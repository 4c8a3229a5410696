"""The ``import`` and ``validate`` subcommands (heavy imports stay inside the handlers)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``kpidsl import`` and ``kpidsl validate``."""
    p = sub.add_parser("import", help="import sources (Excel, CSV, JSON, Parquet) into a data "
                       "folder by a mapping file")
    p.add_argument("--mapping", required=True, help="the mapping file (TOML)")
    p.add_argument("--out", required=True, help="the data folder to create")
    p.add_argument("--force", action="store_true", help="replace an existing data folder")
    p.add_argument("--partial", action="store_true",
                   help="write the accepted rows even when some rows were rejected")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("validate", help="validate a data folder, generically or against a plan")
    p.add_argument("--data", required=True, help="the data folder")
    p.add_argument("--plan", default=None, help="a plan file: validate as the plan binds the data")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--engine", choices=("auto", "reference", "columnar"), default="auto",
                   help="check the fact files in DuckDB (kpidsl[fast]), for large folders under auto; "
                        "the report is the same")
    p.set_defaults(func=cmd_validate)


def _dump(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def cmd_import(args: argparse.Namespace) -> int:
    """Run an import; exit 1 when any row was rejected, 2 when nothing could be done."""
    from .output import OutputError, check_target
    from .report import problems_text, summary_table
    from .run import import_mapping, write

    out = Path(args.out)
    try:
        check_target(out, args.force)
    except OutputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    result, problems = import_mapping(Path(args.mapping))
    if result is None:
        if args.format == "json":
            _dump({"ok": False, "written": False, "problems": [p.to_dict() for p in problems]})
        else:
            sys.stderr.write(problems_text(problems))
        return EXIT_USAGE
    try:
        written = write(result, out, force=args.force, partial=args.partial)
    except (OutputError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    if args.format == "json":
        _dump({**result.report(complete=result.ok), "written": written, "out": str(out)})
    else:
        sys.stdout.write(summary_table(result.sources) + "\n" + problems_text(result.problems))
        sys.stdout.write(_outcome(result.ok, written, out))
    return EXIT_OK if result.ok else EXIT_ERRORS


def _outcome(ok: bool, written: bool, out: Path) -> str:
    if written:
        note = "" if ok else " (incomplete: rejected rows are listed above)"
        return f"wrote {out}{note}\n"
    return f"nothing written to {out}: fix the errors above, or use --partial\n"


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate a data folder; exit 1 on any error."""
    from kpidsl.paths import DATA_FOLDER, PLAN_FILE, bad_paths

    from .report import problems_text, summary_table
    from .validate import validate_generic, validate_with_plan

    if bad_paths([(args.plan, PLAN_FILE), (args.data, DATA_FOLDER)]):  # in the order of the other commands
        return EXIT_USAGE
    folder = Path(args.data)
    if args.plan is None:
        from kpidsl.cli import engine_or_error

        engine = engine_or_error(args.engine, folder)
        if engine is None:
            return EXIT_USAGE
        result = validate_generic(folder, engine)
    else:
        from kpidsl import api

        try:
            plan = api.load(args.plan)
        except api.PlanError as exc:
            sys.stderr.write(exc.render())
            return EXIT_ERRORS
        from kpidsl.cli import engine_or_error

        engine = engine_or_error(args.engine, folder)
        if engine is None:
            return EXIT_USAGE
        result = validate_with_plan(folder, plan, engine)
    if args.format == "json":
        _dump(result.to_dict())
    else:
        sys.stdout.write(summary_table(result.files) + "\n" + problems_text(result.problems))
    return EXIT_OK if result.ok else EXIT_ERRORS
