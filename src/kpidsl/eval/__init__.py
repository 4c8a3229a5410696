"""The evaluation engine: a checked plan and a data set in, exact explained payouts out."""

from __future__ import annotations

from typing import Any

from kpidsl.eval.engine import Engine, evaluate
from kpidsl.eval.result import (
    EvalError,
    EvalResult,
    PayeeResult,
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


def __getattr__(name: str) -> Any:
    """``ResultModel`` imports pydantic: only when it is asked for."""
    if name == "ResultModel":
        from kpidsl.eval.schema import ResultModel

        return ResultModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
