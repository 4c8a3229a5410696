"""One evaluation run: payees, segments, components, rounding, totals and ``prior()``."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

import attrs

from kpidsl import ast
from kpidsl.data.model import Dataset, Fact, Payee
from kpidsl.eval.collect import Collector
from kpidsl.eval.compile import Value
from kpidsl.eval.context import FactStage, PriorPart, RunContext
from kpidsl.eval.defs import apply_limits
from kpidsl.eval.env import Env
from kpidsl.eval.errors import (
    BAD_PERIOD,
    BEYOND_PRECISION,
    MID_PERIOD_CHANGE,
    PRIOR_FAILED,
    DependencyFailure,
    EvalFailure,
)
from kpidsl.eval.quick import quick_result
from kpidsl.eval.resolve import Segment, segments
from kpidsl.eval.result import EvalError, EvalResult, PayeeResult, ResultValue
from kpidsl.explain.tree import Explanation
from kpidsl.gcpause import gc_paused
from kpidsl.model import PlanModel
from kpidsl.numbers import ZERO, digits_needed, exact_sum, fmt, is_power_of_ten, quantize
from kpidsl.periods import Period, PeriodError, parse_period


class Engine:
    """Evaluates payees for periods of one plan and data set, caching earlier periods for ``prior``."""

    def __init__(self, model: PlanModel, data: Dataset, as_of: dt.date | None = None,
                 fact_stage: FactStage | None = None, explain: bool = True) -> None:
        self.model = model
        # explain=False: payees on the plain road get no tree now (kpidsl.eval.quick); it is
        # computed on first access, by ``explainer`` when set (the columnar run lists facts)
        self.explain = explain
        self.explainer: Engine | None = None
        self.make_explainer: Callable[[], Engine] | None = None  # ``explainer``, made when first needed
        self.bulk_surprises: list[str] = []  # groups the bulk stage gave up on (tests: none)
        self.run = RunContext(model, data, as_of, fact_stage)
        self.run.prior_fn = self.prior_parts
        self.payees = {p.id: p for p in data.payees}
        self._cache: dict[tuple[str, str], PayeeResult] = {}
        self._busy: set[tuple[str, str]] = set()

    def forget(self) -> None:
        """Drop every payee's cached result (the data changed: kpidsl.columnar.changes)."""
        self._cache.clear()

    @contextlib.contextmanager
    def extra_facts(self, facts: Sequence[Fact]) -> Iterator[None]:
        """Evaluate as if ``facts`` were in the data (the what-it-takes trials, kpidsl.whatif):
        the reference fact index is layered (:meth:`FactIndex.with_facts`), not rebuilt, and
        the cached results are dropped on entry and on exit, so none crosses a trial."""
        if self.run.fact_stage is not None:
            raise TypeError("extra facts are layered over the reference fact index only")
        base = self.run.index
        layered = base.with_facts(facts)
        self.forget()
        self.run.index = layered
        try:
            yield
        finally:
            self.run.index = base
            self.forget()

    def period(self, text: str) -> Period:
        h = self.model.header
        p = parse_period(text, h.period, h.fiscal_year_start)
        if h.effective is not None and p.end < h.effective:  # the plan pays nothing before it exists
            raise PeriodError(f"the plan takes effect on {h.effective.isoformat()} (`effective` in its "
                              f"header): {p.label} ends on {p.end.isoformat()}, before that")
        return p

    def evaluate(self, period: Period, payees: Iterable[str] | None = None) -> EvalResult:
        with gc_paused():  # many small acyclic values per payee: no cyclic collections meanwhile
            return self._evaluate(period, payees)

    def _evaluate(self, period: Period, payees: Iterable[str] | None) -> EvalResult:
        ids = sorted(self.payees) if payees is None else sorted(set(payees))
        if not self.explain:
            self._in_bulk(period, [pid for pid in ids if pid in self.payees])
        results: dict[str, PayeeResult] = {}
        errors: list[EvalError] = []
        for pid in ids:
            if pid not in self.payees:
                errors.append(EvalError(pid, "", "KPI0614", f"unknown payee {pid!r}", period.label))
                continue
            results[pid] = self.payee_result(pid, period)
            errors.extend(results[pid].errors)
        return EvalResult(period.label, results, tuple(sorted(errors)))

    def payee_result(self, pid: str, period: Period) -> PayeeResult:
        key = (period.label, pid)
        if key not in self._cache:
            self._busy.add(key)
            try:
                quick = None if self.explain else quick_result(
                    self.run, self.payees[pid], period, period.label, self._later(pid, period))
                result = quick or _guarded(self.run, self.payees[pid], period)
                if quick is None and not self.explain and self.make_explainer is not None:
                    # its trees were built on a fact stage that counts facts without listing
                    # them (the columnar one): the explainer's, listing them, are made when asked
                    result = attrs.evolve(result, explanations=None, explain=self._later(pid, period))
                self._cache[key] = result
            finally:
                self._busy.discard(key)
        return self._cache[key]

    def _in_bulk(self, period: Period, ids: list[str]) -> None:
        """Payees whose period is one segment, grouped by the definitions in force, in bulk
        (kpidsl.eval.bulk); whoever leaves a group goes through ``payee_result`` as usual."""
        from kpidsl.eval.bulk import Bulk
        from kpidsl.eval.quick import shared_segment

        label = period.label
        groups: dict[int, tuple[Segment, list[Payee]]] = {}
        for pid in ids:
            if (label, pid) in self._cache:
                continue
            seg = shared_segment(self.run, self.payees[pid], period, label)
            if seg is not None:
                groups.setdefault(id(seg), (seg, []))[1].append(self.payees[pid])
        for seg, members in groups.values():
            try:
                got = Bulk(self.run, period, label, seg, members).results(
                    lambda pid: self._later(pid, period))
            except Exception as exc:  # a surprise in the bulk stage: each payee alone, as before
                self.bulk_surprises.append(f"{type(exc).__name__}: {exc}")
                continue
            for pid, result in got.items():
                self._cache[(label, pid)] = result

    def _later(self, pid: str, period: Period) -> Callable[[], dict[str, Explanation]]:
        """The payee's explanation trees, computed when first asked for."""
        def explain() -> dict[str, Explanation]:
            if self.explainer is None and self.make_explainer is not None:
                self.explainer = self.make_explainer()
            source = self.explainer or self
            if source is self:
                return _guarded(self.run, self.payees[pid], period).explanations
            return source.payee_result(pid, period).explanations

        return explain

    def prior_parts(self, pid: str, component: str, label: str) -> tuple[PriorPart, ...]:
        """``prior(component)``: each earlier period of the fiscal year, paid (payments) or recomputed."""
        period = self.period(label)
        parts = []
        effective = self.model.header.effective
        for earlier in period.earlier_in_fiscal_year():
            paid = self.run.payments.get((pid, component, earlier.label))
            if paid is not None:  # what was actually paid, even before the plan took effect
                parts.append(PriorPart(earlier.label, paid.amount, f"paid ({paid.ref})"))
                continue
            if effective is not None and earlier.end < effective:
                continue  # the plan did not exist yet: nothing to recompute
            if (earlier.label, pid) in self._busy:
                raise EvalFailure(PRIOR_FAILED, f"prior({component}) for {pid} needs {earlier.label}, "
                                  "which is itself being evaluated")
            result = self.payee_result(pid, earlier)
            failure = result.failures.get(component) or next(
                (e for e in result.errors if not e.name and component not in result.components), None)
            if failure is not None:  # the component failed, or the whole payee did (KPI0609...)
                raise EvalFailure(PRIOR_FAILED, f"prior({component}): {earlier.label} failed for {pid}: "
                                  f"{failure.message}")
            parts.append(PriorPart(earlier.label, result.components.get(component, ZERO), "recomputed"))
        return tuple(parts)


def evaluate(model: PlanModel, data: Dataset, period: str, *, as_of: dt.date | None = None,
             payees: Iterable[str] | None = None, fact_stage: FactStage | None = None,
             explain: bool = True) -> EvalResult:
    """Evaluate the plan for ``period`` (``2026-Q3``...) on ``data``; errors are collected, never raised.

    ``fact_stage`` (``kpidsl.columnar``) replaces the in-memory fact index and may supply
    per-payee aggregates; without it the pure-Python reference fact stage runs.
    ``explain=False`` builds explanation trees only when a payee's are first asked for.
    """
    engine = Engine(model, data, as_of, fact_stage, explain)
    try:
        p = engine.period(period)
    except PeriodError as e:
        err = EvalError("", "", BAD_PERIOD, str(e), period, model.header.span)
        return EvalResult(period, {}, (err,))
    return engine.evaluate(p, payees)


# ---- one payee ----------------------------------------------------------------------------


@attrs.define
class _Acc:
    """What a payee's evaluation accumulates across segments."""

    values: dict[str, ResultValue] = attrs.field(factory=dict)
    expl: dict[str, Explanation] = attrs.field(factory=dict)
    errors: dict[tuple[str, str, str], EvalError] = attrs.field(factory=dict)
    failures: dict[str, EvalError] = attrs.field(factory=dict)
    components: dict[str, Decimal] = attrs.field(factory=dict)
    pid: str = ""
    period: str = ""

    def take_errors(self, env: Env) -> None:
        for e in env.errors.values():
            self.errors.setdefault((e.name, e.code, e.message), e)
        for name, e in env.failures.items():
            self.failures.setdefault(name, e)


def _evaluate_payee(run: RunContext, payee: Payee, period: Period) -> PayeeResult:
    segs = segments(run.model, payee, run.history.get(payee.id, ()), period)
    if len(segs) > 1 and run.model.header.changes == "at_period_boundaries":
        return _mid_period_error(payee, period, segs, _components(run, segs))
    acc = _Acc(pid=payee.id, period=period.label)
    if len(segs) == 1:
        _single(run, payee, period, segs[0], acc)
    else:
        _segmented(run, payee, period, segs, acc)
    errors = tuple(sorted(acc.errors.values()))
    total = None
    if not errors:
        # the rounded components are exact at the quantum: their sum must never round
        total = exact_sum(list(acc.components.values()))
        acc.expl["total"] = _total_node(acc.components, acc.expl, total)
    else:  # nothing is paid: the total says why, over the components' trees (the failed ones' errors)
        acc.expl["total"] = _unpaid_total(errors, [acc.expl[c] for c in run.model.payouts if c in acc.expl])
    return PayeeResult(payee.id, total, acc.components, acc.values, errors, acc.expl, acc.failures)


def _guarded(run: RunContext, payee: Payee, period: Period) -> PayeeResult:
    """One payee's result; a decimal failure no named value caught becomes that payee's error."""
    try:
        return _evaluate_payee(run, payee, period)
    except decimal.DecimalException as exc:
        err = EvalError(payee.id, "", BEYOND_PRECISION,
                        f"a value of {payee.id} exceeds the plan's precision of "
                        f"{run.model.header.precision} significant digits ({type(exc).__name__})",
                        period.label, None)
        return PayeeResult(payee.id, None, {}, {}, (err,), _failed_trees(err, list(run.model.payouts)), {})


def _mid_period_error(payee: Payee, period: Period, segs: list[Segment], components: list[str]) -> PayeeResult:
    dates = ", ".join(s.start.isoformat() for s in segs[1:])
    err = EvalError(payee.id, "", MID_PERIOD_CHANGE,
                    f"the plan declares `changes at_period_boundaries`, but for {payee.id} definitions or "
                    f"attributes change inside {period.label} (on {dates})", period.label, None)
    notes = tuple(note for i in range(1, len(segs)) for note in _changes(segs[i - 1], segs[i]))
    return PayeeResult(payee.id, None, {}, {}, (err,), _failed_trees(err, components, notes), {})


def _failed_trees(err: EvalError, components: list[str], notes: tuple[str, ...] = ()) -> dict[str, Explanation]:
    """A payee that failed as a whole still explains why: its total and components show the error."""
    trees = {c: Explanation(c, "payout", None, error=err.message, notes=notes) for c in components}
    trees["total"] = Explanation("total", "payout", None, error=err.message, notes=notes,
                                 children=tuple(trees.values()))
    return trees


def _unpaid_total(errors: tuple[EvalError, ...], components: list[Explanation]) -> Explanation:
    """The total of a payee with errors: not paid, and why (``kpidsl explain`` shows it first)."""
    first = errors[0]
    where = f"{first.name}: " if first.name else ""
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return Explanation("total", "payout", None, error=f"not paid: {where}{first.message}{more}",
                       children=tuple(components))


def _components(run: RunContext, segs: list[Segment]) -> list[str]:
    return [c for c in run.model.payouts if any(c in s.defs for s in segs)]


def _single(run: RunContext, payee: Payee, period: Period, seg: Segment, acc: _Acc) -> None:
    env = Env(run, payee, period, seg)
    env.evaluate_all()
    acc.take_errors(env)
    acc.values.update(_result_values(env.values()))
    acc.expl.update(env.expl)
    for c in _components(run, [seg]):
        ok, v = env.memo.get(c, (False, None))
        if ok and isinstance(v, Decimal):
            _round_into(run, c, v, env.expl[c], acc)


def _round_into(run: RunContext, c: str, value: Decimal, node: Explanation, acc: _Acc) -> None:
    h = run.model.header
    rounded = quantize(value, h.quantum, h.rounding_mode)
    needed = digits_needed(rounded, h.quantum)
    if needed > h.precision:
        msg = (f"`{c}` = {_short(fmt(value))} exceeds the plan's precision: paying it exact to "
               f"{fmt(h.quantum)} needs {needed} significant digits, the plan computes with "
               f"{h.precision} (`precision` in the plan header)")
        err = EvalError(acc.pid, c, BEYOND_PRECISION, msg, acc.period, node.span)
        acc.errors.setdefault((c, err.code, err.message), err)
        acc.failures[c] = err
        acc.expl[c] = attrs.evolve(node, value=None, error=msg)
        return
    acc.components[c] = rounded
    to = fmt(h.quantum) if is_power_of_ten(h.quantum) else f"a multiple of {fmt(h.quantum)}"
    note = f"rounded {h.rounding_mode} to {to} from {fmt(value)}"
    acc.expl[c] = attrs.evolve(node, value=fmt(rounded), notes=(*node.notes, note))


def _segmented(run: RunContext, payee: Payee, period: Period, segs: list[Segment], acc: _Acc) -> None:
    envs: list[Env] = []
    for seg in segs:
        env = Env(run, payee, period, seg, prorate=(seg.days, period.days), whole=False)
        env.earlier = tuple(envs)
        env.evaluate_all()
        acc.take_errors(env)
        for name, v in _result_values(env.values()).items():
            acc.values[f"{name}@{seg.start.isoformat()}"] = v
        for name, node in env.expl.items():
            acc.expl[f"{name}@{seg.start.isoformat()}"] = node
        envs.append(env)
    acc.values.update(_result_values(envs[-1].values()))
    # a plain name is the state at the period's end: its tree says so, and where the others are
    names = ", ".join(f"@{s.start.isoformat()}" for s in segs)

    def last_note(name: str) -> str:
        return (f"the value of the last of {len(segs)} segments ({segs[-1].label}); "
                f"each segment's own is {name}{names}")

    acc.expl.update({k: attrs.evolve(v, notes=(*v.notes, last_note(k)))
                     for k, v in envs[-1].expl.items() if k not in run.model.payouts})
    # floor and cap: the definition in force at the period's end, or, for a component that
    # ended inside the period (a role without it from some day), the last one that defined it;
    # over the whole period (docs/semantics-decisions.md)
    wholes: dict[int, Env] = {}
    for c in _components(run, segs):
        i = max(i for i, seg in enumerate(segs) if c in seg.defs)
        if i not in wholes:
            wholes[i] = Env(run, payee, period, Segment(period.start, period.end, segs[i].defs, segs[i].attrs))
        _combine_component(run, c, envs, wholes[i], acc)
    for whole in wholes.values():
        acc.take_errors(whole)


def _combine_component(run: RunContext, c: str, envs: list[Env], whole: Env, acc: _Acc) -> None:
    """Sum a component's segments, then apply the floor/cap of the definition ``whole`` holds
    (the last one in force in the period)."""
    parts: list[Explanation] = []
    total, passed = ZERO, False
    before: Segment | None = None
    for env in envs:
        changed, before = _changes(before, env.seg), env.seg
        if c in env.failures:
            acc.failures.setdefault(c, env.failures[c])
            return
        state = env.payouts.get(c)
        if state is None:
            continue
        total = run.ctx.add(total, state.value)
        passed = passed or state.passed
        parts.append(Explanation(env.seg.label, "segment", fmt(state.value), children=(env.expl[c],),
                                 notes=(f"{env.seg.days} of {env.period.days} days", *changed)))
    col = Collector()
    d = whole.seg.defs[c].definition if c in whole.seg.defs else None
    value = total
    if passed and isinstance(d, ast.Payout):
        whole.push(col)  # the floor's and cap's own values are explained under the component
        try:
            value = apply_limits(whole, d, total, col)
        except (EvalFailure, DependencyFailure) as e:
            origin = e if isinstance(e, EvalFailure) else e.origin
            err = whole.error_of(c, origin)
            acc.errors.setdefault((c, err.code, err.message), err)
            acc.failures[c] = err
            return
        finally:
            whole.pop()
    col.note(f"sum of {len(parts)} segments: {fmt(total)}")
    for p in parts:
        col.add(p)
    applied = whole.seg.defs.get(c)
    node = col.build(c, "payout", fmt(value), formula=_formula_of(d), span=d.span if d else None,
                     override=applied.why if applied else None)
    _round_into(run, c, value, node, acc)


def _changes(before: Segment | None, seg: Segment) -> tuple[str, ...]:
    """Why a segment starts: the payee's attributes and the definitions that changed that day."""
    if before is None:
        return ()
    attributes = [f"{k} {before.attrs.get(k) or '(none)'} → {seg.attrs.get(k) or '(none)'}"
                  for k in sorted({*before.attrs, *seg.attrs}) if before.attrs.get(k) != seg.attrs.get(k)]
    defs = [k for k in sorted({*before.defs, *seg.defs}) if k not in before.defs or k not in seg.defs
            or before.defs[k].definition is not seg.defs[k].definition]
    out = []
    if attributes:
        out.append(f"from {seg.start.isoformat()}: {', '.join(attributes)}")
    if defs:
        out.append(f"from {seg.start.isoformat()}, other definitions of: {', '.join(defs)}")
    return tuple(out)


def _short(text: str, keep: int = 40) -> str:
    """A number's text for a message: a value of thousands of digits shows its first
    digits and how many there are, not a screenful of them."""
    if len(text) <= keep:
        return text
    digits = sum(ch.isdigit() for ch in text)
    return f"{text[:keep]}… ({digits:,} digits)"


def _formula_of(d: ast.Definition | None) -> str:
    from kpidsl.eval.unparse import unparse

    return unparse(d.expr) if isinstance(d, ast.Payout) else ""


def _result_values(values: dict[str, Value]) -> dict[str, ResultValue]:
    return {k: v for k, v in values.items() if v is not None}


def _total_node(components: dict[str, Decimal], expl: dict[str, Explanation], total: Decimal) -> Explanation:
    rows = tuple((c, fmt(v)) for c, v in components.items())
    children = tuple(expl[c] for c in components if c in expl)
    return Explanation("total", "payout", fmt(total), formula=" + ".join(components) or "0",
                       row_header=("component", "amount"), rows=rows, children=children,
                       notes=("the sum of the rounded components",))
