"""Plan tests: the ``test`` blocks of ``.kpi`` files, run by ``kpidsl test`` and by pytest.

Names are imported lazily so that ``kpidsl check`` and the CLI start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DataBuilder": ".build",
    "dataset": ".build",
    "Failure": ".outcome",
    "RunReport": ".outcome",
    "TestOutcome": ".outcome",
    "run_paths": ".runner",
    "run_plan": ".runner",
    "run_plan_tests": ".runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
