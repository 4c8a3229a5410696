"""Evaluation failures (KPI06xx) raised inside one payee's evaluation and caught per named value."""

from __future__ import annotations

from decimal import Decimal

from kpidsl.numbers import grouped
from kpidsl.source import Span

DIVISION_BY_ZERO = "KPI0601"
MISSING_TARGET = "KPI0602"
ZERO_TARGET = "KPI0603"
MISSING_INPUT = "KPI0604"
EMPTY_AGGREGATE = "KPI0605"
TIER_OUT_OF_RANGE = "KPI0606"
CURVE_OUT_OF_RANGE = "KPI0607"
TABLE_KEY_MISSING = "KPI0608"
MID_PERIOD_CHANGE = "KPI0609"
DANGLING_REFERENCE = "KPI0610"
INVALID_OPERATION = "KPI0611"
BAD_PERIOD = "KPI0612"
PRIOR_FAILED = "KPI0613"
UNDEFINED = "KPI0614"
BEYOND_PRECISION = "KPI0615"



def negative_target_message(metric: str, target: Decimal, payee: str, period: str,
                            why: str = "attainment is undefined") -> str:
    """KPI0603 for a negative target (decision s10d): a quota is never negative, and
    ``m / target`` would flip the sign, so attainment against it means nothing."""
    return (f"target for `{metric}` is {grouped(target.normalize())} (negative) for payee {payee} in "
            f"{period}: {why}")


TITLES: dict[str, str] = {
    DIVISION_BY_ZERO: "division by zero",
    MISSING_TARGET: "missing target",
    ZERO_TARGET: "zero target",
    MISSING_INPUT: "missing input",
    EMPTY_AGGREGATE: "avg, min or max of no facts",
    TIER_OUT_OF_RANGE: "tier input outside the bands",
    CURVE_OUT_OF_RANGE: "pay curve input outside its points",
    TABLE_KEY_MISSING: "table key missing",
    MID_PERIOD_CHANGE: "mid-period change forbidden",
    DANGLING_REFERENCE: "dangling fact reference",
    INVALID_OPERATION: "invalid decimal operation",
    BAD_PERIOD: "period of the wrong granularity",
    PRIOR_FAILED: "an earlier period failed",
    UNDEFINED: "name not defined for this payee",
    BEYOND_PRECISION: "value exceeds the plan's precision",
}


class EvalFailure(Exception):
    """An evaluation error arising in the expression being evaluated (a fallback may catch it)."""

    def __init__(self, code: str, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span


class DependencyFailure(Exception):
    """A named value this one depends on failed; no fallback catches it (already reported)."""

    def __init__(self, name: str, origin: EvalFailure) -> None:
        super().__init__(f"{name} failed: {origin.message}")
        self.name = name
        self.origin = origin
