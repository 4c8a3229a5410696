"""The plan test runner: every ``test`` block of a plan, evaluated and checked.

For each test, the inline tables become raw data tables (named by their
section: ``deals``, ``payees``, ``targets``...; header-less ``targets`` and
``inputs`` rows without a period take the test's period), the plan is
evaluated for the test's period through :meth:`kpidsl.api.Plan.evaluate` —
the same path as production — and each expectation is checked (see
:mod:`kpidsl.testing.expect`). A plan that does not load fails every one of
its tests with the plan's diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from kpidsl import api, ast
from kpidsl.data.model import RawTable
from kpidsl.diagnostics import Diagnostic
from kpidsl.eval.result import EvalError, PayeeResult
from kpidsl.source import SourceFile, Span

from .expect import Checked, check_expect, check_expect_error, unexpected_errors
from .external import check_in_file
from .outcome import PLAN_LOAD, Failure, RunReport, TestOutcome, outcome

if TYPE_CHECKING:
    from .coverage import Tracker

HEADER = re.compile(r'(?m)^[ \t\ufeff]*plan\s+"')
TEST_NAME = re.compile(r'(?m)^[ \t]*test\s+"((?:[^"\\\n]|\\.)*)"')


@attrs.frozen
class PlanFile:
    """A plan file to run: where it is, how it is displayed, and its plan or its diagnostics."""

    path: Path
    display: str
    root: Path
    plan: api.Plan | None
    tests: tuple[ast.TestBlock, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    sources: dict[str, SourceFile] = attrs.field(factory=dict)

    def locate(self, span: Span) -> str:
        """``plan.kpi:144``: a span's file shown relative to where the plan was found."""
        if span.file not in self.sources:
            return f"{span.file}:{span.line}"
        shown = (Path(self.display).parent / span.file).as_posix()
        return f"{shown}:{span.line}"

    def render(self, diags: Sequence[Diagnostic], sources: dict[str, SourceFile] | None = None) -> str:
        from kpidsl.render import render_text

        return render_text(list(diags), self.sources if sources is None else sources).rstrip("\n")


def load_plan_file(path: Path, display: str | None = None) -> PlanFile:
    """Load and check a plan file; on errors keep the diagnostics and the tests' names."""
    from kpidsl.syntax.loader import load_modules

    shown = display if display is not None else path.as_posix()
    root = path.resolve().parent
    try:
        plan = api.load(path)
    except api.PlanError as exc:
        modules, _, _ = load_modules(path)
        tests = tuple(i for m in modules for i in m.items if isinstance(i, ast.TestBlock))
        if not tests:
            tests = _tests_by_text(path)
        return PlanFile(path, shown, root, None, tests, exc.diagnostics, dict(exc.sources))
    return PlanFile(path, shown, root, plan, plan.model.tests, (), dict(plan.sources))


def _tests_by_text(path: Path) -> tuple[ast.TestBlock, ...]:
    """The tests of a file that does not parse, found by their ``test "name"`` lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ()
    found = []
    for m in TEST_NAME.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        name = m.group(1).replace('\\"', '"').replace("\\\\", "\\")
        found.append(ast.TestBlock(name, (), span=Span(path.name, line, 1, line, 1)))
    return tuple(found)


def selected(name: str, keyword: str | None) -> bool:
    """Whether ``-k keyword`` selects a test (case-insensitive substring of its name)."""
    return keyword is None or keyword.casefold() in name.casefold()


def run_plan_tests(plan_path: Path, keyword: str | None = None,
                   display: str | None = None) -> list[TestOutcome]:
    """Run every test block of one plan file (tests not matching ``keyword`` are skipped)."""
    return run_loaded(load_plan_file(Path(plan_path), display), keyword)


def run_plan(plan: api.Plan, display: str = "<string>", root: Path | None = None,
             keyword: str | None = None) -> list[TestOutcome]:
    """Run the tests of an already loaded plan (``kpidsl.loads``); ``root`` for ``expect ... in``."""
    folder = (root if root is not None else Path.cwd()).resolve()
    pf = PlanFile(Path(display), display, folder, plan, plan.model.tests, (), dict(plan.sources))
    return run_loaded(pf, keyword)


def run_loaded(pf: PlanFile, keyword: str | None = None, *, tracker: Tracker | None = None,
               invariant_examples: int | None = None) -> list[TestOutcome]:
    """The outcomes of one loaded plan file: tests in source order, then invariants.

    ``invariant_examples`` bounds the hypothesis search of each invariant
    (None: the default, 50); ``tracker`` collects coverage from the tests' evaluations.
    """
    if pf.plan is None and not pf.tests:
        failure = Failure(pf.display, "the plan does not load", "a plan that checks",
                          "errors", pf.render(pf.diagnostics))
        if not selected(PLAN_LOAD, keyword):
            return [TestOutcome(pf.display, PLAN_LOAD, "skipped")]
        return [outcome(pf.display, PLAN_LOAD, 0, [failure])]
    outcomes = []
    for test in pf.tests:
        if not selected(test.name, keyword):
            outcomes.append(TestOutcome(pf.display, test.name, "skipped", test.span.line))
        else:
            outcomes.append(run_test(pf, test, tracker))
    if pf.plan is not None:
        outcomes.extend(run_invariants(pf, pf.plan, keyword, invariant_examples))
    return outcomes


def run_invariants(pf: PlanFile, plan: api.Plan, keyword: str | None = None,
                   examples: int | None = None) -> list[TestOutcome]:
    """One outcome per ``invariant`` of the plan (see :mod:`kpidsl.testing.search`)."""
    from .invariants import DEFAULT_EXAMPLES
    from .search import name_of, run_invariant

    out = []
    for inv in plan.model.invariants:
        name = name_of(inv)
        if not selected(name, keyword):
            out.append(TestOutcome(pf.display, name, "skipped", inv.span.line))
        else:
            out.append(run_invariant(plan, inv, pf.display, pf.locate,
                                     examples if examples is not None else DEFAULT_EXAMPLES))
    return out


def run_test(pf: PlanFile, test: ast.TestBlock, tracker: Tracker | None = None) -> TestOutcome:
    """Evaluate one test block and check every expectation in it."""
    line = test.span.line
    if pf.plan is None:
        failure = Failure(pf.locate(test.span) if test.items else f"{pf.display}:{line}",
                          "the plan does not load", "a plan that checks", "errors",
                          pf.render(pf.diagnostics))
        return outcome(pf.display, test.name, line, [failure])
    try:
        failures = _check_test(pf, pf.plan, test, tracker)
    except Exception as exc:  # an engine defect must not stop the other tests
        failures = [Failure(pf.locate(test.span), "internal error while running the test",
                            None, f"{type(exc).__name__}: {exc}")]
    return outcome(pf.display, test.name, line, failures)


def _check_test(pf: PlanFile, plan: api.Plan, test: ast.TestBlock,
                tracker: Tracker | None = None) -> list[Failure]:
    periods = [i for i in test.items if isinstance(i, ast.TestPeriod)]
    if not periods:
        return [Failure(pf.locate(test.span), "the test has no `period`", "period 2026-Q3")]
    period = periods[0].period
    tables, failures = build_tables(pf, test, period)
    result = plan.evaluate(api.RawData(tables), period, explain=tracker is not None)
    if tracker is not None:
        _track(tracker, pf, plan, tables, result)
    ctx = _checked(pf, result)
    reported: set[EvalError] = set()
    asked: list[ast.ExpectError] = []
    for item in test.items:
        if isinstance(item, ast.Expect):
            failures.append(check_expect(ctx, item, reported))
        elif isinstance(item, ast.ExpectError) and item.file is not None:
            failures.append(check_in_file(pf.root, item, pf.locate, pf.render))
        elif isinstance(item, ast.ExpectError):
            asked.append(item)
            failures.append(check_expect_error(ctx, item))
    failures.extend(unexpected_errors(ctx, asked, reported, pf.render))
    return [f for f in failures if f is not None]


def _track(tracker: Tracker, pf: PlanFile, plan: api.Plan, tables: dict[str, RawTable],
           result: api.Result) -> None:
    """Record what the test's evaluation exercised, for ``--coverage``."""
    from kpidsl.periods import PeriodError, parse_period

    if result.evaluation is not None:
        for pr in result.evaluation.payees.values():
            tracker.add(pf.display, pr.explanations.values())
    table = tables.get("payees")
    h = plan.model.header
    try:
        period = parse_period(result.period, h.period, h.fiscal_year_start)
    except PeriodError:
        return
    if table is not None:
        history = tables.get("payee_history")
        tracker.add_payees(pf.display, plan.model, _dicts(table), period, _dicts(history) if history else ())


def _dicts(table: RawTable) -> list[dict[str, str]]:
    return [dict(zip(table.header, r.cells, strict=False)) for r in table.rows]


def _checked(pf: PlanFile, result: api.Result) -> Checked:
    from kpidsl.explain.render import render_text

    def explain(pr: PayeeResult, name: str) -> str | None:
        expl = pr.explanations.get(name)
        return None if expl is None else render_text(expl).rstrip("\n")

    data_errors = tuple(d for d in result.data_diagnostics if d.severity == "error")
    payees = None if result.evaluation is None else dict(result.evaluation.payees)
    return Checked(payees, data_errors, pf.sources, pf.locate, explain)


def build_tables(pf: PlanFile, test: ast.TestBlock, period: str) -> tuple[dict[str, RawTable], list[Failure | None]]:
    """The test's inline tables as raw data tables, keyed by section name."""
    from kpidsl.data.records import table_from_test

    tables: dict[str, RawTable] = {}
    failures: list[Failure | None] = []
    for item in test.items:
        if not isinstance(item, ast.TestTable):
            continue
        table = table_from_test(item, item.span.file, period)
        first = tables.get(item.section)
        if first is None:
            tables[item.section] = table
        elif first.header == table.header:
            tables[item.section] = attrs.evolve(first, rows=first.rows + table.rows)
        else:
            failures.append(Failure(pf.locate(item.span), f"a second `{item.section}` table "
                                    "with other columns", "one table per section"))
    return tables, failures


# ---------------------------------------------------------------- many files


@attrs.frozen
class Found:
    """A plan file to run, and whether it was named explicitly (not found in a folder)."""

    path: Path
    display: str
    explicit: bool


def has_plan_header(path: Path) -> bool:
    """Whether a file declares a ``plan "..." {`` header (a plan, not a library file)."""
    try:
        return HEADER.search(path.read_text(encoding="utf-8-sig")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def discover(paths: Iterable[str | Path]) -> list[Found]:
    """Files named explicitly, then every ``*.kpi`` with a plan header in the folders, sorted."""
    found: dict[Path, Found] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for f in sorted(path.rglob("*.kpi")):
                if f.resolve() not in found and has_plan_header(f):
                    found[f.resolve()] = Found(f, f.as_posix(), False)
        elif path.is_file():
            found[path.resolve()] = Found(path, path.as_posix(), True)
        else:
            raise FileNotFoundError(f"no such file or directory: {raw}")
    return sorted(found.values(), key=lambda f: f.display)


def referenced_files(pf: PlanFile) -> set[Path]:
    """The files named by ``expect error ... in "file"`` in a plan's tests (fixtures)."""
    from .external import resolve

    out: set[Path] = set()
    for test in pf.tests:
        for item in test.items:
            if isinstance(item, ast.ExpectError) and item.file is not None:
                target = resolve(pf.root, item)
                if target is not None:
                    out.add(target)
    return out


def run_paths(paths: Iterable[str | Path], keyword: str | None = None, *, coverage: bool = False,
              invariant_examples: int | None = None) -> RunReport:
    """Run the tests (and invariants) of every plan file named or found in the folders.

    With ``coverage``, the report's ``coverage`` holds each plan's coverage.

    A file found in a folder that some test names in ``expect error ... in``
    is a fixture meant to fail: it is not run as a plan of its own.
    """
    loaded = [(f, load_plan_file(f.path, f.display)) for f in discover(paths)]
    fixtures: set[Path] = set()
    for _, pf in loaded:
        fixtures |= referenced_files(pf)
    from .coverage import PlanCoverage, Tracker

    tracker = Tracker() if coverage else None
    outcomes: list[TestOutcome] = []
    covered: list[PlanCoverage] = []
    for f, pf in loaded:
        if not f.explicit and f.path.resolve() in fixtures:
            continue
        outcomes.extend(run_loaded(pf, keyword, tracker=tracker, invariant_examples=invariant_examples))
        if tracker is not None and pf.plan is not None:
            covered.append(tracker.report(pf.display, pf.plan.model))
    return RunReport(tuple(outcomes), tuple(covered) if coverage else None)
