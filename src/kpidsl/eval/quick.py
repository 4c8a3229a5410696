"""The payee stage without explanation trees, for payees whose evaluation has no surprises.

An evaluation that needs figures first (``kpidsl eval``, the columnar stage, a
service) runs each payee through :class:`QuickScope`: the same compiled
closures (:mod:`kpidsl.eval.compile`), the same score, payout, table and tier
functions (:mod:`kpidsl.eval.defs`, :mod:`kpidsl.eval.tiers`), the same
aggregates and the same rounding as :class:`~kpidsl.eval.env.Env`, without
building an explanation node. It only takes the plain road: whenever anything
out of the ordinary happens — a period split into segments, any evaluation
failure (a missing or zero target, a fallback taken, a value beyond the
plan's precision, an empty ``avg``), ``prior()``, a name that is not a value —
:func:`quick_result` answers None and the reference payee stage evaluates the
payee instead, reporting and explaining it as usual. A quick payee's
explanations are computed by the reference stage on first access, so they are
the same trees whenever they are asked for.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal

from kpidsl import ast
from kpidsl.data.model import Payee
from kpidsl.eval import defs
from kpidsl.eval.collect import Collector
from kpidsl.eval.compile import FactCtx, Fn, Value, num
from kpidsl.eval.context import RunContext
from kpidsl.eval.env import PayoutState, aggregate_facts, read_field, scope_payees, window_of
from kpidsl.eval.errors import DependencyFailure, EvalFailure
from kpidsl.eval.resolve import Segment, segments
from kpidsl.eval.result import PayeeResult
from kpidsl.explain.tree import Explanation
from kpidsl.numbers import digits_needed, exact_sum, quantize
from kpidsl.periods import Period
from kpidsl.source import Span

Explainer = Callable[[], dict[str, Explanation]]


class NeedsReference(Exception):
    """This payee's evaluation left the plain road: the reference payee stage takes it."""


class _Sink(Collector):
    """A collector that keeps nothing: the quick stage builds no explanation."""

    def add(self, node: Explanation) -> None:
        return None

    def note(self, text: str) -> None:
        return None


_SINK = _Sink()


class QuickScope:
    """One payee in a period that is one segment: memoized values, no explanations."""

    whole = True  # floor and cap apply inside payouts, as for a single-segment period

    def __init__(self, run: RunContext, payee: Payee, period: Period, seg: Segment, label: str) -> None:
        self.run, self.payee, self.period, self.seg = run, payee, period, seg
        self.ctx: decimal.Context = run.ctx
        self.label = label
        self.memo: dict[str, tuple[bool, object]] = {}
        self.order: list[str] = []
        self.payouts: dict[str, PayoutState] = {}
        self._aggs: dict[int, Value] = {}
        self._busy: set[str] = set()

    # ---- what defs.* and compiled closures call ------------------------------------

    def named(self, name: str, span: Span) -> Value:
        hit = self.memo.get(name)
        if hit is not None:
            return hit[1]  # type: ignore[return-value]
        applied = self.seg.defs.get(name)
        if applied is None or name in self._busy:
            raise NeedsReference(name)
        self._busy.add(name)
        try:
            value = self._definition(name, applied.definition)
        finally:
            self._busy.discard(name)
        self.memo[name] = (True, value)
        self.order.append(name)
        return value

    def _definition(self, name: str, d: ast.Definition) -> Value:
        compile_ = self.run.compiler.compile
        if isinstance(d, (ast.Metric, ast.Const)):  # one whole segment: nothing is prorated
            return compile_(d.expr)(self, None)
        if isinstance(d, ast.Payout):
            return defs.payout(self, d, _SINK)  # type: ignore[arg-type]
        if isinstance(d, ast.Score):
            return defs.score(self, d, _SINK)  # type: ignore[arg-type]
        if isinstance(d, ast.InputDecl):
            row = self.run.inputs.get((self.payee.id, name, self.label))
            if row is not None:
                return row.value
            if d.default is not None:
                return compile_(d.default)(self, None)
        raise NeedsReference(name)

    def target(self, metric: str, span: Span) -> Decimal:
        key = f"target({metric})"
        hit = self.memo.get(key)
        if hit is not None:
            return hit[1]  # type: ignore[return-value]
        row = self.run.targets.get((self.payee.id, metric, self.label))
        if row is not None:
            value = row.value
        else:
            applied = self.seg.defs.get(f"target:{metric}")
            if applied is None or not isinstance(applied.definition, ast.Target):
                raise NeedsReference(key)
            value = num(self.run.compiler.compile(applied.definition.expr)(self, None), span)
        self.memo[key] = (True, value)
        self.order.append(key)
        return value

    def attainment(self, metric: str, span: Span) -> Decimal:
        key = f"attainment({metric})"
        hit = self.memo.get(key)
        if hit is not None:
            return hit[1]  # type: ignore[return-value]
        m = num(self.named(metric, span), span)
        t = self.target(metric, span)
        if t.is_zero() or t < 0:  # a zero or negative target: the reference words KPI0603
            raise NeedsReference(key)
        value = self.ctx.divide(m, t)
        self.memo[key] = (True, value)
        self.order.append(key)
        return value

    def prior(self, component: str, span: Span) -> Decimal:
        raise NeedsReference(f"prior({component})")

    def call(self, name: str, args: tuple[Value, ...], f: FactCtx | None, span: Span) -> Value:
        applied = self.seg.defs.get(name)
        d = applied.definition if applied is not None else None
        if isinstance(d, ast.Tiers):
            return defs.tier_outcome(self, d, args, f, span, detail=False).value  # type: ignore[arg-type]
        if isinstance(d, ast.Table) and applied is not None:
            return defs.table(self, applied, args, f, span)  # type: ignore[arg-type]
        raise NeedsReference(name)

    def aggregate(self, agg: ast.Aggregate) -> Value:
        key = id(agg)
        if key in self._aggs:
            return self._aggs[key]
        stage = self.run.fact_stage
        result = stage.aggregate_value(agg, self.payee.id, self.period, self.seg) if stage is not None else None
        if result is None:
            result = aggregate_facts(self, self.run, agg, scope_payees(self.run, self.payee.id, self.seg,
                                                                       agg.scope))
        self._aggs[key] = result.value
        return result.value

    def window(self, w: ast.Window) -> tuple[dt.date, dt.date]:
        return window_of(w, self.seg, self.period)

    def field(self, f: FactCtx | None, node: ast.Field) -> Value:
        return read_field(self.run, f, node)

    def fallback(self, e: ast.Fallback, main: Fn, alt: Fn, f: FactCtx | None) -> Value:
        try:
            return main(self, f)
        except (EvalFailure, DependencyFailure, decimal.DecimalException):
            raise NeedsReference("a fallback is taken") from None

    def push(self, col: Collector) -> None:
        return None

    def pop(self) -> None:
        return None

    def attach(self, node: Explanation) -> None:
        return None

    # ---- the whole payee -------------------------------------------------------------

    def evaluate_all(self) -> None:
        """What :meth:`Env.evaluate_all` evaluates, in the same order."""
        pid = self.payee.id
        for key, applied in self.seg.defs.items():
            d = applied.definition
            if isinstance(d, (ast.Metric, ast.Const, ast.Score, ast.Payout)):
                self.named(key, d.span)
            elif isinstance(d, ast.InputDecl) and (pid, key, self.label) in self.run.inputs:
                self.named(key, d.span)
            elif isinstance(d, ast.Target):
                self.attainment(d.metric, d.span)
        for metric in self.run.target_metrics.get((pid, self.label), ()):
            if metric in self.seg.defs:
                self.attainment(metric, self.seg.defs[metric].definition.span)


def quick_result(run: RunContext, payee: Payee, period: Period, label: str,
                 explain: Explainer) -> PayeeResult | None:
    """The payee's result without explanation trees (``explain`` gives them later), or None:
    the evaluation left the plain road and the reference payee stage must take it."""
    segs = _segments(run, payee, period, label)
    if len(segs) != 1:
        return None
    seg = segs[0]
    scope = QuickScope(run, payee, period, seg, label)
    h = run.model.header
    components: dict[str, Decimal] = {}
    try:
        scope.evaluate_all()
        for c in run.model.payouts:
            if c not in seg.defs:
                continue
            value = scope.memo[c][1]
            if not isinstance(value, Decimal):
                return None
            rounded = quantize(value, h.quantum, h.rounding_mode)
            if digits_needed(rounded, h.quantum) > h.precision:
                return None
            components[c] = rounded
        total = exact_sum(list(components.values()))
    except (NeedsReference, EvalFailure, DependencyFailure, decimal.DecimalException):
        return None
    values = {}
    for name in scope.order:
        v = scope.memo[name][1]
        applied = seg.defs.get(name)
        if v is not None and not (applied is not None and isinstance(applied.definition, ast.Payout)):
            values[name] = v
    return PayeeResult(payee.id, total, components, values, (), None, {}, explain)  # type: ignore[arg-type]


def _segments(run: RunContext, payee: Payee, period: Period, label: str) -> list[Segment]:
    """The payee's segments; for a payee without history, shared by payees with the same
    attributes (the ``why`` wording of an override names the first such payee: the quick
    stage never shows it)."""
    history = run.history.get(payee.id, ())
    if history:
        return segments(run.model, payee, history, period)
    key = (payee.id if run.by_payee_selector else "", label, *sorted(payee.attrs.items()))
    hit = run.segment_cache.get(key)
    if hit is None:
        hit = run.segment_cache[key] = segments(run.model, payee, (), period)
    return hit


def shared_segment(run: RunContext, payee: Payee, period: Period, label: str) -> Segment | None:
    """The payee's one segment when it is shared with payees of the same attributes
    (no history, the period not split), else None."""
    if run.history.get(payee.id):
        return None
    segs = _segments(run, payee, period, label)
    return segs[0] if len(segs) == 1 else None
