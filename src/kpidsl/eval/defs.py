"""Scores, payouts (gates, floor, cap), tables and tiers evaluated for one payee."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from kpidsl import ast
from kpidsl.eval import tiers as tiermath
from kpidsl.eval.collect import Collector
from kpidsl.eval.compile import OPERATIONS, FactCtx, Value, num
from kpidsl.eval.errors import TABLE_KEY_MISSING, ZERO_TARGET, EvalFailure, negative_target_message
from kpidsl.eval.resolve import Applied
from kpidsl.eval.unparse import unparse
from kpidsl.numbers import ZERO, fmt, percent_text
from kpidsl.source import Span

if TYPE_CHECKING:
    from kpidsl.eval.context import RunContext
    from kpidsl.eval.env import Env

SCORE_HEADER = ("line", "attainment", "threshold", "cap", "weight", "points")


def _eval(env: Env, e: ast.Expr, f: FactCtx | None = None) -> Value:
    return env.run.compiler.compile(e)(env, f)


def score(env: Env, d: ast.Score, col: Collector) -> Decimal:
    """Σ weight × min(attainment, cap); a line below its threshold (uncapped) counts 0."""
    ctx, total = env.ctx, ZERO
    col.header = SCORE_HEADER
    for line in d.lines:
        applied = env.seg.defs.get(line.ref)
        if applied is not None and isinstance(applied.definition, ast.InputDecl):
            att = num(env.named(line.ref, line.span), line.span)
        else:
            att = env.attainment(line.ref, line.span)
        used = att
        if line.threshold is not None and att < line.threshold.value:
            used = ZERO
            col.note(f"{line.ref}: attainment {percent_text(att)} below threshold "
                     f"{percent_text(line.threshold.value)}: counts 0")
        elif line.cap is not None and att > line.cap.value:
            used = line.cap.value
            col.note(f"{line.ref}: attainment {percent_text(att)} capped at {percent_text(line.cap.value)}")
        points = ctx.multiply(line.weight.value, used)
        total = ctx.add(total, points)
        if col.keeps:
            col.rows.append((line.ref, percent_text(att), _opt(line.threshold), _opt(line.cap),
                             percent_text(line.weight.value), fmt(points)))
    return total


def _opt(n: ast.Number | None) -> str:
    return percent_text(n.value) if n is not None else ""


def payout(env: Env, d: ast.Payout, col: Collector) -> Decimal:
    """value → ``when`` in written order → ``requires`` → (whole period only) floor → cap."""
    value = num(_eval(env, d.expr), d.span)
    value = apply_whens(env, d, value, col)
    passed = True
    for clause in d.clauses:
        if isinstance(clause, ast.Requires):
            ok = _eval(env, clause.cond) is True
            if col.keeps:
                col.note(f"requires {unparse(clause.cond)}: {'passed' if ok else 'failed → 0'}")
            passed = passed and ok
    if not passed:
        value = ZERO
    from kpidsl.eval.env import PayoutState

    env.payouts[d.name] = PayoutState(value, passed)
    if env.whole and passed:
        value = apply_limits(env, d, value, col)
    return value


def apply_whens(env: Env, d: ast.Payout, value: Decimal, col: Collector) -> Decimal:
    ctx = env.ctx
    for clause in d.clauses:
        if not isinstance(clause, ast.When):
            continue
        if _eval(env, clause.cond) is not True:
            if col.keeps:
                col.note(f"when {unparse(clause.cond)}: not met")
            continue
        operand = num(_eval(env, clause.value), clause.span)
        before = value
        value = when_applied(clause.op, value, operand, ctx)
        if col.keeps:
            col.note(f"when {unparse(clause.cond)}: met, {clause.op} {fmt(operand)}: {fmt(before)} → {fmt(value)}")
    return value


def when_applied(op: str, value: Decimal, operand: Decimal, ctx: decimal.Context) -> Decimal:
    """A met ``when ... then op operand`` on the payout's value (``=`` replaces it)."""
    return OPERATIONS[op](ctx, value, operand) if op in ("*", "+", "-") else operand


def apply_limits(env: Env, d: ast.Payout, value: Decimal, col: Collector) -> Decimal:
    """Floor then cap (every floor before every cap), noting a binding one."""
    for clause in d.clauses:
        if isinstance(clause, ast.Floor):
            floor = num(_eval(env, clause.expr), clause.span)
            if value < floor:
                col.note(f"floor {fmt(floor)} binding (value was {fmt(value)})")
                value = floor
    for clause in d.clauses:
        if isinstance(clause, ast.Cap):
            cap = num(_eval(env, clause.expr), clause.span)
            if value > cap:
                col.note(f"cap {fmt(cap)} binding (value was {fmt(value)})")
                value = cap
    return value


def table(env: Env, applied: Applied, args: tuple[Value, ...], f: FactCtx | None, span: Span) -> Value:
    """Look up a table by key; the ``else`` value (any expression) otherwise."""
    d = applied.definition
    assert isinstance(d, ast.Table)
    key = args[0] if args else _eval(env, d.key, f)
    col = Collector()
    env.push(col)
    try:
        for entry in d.entries:
            if entry.key == key:
                value, label = _eval(env, entry.value, f), f'"{entry.key}"'
                break
        else:
            if d.default is None:
                raise EvalFailure(TABLE_KEY_MISSING, f"table `{d.name}` has no entry for {key!r}", span)
            value, label = _eval(env, d.default, f), "else"
    finally:
        env.pop()
    if f is None:
        col.header = ("key", "entry", "value")
        col.rows.append((str(key), label, _text(value)))
        env.attach(col.build(d.name, "table", _text(value), span=d.span, override=applied.why))
    return value


def _text(v: Value) -> str:
    return fmt(v) if isinstance(v, Decimal) else str(v)


def tiers(env: Env, applied: Applied, args: tuple[Value, ...], f: FactCtx | None, span: Span) -> Decimal:
    """Call a tiers definition (see the modes in :mod:`kpidsl.eval.tiers`)."""
    d = applied.definition
    assert isinstance(d, ast.Tiers)
    col = Collector(formula=f"{d.mode} on {unparse(d.on)}" + (f" per {d.per}" if d.per else ""))
    env.push(col)
    try:
        out = tier_outcome(env, d, args, f, span)
    finally:
        env.pop()
    if f is None:
        col.header, col.rows = out.header, list(out.rows)
        if out.note:
            col.note(out.note)
        env.attach(col.build(d.name, "tiers", fmt(out.value), span=d.span, override=applied.why))
    return out.value


def tier_outcome(env: Env, d: ast.Tiers, args: tuple[Value, ...], f: FactCtx | None,
                 span: Span, detail: bool = True) -> tiermath.TierOutcome:
    """The value of a tiers call; ``detail=False``: without the rows an explanation shows."""
    ctx = env.ctx
    arg = num(args[0], span) if args else None
    above = num(_eval(env, d.above, f), span) if d.above is not None else None
    if d.mode == "interpolated":
        points = tuple((p.x.value, num(_eval(env, p.y, f), span)) for p in d.bands if isinstance(p, ast.Point))
        at = arg if arg is not None else num(_eval(env, d.on, f), span)
        return tiermath.interpolate(d.name, points, at, d.extend_flat, ctx, span)
    bands = _bands(env, d, f, span)
    # the units word error messages only; the quick stage's errors are the reference's to word
    units = _units(env, d) if detail else tiermath.Units()
    scale: Decimal | None = None
    x: Decimal | None = None
    value: Decimal | None
    if d.mode == "step":  # the input is `on`; the argument, when a rate applies, is the base
        x = num(_eval(env, d.on, f), span)
        rate = is_rate(env.run, d)
        value = arg if arg is not None and rate else None
        if d.per is not None and x < 0:  # a refund: the band of a fact of its size
            out = banded(d, bands, value, -x, scale, above, ctx, span, units, detail)
            # a rate applies to the (negative) base as is; an amount is reversed
            return out if rate else attrs.evolve(out, value=ctx.minus(out.value))
    else:  # lookup and marginal: the argument, else `on`
        value = arg if arg is not None else num(_eval(env, d.on, f), span)
        if d.mode == "marginal":
            scale = _attainment_scale(env, d.on, span)
            if d.per is not None and value < 0:  # a refund reverses what a fact of its size earns
                out = banded(d, bands, -value, x, scale, above, ctx, span, units, detail)
                return attrs.evolve(out, value=ctx.minus(out.value))
    return banded(d, bands, value, x, scale, above, ctx, span, units, detail)


def banded(d: ast.Tiers, bands: tuple[tiermath.EBand, ...], value: Decimal | None, x: Decimal | None,
           scale: Decimal | None, above: Decimal | None, ctx: decimal.Context, span: Span,
           units: tiermath.Units, detail: bool = True) -> tiermath.TierOutcome:
    """Lookup, marginal or step tiers on evaluated inputs (shared with the bulk stage):
    ``value`` is the lookup input, the marginal base or the step's rate base (None: the band's
    value is the amount), ``x`` the step's input, ``scale`` the marginal edges' multiplier."""
    if d.mode == "lookup":
        assert value is not None
        return tiermath.lookup(d.name, bands, value, above, span, units, ctx)
    if d.mode == "marginal":
        assert value is not None
        return tiermath.marginal(d.name, bands, value, scale, above, ctx, span, units, detail)
    assert x is not None
    return tiermath.step(d.name, bands, x, value, above, ctx, span, units)


def _bands(env: Env, d: ast.Tiers, f: FactCtx | None, span: Span) -> tuple[tiermath.EBand, ...]:
    """The evaluated bands (those written as numbers only: the same for every payee)."""
    fixed = literal_bands(env.run, d)
    if fixed is not None:
        return fixed
    return tuple(tiermath.EBand(b.lower.value, b.upper.value if b.upper is not None else None,
                                num(_eval(env, b.value, f), span), b.lower.percent,
                                _is_percent(env, b.value))
                 for b in d.bands if isinstance(b, ast.Band))


def literal_bands(run: RunContext, d: ast.Tiers) -> tuple[tiermath.EBand, ...] | None:
    """The bands when every band's value is written as a number (kept per run), else None."""
    hit = run.band_cache.get(id(d))
    if hit is not None and hit[0] is d:
        return hit[1]
    bands: list[tiermath.EBand] = []
    for b in d.bands:
        if not isinstance(b, ast.Band):
            continue
        if not isinstance(b.value, ast.Number):
            return None
        bands.append(tiermath.EBand(b.lower.value, b.upper.value if b.upper is not None else None,
                                    b.value.value, b.lower.percent, b.value.percent))
    run.band_cache[id(d)] = (d, tuple(bands))
    return tuple(bands)


def _is_percent(env: Env, e: ast.Expr) -> bool:
    if isinstance(e, ast.Number):
        return e.percent
    return isinstance(e, ast.Name) and env.run.model.types.get(e.name) == "percent"


def _units(env: Env, d: ast.Tiers) -> tiermath.Units:
    """The unit of the tiers' input for messages; for ``on attainment(m)`` its metric and target."""
    first = next((b for b in d.bands if isinstance(b, ast.Band)), None)
    percent = first is not None and first.lower.percent
    metric = attainment_metric(d.on)
    if metric:
        ok, value = env.memo.get(metric, (False, None))
        target_ok, target = env.memo.get(f"target({metric})", (False, None))
        return tiermath.Units(True, metric, value if ok and isinstance(value, Decimal) else None,
                              target if target_ok and isinstance(target, Decimal) else None)
    return tiermath.Units(percent)


def _attainment_scale(env: Env, on: ast.Expr, span: Span) -> Decimal | None:
    """For ``on attainment(m)`` the band edges are attainments: × target(m) in the base's unit."""
    metric = attainment_metric(on)
    if metric:
        target = env.target(metric, span)
        if target.is_zero():
            # the edges would all collapse to 0: attainment is undefined, as for `attainment(m)`
            raise EvalFailure(ZERO_TARGET, f"target for `{metric}` is 0 for payee {env.payee.id} in "
                              f"{env.period.label}: attainment is undefined", span)
        if target < 0:
            # the edges edge × target would run backwards (0, -t, -2t...): no slicing means anything
            raise EvalFailure(ZERO_TARGET, negative_target_message(
                metric, target, env.payee.id, env.period.label,
                "attainment and the marginal edges on it are undefined"), span)
        return target
    return None


def attainment_metric(on: ast.Expr) -> str:
    """``m`` for tiers ``on attainment(m)`` (their edges scale with m's target), else ""."""
    if isinstance(on, ast.Call) and on.func == "attainment" and on.args and isinstance(on.args[0], ast.Name):
        return on.args[0].name
    return ""


def is_rate(run: RunContext, d: ast.Tiers) -> bool:
    """A step band value is a rate on the base (percent/number) unless it is money (an amount)."""
    types = run.model.types
    for b in d.bands:
        if isinstance(b, ast.Band) and isinstance(b.value, ast.Name) and types.get(b.value.name) == "money":
            return False
    return True
