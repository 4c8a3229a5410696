"""Rendering a test run: a line per test with failure details, or JSON.

The text form's last line is always ``N passed, N failed`` (with
``, N skipped`` when tests were left out by ``-k``); the same failure text is
used by the pytest plugin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .outcome import Failure, RunReport, TestOutcome

if TYPE_CHECKING:
    from .coverage import PlanCoverage

WHY = {"definition": "never evaluated", "override": "never applied", "band": "never reached",
       "gate": "never seen", "entry": "never hit"}


def _indent(text: str, prefix: str) -> list[str]:
    return [(prefix + line).rstrip() for line in text.splitlines()]


def failure_lines(failure: Failure) -> list[str]:
    """One failure: ``location: message``, expected, actual, then the explanation tree."""
    lines = [f"{failure.location}: {failure.message}"]
    if failure.expected is not None:
        lines.append(f"  expected: {failure.expected}")
    if failure.actual is not None:
        lines.append(f"  actual:   {failure.actual}")
    if failure.explanation:
        lines.append("  explanation:")
        lines.extend(_indent(failure.explanation, "    "))
    return lines


def outcome_text(outcome: TestOutcome) -> str:
    """The failure details of one test (empty when it passed), without the FAIL line."""
    lines: list[str] = []
    for failure in outcome.failures:
        lines.extend(failure_lines(failure))
    return "\n".join(lines)


def render_text(report: RunReport) -> str:
    """``PASS id`` / ``FAIL id`` and its indented details per test, then the summary line."""
    lines: list[str] = []
    for o in report.outcomes:
        if o.status == "skipped":
            continue
        lines.append(f"{'PASS' if o.passed else 'FAIL'} {o.id}")
        if o.failed:
            lines.extend(_indent(outcome_text(o), "    "))
    if report.coverage is not None:
        lines.extend(coverage_lines(report))
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def _where(cov: PlanCoverage, span: object) -> str:
    file, line = getattr(span, "file", "?"), getattr(span, "line", 0)
    return f"{(Path(cov.plan).parent / file).as_posix()}:{line}"


def coverage_lines(report: RunReport) -> list[str]:
    """``coverage:``, per plan its percentage and its uncovered items with file:line, the total."""
    lines = ["coverage:"]
    for cov in report.coverage or ():
        done = len(cov.items) - len(cov.uncovered)
        lines.append(f"  {cov.plan}: {cov.percent}% ({done}/{len(cov.items)} items)")
        for item in cov.uncovered:
            lines.append(f"    {_where(cov, item.span)}: {item.label} — {WHY[item.category]}")
        if cov.unmeasured:
            names = sorted({i.label.split(":")[0] for i in cov.unmeasured if i.category == "definition"})
            lines.append(f"    not measured (priced per fact): {', '.join(names)}")
    lines.append(f"  total: {report.coverage_percent}%")
    return lines


def render_json(report: RunReport) -> str:
    """The whole run as JSON: ``tests`` (every outcome), ``passed``/``failed``/``skipped``."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
