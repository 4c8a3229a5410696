"""The ``kpidsl`` command line: argument parsing and rendering only.

Exit codes: 0 clean, 1 when any error was reported, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import errno
import io
import json
import os
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kpidsl import api
from kpidsl.display import format_grouped, visible, width

if TYPE_CHECKING:
    from kpidsl.diagnostics import Diagnostic, Label
    from kpidsl.source import SourceFile

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141  # as a shell reports SIGINT and SIGPIPE


def _use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class _Formatter(argparse.HelpFormatter):
    """Help and usage lines wrapped for an 80-column terminal, not for the one at hand
    (``COLUMNS``): the same text on every terminal, in a pipe or a file."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=78)  # argparse's own width on an 80-column terminal


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (its default) on usage errors; every
    command's parser (``add_parser`` makes them of this class) wraps help for 80 columns."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _kpi_files(paths: Sequence[str]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    missing: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*.kpi") if f.is_file()))  # as fmt finds them
        elif path.is_file():
            files.append(path)
        else:
            missing.append(p)
    return files, missing


# ---------------------------------------------------------------- check


def _check_files(files: Sequence[Path]) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """``check_files`` names a file from its plan's folder (``plan.kpi``, ``sub/lib.kpi``): the
    files are checked a folder at a time and renamed from where the command was given
    (``plans/east/plan.kpi``), so that two ``plan.kpi`` are told apart, each quoted from its
    own text, and a library imported from a sub-folder is reported once."""
    from kpidsl.checking import check_files

    folders: dict[Path, list[Path]] = {}
    for f in files:
        folders.setdefault(f.parent, []).append(f)
    diags: dict[tuple[object, ...], Diagnostic] = {}
    sources: dict[str, SourceFile] = {}
    for folder, group in folders.items():
        found, srcs = check_files(group)
        moved, shown_srcs = named_from_here(folder, found, srcs)
        for name, src in shown_srcs.items():
            sources.setdefault(name, src)
        for d in moved:
            diags.setdefault((d.code, d.span.file, d.span.line, d.span.col, d.message), d)
    return sorted(diags.values(), key=lambda d: d.sort_key()), sources


def named_from_here(
    folder: Path, diags: Sequence[Diagnostic], sources: Mapping[str, SourceFile]
) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """Diagnostics and sources of a plan loaded from ``folder`` (which names its files from
    there: ``plan.kpi``, ``lib/common.kpi``), named from the current folder as ``check``
    names them (``plans/east/plan.kpi``): every command names a file the same way."""
    import attrs

    moved = [attrs.evolve(d, primary=_moved(folder, d.primary),
                          secondary=tuple(_moved(folder, x) for x in d.secondary)) for d in diags]
    shown = {_shown(folder, name): attrs.evolve(src, name=_shown(folder, name)) for name, src in sources.items()}
    return moved, shown


def plan_error_text(path: str | Path, e: api.PlanError, color: bool = False) -> str:
    """A plan's load errors (``api.load(path)``) rendered with its files named from the current
    folder, as ``kpidsl check path`` names them."""
    from kpidsl.render import render_text

    diags, sources = named_from_here(Path(path).parent, e.diagnostics, e.sources)
    return render_text(diags, sources, color=color)


def _shown(folder: Path, name: str) -> str:
    """A file named from its plan's folder, named from the current folder."""
    return name if name.startswith("<") or folder == Path() else (folder / name).as_posix()


def _moved(folder: Path, label: Label) -> Label:
    import attrs

    return attrs.evolve(label, span=attrs.evolve(label.span, file=_shown(folder, label.span.file)))


def cmd_check(args: argparse.Namespace) -> int:
    files, missing = _kpi_files(args.paths)
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if not files:
        # a CI job pointed at the wrong folder must not pass by checking nothing
        print(f"error: no .kpi files found under {', '.join(args.paths)}", file=sys.stderr)
        return EXIT_ERRORS
    diags, sources = _check_files(files)
    if args.format == "json":
        from kpidsl.render import render_json

        sys.stdout.write(render_json(diags) + "\n")
    elif diags:
        from kpidsl.render import render_text

        sys.stdout.write(render_text(diags, sources, color=_use_color(sys.stdout)))
    else:
        print(f"ok: {len(files)} file{'s' if len(files) != 1 else ''} checked, no problems")
    return EXIT_ERRORS if any(d.severity == "error" for d in diags) else EXIT_OK


# ---------------------------------------------------------------- fmt


def cmd_fmt(args: argparse.Namespace) -> int:
    from kpidsl.fmt import fmt_paths

    files, missing = _kpi_files(args.paths)
    if missing:
        print(f"error: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if not files:  # as for check: `fmt --check` pointed at the wrong folder must not pass
        print(f"error: no .kpi files found under {', '.join(args.paths)}", file=sys.stderr)
        return EXIT_ERRORS
    # each file's line as it is done: after Ctrl-C, the files already rewritten are listed
    code, output = fmt_paths(args.paths, check=args.check, diff=args.diff, output=sys.stdout)
    if output:
        sys.stdout.write(output if output.endswith("\n") else output + "\n")
    return code


# ---------------------------------------------------------------- eval / explain


def _load_plan(path: str) -> api.Plan | None:
    try:
        return api.load(path)
    except api.PlanError as e:
        sys.stderr.write(plan_error_text(path, e, color=_use_color(sys.stderr)))
        return None


def _evaluate(args: argparse.Namespace) -> tuple[api.Plan, api.Result] | int:
    from kpidsl.paths import DATA_FOLDER, PLAN_FILE, bad_paths

    if bad_paths([(args.plan, PLAN_FILE), (args.data, DATA_FOLDER)]):
        return EXIT_USAGE
    plan = _load_plan(args.plan)
    if plan is None:
        return EXIT_ERRORS
    period = canonical_period(plan, args.period)
    if period is None:
        return EXIT_USAGE
    payee = getattr(args, "payee", None)
    engine = engine_or_error(getattr(args, "engine", "reference"), Path(args.data))
    if engine is None:
        return EXIT_USAGE
    result = plan.evaluate(
        args.data, period, as_of=args.as_of, payees=None if payee is None else [payee], engine=engine,
    )
    if payee is not None and result.evaluation is not None and payee not in result.payees:
        print(f"error: --payee: no payee {payee!r} in {args.data}/payees.csv", file=sys.stderr)
        return EXIT_USAGE
    return plan, result


def engine_or_error(engine: str, folder: Path) -> str | None:
    """``--engine`` as given, or None after saying why not (columnar without DuckDB);
    ``auto`` on a large folder without DuckDB gets a note (the slower engine is used)."""
    if engine != "reference" and not _has_duckdb():
        if engine == "columnar":
            print('error: --engine columnar needs DuckDB: pip install "kpidsl[fast]"', file=sys.stderr)
            return None
        _note_large_without_duckdb(folder)
    return engine


def _has_duckdb() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("duckdb") is not None
    except (ImportError, ValueError):  # a module entry set to None
        return False


def _note_large_without_duckdb(folder: Path) -> None:
    """``--engine auto`` on a large folder without DuckDB: the reference engine, slower; say so."""
    from kpidsl.columnar.run import LARGE_BYTES

    size = sum(p.stat().st_size for p in folder.iterdir()
               if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
    if size >= LARGE_BYTES:
        print(f"note: {size / 1e6:.0f} MB of data evaluated by the pure-Python engine; "
              'pip install "kpidsl[fast]" to evaluate large folders with DuckDB', file=sys.stderr)


def canonical_period(plan: api.Plan, text: str) -> str | None:
    """The --period in canonical form (``2026-q3`` -> ``2026-Q3``), or None after saying why."""
    from kpidsl.periods import PeriodError, parse_period

    header = plan.model.header
    canonical = text.strip().upper()
    try:
        parse_period(canonical, header.period, header.fiscal_year_start)
    except PeriodError as e:
        why = str(e).replace(repr(canonical), repr(text.strip()))  # the user's own spelling
        print(f"error: --period: {why}; the plan {plan.name!r} is paid by {header.period}",
              file=sys.stderr)
        return None
    return canonical


def _errors_text(result: api.Result, plan_folder: Path | None = None) -> str:
    """The data's diagnostics and the evaluation errors; ``plan_folder``: where the plan was
    loaded from, so that an error's place in it is named from the current folder (as
    ``check`` names it: ``plans/plan.kpi:12:5``, not ``plan.kpi:12:5``)."""
    from kpidsl.render import render_text

    out = io.StringIO()
    if result.data_diagnostics:
        out.write(render_text(result.data_diagnostics, {}, color=_use_color(sys.stderr)))
    if result.evaluation is not None:
        for e in result.evaluation.errors:
            span = e.span
            if span is not None and plan_folder is not None:
                import attrs

                span = attrs.evolve(span, file=_shown(plan_folder, span.file))
            where = f" ({span})" if span is not None else ""
            out.write(visible(f"error[{e.code}]: {e.payee}: {e.message}{where}") + "\n")
    return out.getvalue()


def _table(result: api.Result) -> str:
    components = list(result.plan.model.payouts)
    header = ["payee", "name", *components, "total"]
    rows: list[list[str]] = []
    for pid, pr in result.payees.items():
        cells = [visible(pid), visible(result.names.get(pid, ""))]  # a line break in a name stays in its row
        for c in components:
            v = pr.components.get(c)
            cells.append("" if v is None else _money(v))
        cells.append("error" if pr.total is None else _money(pr.total))
        rows.append(cells)
    footer = _footer(result, components)
    if not rows:
        return "no payees in the data\n"
    # each cell's width once (10,000 payees are 50,000 cells); names left-aligned, figures right
    cells_w = [[width(c) for c in r] for r in (header, *rows, footer)]
    widths = [max(ws[i] for ws in cells_w) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)

    def line(r: list[str], ws: list[int]) -> str:
        return "  ".join(c + " " * (widths[i] - w) if i < 2 else " " * (widths[i] - w) + c
                         for i, (c, w) in enumerate(zip(r, ws, strict=True))).rstrip()

    lines = [line(header, cells_w[0]), rule, *map(line, rows, cells_w[1:-1]), rule, line(footer, cells_w[-1])]
    return "\n".join(lines) + "\n"


def _footer(result: api.Result, components: list[str]) -> list[str]:
    """The sums over the payees who are paid; payees in error are left out, and it says so."""
    payees = list(result.payees.values())
    ok = [p for p in payees if p.total is not None]
    if not ok:
        return ["sum", "nobody paid", *("-" for _ in components), "-"]
    sums = [_money(sum((p.components.get(c, Decimal(0)) for p in ok), Decimal(0))) for c in components]
    label = f"{len(ok)} paid" + (f", {len(payees) - len(ok)} in error not summed" if len(ok) < len(payees) else "")
    return ["sum", label, *sums, _money(sum((p.total for p in ok), Decimal(0)))]


def _money(v: Any) -> str:
    return format_grouped(v)


def _csv(result: api.Result) -> str:
    """The result for a spreadsheet: UTF-8 with a byte order mark, without which Excel reads
    the file in the system's code page (GBK on a Chinese Windows) and garbles every name."""
    components = list(result.plan.model.payouts)
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["payee", "name", *components, "total", "errors"])
    for pid, pr in result.payees.items():
        comps = [str(pr.components.get(c, "")) for c in components]
        errs = "; ".join(f"{e.code} {e.message}" for e in pr.errors)
        name = result.names.get(pid, "")
        total = "" if pr.total is None else str(pr.total)
        w.writerow([_safe_cell(pid), _safe_cell(name), *comps, total, _safe_cell(errs)])
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """Neutralise spreadsheet formula injection in text taken from the data."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def cmd_eval(args: argparse.Namespace) -> int:
    got = _evaluate(args)
    if isinstance(got, int):
        return got
    _, result = got
    if args.format == "json":
        sys.stdout.write(result.to_json() + "\n")
    elif args.format == "csv":
        sys.stdout.write(_csv(result))
    else:
        if result.evaluation is not None:
            sys.stdout.write(_table(result))
    errors = _errors_text(result, Path(args.plan).parent)
    if errors:  # on stderr in every format, as the other commands do; json has them too
        sys.stderr.write(errors)
    return EXIT_OK if result.ok else EXIT_ERRORS


def cmd_explain(args: argparse.Namespace) -> int:
    from kpidsl.explain.render import render_html, render_json, render_text

    got = _evaluate(args)
    if isinstance(got, int):
        return got
    plan, result = got
    if result.evaluation is None:
        sys.stderr.write(_errors_text(result, Path(args.plan).parent))
        return EXIT_ERRORS
    try:
        expl = result.explain(args.payee, args.name)
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        sys.stdout.write(render_json(expl) + "\n")
    elif args.format == "html":
        title = f"{plan.name} — {args.payee} — {result.period}"  # canonical: 2026-q3 is 2026-Q3
        sys.stdout.write(render_html([expl], title))
    else:
        sys.stdout.write(render_text(expl, color=_use_color(sys.stdout)))
    pr = result.payees[args.payee]
    if pr.errors or result.data_diagnostics:  # the data's warnings too, as eval shows them
        sys.stderr.write(_errors_text(result, Path(args.plan).parent))
    return EXIT_OK if result.ok else EXIT_ERRORS


# ---------------------------------------------------------------- main


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", help="the plan file (.kpi)")
    p.add_argument("--data", required=True, help="the data folder (payees.csv, deals.csv, ...)")
    p.add_argument("--period", required=True, help="e.g. 2026-Q3, 2026-03, 2026-H2, 2026")
    p.add_argument("--as-of", type=_date, default=None, help="evaluate as of this date")
    p.add_argument(
        "--engine", choices=("auto", "reference", "columnar"), default="auto",
        help="fact stage: columnar (DuckDB, kpidsl[fast]) for large folders under auto",
    )


def build_parser(features: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``features=False`` leaves out the feature commands.

    The core commands need none of the feature modules, so ``kpidsl check`` does not
    import them (:func:`main` builds them only for another command, or an error).
    """
    parser = _Parser(prog="kpidsl", description="Sales KPIs and incentive plans as code.")
    parser.add_argument("--version", action="version", version=f"kpidsl {api_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="parse and check plans; report every problem")
    p.add_argument("paths", nargs="+", help="plan files or folders")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("fmt", help="format plans in the canonical layout")
    p.add_argument("paths", nargs="+", help="plan files or folders")
    p.add_argument("--check", action="store_true", help="only report files that would change")
    p.add_argument("--diff", action="store_true", help="print a diff instead of writing")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("eval", help="evaluate a plan on data for a period")
    _eval_args(p)
    p.add_argument("--payee", default=None, help="only this payee")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("explain", help="explain a payee's figure down to the deals")
    _eval_args(p)
    p.add_argument("--payee", required=True)
    p.add_argument("name", nargs="?", default="total", help="value to explain (default: total)")
    p.add_argument("--format", choices=("text", "json", "html"), default="text")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("schema", help="print the JSON schema of eval --format json")
    p.set_defaults(func=lambda a: _schema())
    if features:
        for module in _feature_modules():
            module.add_parser(sub)
    return parser


# Commands defined above: a command line starting with one needs no feature module.
CORE_COMMANDS = frozenset({"check", "fmt", "eval", "explain", "schema"})


# Feature commands live beside their feature; each module defines
# ``add_parser(subparsers)`` and keeps its heavy imports inside the handler.
FEATURE_COMMANDS = (
    "kpidsl.testing.cli",
    "kpidsl.diff.cli",
    "kpidsl.whatif.cli",
    "kpidsl.importer.cli",
    "kpidsl.report.cli",
    "kpidsl.columnar.cli",
)


def _feature_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in FEATURE_COMMANDS]


def _schema() -> int:
    sys.stdout.write(json.dumps(api.Result.json_schema(), indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def api_version() -> str:
    from kpidsl import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_stdio()
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit, where a closed pipe is reported with a traceback
    except BrokenPipeError:  # `kpidsl eval ... | head -1`: the reader has all it wanted
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:  # a path too long to exist, the output's disk full...
        where = f": {e.filename}" if e.filename else ""
        print(f"error: {e.strerror or e}{where}", file=sys.stderr)
        return EXIT_USAGE if e.errno in _NO_SUCH_PATH else EXIT_ERRORS
    return code


# a path that cannot name an existing file: a usage error, as a path that does not exist
_NO_SUCH_PATH = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP})


def _stdout_to_devnull() -> None:
    """Point standard output at the null device, so that the interpreter's flush at exit
    does not report the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test's capture)
        pass


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(features=not (words and words[0] in CORE_COMMANDS))
    args, extra = parser.parse_known_args(argv)
    # argparse cannot take a positional after options (`explain PLAN --payee X NAME`)
    if args.command == "explain" and args.name == "total" and len(extra) == 1:
        args.name, extra = extra[0], []
    if extra:  # the usage line lists every command: the whole parser reports it
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        code: int = args.func(args)
    except api.NeedsDuckDB as e:  # a Parquet folder without DuckDB: one line, with the install command
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:
        # not imported by `kpidsl check`
        from kpidsl.columnar.sources import SettingError, SourceChanged

        if isinstance(e, SettingError):  # KPIDSL_MEMORY_MB=abc
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(e, SourceChanged):  # a fact file read in place was replaced meanwhile
            print(f"error: {e}", file=sys.stderr)
            return EXIT_ERRORS
        if type(e).__name__ == "OutOfMemoryException":  # past DuckDB's own limit: ours is lifted first
            print(f"error: DuckDB ran out of memory: {str(e).splitlines()[0]}\n"
                  "  hint: kpidsl's limit (KPIDSL_MEMORY_MB) is lifted for a statement that needs more; "
                  "this one needed more than DuckDB may use on this machine (80% of its memory)",
                  file=sys.stderr)
            return EXIT_ERRORS
        raise
    return code


def _utf8_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # a file name that is not UTF-8 (a lone surrogate) is shown as U+FFFD, not a traceback
            reconfigure(encoding="utf-8", errors="replace")


if __name__ == "__main__":
    raise SystemExit(main())
