"""What the plan test runner reports: one outcome per test, failures as data, a run summary."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from .coverage import PlanCoverage

Status = Literal["passed", "failed", "skipped"]

# The name of the outcome reported for a plan file that does not load and has no tests.
PLAN_LOAD = "<plan>"


@attrs.frozen
class Failure:
    """Why a test failed: where (``plan.kpi:144``), what, expected vs actual, and why."""

    location: str
    message: str
    expected: str | None = None
    actual: str | None = None
    # The text explanation tree of the failing value, or rendered diagnostics.
    explanation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "explanation": self.explanation,
        }


@attrs.frozen
class TestOutcome:
    """The outcome of one ``test`` block of one plan file."""

    __test__ = False  # not a pytest test class

    plan: str  # the plan file as displayed (the path given, or found in a folder)
    name: str
    status: Status
    line: int = 0
    failures: tuple[Failure, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.plan}::{self.name}"

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plan": self.plan,
            "name": self.name,
            "line": self.line,
            "status": self.status,
            "failures": [f.to_dict() for f in self.failures],
        }


def outcome(plan: str, name: str, line: int, failures: Sequence[Failure]) -> TestOutcome:
    """A passed outcome when there are no failures, a failed one otherwise."""
    return TestOutcome(plan, name, "failed" if failures else "passed", line, tuple(failures))


@attrs.frozen
class RunReport:
    """Every outcome of a run, in order: plan files sorted, tests in source order."""

    outcomes: tuple[TestOutcome, ...]
    # each plan's coverage when the run measured it (``kpidsl test --coverage``)
    coverage: tuple[PlanCoverage, ...] | None = None

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def skipped(self) -> int:
        return self.count("skipped")

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def coverage_percent(self) -> Decimal | None:
        """Covered items over all items of every plan, in percent (None when not measured)."""
        from .coverage import percent_of

        if self.coverage is None:
            return None
        total = sum(len(c.items) for c in self.coverage)
        missed = sum(len(c.uncovered) for c in self.coverage)
        return percent_of(total - missed, total)

    def summary(self) -> str:
        """``N passed, N failed`` (and ``, N skipped`` when some were skipped)."""
        text = f"{self.passed} passed, {self.failed} failed"
        return text + (f", {self.skipped} skipped" if self.skipped else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tests": [o.to_dict() for o in self.outcomes],
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "summary": self.summary(),
        }
        if self.coverage is not None:
            out["coverage"] = {"percent": str(self.coverage_percent),
                               "plans": [c.to_dict() for c in self.coverage]}
        return out
