"""``kpidsl diff``: which definitions changed between two plans, and what it costs.

    from kpidsl.diff import diff_plans, compare
    changes = diff_plans(old_plan, new_plan)          # PlanDiff
    comparison = compare(old_plan, new_plan, "data/", "2026-Q3")
"""

from kpidsl.diff.compare import Comparison, ComponentDelta, PayeeDelta, compare, diff_plans
from kpidsl.diff.semantic import BlockDiff, DefChange, HeaderChange, PlanDiff

__all__ = [
    "BlockDiff", "Comparison", "ComponentDelta", "DefChange", "HeaderChange", "PayeeDelta",
    "PlanDiff", "compare", "diff_plans",
]
