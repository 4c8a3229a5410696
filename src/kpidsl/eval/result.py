"""What an evaluation returns: per-payee results, errors, explanations and their JSON form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from kpidsl.explain.tree import Explanation
from kpidsl.numbers import fmt
from kpidsl.source import Span

ResultValue = Decimal | bool | str | dt.date


@attrs.frozen(order=True)
class EvalError:
    """An evaluation error (KPI06xx) of one payee and one named value in a period."""

    payee: str
    name: str
    code: str
    message: str
    period: str
    span: Span | None = attrs.field(default=None, order=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "payee": self.payee,
            "name": self.name,
            "period": self.period,
            "source": str(self.span) if self.span is not None else None,
        }


@attrs.frozen
class PayeeResult:
    """One payee's outcome: rounded components, their total, every named value and why.

    ``explanations`` may be computed on first access (``explain``): an evaluation
    that only needs figures builds no tree, and one payee's tree is the same
    whenever it is asked for.
    """

    id: str
    total: Decimal | None
    components: dict[str, Decimal]
    values: dict[str, ResultValue]
    errors: tuple[EvalError, ...] = ()
    _explanations: dict[str, Explanation] | None = attrs.field(default=None, alias="explanations",
                                                                eq=False, repr=False)
    # every name that could not be evaluated -> the error it (or a dependency) raised
    failures: dict[str, EvalError] = attrs.field(factory=dict)
    _explain: Callable[[], dict[str, Explanation]] | None = attrs.field(default=None, alias="explain",
                                                                        eq=False, repr=False)

    @property
    def explanations(self) -> dict[str, Explanation]:
        """Every named value's explanation tree (computed now if it was left for later)."""
        if self._explanations is None:
            trees = self._explain() if self._explain is not None else {}
            object.__setattr__(self, "_explanations", trees)
            return trees
        return self._explanations

    @property
    def ok(self) -> bool:
        return not self.errors


@attrs.frozen
class EvalResult:
    """The outcome of one evaluation run: every payee, every error; ``ok`` when none failed."""

    period: str
    payees: dict[str, PayeeResult]
    errors: tuple[EvalError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def value_text(v: ResultValue) -> str:
    """A named value as text: decimals plain (no exponent), booleans lower-case, dates ISO."""
    if type(v) is Decimal:  # most values: asked first
        return fmt(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return fmt(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def result_to_dict(result: EvalResult, plan_info: dict[str, Any], data_digest: str) -> dict[str, Any]:
    """The JSON-ready dict of a result (see :class:`kpidsl.eval.schema.ResultModel`)."""
    payees: dict[str, Any] = {}
    for pid in sorted(result.payees):
        pr = result.payees[pid]
        payees[pid] = {
            "total": fmt(pr.total) if pr.total is not None else None,
            "components": {k: fmt(v) for k, v in pr.components.items()},
            "values": {k: value_text(v) for k, v in sorted(pr.values.items())},
            "errors": [e.to_dict() for e in pr.errors],
        }
    return {
        "plan": {
            "name": str(plan_info.get("name", "")),
            "version": plan_info.get("version"),
            "digest": str(plan_info.get("digest", "")),
        },
        "data_digest": data_digest,
        "period": result.period,
        "payees": payees,
        "errors": [e.to_dict() for e in result.errors],
    }


def result_to_json(result: EvalResult, plan_info: dict[str, Any], data_digest: str) -> str:
    """The result as JSON text: decimal strings, byte-identical for the same inputs.

    Components keep plan order (it is meaningful on a statement); every other
    mapping is sorted by key.
    """
    from kpidsl.jsonout import dumps

    return dumps(result_to_dict(result, plan_info, data_digest), indent=2)  # json.dumps' text, faster
