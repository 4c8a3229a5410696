"""The plans' own `test` blocks, run by :mod:`kpidsl.testing` (the runner behind `kpidsl test`).

``failures`` turns outcomes into one readable line per failure, so an
assertion ``failures(...) == []`` shows what went wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

from kpidsl.testing import TestOutcome


def failures(outcomes: Iterable[TestOutcome]) -> list[str]:
    """Every failure of the outcomes as ``id: location: message (expected / actual)``."""
    lines = []
    for o in outcomes:
        for f in o.failures:
            detail = f" (expected {f.expected}, actual {f.actual})" if f.expected else ""
            lines.append(f"{o.id}: {f.location}: {f.message}{detail}")
    return lines
