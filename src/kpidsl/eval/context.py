"""What one evaluation run shares between payees: the plan, indexed data and lookups."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import attrs

from kpidsl.data.model import Dataset, HistoryRow, InputRow, PaymentRow, TargetRow
from kpidsl.eval.compile import Compiler
from kpidsl.eval.facts import AggResult, FactIndex, Hierarchy
from kpidsl.model import PlanModel
from kpidsl.numbers import plan_context

if TYPE_CHECKING:
    from kpidsl import ast
    from kpidsl.eval.resolve import Segment
    from kpidsl.eval.tiers import EBand
    from kpidsl.explain.tree import Explanation
    from kpidsl.periods import Period


@attrs.frozen
class PriorPart:
    """One earlier period's amount of a component and where it came from."""

    period: str
    amount: Decimal
    source: str


PriorFn = Callable[[str, str, str], tuple[PriorPart, ...]]


class FactStage(Protocol):
    """A replacement fact stage (``kpidsl.columnar``): its own fact index, and aggregates it computed."""

    @property
    def index(self) -> FactIndex: ...

    def aggregate(self, agg: ast.Aggregate, payee: str, period: Period,
                  seg: Segment) -> tuple[AggResult, Explanation] | None:
        """The payee's aggregate and its node, or None: the reference computes it from ``index``."""

    def aggregate_value(self, agg: ast.Aggregate, payee: str, period: Period,
                        seg: Segment) -> AggResult | None:
        """The payee's aggregate without an explanation node, or None (as ``aggregate``)."""

    def aggregate_values(self, agg: ast.Aggregate, payees: list[str], period: Period,
                         seg: Segment) -> list[Decimal | None] | None:
        """``aggregate_value``'s values for many payees (None where the reference computes)."""


class RunContext:
    """Indexes built once per evaluation: facts by payee, hierarchy, targets, inputs, payments."""

    def __init__(self, model: PlanModel, data: Dataset, as_of: dt.date | None,
                 fact_stage: FactStage | None = None) -> None:
        self.model = model
        self.data = data
        self.as_of = as_of
        self.ctx: decimal.Context = plan_context(model.header.precision)
        self.fact_stage = fact_stage
        self.index = fact_stage.index if fact_stage is not None else FactIndex(model, data, as_of)
        self.hierarchy = Hierarchy(data.payees, data.history)
        self.compiler = Compiler()
        self.targets: dict[tuple[str, str, str], TargetRow] = {
            (t.payee, t.metric, t.period): t for t in data.targets
        }
        # (payee, period) -> metrics with a data target, sorted: read once per payee
        by_payee: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (payee, metric, period) in self.targets:
            by_payee[(payee, period)].append(metric)
        self.target_metrics: dict[tuple[str, str], tuple[str, ...]] = {
            k: tuple(sorted(v)) for k, v in by_payee.items()
        }
        self.inputs: dict[tuple[str, str, str], InputRow] = {
            (i.payee, i.name, i.period): i for i in data.inputs
        }
        self.payments: dict[tuple[str, str, str], PaymentRow] = {
            (p.payee, p.component, p.period): p for p in data.payments
        }
        history: dict[str, list[HistoryRow]] = defaultdict(list)
        for row in data.history:
            history[row.payee].append(row)
        self.history: dict[str, tuple[HistoryRow, ...]] = {
            k: tuple(sorted(v, key=lambda r: (r.effective_from, r.attribute, r.value)))
            for k, v in history.items()
        }
        self.prior_fn: PriorFn | None = None
        # the quick payee stage: segments of payees without history, by what they depend on
        self.segment_cache: dict[tuple[object, ...], list[Segment]] = {}
        self.vector_cache: dict[int, tuple[ast.Expr, object]] = {}  # kpidsl.eval.bulk, by node
        self.band_cache: dict[int, tuple[ast.Tiers, tuple[EBand, ...]]] = {}  # literal bands
        self.by_payee_selector = any(i.attr == "payee" for b in model.overrides for i in b.selector)
