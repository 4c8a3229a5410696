"""``kpidsl test``: run the ``test`` blocks of plans; exit 0 all passed, 1 failures, 2 usage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``kpidsl test`` (paths, --format, -k)."""
    p.add_argument("paths", nargs="+", help="plan files, or folders searched for plans (*.kpi)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-k", dest="keyword", default=None, metavar="SUBSTRING",
                   help="only tests whose name contains SUBSTRING (case-insensitive)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``kpidsl test`` on the main command line."""
    p = sub.add_parser("test", help="run the test blocks of plans (N passed, N failed)")
    add_arguments(p)
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    """Run the tests of every plan named or found in the folders; print the report."""
    from .report import render_json, render_text
    from .runner import run_paths

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    report = run_paths(args.paths, keyword=args.keyword)
    out = render_json(report) if args.format == "json" else render_text(report)
    sys.stdout.write(out)
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kpidsl.testing.cli``: the same as ``kpidsl test``."""
    parser = argparse.ArgumentParser(prog="kpidsl test", description="Run plans' tests.")
    add_arguments(parser)
    return cmd_test(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
