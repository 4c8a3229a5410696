"""The columnar fact stage (optional: ``pip install kpidsl[fast]`` for DuckDB).

    from kpidsl.columnar import load_folder, ColumnarRun
    loaded = load_folder(plan.model, Path("data"), fmt="parquet")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    result = run.evaluate()
    run.explain("p00042", "commission")

DuckDB is imported only when data is loaded, never by ``import kpidsl``.
"""

from __future__ import annotations

from .run import ColumnarRun, Loaded, load_folder, wants_columnar
from .sources import SourceChanged

__all__ = ["ColumnarRun", "Loaded", "SourceChanged", "load_folder", "wants_columnar"]
