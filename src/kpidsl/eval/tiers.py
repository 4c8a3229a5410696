"""Tier arithmetic on evaluated bands: step, marginal, interpolated and lookup.

A band is ``[lower, upper)``; a value exactly on an edge belongs to the upper
band. An input below the first band (a negative base after refunds) takes the
first band, so a refund reverses commission at the first band's rate; tiers
priced per fact reverse a negative fact as a fact of its size instead
(``kpidsl.eval.defs.tier_outcome``). Above a closed last band the ``above``
value applies, else it is an evaluation error.
"""

from __future__ import annotations

import decimal
import itertools
from decimal import Decimal

import attrs

from kpidsl.eval.errors import CURVE_OUT_OF_RANGE, TIER_OUT_OF_RANGE, EvalFailure
from kpidsl.numbers import ZERO, fmt, grouped, percent_text
from kpidsl.source import Span

ROW_HEADER = ("band", "slice base", "rate", "amount")
POINT_HEADER = ("point", "input", "value")


@attrs.frozen
class EBand:
    """An evaluated band: edges (``upper`` None for ``and up``) and its value."""

    lower: Decimal
    upper: Decimal | None
    value: Decimal
    percent_edges: bool = False  # edges written as percents (``0% to 50%``)
    percent_value: bool = False  # the band's value is a percent (a rate ``2%``)

    def label(self) -> str:
        edge = percent_text if self.percent_edges else fmt
        hi = "and up" if self.upper is None else f"to {edge(self.upper)}"
        return f"{edge(self.lower)} {hi}"

    def rate(self) -> str:
        """The band's value for a rate column: ``2%`` for a percent, else exact."""
        return percent_text(self.value) if self.percent_value else fmt(self.value)


@attrs.frozen
class Units:
    """How a tier input is named in messages: its unit, and for ``on attainment(m)`` its parts."""

    percent: bool = False
    metric: str | None = None
    metric_value: Decimal | None = None
    target: Decimal | None = None

    def edge(self, v: Decimal) -> str:
        return percent_text(v) if self.percent else grouped(v)

    def input(self, x: Decimal, ctx: decimal.Context, scaled: bool = False) -> str:
        """``x`` in the edges' unit; ``scaled``: x is in the metric's unit (marginal on attainment)."""
        if self.metric is None or self.target is None or self.target.is_zero():
            return f"input {self.edge(x)}"
        m = x if scaled else self.metric_value
        att = ctx.divide(x, self.target) if scaled else x
        parts = f" ({self.metric} {grouped(m)} / target {grouped(self.target)})" if m is not None else ""
        return f"attainment {percent_text(att)}{parts}"


@attrs.frozen
class TierOutcome:
    """The value of a tier call and the rows that add up to it."""

    value: Decimal
    rows: tuple[tuple[str, ...], ...]
    header: tuple[str, ...] = ROW_HEADER
    note: str = ""


def find_band(bands: tuple[EBand, ...], x: Decimal) -> int | None:
    """Index of the band containing ``x`` (edges go up), 0 below the first, None above a closed last."""
    for i, band in enumerate(bands):
        if band.upper is None or x < band.upper:
            return i
    return None


def _above_error(name: str, what: str, bands: tuple[EBand, ...], units: Units, span: Span) -> EvalFailure:
    top = bands[-1].upper
    return EvalFailure(TIER_OUT_OF_RANGE, f"tiers `{name}`: {what} is above the last band's "
                       f"upper edge {units.edge(top) if top is not None else ''} and no `above` value is given",
                       span)


def step(name: str, bands: tuple[EBand, ...], x: Decimal, base: Decimal | None, above: Decimal | None,
         ctx: decimal.Context, span: Span, units: Units = Units()) -> TierOutcome:
    """Retroactive: the band containing ``x`` gives a rate on the whole ``base`` (or an amount if base is None)."""
    i = find_band(bands, x)
    if i is None and above is None:
        raise _above_error(name, units.input(x, ctx), bands, units, span)
    rate, label = (bands[i].value, bands[i].label()) if i is not None else (above, "above")
    assert rate is not None
    if base is None:
        return TierOutcome(rate, ((label, "", "", fmt(rate)),))
    amount = ctx.multiply(base, rate)
    shown = bands[i].rate() if i is not None else fmt(rate)
    return TierOutcome(amount, ((label, fmt(base), shown, fmt(amount)),))


def lookup(name: str, bands: tuple[EBand, ...], x: Decimal, above: Decimal | None, span: Span,
           units: Units = Units(), ctx: decimal.Context | None = None) -> TierOutcome:
    """The value of the band containing ``x``."""
    i = find_band(bands, x)
    shown_x = percent_text(x) if units.percent else fmt(x)
    if i is None:
        if above is None:
            raise _above_error(name, units.input(x, ctx or decimal.Context()), bands, units, span)
        return TierOutcome(above, (("above", shown_x, "", fmt(above)),))
    b = bands[i]
    return TierOutcome(b.value, ((b.label(), shown_x, "", fmt(b.value)),))


def marginal(name: str, bands: tuple[EBand, ...], base: Decimal, scale: Decimal | None,
             above: Decimal | None, ctx: decimal.Context, span: Span,
             units: Units = Units(), detail: bool = True) -> TierOutcome:
    """Graduated: ``base`` cut at the band edges (× ``scale``), each slice × its band's rate.

    ``detail=False`` leaves out the rows (the quick payee stage shows none)."""
    # called once per payee by the bulk stage: the context's methods are bound once, and an
    # edge in the base's unit (``v`` × ``scale``, or ``v``) is computed inline, not by a closure
    multiply, subtract, add = ctx.multiply, ctx.subtract, ctx.add
    first = bands[0]
    lo = first.lower if scale is None else multiply(first.lower, scale)
    if base < lo or base.is_zero():
        amount = multiply(base, first.value)
        if not detail:
            return TierOutcome(amount, ())
        return TierOutcome(amount, ((first.label(), fmt(base), first.rate(), fmt(amount)),),
                           note="base below the first band: the first band's rate applies")
    total, rows = ZERO, []
    for k, b in enumerate(bands):
        if k:  # the first band's lower edge is ``lo`` already
            lo = b.lower if scale is None else multiply(b.lower, scale)
        if base <= lo:
            break
        upper = b.upper
        if upper is None:
            hi = base
        else:
            hi = min(base, upper if scale is None else multiply(upper, scale))
        piece = subtract(hi, lo)
        amount = multiply(piece, b.value)
        total = add(total, amount)
        if detail:
            rows.append((b.label(), fmt(piece), b.rate(), fmt(amount)))
    top = bands[-1].upper
    if top is not None and base > (top_edge := top if scale is None else multiply(top, scale)):
        if above is None:
            what = units.input(base, ctx, scaled=True) if scale is not None else units.input(base, ctx)
            raise _above_error(name, what, bands, units, span)
        piece = subtract(base, top_edge)
        amount = multiply(piece, above)
        total = add(total, amount)
        rows.append(("above", fmt(piece), fmt(above), fmt(amount)))
    return TierOutcome(total, tuple(rows))


def interpolate(name: str, points: tuple[tuple[Decimal, Decimal], ...], x: Decimal, extend_flat: bool,
                ctx: decimal.Context, span: Span) -> TierOutcome:
    """Linear between neighbouring points; outside them an error unless extended flat."""
    first, last = points[0], points[-1]
    if x < first[0] or x > last[0]:
        if not extend_flat:
            raise EvalFailure(CURVE_OUT_OF_RANGE, f"tiers `{name}`: input {fmt(x)} is outside the curve's "
                              f"points {fmt(first[0])}..{fmt(last[0])} and the curve does not extend flat", span)
        end = first if x < first[0] else last
        return TierOutcome(end[1], (("flat", fmt(x), fmt(end[1])),), POINT_HEADER)
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= x <= x1:
            if x == x0:
                return TierOutcome(y0, ((fmt(x0), fmt(x), fmt(y0)),), POINT_HEADER)
            rise = ctx.multiply(ctx.subtract(x, x0), ctx.subtract(y1, y0))
            y = ctx.add(y0, ctx.divide(rise, ctx.subtract(x1, x0)))
            rows = ((fmt(x0), fmt(x0), fmt(y0)), (fmt(x1), fmt(x1), fmt(y1)), ("", fmt(x), fmt(y)))
            return TierOutcome(y, rows, POINT_HEADER)
    return TierOutcome(first[1], ((fmt(first[0]), fmt(x), fmt(first[1])),), POINT_HEADER)
