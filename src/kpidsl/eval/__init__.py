"""The evaluation engine: a checked plan and a data set in, exact explained payouts out."""

from __future__ import annotations

from kpidsl.eval.engine import Engine, evaluate
from kpidsl.eval.result import (
    EvalError,
    EvalResult,
    PayeeResult,
    ResultModel,
    result_to_dict,
    result_to_json,
)

__all__ = [
    "Engine",
    "EvalError",
    "EvalResult",
    "PayeeResult",
    "ResultModel",
    "evaluate",
    "result_to_dict",
    "result_to_json",
]
