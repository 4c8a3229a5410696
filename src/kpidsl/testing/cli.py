"""``kpidsl test``: run the ``test`` blocks of plans; exit 0 all passed, 1 failures, 2 usage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``kpidsl test`` (paths, --format, -k)."""
    p.add_argument("paths", nargs="+", help="plan files, or folders searched for plans (*.kpi)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-k", dest="keyword", default=None, metavar="SUBSTRING",
                   help="only tests whose name contains SUBSTRING (case-insensitive)")
    p.add_argument("--coverage", action="store_true",
                   help="list the parts of each plan that no test exercises")
    p.add_argument("--fail-under", type=_percent_arg, default=None, metavar="N",
                   help="with --coverage: exit 1 when the total coverage is below N%%")
    p.add_argument("--invariant-examples", type=int, default=None, metavar="N",
                   help="generated examples per invariant (default 50; more for a longer search)")


def _percent_arg(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a percentage from 0 to 100, not {text!r}")
    return value


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
    if args.invariant_examples is not None and args.invariant_examples < 1:
        print("error: --invariant-examples must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if not any(Path(p).is_file() or any(f.is_file() for f in Path(p).rglob("*.kpi")) for p in args.paths):
        # a CI job pointed at the wrong folder must not pass by running nothing
        print(f"error: no .kpi files found under {', '.join(args.paths)}", file=sys.stderr)
        return EXIT_FAILED
    coverage = args.coverage or args.fail_under is not None
    report = run_paths(args.paths, keyword=args.keyword, coverage=coverage,
                       invariant_examples=args.invariant_examples)
    out = render_json(report) if args.format == "json" else render_text(report)
    sys.stdout.write(out)
    percent = report.coverage_percent
    if args.fail_under is not None and percent is not None and percent < args.fail_under:
        print(f"coverage {percent:.1f}% is below --fail-under {args.fail_under}%", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if report.ok else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kpidsl.testing.cli``: the same as ``kpidsl test`` (UTF-8 output whatever the
    console's encoding, no traceback on a closed pipe or Ctrl-C)."""
    from kpidsl.cli import main as kpidsl_main

    return kpidsl_main(["test", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
