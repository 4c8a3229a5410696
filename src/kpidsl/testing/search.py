"""Running one invariant under hypothesis: deterministic search, shrinking, a test outcome.

Each invariant is one test item named ``invariant spiff <= 5_000``. It passes
when no generated example breaks it; a violation fails it with the shrunk
counterexample as a ready-to-paste ``test`` block (see
:mod:`kpidsl.testing.invariants`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import api, ast
from kpidsl.eval.unparse import unparse

from . import invariants as inv_mod
from . import plandata
from .build import Record, Scenario
from .invariants import Change, Rejected, Unsupported, Violation
from .outcome import Failure, TestOutcome, outcome

BOUNDARY_EXAMPLES = 25  # examples of the boundary pre-pass (amounts only on the plan's edges)


def name_of(inv: ast.Invariant) -> str:
    """The test item's name: ``invariant spiff <= 5_000``."""
    return f"invariant {inv_mod.invariant_text(inv)}"


def _target(model: Any, inv: ast.Invariant) -> str:
    """``metric``, ``input`` or ``field`` for a monotonic invariant's argument."""
    arg = inv.arg
    if isinstance(arg, ast.Field):
        return "field"
    if isinstance(arg, ast.Name) and arg.name in plandata.input_decls(model):
        return "input"
    return "metric"


def _metric_change(plan: api.Plan, inv: ast.Invariant, s: Scenario, data: Any) -> Change:
    from hypothesis import assume
    from hypothesis import strategies as st

    from . import strategies as strat

    model = plan.model
    metric = inv.arg.name if isinstance(inv.arg, ast.Name) else ""
    kinds = [k for k in plandata.metric_kinds(model, metric) if k in model.kinds]
    assume(bool(kinds))
    kind = model.kinds[data.draw(st.sampled_from(kinds))]
    stem = kind.file_stem or kind.name
    rows = list(s.tables.get(stem, ()))
    keys = {k.name: tuple(r[k.key] for r in s.tables.get(k.file_stem or k.name, ()))
            for k in model.kinds.values()}
    ids = tuple(r["id"] for r in s.tables["payees"])
    ctx = strat.context(model, ids, s.period, keys=keys, nonnegative=True)
    for k in model.kinds.values():
        ctx.records[k.name] = {r[k.key]: r for r in s.tables.get(k.file_stem or k.name, ())}
    key = f"{strat.key_prefix(kind)}{len(rows) + 1}"
    assume(all(keys.get(r) for r in kind.references().values()))
    new = data.draw(strat.fact(ctx, kind, key))
    after = s.with_table(stem, [*rows, new])
    grew = inv_mod.metric_increased(plan, metric, s, after)
    assume(bool(grew))
    if data.draw(st.booleans()):  # aim the new fact so that the metric lands on a boundary
        aimed = _aim(plan, metric, s, Aim(stem, rows, new, grew[0]), data)
        if aimed is not None:
            after, grew = aimed
    return Change(after, f"the {kind.name} {key} was added (it raises {metric})", grew)


@attrs.frozen
class Aim:
    """A fact added to a scenario's table, and the payee whose metric it raised."""

    stem: str
    rows: list[Record]
    fact: Record
    payee: str


def _aim(plan: api.Plan, metric: str, s: Scenario, aim: Aim, data: Any) -> tuple[Scenario, tuple[str, ...]] | None:
    """The scenario with the fact's amount changed so the payee's metric reaches a boundary, if it is a sum."""
    from hypothesis import strategies as st

    from .boundaries import boundaries, steps_to

    before = inv_mod.value_of(inv_mod.evaluate(plan, s)[aim.payee], metric)
    after = inv_mod.value_of(inv_mod.evaluate(plan, s.with_table(aim.stem, [*aim.rows, aim.fact]))[aim.payee],
                             metric)
    if not isinstance(before, Decimal) or not isinstance(after, Decimal):
        return None
    fields = [f for f, v in aim.fact.items() if isinstance(v, Decimal) and v == after - before]
    steps = steps_to(boundaries(plan.model), before)
    if not fields or not steps:
        return None
    fact = inv_mod.with_field(aim.fact, fields[0], data.draw(st.sampled_from(steps)))
    changed = s.with_table(aim.stem, [*aim.rows, fact])
    grew = inv_mod.metric_increased(plan, metric, s, changed)
    return (changed, grew) if grew else None


def _input_change(plan: api.Plan, inv: ast.Invariant, s: Scenario, data: Any) -> Change:
    from hypothesis import assume
    from hypothesis import strategies as st

    name = inv.arg.name if isinstance(inv.arg, ast.Name) else ""
    rows = list(s.tables.get("inputs", ()))
    mine = [i for i, r in enumerate(rows) if r["name"] == name and isinstance(r["value"], Decimal | int)]
    assume(bool(mine))
    i = data.draw(st.sampled_from(mine))
    old = rows[i]["value"]
    new = old + data.draw(_delta(plan, old, st.integers(1, 100).map(lambda n: Decimal(n).scaleb(-2))))
    after = inv_mod.replace_row(s, "inputs", i, inv_mod.with_field(rows[i], "value", new))
    return Change(after, f"{rows[i]['payee']}'s input {name} was raised from {old} to {new}")


def _field_change(plan: api.Plan, inv: ast.Invariant, s: Scenario, data: Any) -> Change:
    from hypothesis import assume
    from hypothesis import strategies as st

    from . import strategies as strat

    assert isinstance(inv.arg, ast.Field)
    kind = plan.model.kinds[inv.arg.kind]
    field = inv.arg.path[-1]
    stem = kind.file_stem or kind.name
    rows = list(s.tables.get(stem, ()))
    assume(bool(rows))
    i = data.draw(st.integers(0, len(rows) - 1))
    old = rows[i][field]
    type_ = kind.fields.get(field, "money")
    delta = data.draw(st.integers(1, 10) if type_ == "count" else _delta(plan, old, strat.cents(1, 10_000_000)))
    new = old + delta
    after = inv_mod.replace_row(s, stem, i, inv_mod.with_field(rows[i], field, new))
    return Change(after, f"{kind.name} {rows[i][kind.key]}'s {field} was raised from {old} to {new}")


def _delta(plan: api.Plan, old: Any, general: Any) -> Any:
    """Increases of ``old``: ``general``, or one that lands on a boundary of the plan (or a cent off)."""
    from hypothesis import strategies as st

    from .boundaries import boundaries, steps_to

    steps = steps_to(boundaries(plan.model), Decimal(old)) if isinstance(old, Decimal | int) else ()
    return st.one_of(st.sampled_from(steps), general) if steps else general


CHANGES: dict[str, Callable[[api.Plan, ast.Invariant, Scenario, Any], Change]] = {
    "metric": _metric_change, "input": _input_change, "field": _field_change}


def search(plan: api.Plan, inv: ast.Invariant, examples: int = inv_mod.DEFAULT_EXAMPLES) -> Violation | None:
    """The shrunk violation hypothesis finds in ``examples`` examples, or None.

    Raises :class:`Unsupported` for an invariant that cannot be checked, and
    ``hypothesis.errors.Unsatisfiable`` when no generated example was usable.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, reject, settings
    from hypothesis import strategies as st
    from hypothesis.errors import Unsatisfiable
    from hypothesis.reporting import with_reporter

    from . import strategies as strat
    from .boundaries import boundaries

    monotonic = inv.op == "monotonic"
    kind = _target(plan.model, inv) if monotonic else ""

    def run(edges_only: bool, budget: int) -> Violation | None:
        @settings(max_examples=budget, derandomize=True, database=None, deadline=None,
                  verbosity=Verbosity.quiet, print_blob=False, report_multiple_bugs=False,
                  phases=(Phase.explicit, Phase.generate, Phase.shrink),
                  suppress_health_check=list(HealthCheck))
        @given(s=strat.scenarios(plan, nonnegative=monotonic, edges_only=edges_only), data=st.data())
        def prop(s: Scenario, data: Any) -> None:
            try:
                if monotonic:
                    change = CHANGES[kind](plan, inv, s, data)
                    inv_mod.check_monotonic(plan, inv, s, change)
                else:
                    inv_mod.check_bound(plan, inv, s)
            except Rejected:
                reject()

        try:
            with with_reporter(lambda _msg: None):
                prop()
        except Violation as v:
            return v
        return None

    # first amounts only on the plan's boundaries, then the general (boundary-biased) search
    if boundaries(plan.model):
        try:
            found = run(True, max(1, min(examples, BOUNDARY_EXAMPLES)))
        except Unsatisfiable:
            found = None
        if found is not None:
            return found
    return run(False, examples)


def run_invariant(plan: api.Plan, inv: ast.Invariant, display: str, locate: Callable[[Any], str],
                  examples: int = inv_mod.DEFAULT_EXAMPLES) -> TestOutcome:
    """The outcome of one invariant: passed, or failed with a counterexample test block."""
    name = name_of(inv)
    where = locate(inv.span)
    try:
        from hypothesis.errors import Unsatisfiable
    except ImportError:
        return TestOutcome(display, name, "skipped", inv.span.line)
    try:
        violation = search(plan, inv, examples)
    except Unsupported as exc:
        return outcome(display, name, inv.span.line, [Failure(where, f"{name}: {exc}")])
    except Unsatisfiable:
        return outcome(display, name, inv.span.line, [Failure(
            where, f"{name}: no generated data set could be evaluated without errors",
            "usable examples", "none")])
    except Exception as exc:  # a defect must not stop the other tests
        return outcome(display, name, inv.span.line, [Failure(
            where, f"internal error while checking {name}", None, f"{type(exc).__name__}: {exc}")])
    if violation is None:
        return outcome(display, name, inv.span.line, [])
    block = violation.block(f"counterexample: {inv_mod.invariant_text(inv)}")
    expected = f"{unparse(inv.arg)}" if not inv.op == "monotonic" else "never decreases"
    failure = Failure(where, f"{name} is violated: {violation.message}",
                      f"{inv.name} {inv.op} {expected}" if inv.op != "monotonic" else f"{inv.name} {expected}",
                      violation.actual or violation.message,
                      "counterexample, as a test to paste into the plan:\n" + block.rstrip("\n"))
    return outcome(display, name, inv.span.line, [failure])
