"""Payees in bulk: a group with the same definitions evaluated as columns of values.

When only the figures are needed first (``explain=False``), payees whose
period is one segment with the same definitions in force (the same override
blocks apply: same attributes, no history) are evaluated together. Each
expression becomes a function over a list of payees (positions in the group)
returning their values in the same order; names, targets and attainments are
columns computed once per payee.

The result for every payee is what :class:`~kpidsl.eval.quick.QuickScope`
(and so the reference) computes, value for value and in the same order:

* the same operations in the same context (``kpidsl.eval.compile.arith`` and
  ``compare``, :func:`kpidsl.eval.defs.when_applied`, the tier functions);
* short-circuits are kept per payee: the right of ``and``/``or``, a ``when``'s
  value, floors and caps are evaluated only for the payees that need them,
  so each payee evaluates exactly the named values the reference would;
* everything else (tiers and tables, ``min``/``max``, lists, windows,
  fallbacks, scores, inputs) runs per payee through :class:`RowScope`, the
  quick stage's scope answering names from the group's columns.

A payee that hits any failure leaves the group (it is *dropped*) and goes
through the quick stage and then, as usual, the reference, which reports and
explains it.
"""

from __future__ import annotations

import decimal
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kpidsl import ast
from kpidsl.data.model import Payee
from kpidsl.eval import defs
from kpidsl.eval import tiers as tiermath
from kpidsl.eval.compile import OPERATIONS, Value, arith, compare, num
from kpidsl.eval.context import RunContext
from kpidsl.eval.env import aggregate_facts, scope_payees
from kpidsl.eval.errors import DependencyFailure, EvalFailure
from kpidsl.eval.quick import _SINK, Explainer, NeedsReference, QuickScope
from kpidsl.eval.resolve import Segment
from kpidsl.eval.result import PayeeResult
from kpidsl.numbers import ZERO, exact_sum, quantize_all
from kpidsl.periods import Period
from kpidsl.source import Span

# what a payee's failure raises; the payee leaves the group (garbage it left behind
# in a column may make later operations of that payee raise TypeError: also dropped)
FAILURES = (EvalFailure, DependencyFailure, NeedsReference, ArithmeticError, TypeError)

VFn = Callable[["Bulk", list[int]], list[Value]]
BUILTIN_CALLS = ("attainment", "target", "prior", "min", "max", "abs")


class Bulk:
    """One group of payees with the same segment: columns of named values, payees dropped on failure."""

    def __init__(self, run: RunContext, period: Period, label: str, seg: Segment,
                 payees: list[Payee]) -> None:
        self.run, self.period, self.label, self.seg = run, period, label, seg
        self.ctx: decimal.Context = run.ctx
        self.payees = payees
        self.ids = [p.id for p in payees]
        self.dropped = [False] * len(payees)
        self.cols: dict[str, list[Value]] = {}
        self.done: dict[str, list[bool]] = {}
        self.order: list[list[str]] = [[] for _ in payees]
        self._aggs: dict[int, dict[int, Value]] = {}
        self._busy: set[str] = set()

    def drop(self, i: int) -> None:
        self.dropped[i] = True

    def vexpr(self, e: ast.Expr) -> VFn:
        cache = self.run.vector_cache
        hit = cache.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]  # type: ignore[return-value]
        fn = _build(e)
        cache[id(e)] = (e, fn)
        return fn

    def nums(self, idx: list[int], values: list[Value]) -> list[Decimal]:
        """The values as decimals; a payee whose value is not a number is dropped."""
        out: list[Decimal] = []
        for i, v in zip(idx, values, strict=True):
            if isinstance(v, Decimal):
                out.append(v)
            else:
                self.drop(i)
                out.append(ZERO)
        return out

    # ---- columns: named values, targets, attainments, aggregates -------------------

    def _column(self, key: str) -> tuple[list[Value], list[bool]]:
        if key not in self.cols:
            self.cols[key] = [None] * len(self.payees)
            self.done[key] = [False] * len(self.payees)
        return self.cols[key], self.done[key]

    def _store(self, key: str, idx: list[int], values: list[Value]) -> None:
        col, done = self._column(key)
        order = self.order
        for i, v in zip(idx, values, strict=True):
            col[i] = v
            done[i] = True
            order[i].append(key)

    def named(self, name: str, idx: list[int]) -> list[Value]:
        col, done = self._column(name)
        missing = [i for i in idx if not done[i]]
        if missing:
            applied = self.seg.defs.get(name)
            if applied is None or name in self._busy:
                for i in missing:
                    self.drop(i)
                return [col[i] for i in idx]
            self._busy.add(name)
            try:
                values = self._definition(name, applied.definition, missing)
            finally:
                self._busy.discard(name)
            self._store(name, missing, values)
        return [col[i] for i in idx]

    def _definition(self, name: str, d: ast.Definition, idx: list[int]) -> list[Value]:
        if isinstance(d, (ast.Metric, ast.Const)):  # one whole segment: nothing is prorated
            return self.vexpr(d.expr)(self, idx)
        if isinstance(d, ast.Payout):
            return list(self._payout(d, idx))
        if isinstance(d, ast.Score):
            return self.each(idx, lambda s: defs.score(s, d, _SINK))  # type: ignore[arg-type]
        if isinstance(d, ast.InputDecl):
            return self.each(idx, lambda s: s.input_value(name, d))
        for i in idx:
            self.drop(i)
        return [None] * len(idx)

    def zipped(self, idx: list[int], fn: Callable[..., Value], *columns: list[Any]) -> list[Value]:
        """``fn`` on each payee's values of ``columns`` (a failure drops the payee)."""
        out: list[Value] = []
        append = out.append
        # a payee's values as one tuple from an inner zip: ``for i, *values in`` builds a list each
        rows = zip(*columns, strict=True) if columns else [()] * len(idx)
        for i, values in zip(idx, rows, strict=True):
            try:
                append(fn(*values))
            except FAILURES:
                self.drop(i)
                append(None)
        return out

    def each(self, idx: list[int], fn: Callable[[RowScope], Value]) -> list[Value]:
        """``fn`` per payee on its :class:`RowScope` (a failure drops the payee)."""
        out: list[Value] = []
        for i in idx:
            try:
                out.append(fn(RowScope(self, i)))
            except FAILURES:
                self.drop(i)
                out.append(None)
        return out

    def target(self, metric: str, idx: list[int], span: Span) -> list[Value]:
        key = f"target({metric})"
        col, done = self._column(key)
        missing = [i for i in idx if not done[i]]
        if missing:
            rows = [self.run.targets.get((self.ids[i], metric, self.label)) for i in missing]
            values: list[Value] = [r.value if r is not None else None for r in rows]
            plan = [k for k, r in enumerate(rows) if r is None]
            if plan:
                self._plan_targets(metric, missing, plan, values, span)
            self._store(key, missing, values)
        return [col[i] for i in idx]

    def _plan_targets(self, metric: str, missing: list[int], plan: list[int], values: list[Value],
                      span: Span) -> None:
        """The plan's default target, for the payees without a data target."""
        who = [missing[k] for k in plan]
        applied = self.seg.defs.get(f"target:{metric}")
        if applied is None or not isinstance(applied.definition, ast.Target):
            for i in who:
                self.drop(i)
            return
        got = self.nums(who, self.vexpr(applied.definition.expr)(self, who))
        for k, v in zip(plan, got, strict=True):
            values[k] = v

    def attainment(self, metric: str, idx: list[int], span: Span) -> list[Value]:
        key = f"attainment({metric})"
        col, done = self._column(key)
        missing = [i for i in idx if not done[i]]
        if missing:
            m = self.nums(missing, self.named(metric, missing))
            t = self.nums(missing, self.target(metric, missing, span))
            self._store(key, missing, self.zipped(missing, self._ratio, m, t))
        return [col[i] for i in idx]

    def _ratio(self, a: Decimal, b: Decimal) -> Decimal:
        """An attainment; a zero or negative target is the reference's error to word."""
        if b.is_zero() or b < 0:
            raise NeedsReference("a zero or negative target")
        return self.ctx.divide(a, b)

    def aggregate(self, agg: ast.Aggregate, idx: list[int]) -> list[Value]:
        memo = self._aggs.setdefault(id(agg), {})
        stage = self.run.fact_stage
        if stage is not None and not memo:  # the columnar stage's values for the whole group at once
            column = stage.aggregate_values(agg, self.ids, self.period, self.seg)
            if column is not None:
                memo.update({i: v for i, v in enumerate(column) if v is not None})
        if all(i in memo for i in idx):  # the usual case (all from the columnar stage): read only
            return [memo[i] for i in idx]
        out: list[Value] = []
        for i in idx:
            if i in memo:
                out.append(memo[i])
                continue
            try:
                got = (stage.aggregate_value(agg, self.ids[i], self.period, self.seg)
                       if stage is not None else None)
                if got is None:
                    scope = scope_payees(self.run, self.ids[i], self.seg, agg.scope)
                    got = aggregate_facts(RowScope(self, i), self.run, agg, scope)
                memo[i] = got.value
            except FAILURES:
                self.drop(i)
                memo[i] = None
            out.append(memo[i])
        return out

    # ---- payouts -----------------------------------------------------------------------

    def _payout(self, d: ast.Payout, idx: list[int]) -> list[Decimal]:
        """:func:`kpidsl.eval.defs.payout` for a whole period, per payee in the group."""
        value = self.nums(idx, self.vexpr(d.expr)(self, idx))
        for clause in d.clauses:
            if isinstance(clause, ast.When):
                self._when(clause, idx, value)
        passed = [True] * len(idx)
        for clause in d.clauses:
            if isinstance(clause, ast.Requires):
                for k, ok in enumerate(self.vexpr(clause.cond)(self, idx)):
                    passed[k] = passed[k] and ok is True
        value = [v if ok else ZERO for v, ok in zip(value, passed, strict=True)]
        limited = [k for k, ok in enumerate(passed) if ok]
        for kind in (ast.Floor, ast.Cap):
            for clause in d.clauses:
                if isinstance(clause, kind) and limited:
                    self._limit(clause, idx, limited, value)
        return value

    def _when(self, clause: ast.When, idx: list[int], value: list[Decimal]) -> None:
        met = [k for k, c in enumerate(self.vexpr(clause.cond)(self, idx)) if c is True]
        if not met:
            return
        who = [idx[k] for k in met]
        operands = self.nums(who, self.vexpr(clause.value)(self, who))
        for k, i, operand in zip(met, who, operands, strict=True):
            try:
                value[k] = defs.when_applied(clause.op, value[k], operand, self.ctx)
            except FAILURES:
                self.drop(i)

    def _limit(self, clause: ast.Floor | ast.Cap, idx: list[int], limited: list[int],
               value: list[Decimal]) -> None:
        who = [idx[k] for k in limited]
        bounds = self.nums(who, self.vexpr(clause.expr)(self, who))
        for k, i, bound in zip(limited, who, bounds, strict=True):
            try:
                if (value[k] < bound) if isinstance(clause, ast.Floor) else (value[k] > bound):
                    value[k] = bound
            except FAILURES:
                self.drop(i)

    # ---- the whole group ---------------------------------------------------------------

    def evaluate_all(self) -> None:
        """What :meth:`QuickScope.evaluate_all` evaluates, for every payee, in the same order."""
        every = list(range(len(self.payees)))
        for key, applied in self.seg.defs.items():
            d = applied.definition
            if isinstance(d, (ast.Metric, ast.Const, ast.Score, ast.Payout)):
                self.named(key, every)
            elif isinstance(d, ast.InputDecl):
                entered = [i for i in every if (self.ids[i], key, self.label) in self.run.inputs]
                if entered:
                    self.named(key, entered)
            elif isinstance(d, ast.Target):
                self.attainment(d.metric, every, d.span)
        by_metric: dict[str, list[int]] = {}
        for i in every:
            for metric in self.run.target_metrics.get((self.ids[i], self.label), ()):
                if metric in self.seg.defs:
                    by_metric.setdefault(metric, []).append(i)
        for metric in sorted(by_metric):  # each payee's metrics are sorted: its order is kept
            self.attainment(metric, by_metric[metric], self.seg.defs[metric].definition.span)

    def results(self, explainer: Callable[[str], Explainer]) -> dict[str, PayeeResult]:
        """Every payee still in the group: its result without trees (``explainer`` gives them)."""
        self.evaluate_all()
        h = self.run.model.header
        components = [c for c in self.run.model.payouts if c in self.seg.defs]
        payouts = {k for k, a in self.seg.defs.items() if isinstance(a.definition, ast.Payout)}
        out: dict[str, PayeeResult] = {}
        if all(self.dropped):
            return out
        cols, precision = self.cols, h.precision
        live = [i for i, gone in enumerate(self.dropped) if not gone]
        # each component rounded for every payee at once; a payee with a component that is not
        # a number, or needs more digits than the plan's precision, is left to the quick stage
        paid_columns: list[tuple[str, list[tuple[Decimal, int]]]] = []
        for c in components:
            col = cols[c]
            got = [col[i] for i in live]
            decimals = [v if type(v) is Decimal else ZERO for v in got]
            rounded = quantize_all(decimals, h.quantum, h.rounding_mode)
            paid_columns.append((c, [r if type(v) is Decimal else (ZERO, precision + 1)
                                     for v, r in zip(got, rounded, strict=True)]))
        shown: tuple[list[str], list[str]] = ([], [])  # the last payee's order, its names shown
        for k, i in enumerate(live):
            if any(column[k][1] > precision for _, column in paid_columns):
                continue
            paid = {c: column[k][0] for c, column in paid_columns}
            order = self.order[i]
            if order != shown[0]:  # the payees of a group most often evaluate the same names
                shown = (order, [name for name in order if name not in payouts])
            values = {name: v for name in shown[1] if (v := cols[name][i]) is not None}
            pid = self.ids[i]
            out[pid] = PayeeResult(pid, exact_sum(list(paid.values())), paid, values, (), None, {}, explainer(pid))
        return out


class RowScope(QuickScope):
    """One payee of a group, for what runs per payee: names come from the group's columns."""

    def __init__(self, bulk: Bulk, i: int) -> None:
        super().__init__(bulk.run, bulk.payees[i], bulk.period, bulk.seg, bulk.label)
        self.bulk, self.i = bulk, i

    def _one(self, values: list[Value]) -> Value:
        if self.bulk.dropped[self.i]:
            raise NeedsReference("dropped")
        return values[0]

    def named(self, name: str, span: Span) -> Value:
        return self._one(self.bulk.named(name, [self.i]))

    def target(self, metric: str, span: Span) -> Decimal:
        return num(self._one(self.bulk.target(metric, [self.i], span)), span)

    def attainment(self, metric: str, span: Span) -> Decimal:
        return num(self._one(self.bulk.attainment(metric, [self.i], span)), span)

    def aggregate(self, agg: ast.Aggregate) -> Value:
        return self._one(self.bulk.aggregate(agg, [self.i]))

    def input_value(self, name: str, d: ast.InputDecl) -> Value:
        return self._definition(name, d)


# ---- expressions as functions over payees ---------------------------------------------


def _build(e: ast.Expr) -> VFn:
    if isinstance(e, (ast.Number, ast.String, ast.DateLit, ast.Bool)):
        const: Value = e.value
        return lambda b, idx: [const] * len(idx)
    if isinstance(e, ast.Name):
        name = e.name
        return lambda b, idx: b.named(name, idx)
    if isinstance(e, ast.Binary):
        if e.op in ("and", "or"):
            return _logic(e)
        if e.op in ("+", "-", "*", "/"):
            return _arith(e)
        return _compare(e)
    if isinstance(e, ast.Call) and e.func in ("attainment", "target") and e.args \
            and isinstance(e.args[0], ast.Name):
        ref, span = e.args[0].name, e.span
        if e.func == "attainment":
            return lambda b, idx: b.attainment(ref, idx, span)
        return lambda b, idx: b.target(ref, idx, span)
    if isinstance(e, ast.Aggregate):
        agg = e
        return lambda b, idx: b.aggregate(agg, idx)
    if isinstance(e, ast.Call) and len(e.args) == 1 and e.func not in BUILTIN_CALLS:
        return _tiers_call(e, _per_payee(e))
    return _per_payee(e)


def _tiers_call(e: ast.Call, per_payee: VFn) -> VFn:
    """``name(x)`` of lookup, marginal or step tiers with bands (and ``above``) written as
    numbers: :func:`kpidsl.eval.defs.tier_outcome` per payee on columns. Anything else
    (a table, interpolated tiers, computed bands) goes per payee."""
    span = e.span

    def fn(b: Bulk, idx: list[int]) -> list[Value]:
        applied = b.seg.defs.get(e.func)  # the group's definitions: one tiers for everyone
        d = applied.definition if applied is not None else None
        if not isinstance(d, ast.Tiers) or d.mode == "interpolated" or \
                (d.above is not None and not isinstance(d.above, ast.Number)):
            return per_payee(b, idx)
        bands = defs.literal_bands(b.run, d)
        if bands is None:
            return per_payee(b, idx)
        arg = b.nums(idx, b.vexpr(e.args[0])(b, idx))
        above = d.above.value if isinstance(d.above, ast.Number) else None
        on: list[Value] = [None] * len(idx)
        scale: list[Value] = [None] * len(idx)
        if d.mode == "step":
            on = list(b.nums(idx, b.vexpr(d.on)(b, idx)))
        elif d.mode == "marginal" and defs.attainment_metric(d.on):
            scale = b.target(defs.attainment_metric(d.on), idx, span)
        rate = defs.is_rate(b.run, d)
        scaled = d.mode == "marginal" and bool(defs.attainment_metric(d.on))  # once, not per payee
        ctx = b.ctx
        return b.zipped(idx, lambda x, y, t: _tier_value(d, bands, x, y, t, above, rate, ctx, span, scaled),
                        arg, on, scale)

    return fn


_UNITS = tiermath.Units()  # frozen: one for every payee (the bulk stage words no message)


def _tier_value(d: ast.Tiers, bands: tuple[tiermath.EBand, ...], arg: Decimal, on: Value, target: Value,
                above: Decimal | None, rate: bool, ctx: decimal.Context, span: Span,
                scaled: bool) -> Decimal:
    """One payee's tiers value, as :func:`kpidsl.eval.defs.tier_outcome` computes it
    (``scaled``: marginal tiers ``on attainment(m)``, their edges × the payee's target)."""
    scale = None
    if scaled:
        scale = num(target, span)
        if scale <= 0:
            raise NeedsReference("a zero or negative target")  # the reference words it
    if d.mode == "step":
        return defs.banded(d, bands, arg if rate else None, num(on, span), None, above, ctx, span,
                           _UNITS).value
    return defs.banded(d, bands, arg, None, scale, above, ctx, span, _UNITS, False).value


def _per_payee(e: ast.Expr) -> VFn:
    """Any other expression: its compiled closure, per payee, on the payee's :class:`RowScope`."""
    def fn(b: Bulk, idx: list[int]) -> list[Value]:
        closure = b.run.compiler.compile(e)
        return b.each(idx, lambda s: closure(s, None))

    return fn


def _logic(e: ast.Binary) -> VFn:
    """``and``/``or``: the right side only for the payees whose left side does not decide."""
    is_and = e.op == "and"

    def fn(b: Bulk, idx: list[int]) -> list[Value]:
        left = [bool(v) for v in b.vexpr(e.left)(b, idx)]
        need = [k for k, v in enumerate(left) if v is is_and]
        result: list[Value] = list(left)
        if need:
            right = b.vexpr(e.right)(b, [idx[k] for k in need])
            for k, v in zip(need, right, strict=True):
                result[k] = bool(v)
        return result

    return fn


def _arith(e: ast.Binary) -> VFn:
    op = e.op

    def fn(b: Bulk, idx: list[int]) -> list[Value]:
        left, right, ctx = b.vexpr(e.left)(b, idx), b.vexpr(e.right)(b, idx), b.ctx
        xs, ys = _decimals(left), _decimals(right)
        if xs is not None and ys is not None and (op != "/" or not any(y.is_zero() for y in ys)):
            operation = OPERATIONS[op]  # the usual case: the context's operation on each pair, as ``arith`` does
            try:
                return [operation(ctx, x, y) for x, y in zip(xs, ys, strict=True)]
            except ArithmeticError:  # a trapped condition: pair by pair, dropping who fails
                pass
        return b.zipped(idx, lambda x, y: arith(op, num(x, e.left.span), num(y, e.right.span), ctx, e),
                        left, right)

    return fn


def _decimals(column: list[Value]) -> list[Decimal] | None:
    """The column itself when every value is a decimal, else None."""
    return column if all(type(v) is Decimal for v in column) else None  # type: ignore[return-value]


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
          "==": operator.eq, "!=": operator.ne}


def _compare(e: ast.Binary) -> VFn:
    op, span = e.op, e.span

    def fn(b: Bulk, idx: list[int]) -> list[Value]:
        left, right = b.vexpr(e.left)(b, idx), b.vexpr(e.right)(b, idx)
        xs, ys = _decimals(left), _decimals(right)
        if xs is not None and ys is not None:  # what ``compare`` does with two decimals
            try:
                return list(map(_ORDER[op], xs, ys))
            except ArithmeticError:  # a NaN: pair by pair, dropping who fails
                pass
        return b.zipped(idx, lambda x, y: compare(op, x, y, span), left, right)

    return fn
