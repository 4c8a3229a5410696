"""The columnar fact stage (optional: ``pip install kpidsl[fast]`` for DuckDB).

    from kpidsl.columnar import load_folder, ColumnarRun
    loaded = load_folder(plan.model, Path("data"), fmt="parquet")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    result = run.evaluate()
    run.explain("p00042", "commission")
    run.add_facts("deals", [{"id": "D9", "payee": "p00042", ...}])   # a new deal arrived
    run.evaluate(["p00042"])                                          # their standing now

DuckDB is imported only when data is loaded, never by ``import kpidsl``. The names
below are imported on first use, so that ``kpidsl cache`` (``kpidsl.columnar.cli``)
starts without the evaluator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpidsl.data.batch import FactsRejected

    from .run import ChangedSince, ColumnarRun, Loaded, load_folder, wants_columnar
    from .sources import SourceChanged

__all__ = ["ChangedSince", "ColumnarRun", "FactsRejected", "Loaded", "SourceChanged", "load_folder",
           "wants_columnar"]

_HOMES = {"FactsRejected": "kpidsl.data.batch", "SourceChanged": "kpidsl.columnar.sources"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES.get(name, "kpidsl.columnar.run")), name)
