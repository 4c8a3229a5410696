"""kpidsl: sales KPIs and incentive plans as code, evaluated exactly and explained.

    import kpidsl
    plan = kpidsl.load("plan.kpi")
    data = kpidsl.load_data("data/")
    result = plan.evaluate(data, period="2026-Q3")
    tree = result.explain("alice", "commission")
"""

from __future__ import annotations

from kpidsl.api import Plan, PlanError, RawData, Result, load, load_data, loads
from kpidsl.diagnostics import Diagnostic, KpiError
from kpidsl.explain.tree import Explanation

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "Explanation",
    "KpiError",
    "Plan",
    "PlanError",
    "RawData",
    "Result",
    "__version__",
    "load",
    "load_data",
    "loads",
]
