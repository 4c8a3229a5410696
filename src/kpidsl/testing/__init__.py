"""Plan tests: the ``test`` blocks of ``.kpi`` files, run by ``kpidsl test`` and by pytest."""

from __future__ import annotations

from .outcome import Failure, RunReport, TestOutcome
from .runner import run_paths, run_plan, run_plan_tests

__all__ = ["Failure", "RunReport", "TestOutcome", "run_paths", "run_plan", "run_plan_tests"]
