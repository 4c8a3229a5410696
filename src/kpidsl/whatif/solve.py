"""what-it-takes: the smallest extra amount of a metric that reaches a goal.

The extra amount is one more synthetic fact (see :mod:`kpidsl.whatif.synth`)
credited to the payee. Every candidate is checked by evaluating the plan with
that fact added. Where the plan is piecewise-linear in the amount the answer
is solved exactly between breakpoints (tier edges, gate and score thresholds);
otherwise it is found by bisection on cents, and the answer says so.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.api import Plan, RawData, load_data
from kpidsl.data.bind import bind
from kpidsl.data.model import Dataset, Fact
from kpidsl.diagnostics import Diagnostic, KpiError, has_errors
from kpidsl.eval.engine import Engine
from kpidsl.eval.facts import payee_field
from kpidsl.eval.resolve import attrs_on, resolve, segments
from kpidsl.eval.result import PayeeResult
from kpidsl.eval.unparse import unparse
from kpidsl.explain.tree import Explanation
from kpidsl.model import KindSchema, PlanModel
from kpidsl.numbers import fmt
from kpidsl.periods import Period, parse_period
from kpidsl.whatif.search import (
    SEARCH_CONTEXT,
    Goal,
    Solved,
    _crossing,
    _step,
    breakpoints,
    depends,
    solve_payout,
    solve_threshold,
)
from kpidsl.whatif.synth import (
    Recipe,
    Unsatisfiable,
    alternatives,
    build_recipe,
    metric_aggregate,
    reads_through,
)

_CTX = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.DivisionByZero])


@attrs.frozen
class Answer:
    """The answer: amount (in the metric's unit), whether reachable, why, and the figures."""

    metric: str
    goal: str
    status: str  # "reachable" | "already" | "unreachable"
    amount: Decimal | None
    reason: str
    exact: bool
    method: str
    deal: dict[str, str]
    before: dict[str, Decimal | None]
    after: dict[str, Decimal | None]
    warnings: tuple[Diagnostic, ...] = ()  # the data's warnings (as eval shows them)
    # the period is split into segments: the figures are those of the last one (these dates)
    segment: str | None = None
    # the new facts ``deal`` refers to, by reference field (a collection's deal, built to pass
    # a filter such as ``collection.deal.product == "X"``): added with it
    referenced: dict[str, dict[str, str]] = attrs.field(factory=dict)

    @property
    def reachable(self) -> bool:
        return self.status == "reachable"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "goal": self.goal, "status": self.status,
            "reachable": self.reachable,
            "amount": None if self.amount is None else fmt(self.amount),
            "reason": self.reason, "exact": self.exact, "method": self.method,
            "segment": self.segment,
            "deal": dict(self.deal),
            "referenced": {k: dict(v) for k, v in self.referenced.items()},
            "before": {k: None if v is None else fmt(v) for k, v in self.before.items()},
            "after": {k: None if v is None else fmt(v) for k, v in self.after.items()},
            "data_warnings": [d.message for d in self.warnings],
        }


class Probe:
    """Evaluates the plan for one payee with the synthetic fact(s) of a given amount added.

    The engine and its fact index are built over the data once, on the first trial; each
    trial layers its facts over that index (:meth:`Engine.extra_facts`) and evaluates the
    payee, as :func:`kpidsl.eval.evaluate` would on the data with the facts appended."""

    def __init__(self, plan: Plan, dataset: Dataset, period: str, payee: str, recipe: Recipe,
                 engine: tuple[Engine, Period] | None = None):
        self.plan, self.dataset, self.period, self.payee, self.recipe = plan, dataset, period, payee, recipe
        self.taken = {f.key for k in recipe.kinds for f in dataset.facts.get(k, ())}
        self._cache: dict[Decimal, PayeeResult] = {}
        # the engine (and its fact index) of an earlier probe on the same data: another recipe
        self._engine: tuple[Engine, Period] | None = engine

    @property
    def engine(self) -> tuple[Engine, Period] | None:
        """The engine built for the trials, for the next probe on the same data."""
        return self._engine

    def at(self, amount: Decimal) -> PayeeResult:
        if amount not in self._cache:
            if self._engine is None:
                engine = Engine(self.plan.model, self.dataset)
                self._engine = engine, engine.period(self.period)
            engine, period = self._engine
            trial = self.recipe.facts(amount, self.taken) if amount > 0 else []
            with engine.extra_facts(trial):
                result = engine.evaluate(period, [self.payee])
            self._cache[amount] = result.payees[self.payee]
        return self._cache[amount]

    @property
    def evaluations(self) -> int:
        return len(self._cache)


class ColumnarProbe(Probe):
    """:class:`Probe` on data loaded in DuckDB: the trial facts are added to the loaded run
    (kpidsl.columnar.changes) and taken back for the next amount, so each trial evaluates
    one payee on the grouped aggregates and that payee's facts, not the whole data set."""

    def __init__(self, plan: Plan, run: Any, period: str, payee: str, recipe: Recipe):
        super().__init__(plan, run.loaded.dataset, period, payee, recipe)
        self.run = run
        # the keys a trial could take
        self.taken = {key for k in recipe.kinds for key in run.keys_starting(k, "WHATIF-")}
        self._trial: list[Any] = []
        self._amount: Decimal | None = None  # whose trial facts are loaded now

    def at(self, amount: Decimal) -> PayeeResult:
        if amount not in self._cache:
            self._swap(amount)
            result = self.run.evaluate([self.payee]).payees[self.payee]
            # the trees are made when first read, from the facts loaded then: put this
            # amount's trial facts back first (read after a later trial, a tree showed that one)
            self._cache[amount] = attrs.evolve(result, explain=lambda: self._trees(amount, result))
        return self._cache[amount]

    def _swap(self, amount: Decimal) -> None:
        if amount != self._amount:
            trial = self.recipe.facts(amount, self.taken) if amount > 0 else []
            self.run.swap_trial_facts(self._trial, trial, self.payee)
            self._trial, self._amount = trial, amount

    def _trees(self, amount: Decimal, result: PayeeResult) -> dict[str, Explanation]:
        self._swap(amount)
        return result.explanations

    def take_back(self) -> None:
        """Take this probe's trial facts out of the run (the next probe adds its own)."""
        self._swap(Decimal(0))


def _columnar_run(plan: Plan, data: Any, period: str, engine: str) -> Any:
    """A loaded columnar run for a data folder when ``engine`` picks the columnar stage, or None."""
    if not isinstance(data, (str, Path)) or engine == "reference":
        return None
    from kpidsl.columnar import ColumnarRun, load_folder, wants_columnar

    folder = Path(data)
    if engine == "auto" and not wants_columnar(plan.model, folder):
        return None
    loaded = load_folder(plan.model, folder, engine="columnar")
    errors = [d for d in loaded.diagnostics if d.severity == "error"]
    if errors:
        raise KpiError(errors)
    return ColumnarRun(plan.model, loaded, period) if loaded.engine == "columnar" else None


def _dataset(plan: Plan, data: RawData | str | Path | Mapping[str, Any]) -> tuple[Dataset, list[Diagnostic]]:
    """The bound data and its warnings; :class:`KpiError` on any data error."""
    raw = data if isinstance(data, RawData) else load_data(data)
    dataset, diags = bind(plan.model, raw.tables)
    diags = sorted([*raw.diagnostics_for(plan.model), *diags], key=Diagnostic.sort_key)
    if has_errors(diags):
        raise KpiError([d for d in diags if d.severity == "error"])
    return dataset, diags


def _num(v: object) -> Decimal | None:
    return v if isinstance(v, Decimal) and not isinstance(v, bool) else None


def what_it_takes(
    plan: Plan, data: RawData | str | Path | Mapping[str, Any], period: str, payee: str,
    metric: str, *, next_tier: bool = False, payout: Decimal | None = None,
    component: str | None = None, tiers: str | None = None, engine: str = "reference",
) -> Answer:
    """The smallest extra ``metric`` (one more fact) reaching the next tier or a payout.

    Raises ``ValueError`` for a bad request (unknown payee, metric or period,
    both or neither goal) and :class:`kpidsl.KpiError` when the data is rejected.
    ``engine`` as for :meth:`Plan.evaluate` (a data folder: ``auto`` or ``columnar``
    evaluate each trial on the columnar stage, in milliseconds on large data).
    """
    if next_tier == (payout is not None):
        raise ValueError("ask for exactly one goal: next_tier=True or payout=AMOUNT")
    if payout is not None:
        _check_amount(Decimal(payout))
    model = plan.model
    per = parse_period(period, model.header.period, model.header.fiscal_year_start)
    run = _columnar_run(plan, data, per.label, engine)
    dataset, warnings = (run.loaded.dataset, list(run.loaded.diagnostics)) if run is not None else \
        _dataset(plan, data)
    # the search's own arithmetic (bisection steps, interpolation) in its own context, never the
    # caller's: a caller's context with a low precision or an Inexact trap changed the answer
    # or hung the bisection (the plan's own arithmetic has the plan's context, as always)
    with decimal.localcontext(SEARCH_CONTEXT):
        answer = _answer(plan, dataset, run, per, payee, metric, next_tier, payout, component, tiers)
    return attrs.evolve(answer, warnings=tuple(warnings), segment=_last_segment(model, dataset, per, payee))


def _last_segment(model: PlanModel, dataset: Dataset, per: Period, payee: str) -> str | None:
    """The last segment's dates when the payee's period is split (its figures are the ones shown)."""
    person = next(p for p in dataset.payees if p.id == payee)
    segs = segments(model, person, tuple(h for h in dataset.history if h.payee == payee), per)
    return segs[-1].label if len(segs) > 1 else None


_AMOUNT_DIGITS = 28  # digits a payout goal may have on either side of the point


def _check_amount(payout: Decimal) -> None:
    """A finite goal of at most 28 digits before and after the point: ``1e999999999``
    would be written out digit by digit (gigabytes) in the goal and the reason."""
    if not payout.is_finite():
        raise ValueError(f"the payout goal must be a finite amount, not {payout}")
    exponent = payout.as_tuple().exponent
    assert isinstance(exponent, int)
    if (not payout.is_zero() and payout.adjusted() >= _AMOUNT_DIGITS) or exponent < -_AMOUNT_DIGITS:
        raise ValueError(f"the payout goal {payout} has more than {_AMOUNT_DIGITS} digits "
                         "before or after the point")


def _answer(plan: Plan, dataset: Dataset, run: Any, per: Period, payee: str, metric: str, next_tier: bool,
            payout: Decimal | None, component: str | None, tiers: str | None) -> Answer:
    """:func:`what_it_takes` on loaded data."""
    model = plan.model
    person = next((p for p in dataset.payees if p.id == payee), None)
    if person is None:
        raise ValueError(f"no payee {payee!r} in the data")
    if component is not None and component not in model.payouts:
        raise ValueError(f"no payout component {component!r}; known: {', '.join(model.payouts)}")
    history = tuple(h for h in dataset.history if h.payee == payee)  # every payee's rows are there
    defs = {k: a.definition for k, a in resolve(model, payee, attrs_on(person, history, per.end),
                                                per.end).items()}
    if not isinstance(defs.get(metric), ast.Metric):
        known = ", ".join(k for k, d in defs.items() if isinstance(d, ast.Metric))
        raise ValueError(f"no metric {metric!r}; known: {known}")
    goal_label = _goal_label(next_tier, payout, component)
    try:
        recipe = build_recipe(model, metric_aggregate(defs[metric], metric), metric, payee, per, defs.values())
    except Unsatisfiable as e:
        return _unreachable(metric, goal_label, str(e), None)
    recipes = [*alternatives(recipe, defs.values(), per), *_real_links(recipe, dataset, run, payee, defs)]
    first: Answer | None = None
    best: Answer | None = None
    engine: tuple[Engine, Period] | None = None
    for r in recipes:
        probe = Probe(plan, dataset, per.label, payee, r, engine) if run is None else \
            ColumnarProbe(plan, run, per.label, payee, r)
        answer, final = _solve(probe, defs, per, metric, goal_label, next_tier, payout, component, tiers)
        engine = probe.engine
        if isinstance(probe, ColumnarProbe):
            probe.take_back()
        if final or answer.status == "already":  # the same whatever the facts referred to
            return answer
        first = first or answer
        # a strictly smaller amount: on a tie the earlier (the synthetic deal before a real one)
        if answer.amount is not None and (best is None or best.amount is None or answer.amount < best.amount):
            best = answer
    assert first is not None
    return best or first


def _real_links(recipe: Recipe, dataset: Dataset, run: Any, payee: str,
                defs: Mapping[str, ast.Definition]) -> list[Recipe]:
    """``recipe`` referring to one of the payee's own facts of the kind referred to (a collection
    on one of their deals, signed by the collection's date) instead of a new one: one fact
    for each different set of the values the plan reads through the reference (and credit
    rows), the first by key; at most :data:`_MAX_REAL` per reference."""
    out: list[Recipe] = []
    reads = reads_through(defs.values(), recipe.kind)
    own_date = recipe.values.get(recipe.kind.date)
    for link in recipe.linked:
        field = payee_field(link.kind)
        subs = sorted(reads.get(link.field, set()) - {link.kind.key})
        facts = _payee_facts(dataset, run, link.kind, payee)
        rows: dict[str, list[tuple[str, str, str]]] = {}
        for c in dataset.credits:
            if c.kind == link.kind.name:
                rows.setdefault(c.fact, []).append((c.payee, str(c.share), c.type))
        seen: set[object] = set()
        for fact in sorted(facts, key=lambda f: f.key):
            date = fact.values.get(link.kind.date)
            if field is None or fact.values.get(field) != payee or (
                    isinstance(date, dt.date) and isinstance(own_date, dt.date) and date > own_date):
                continue
            group = (tuple(repr(fact.values.get(sub)) for sub in subs), tuple(sorted(rows.get(fact.key, ()))))
            if group in seen:
                continue
            seen.add(group)
            others = tuple(x for x in recipe.linked if x.field != link.field)
            out.append(attrs.evolve(recipe, values={**recipe.values, link.field: fact.key}, linked=others))
            if len(seen) >= _MAX_REAL:
                break
    return out


_MAX_REAL = 24  # the payee's own facts referred to, tried per reference


def _payee_facts(dataset: Dataset, run: Any, kind: KindSchema, payee: str) -> list[Fact]:
    """The facts of ``kind`` whose payee is ``payee`` (on the columnar stage, fetched for them)."""
    if run is None or run.fact_index is None:
        return list(dataset.facts.get(kind.name, ()))
    return [f for f, _ in run.fact_index.credited(kind.name, [payee], ("any",))]


def _solve(probe: Probe, defs: Mapping[str, ast.Definition], per: Period, metric: str, goal_label: str,
           next_tier: bool, payout: Decimal | None, component: str | None,
           tiers: str | None) -> tuple[Answer, bool]:
    """The answer with ``probe``'s facts; ``True`` with it when it does not depend on them."""
    payee, recipe = probe.payee, probe.recipe
    problem = _check_counts(probe, metric)
    if problem:
        return _unreachable(metric, goal_label, problem, recipe), False
    if next_tier:
        return _next_tier(probe, defs, metric, tiers), False
    assert payout is not None
    r0 = probe.at(Decimal(0))
    if component is not None and component not in r0.components and component not in r0.failures:
        return _unreachable(metric, goal_label, f"{component} is not part of {payee}'s pay in {per.label}: "
                            "no definition of it applies to them (it is defined in an override "
                            "for other payees or dates)", recipe), True
    goal = Goal(goal_label, lambda r: r.total if component is None else r.components.get(component),
                Decimal(payout), component or "total")
    bps = breakpoints(probe, defs, metric)
    why = _why_unreachable(probe, defs, goal, component)
    return _finish(probe, metric, goal, solve_payout(probe, goal, bps, why)), False


def _why_unreachable(probe: Probe, defs: Mapping[str, ast.Definition], goal: Goal,
                     component: str | None) -> Callable[[Decimal], str]:
    """A reason naming a binding cap, a gate never met, or an evaluation error."""

    def why(hi: Decimal) -> str:
        r = probe.at(hi)
        best = goal.value(r)
        if best is None:
            first = r.errors[0].message if r.errors else "an evaluation error"
            if goal.value(probe.at(Decimal(0))) is None:  # not the amount's doing
                return f"the plan fails for {probe.payee} already, with nothing more: {first}"
            return f"with {fmt(hi)} more the plan fails for {probe.payee}: {first}"
        notes: list[str] = []
        for name in [component] if component else list(r.components):
            d = defs.get(name)
            if not isinstance(d, ast.Payout):
                continue
            value = r.components.get(name)
            steps = _steps(r, name)
            for c in d.clauses:
                if isinstance(c, ast.Cap) and value is not None and _binds(c, value, steps):
                    notes.append(f"the cap of {name} binds (cap {unparse(c.expr)})")
                if (isinstance(c, ast.Requires) and value is not None and value == 0
                        and (steps is None or f"requires {unparse(c.cond)}: failed → 0" in steps)):
                    notes.append(f"{name} stays 0: its gate `requires {unparse(c.cond)}` "
                                 "is not met by any added amount")
        what = goal.figure
        head = (f"{what} cannot reach {fmt(goal.target)}: at most {fmt(best)} "
                f"with up to {fmt(hi)} more {probe.recipe.unit}")
        return head + ("; " + "; ".join(notes) if notes else
                       f" ({what} stops rising with the amount)")

    return why


def _steps(r: PayeeResult, name: str) -> list[str] | None:
    """The notes of a component's explanation and of its segments' (None without a tree)."""
    tree = r.explanations.get(name)
    if tree is None:
        return None
    out = list(tree.notes)
    for seg in tree.children:
        if seg.kind == "segment":
            out.extend(n for c in seg.children for n in c.notes)
    return out


def _binds(cap: ast.Cap, value: Decimal, steps: list[str] | None) -> bool:
    """Whether the cap binds: as the explanation says (``cap 2000 binding (value was ...)``);
    without one, a literal cap when the component sits on it, another when it stopped rising.
    (A component held at 0 by a failed gate never has a binding cap: `cap ti * 2` was said
    to bind for a bonus whose gate failed.)"""
    if steps is not None:
        return any(s.startswith("cap ") and " binding (value was " in s for s in steps)
    if isinstance(cap.expr, ast.Number):
        return value == cap.expr.value
    return True


def _goal_label(next_tier: bool, payout: Decimal | None, component: str | None) -> str:
    if next_tier:
        return "next tier"
    return f"{component or 'total'} >= {fmt(Decimal(payout or 0))}"


def _unreachable(metric: str, goal: str, reason: str, recipe: Recipe | None) -> Answer:
    deal = recipe.row(None) if recipe is not None else {}
    referenced = recipe.linked_rows() if recipe is not None else {}
    return Answer(metric, goal, "unreachable", None, reason, False, "none", deal, {}, {},
                  referenced=referenced)


def _check_counts(probe: Probe, metric: str) -> str | None:
    """The synthetic fact must add exactly its amount to the metric; say why not."""
    q = probe.recipe.quantum
    m0, m1 = _num(probe.at(Decimal(0)).values.get(metric)), _num(probe.at(q).values.get(metric))
    if m0 is None or m1 is None:
        return f"{metric} cannot be evaluated for {probe.payee}"
    if _CTX.subtract(m1, m0) != q:
        kind = probe.recipe.kind.name
        return (f"one more {kind} built from the filter of {metric} does not add its amount to it "
                f"({fmt(m0)} -> {fmt(m1)} for {fmt(q)}): {metric} is not monotonic in it")
    return None


def _next_tier(probe: Probe, defs: Mapping[str, ast.Definition], metric: str, name: str | None) -> Answer:
    found = sorted((d for d in defs.values() if isinstance(d, ast.Tiers) and d.per is None
                    and depends(d.on, metric, defs)), key=lambda d: d.name)
    if name is not None:
        found = [d for d in found if d.name == name]
    moved = not found
    if moved:  # tiers on another sum the same fact feeds (a kicker on gross receipts, asked in net cash)
        found = [d for d in _moved_tiers(probe, defs) if name is None or d.name == name]
    if not found:
        which = f"tiers {name!r}" if name else "tiers"
        return _unreachable(metric, "next tier", f"no {which} in force for {probe.payee} "
                            f"has an input that depends on {metric} or that one more "
                            f"{probe.recipe.kind.name} moves", probe.recipe)
    t = found[0]
    key = unparse(t.on)
    h0 = _num(probe.at(Decimal(0)).values.get(key))
    label = f"next band of {t.name}"
    if h0 is None:
        return _unreachable(metric, label, f"{key} cannot be evaluated for {probe.payee}", probe.recipe)
    edge = next((e for e in _band_starts(t) if e > h0), None)
    if edge is None:
        return _finish(probe, metric, Goal(label, lambda r: None, Decimal(0), key),
                       ("already", None, f"{key} = {fmt(h0)} is already in the top band of {t.name}",
                        False, "none"))
    goal = Goal(f"{label}: {key} >= {fmt(edge)}", lambda r: _num(r.values.get(key)), edge, key)
    if moved:
        how = f"linear in {key}, from its value with none and with {fmt(_step(probe))} more"
        return _finish(probe, metric, goal, solve_threshold(probe, goal, _crossing(probe, key, edge), how))
    guess = _linear_guess(probe, t.on, metric, edge)
    return _finish(probe, metric, goal, solve_threshold(probe, goal, guess))


def _moved_tiers(probe: Probe, defs: Mapping[str, ast.Definition]) -> list[ast.Tiers]:
    """The tiers (by name) whose input the synthetic fact moves, though it does not read the
    metric: ``gross_receipts`` rises with one more collection asked in ``collected``."""
    r0, r1 = probe.at(Decimal(0)), probe.at(_step(probe))
    out: list[ast.Tiers] = []
    for d in sorted((d for d in defs.values() if isinstance(d, ast.Tiers) and d.per is None),
                    key=lambda d: d.name):
        key = unparse(d.on)
        v0, v1 = _num(r0.values.get(key)), _num(r1.values.get(key))
        if v0 is not None and v1 is not None and v1 > v0:
            out.append(d)
    return out


def _band_starts(t: ast.Tiers) -> list[Decimal]:
    """The inputs at which a band other than the first starts, in order.

    An input below the first band takes the first band (a negative base after refunds),
    so the first band's lower edge starts nothing new; the upper edge of a closed last
    band starts the ``above`` value when the tiers give one. The points of a curve are
    all kept."""
    if not all(isinstance(b, ast.Band) for b in t.bands):
        return sorted({b.x.value for b in t.bands if isinstance(b, ast.Point)})
    bands = [b for b in t.bands if isinstance(b, ast.Band)]
    starts = {b.lower.value for b in bands[1:]}
    if t.above is not None and bands and bands[-1].upper is not None:
        starts.add(bands[-1].upper.value)
    return sorted(starts)


def _linear_guess(probe: Probe, on: ast.Expr, metric: str, edge: Decimal) -> Decimal | None:
    """edge × target − current (on ``attainment(m)``) or edge − current (on ``m``)."""
    values = probe.at(Decimal(0)).values
    m0 = _num(values.get(metric))
    if m0 is None:
        return None
    if isinstance(on, ast.Name) and on.name == metric:
        return _CTX.subtract(edge, m0)
    if (isinstance(on, ast.Call) and on.func == "attainment" and len(on.args) == 1
            and isinstance(on.args[0], ast.Name) and on.args[0].name == metric):
        target = _num(values.get(f"target({metric})"))
        return None if target is None else _CTX.subtract(_CTX.multiply(edge, target), m0)
    return None


def _finish(probe: Probe, metric: str, goal: Goal, solved: Solved) -> Answer:
    status, amount, reason, exact, method = solved
    before = _figures(probe, Decimal(0), metric, goal)
    after = _figures(probe, amount, metric, goal) if amount is not None else {}
    return Answer(metric, goal.label, status, amount, reason, exact, method,
                  probe.recipe.row(amount, probe.taken), before, after,
                  referenced=probe.recipe.linked_rows(probe.taken))


def _figures(probe: Probe, amount: Decimal, metric: str, goal: Goal) -> dict[str, Decimal | None]:
    r = probe.at(amount)
    out: dict[str, Decimal | None] = {metric: _num(r.values.get(metric))}
    if goal.figure in ("total", *r.components):
        out[goal.figure] = goal.value(r)
    else:
        out[goal.figure] = _num(r.values.get(goal.figure))
    out["total"] = r.total
    return out
