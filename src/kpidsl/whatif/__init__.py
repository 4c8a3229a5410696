"""``kpidsl what-it-takes``: the smallest extra amount of a metric that reaches a goal.

    from kpidsl.whatif import what_it_takes
    answer = what_it_takes(plan, "data/", "2026-Q3", "lina", "bookings", next_tier=True)
    answer.amount, answer.reachable, answer.reason, answer.exact, answer.deal

The engine loads lazily (on first use of these names), so the CLI starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpidsl.whatif.solve import Answer, what_it_takes

__all__ = ["Answer", "what_it_takes"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kpidsl.whatif import solve

        return getattr(solve, name)
    raise AttributeError(f"module 'kpidsl.whatif' has no attribute {name!r}")
