"""pytest plugin: a plan's ``test`` blocks as pytest items (entry point ``pytest11``: ``kpidsl``).

Which ``.kpi`` files are collected, so that a project's own ``pytest`` run never
picks up plan fixtures unexpectedly:

* a ``.kpi`` file named on the command line (``pytest plans/east.kpi``);
* a ``.kpi`` file with a ``plan`` header under a folder listed in the ini
  option ``kpidsl_plans`` (paths relative to the ini file). When pytest runs
  without path arguments, those folders are collected too, whatever
  ``testpaths`` says.

Folders named on the command line are *not* searched for plans (``pytest
tests/`` stays a Python-only run). In a folder, a plan without tests yields no
items: ``kpidsl check`` is the tool for plans that are meant to fail. A failure
shows the same text as ``kpidsl test``. Disable with ``-p no:kpidsl``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kpidsl import ast

from .outcome import PLAN_LOAD, TestOutcome
from .report import outcome_text
from .runner import PlanFile, has_plan_header, load_plan_file, run_loaded, run_test

INI = "kpidsl_plans"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI, type="paths", default=[],
                  help="folders whose .kpi plans' test blocks are collected as tests")


def _plan_folders(config: pytest.Config) -> list[Path]:
    return [Path(p).resolve() for p in config.getini(INI)]


def _explicit(config: pytest.Config) -> list[Path]:
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return []
    base = config.invocation_params.dir
    return [(base / a.split("::", 1)[0]).resolve() for a in config.args]


def _covered(path: Path, roots: list[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def pytest_configure(config: pytest.Config) -> None:
    """Without path arguments, collect the ``kpidsl_plans`` folders too."""
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    base = config.invocation_params.dir
    current = [(base / a).resolve() for a in config.args]
    for folder in _plan_folders(config):
        if folder.is_dir() and not _covered(folder, current):
            config.args.append(str(folder))
            current.append(folder)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> KpiFile | None:
    if file_path.suffix != ".kpi":
        return None
    path = file_path.resolve()
    config = parent.config
    if path in _explicit(config):
        return KpiFile.from_parent(parent, path=file_path, explicit=True)
    if _covered(path, _plan_folders(config)) and has_plan_header(file_path):
        return KpiFile.from_parent(parent, path=file_path, explicit=False)
    return None


class KpiFile(pytest.File):
    """A plan file: one item per ``test`` block."""

    def __init__(self, *, explicit: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.explicit = explicit

    def collect(self) -> Iterator[pytest.Item]:
        try:
            display = self.path.resolve().relative_to(self.config.rootpath.resolve()).as_posix()
        except ValueError:
            display = self.path.as_posix()
        pf = load_plan_file(self.path, display)
        if pf.plan is None and not pf.tests:
            if self.explicit:
                yield KpiItem.from_parent(self, name=PLAN_LOAD, plan_file=pf, test=None)
            return
        for test in pf.tests:
            yield KpiItem.from_parent(self, name=test.name, plan_file=pf, test=test)
        if pf.plan is not None:
            from .search import name_of

            for inv in pf.plan.model.invariants:
                yield KpiItem.from_parent(self, name=name_of(inv), plan_file=pf, test=None,
                                          invariant=inv)


class KpiTestFailed(Exception):
    """A plan test that failed; carries its outcome for the report."""

    def __init__(self, outcome: TestOutcome) -> None:
        super().__init__(outcome.id)
        self.outcome = outcome


class KpiItem(pytest.Item):
    """One ``test "name" { ... }`` block of a plan."""

    def __init__(self, *, plan_file: PlanFile, test: ast.TestBlock | None,
                 invariant: ast.Invariant | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_file = plan_file
        self.test = test
        self.invariant = invariant

    def runtest(self) -> None:
        if self.invariant is not None and self.plan_file.plan is not None:
            from .search import run_invariant

            pf = self.plan_file
            assert pf.plan is not None
            outcome = run_invariant(pf.plan, self.invariant, pf.display, pf.locate)
        elif self.test is None:
            outcome = run_loaded(self.plan_file)[0]
        else:
            outcome = run_test(self.plan_file, self.test)
        if outcome.failed:
            raise KpiTestFailed(outcome)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, KpiTestFailed):
            o = excinfo.value.outcome
            return f"FAIL {o.id}\n{outcome_text(o)}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        node = self.test or self.invariant
        line = node.span.line if node is not None else 1
        return self.path, max(line - 1, 0), f"kpi test: {self.name}"
