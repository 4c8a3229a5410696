"""The payee stage: every named value of one payee in one segment, with its explanation."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import attrs

from kpidsl import ast
from kpidsl.data.model import Payee
from kpidsl.eval.collect import Collector
from kpidsl.eval.compile import FactCtx, Fn, Scope, Value, num
from kpidsl.eval.context import PriorPart, RunContext
from kpidsl.eval.cover import Uses, fallback, reported_errors
from kpidsl.eval.errors import (
    DANGLING_REFERENCE,
    INVALID_OPERATION,
    MISSING_INPUT,
    MISSING_TARGET,
    PRIOR_FAILED,
    UNDEFINED,
    ZERO_TARGET,
    DependencyFailure,
    EvalFailure,
    negative_target_message,
)
from kpidsl.eval.facts import AggResult, Hierarchy, combine
from kpidsl.eval.resolve import Applied, Segment
from kpidsl.eval.result import EvalError, value_text
from kpidsl.eval.unparse import unparse, unparse_window
from kpidsl.explain.tree import Explanation
from kpidsl.numbers import ZERO, fmt
from kpidsl.periods import Period
from kpidsl.source import Span

VALUE_DEFS = (ast.Metric, ast.Const, ast.Score, ast.Payout)


@attrs.define
class PayoutState:
    """A payout in one segment before floor/cap: its value and whether every ``requires`` passed."""

    value: Decimal
    passed: bool


class Env:
    """One payee in one segment (or the whole period): memoized named values and explanations."""

    def __init__(self, run: RunContext, payee: Payee, period: Period, seg: Segment,
                 prorate: tuple[int, int] | None = None, whole: bool = True) -> None:
        self.run, self.payee, self.period, self.seg = run, payee, period, seg
        self.ctx: decimal.Context = run.ctx
        self.prorate = prorate
        self.whole = whole  # apply floor/cap inside payouts (single-segment periods)
        self.memo: dict[str, tuple[bool, object]] = {}
        self.order: list[str] = []
        self.expl: dict[str, Explanation] = {}
        self.roots: dict[str, EvalError] = {}  # failures that arose in the name itself
        self.root_of: dict[str, str] = {}  # failed name -> the name where its failure arose
        self.failures: dict[str, EvalError] = {}
        self.uses = Uses()
        self.payouts: dict[str, PayoutState] = {}
        self._aggs: dict[int, tuple[AggResult, Explanation]] = {}
        self._stack: list[Collector] = []
        self._busy: set[str] = set()
        self._period_env: Env | None = None  # the names unprorated, in a segment (_for_period)
        self.earlier: tuple[Env, ...] = ()  # the period's earlier segments (for prior())

    # ---- bookkeeping -------------------------------------------------------------

    def error_of(self, name: str, e: EvalFailure) -> EvalError:
        return EvalError(self.payee.id, name, e.code, e.message, self.period.label, e.span)

    @property
    def errors(self) -> dict[str, EvalError]:
        """The failures that reach the payee (not only used under fallbacks), by root name."""
        return reported_errors(self)

    def attach(self, node: Explanation) -> None:
        if self._stack:
            self._stack[-1].add(node)

    def values(self) -> dict[str, Value]:
        """Every named value that evaluated, payouts excluded (they are components)."""
        out: dict[str, Value] = {}
        for name in self.order:
            ok, v = self.memo[name]
            applied = self.seg.defs.get(name)
            if ok and not (applied is not None and isinstance(applied.definition, ast.Payout)):
                out[name] = v  # type: ignore[assignment]
        return out

    def evaluate_all(self) -> None:
        """Evaluate every metric, const, score and payout, and inputs/targets that have data."""
        pid, label = self.payee.id, self.period.label
        for key, applied in self.seg.defs.items():
            d = applied.definition
            try:
                if isinstance(d, VALUE_DEFS):
                    self.named(key, d.span)
                elif isinstance(d, ast.InputDecl) and (pid, key, label) in self.run.inputs:
                    self.named(key, d.span)
                elif isinstance(d, ast.Target):
                    self.attainment(d.metric, d.span)
            except (EvalFailure, DependencyFailure):
                continue
        for metric in self.run.target_metrics.get((pid, label), ()):
            if metric in self.seg.defs:
                try:
                    self.attainment(metric, self.seg.defs[metric].definition.span)
                except (EvalFailure, DependencyFailure):
                    continue

    # ---- named values ------------------------------------------------------------

    def named(self, name: str, span: Span) -> Value:
        self.uses.use(name)
        if name in self.memo:
            return self._recall(name)
        applied = self.seg.defs.get(name)
        if applied is None or not isinstance(applied.definition, (*VALUE_DEFS, ast.InputDecl)):
            raise EvalFailure(UNDEFINED, f"`{name}` is not a value defined for payee {self.payee.id}", span)
        if name in self._busy:
            raise EvalFailure(UNDEFINED, f"`{name}` depends on itself", span)
        self._busy.add(name)
        self.uses.enter(name)
        col = Collector(top_agg=_top_aggregate(applied.definition))
        self._stack.append(col)
        try:
            value: Value = self._definition(name, applied, col)
            self.memo[name] = (True, value)
            self._finish(name, applied, col, value, None)
            return value
        except EvalFailure as e:
            return self._fail(name, applied, col, e, root=True)
        except DependencyFailure as d:
            return self._fail(name, applied, col, d.origin, root=False, via=d.name)
        except decimal.DecimalException as exc:
            bad = EvalFailure(INVALID_OPERATION, f"invalid decimal operation in `{name}`: "
                              f"{type(exc).__name__}", applied.definition.span)
            return self._fail(name, applied, col, bad, root=True)
        finally:
            self._busy.discard(name)
            self.uses.leave()

    def _recall(self, name: str) -> Value:
        ok, v = self.memo[name]
        if name in self.expl:
            self.attach(self.expl[name])
        if ok:
            return v  # type: ignore[return-value]
        assert isinstance(v, EvalFailure)
        raise DependencyFailure(name, v)

    def _fail(self, name: str, applied: Applied, col: Collector, e: EvalFailure, *, root: bool,
              via: str | None = None) -> Value:
        self.memo[name] = (False, e)
        err = self.error_of(name, e)
        self.failures[name] = err
        if root:
            self.roots[name] = err
        self.root_of[name] = name if root else self.root_of.get(via or "", via or name)
        msg = e.message if root else f"depends on `{via}`, which failed: {e.message}"
        self._finish(name, applied, col, None, msg)
        raise DependencyFailure(name, e)

    def _finish(self, name: str, applied: Applied, col: Collector, value: Value, error: str | None) -> None:
        self._stack.pop()
        d = applied.definition
        node = col.build(name, _kind(d), None if error else value_text_or_none(value),
                         formula=_formula(d), span=d.span, override=applied.why, error=error,
                         unit=getattr(d, "type", None))
        self.order.append(name)
        self.expl[name] = node
        self.attach(node)

    def _definition(self, name: str, applied: Applied, col: Collector) -> Value:
        from kpidsl.eval import defs  # the definition kinds live in their own module

        d = applied.definition
        if isinstance(d, ast.InputDecl):
            return self._input(d, col)
        if isinstance(d, ast.Metric):
            return self.run.compiler.compile(d.expr)(self, None)
        if isinstance(d, ast.Const):
            return self._const(d, col)
        if isinstance(d, ast.Score):
            return defs.score(self, d, col)
        assert isinstance(d, ast.Payout)
        return defs.payout(self, d, col)

    def _input(self, d: ast.InputDecl, col: Collector) -> Value:
        row = self.run.inputs.get((self.payee.id, d.name, self.period.label))
        if row is not None:
            col.note(f"entered in {row.ref}")
            return self._period_amount(d, row.value, col)
        if d.default is not None:
            col.note("no value entered: the declared default applies")
            if d.type == "money" and self.prorate is not None:  # as an entered amount (below)
                return self.prorated(num(self._for_period(d.default, col), d.span), col)
            return self.run.compiler.compile(d.default)(self, None)
        raise EvalFailure(MISSING_INPUT, f"input `{d.name}` has no value for payee {self.payee.id} "
                          f"in {self.period.label} and declares no default", d.span)

    def _period_amount(self, d: ast.InputDecl, value: Value, col: Collector) -> Value:
        """A money input is an amount for the period (a bonus entered for the quarter): in a
        segment it is prorated by days, as a ``per period`` const, so the segments add up to
        it once. Other inputs (a score, a rate) hold in every segment as entered."""
        if d.type == "money" and self.prorate is not None:
            return self.prorated(num(value, d.span), col)
        return value

    def _const(self, d: ast.Const, col: Collector) -> Value:
        if d.per_period and self.prorate is not None:
            return self.prorated(num(self._for_period(d.expr, col), d.span), col)
        return self.run.compiler.compile(d.expr)(self, None)

    def _for_period(self, expr: ast.Expr, col: Collector) -> Value:
        """``expr`` as the whole period's value (a ``per period`` const's or a default target's,
        to be prorated once): the names it uses are not prorated, as they are in the segment,
        or ``quota`` of ``target bookings = quota`` (``quota ... per period``) would be
        prorated twice; and their windows are the whole period's, with the segment's
        definitions, or ``target bookings = last_quarter * 110%`` would prorate the previous
        period's segment part again. Their explanations go under ``col``."""
        if self.prorate is None:
            return self.run.compiler.compile(expr)(self, None)
        sub = self._period_env
        if sub is None:
            full = Segment(self.period.start, self.period.end, self.seg.defs, self.seg.attrs)
            sub = self._period_env = Env(self.run, self.payee, self.period, full, whole=self.whole)
            sub.uses = self.uses  # one call stack: a fallback around a use is seen through both
        sub._stack.append(col)
        try:
            return self.run.compiler.compile(expr)(sub, None)
        finally:
            sub._stack.pop()

    def prorated(self, value: Decimal, col: Collector) -> Decimal:
        """``value`` × segment days ÷ period days (only inside a segment of a split period)."""
        if self.prorate is None:
            return value
        days, total = self.prorate
        col.note(f"prorated {days}/{total} days from {fmt(value)}")
        return self.ctx.divide(self.ctx.multiply(value, Decimal(days)), Decimal(total))

    # ---- targets, attainment, prior --------------------------------------------------

    def _memo_builtin(self, key: str) -> Decimal | None:
        if key not in self.memo:
            return None
        ok, v = self.memo[key]
        if key in self.expl:
            self.attach(self.expl[key])
        if not ok:
            assert isinstance(v, EvalFailure)
            raise v
        assert isinstance(v, Decimal)
        return v

    def target(self, metric: str, span: Span) -> Decimal:
        key = f"target({metric})"
        hit = self._memo_builtin(key)
        if hit is not None:
            return hit
        col = Collector()
        self._stack.append(col)
        applied = self.seg.defs.get(f"target:{metric}")
        try:
            value = self._target_value(metric, applied, col, span)
        except EvalFailure as e:
            self.memo[key] = (False, e)
            raise
        finally:
            self._stack.pop()
        self.memo[key] = (True, value)
        self.order.append(key)
        node = col.build(key, "target", fmt(value), span=applied.definition.span if applied and not col.data
                         else None, override=applied.why if applied and not col.data else None)
        self.expl[key] = node
        self.attach(node)
        return value

    def _target_value(self, metric: str, applied: Applied | None, col: Collector, span: Span) -> Decimal:
        row = self.run.targets.get((self.payee.id, metric, self.period.label))
        if row is not None:
            col.data = True
            col.note(f"data target from {row.ref} (wins over the plan's default)")
            return self.prorated(row.value, col)
        if applied is None:
            raise EvalFailure(MISSING_TARGET, f"no target for `{metric}` for payee {self.payee.id} in "
                              f"{self.period.label} (neither in the data nor as a plan default)", span)
        assert isinstance(applied.definition, ast.Target)
        col.formula = unparse(applied.definition.expr)
        col.note("plan default target" + (" of an override" if applied.block else ""))
        value = num(self._for_period(applied.definition.expr, col), span)
        return self.prorated(value, col)

    def attainment(self, metric: str, span: Span) -> Decimal:
        key = f"attainment({metric})"
        hit = self._memo_builtin(key)
        if hit is not None:
            return hit
        col = Collector(formula=f"{metric} / target({metric})")
        self._stack.append(col)
        try:
            m = num(self.named(metric, span), span)
            t = self.target(metric, span)
            if t.is_zero():
                raise EvalFailure(ZERO_TARGET, f"target for `{metric}` is 0 for payee {self.payee.id} in "
                                  f"{self.period.label}: attainment is undefined", span)
            if t < 0:
                # decision s10d: a quota is never negative; m / t would flip the sign
                raise EvalFailure(ZERO_TARGET, negative_target_message(metric, t, self.payee.id,
                                                                       self.period.label), span)
            value = self.ctx.divide(m, t)
        except EvalFailure as e:
            self._stack.pop()
            self.memo[key] = (False, e)
            raise
        except DependencyFailure:
            self._stack.pop()
            raise
        self._stack.pop()
        self.memo[key] = (True, value)
        self.order.append(key)
        self.expl[key] = col.build(key, "attainment", fmt(value), span=span)
        self.attach(self.expl[key])
        return value

    def prior(self, component: str, span: Span) -> Decimal:
        if self.run.prior_fn is None:
            raise EvalFailure(PRIOR_FAILED, "prior() is not available in this evaluation", span)
        parts = self.run.prior_fn(self.payee.id, component, self.period.label)
        # in a segment, what the component came to in the period's earlier segments is prior
        # too: the segments of a true-up (``ytd ... - prior(c)``) then add up to the period's
        # true-up once, not once per segment (docs/semantics-decisions.md)
        parts = (*parts, *(PriorPart(e.seg.label, e.payouts[component].value, "earlier segment of this period")
                           for e in self.earlier if component in e.payouts))
        total = ZERO
        for p in parts:
            total = self.ctx.add(total, p.amount)
        rows = tuple((p.period, p.source, fmt(p.amount)) for p in parts)
        effective = self.run.model.header.effective
        notes = ("earlier periods of the same fiscal year",
                 *(("and the earlier segments of this period",) if self.earlier else ()),
                 *((f"periods that ended before the plan took effect ({effective.isoformat()}) count "
                    "only what payments record",)
                   if effective is not None and any(e.end < effective for e in
                                                    self.period.earlier_in_fiscal_year()) else ()))
        self.attach(Explanation(f"prior({component})", "expr", fmt(total), span=span,
                                row_header=("period", "source", "amount"), rows=rows, notes=notes))
        return total

    # ---- calls, aggregates, windows, fields ----------------------------------------

    def call(self, name: str, args: tuple[Value, ...], f: FactCtx | None, span: Span) -> Value:
        from kpidsl.eval import defs

        applied = self.seg.defs.get(name)
        if applied is not None and isinstance(applied.definition, ast.Table):
            return defs.table(self, applied, args, f, span)
        if applied is not None and isinstance(applied.definition, ast.Tiers):
            return defs.tiers(self, applied, args, f, span)
        raise EvalFailure(UNDEFINED, f"`{name}` is not a table or tiers for payee {self.payee.id}", span)

    def fallback(self, e: ast.Fallback, main: Fn, alt: Fn, f: FactCtx | None) -> Value:
        return fallback(self, e, main, alt, f)

    def push(self, col: Collector) -> None:
        self._stack.append(col)

    def pop(self) -> None:
        self._stack.pop()

    def window(self, w: ast.Window) -> tuple[dt.date, dt.date]:
        return window_of(w, self.seg, self.period)

    def field(self, f: FactCtx | None, node: ast.Field) -> Value:
        return read_field(self.run, f, node)

    def aggregate(self, agg: ast.Aggregate) -> Value:
        hit = self._aggs.get(id(agg))
        if hit is None:
            hit = self._aggregate(agg)
            self._aggs[id(agg)] = hit
        result, node = hit
        top = self._stack[-1] if self._stack else None
        if top is not None and top.top_agg is agg:
            top.facts_from(result, node.notes)
        else:
            self.attach(node)
        return result.value

    def _aggregate(self, agg: ast.Aggregate) -> tuple[AggResult, Explanation]:
        stage = self.run.fact_stage
        hit = stage.aggregate(agg, self.payee.id, self.period, self.seg) if stage is not None else None
        if hit is not None:
            return hit
        scope = scope_payees(self.run, self.payee.id, self.seg, agg.scope)
        result = aggregate_facts(self, self.run, agg, scope)
        notes = (*scope_note(agg.scope, scope, self.seg.end), *window_notes(agg, self.seg, self.period),
                 *as_of_note(self.run.as_of))
        node = Explanation(unparse(agg), "facts", fmt(result.value), formula=unparse(agg), span=agg.span,
                           facts=result.keys, fact_count=result.count,
                           row_header=("fact", "share", "amount") if result.rows else (), rows=result.rows,
                           notes=notes)
        return result, node


# ---- shared with the quick payee stage (kpidsl.eval.quick) ---------------------------


def window_of(w: ast.Window, seg: Segment, period: Period) -> tuple[dt.date, dt.date]:
    """The first and last day of a window for a segment of a period."""
    if isinstance(w, ast.PeriodWindow):
        return seg.start, seg.end
    if isinstance(w, ast.YtdWindow):
        return period.fy_start, seg.end
    if isinstance(w, ast.PreviousPeriodWindow):
        # inside a segment, the segment's dates one period earlier: the segments of a split
        # period then cover the previous period once, not once each (docs/semantics-decisions.md)
        return period.previous_of(seg.start, seg.end)
    return w.start, w.end


def read_field(run: RunContext, f: FactCtx | None, node: ast.Field) -> Value:
    """A field of the fact being visited, through one reference hop (``collection.deal.product``)."""
    if f is None:
        raise EvalFailure(INVALID_OPERATION, f"`{unparse(node)}` is read outside an aggregate", node.span)
    if node.path == ("share",):
        return f.share
    v = f.fact.values.get(node.path[0])
    if len(node.path) == 1:
        return v
    schema = run.model.kinds.get(f.fact.kind)
    ref_kind = schema.fields.get(node.path[0], "") if schema else ""
    target = run.index.by_key.get(ref_kind, {}).get(str(v))
    if target is None:
        raise EvalFailure(DANGLING_REFERENCE, f"{f.fact.kind} {f.fact.key} ({f.fact.ref}) references "
                          f"{ref_kind} {v!r}, which is not in the data (`{unparse(node)}`)", node.span)
    return target.values.get(node.path[1])


def scope_payees(run: RunContext, pid: str, seg: Segment, scope: str) -> list[str]:
    """The payees whose credited facts an aggregate ``over`` ``scope`` reads."""
    return scope_members(run.hierarchy, pid, seg, scope)


def scope_members(hierarchy: Hierarchy, pid: str, seg: Segment, scope: str) -> list[str]:
    """:func:`scope_payees` from the reporting tree alone (the columnar stage's team roll-up):
    the payee for ``self``, everyone below them as of the segment's last day for ``team``."""
    own = [pid] if scope in ("self", "self+team") else []
    team = hierarchy.team(pid, seg.end) if "team" in scope else []
    return own + team


def aggregate_facts(s: Scope, run: RunContext, agg: ast.Aggregate, payees: list[str]) -> AggResult:
    """An aggregate over the facts credited to ``payees``, filtered and valued by ``s``'s closures."""
    from kpidsl.eval.compile import mentions_share

    where = run.compiler.compile(agg.where) if agg.where is not None else None
    expr = run.compiler.compile(agg.expr) if agg.expr is not None else None
    wants_num = agg.func in ("sum", "avg", "min", "max")
    values: list[tuple[str, Decimal, object]] = []
    for fact, share in run.index.credited(agg.kind, payees, agg.credit):
        fc = FactCtx(fact, share)
        if where is not None and where(s, fc) is not True:
            continue
        v = expr(s, fc) if expr is not None else None
        values.append((fact.key, share, num(v, agg.span) if wants_num else v))
    weight = agg.func == "sum" and not mentions_share(agg.expr)
    return combine(agg.func, values, s.ctx, weight, unparse(agg), agg.span)


def scope_note(scope: str, payees: list[str], day: dt.date | None = None) -> tuple[str, ...]:
    """``scope team: a, b``, and the day of the reporting tree when known."""
    if scope == "self":
        return ()
    tree = f" (reporting tree as of {day.isoformat()})" if day is not None and "team" in scope else ""
    return (f"scope {scope}: {', '.join(payees) if payees else '(nobody)'}{tree}",)


def window_notes(agg: ast.Aggregate, seg: Segment, period: Period) -> tuple[str, ...]:
    """The dates of the aggregate's period-relative windows (``ytd: 2026-01-01..2026-09-30``),
    so that an explanation shows which days ``in period``, ``ytd`` or ``previous period`` were."""
    out: list[str] = []
    for node in ast.walk(agg.where):
        if isinstance(node, ast.InWindow) and not isinstance(node.window, ast.DateRangeWindow):
            start, end = window_of(node.window, seg, period)
            note = f"{unparse_window(node.window)}: {start.isoformat()}..{end.isoformat()}"
            if note not in out:
                out.append(note)
    return tuple(out)


def as_of_note(as_of: dt.date | None) -> tuple[str, ...]:
    if as_of is None:
        return ()
    return (f"as of {as_of.isoformat()}: facts dated after it are left out",)


def _top_aggregate(d: ast.Definition) -> ast.Aggregate | None:
    expr = getattr(d, "expr", None)
    return expr if isinstance(expr, ast.Aggregate) else None


def _kind(d: ast.Definition) -> str:
    if isinstance(d, ast.Metric):
        return "metric" if isinstance(d.expr, ast.Aggregate) else "derived"
    return {ast.InputDecl: "input", ast.Const: "const", ast.Score: "score", ast.Payout: "payout"}.get(
        type(d), "expr")


def _formula(d: ast.Definition) -> str:
    expr = getattr(d, "expr", None)
    if isinstance(d, ast.Score):
        return "Σ weight × min(attainment, cap); 0 below threshold"
    if isinstance(d, ast.Const) and d.per_period:
        return unparse(d.expr) + " per period"
    return unparse(expr) if expr is not None else ""


def value_text_or_none(v: Value) -> str | None:
    return None if v is None else value_text(v)
