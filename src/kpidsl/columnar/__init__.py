"""The columnar fact stage (optional: ``pip install kpidsl[fast]`` for DuckDB).

    from kpidsl.columnar import load_folder, ColumnarRun
    loaded = load_folder(plan.model, Path("data"), fmt="parquet")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    result = run.evaluate()
    run.explain("p00042", "commission")
    run.add_facts("deals", [{"id": "D9", "payee": "p00042", ...}])   # a new deal arrived
    run.evaluate(["p00042"])                                          # their standing now

DuckDB is imported only when data is loaded, never by ``import kpidsl``.
"""

from __future__ import annotations

from kpidsl.data.batch import FactsRejected

from .run import ColumnarRun, Loaded, load_folder, wants_columnar
from .sources import SourceChanged

__all__ = ["ColumnarRun", "FactsRejected", "Loaded", "SourceChanged", "load_folder", "wants_columnar"]
