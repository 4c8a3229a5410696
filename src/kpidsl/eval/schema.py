"""The JSON shape of an evaluation result as pydantic models (``kpidsl schema``).

Kept apart from :mod:`kpidsl.eval.result` so that evaluating imports no
pydantic: the models are only needed to publish or validate the schema.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorModel(BaseModel):
    """One evaluation error in the JSON result."""

    model_config = ConfigDict(extra="forbid")
    code: str
    message: str
    payee: str
    name: str
    period: str
    source: str | None


class PayeeModel(BaseModel):
    """One payee in the JSON result; numbers are decimal strings."""

    model_config = ConfigDict(extra="forbid")
    total: str | None
    components: dict[str, str]
    values: dict[str, str]
    errors: list[ErrorModel]


class PlanInfoModel(BaseModel):
    """The plan a result was computed from."""

    model_config = ConfigDict(extra="forbid")
    name: str
    version: str | None
    digest: str


class ResultModel(BaseModel):
    """The JSON shape of an evaluation result (``ResultModel.model_json_schema()``)."""

    model_config = ConfigDict(extra="forbid")
    plan: PlanInfoModel
    data_digest: str
    period: str
    payees: dict[str, PayeeModel]
    errors: list[ErrorModel]
