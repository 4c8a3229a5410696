"""Progress toward the next tier band: where a payee stands and what it still takes.

For tiers on ``attainment(m)`` the next band starts at ``lower × target(m)``
in ``m``'s unit; for tiers on a plain value ``x`` it starts at ``lower``. The
amount still needed is that edge minus the payee's current value (never
negative). Per-fact tiers (``per deal``) have no accumulated base and are
skipped, as are interpolated curves (no bands).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Context, Decimal
from typing import Any

import attrs

from kpidsl import ast

_CTX = Context(prec=28)  # a local context: the process's decimal context is never used


@attrs.frozen
class TierProgress:
    """Where a payee stands on one tiers table, in the base's unit.

    ``current`` is the base (``bookings``), ``next_edge`` the base at which
    the next band starts (None when already in the last band), ``needed`` the
    difference, ``fraction`` how far along (0..1) from zero to ``next_edge``.
    """

    tiers: str
    base: str
    current: Decimal
    next_edge: Decimal | None
    needed: Decimal | None
    band: str
    next_band: str | None
    fraction: Decimal


def _band_text(band: ast.Band, percent: bool) -> str:
    def num(n: Decimal) -> str:
        if percent:
            return f"{_CTX.multiply(n, Decimal(100)).normalize(_CTX):f}%"
        return f"{n.normalize(_CTX):f}"

    upper = "and up" if band.upper is None else f"to {num(band.upper.value)}"
    return f"{num(band.lower.value)} {upper}"


def _base_of(on: ast.Expr) -> tuple[str, str | None] | None:
    """``(base name, metric whose target scales the edges)`` or None if not a simple input."""
    if isinstance(on, ast.Name):
        return on.name, None
    if isinstance(on, ast.Call) and on.func == "attainment" and len(on.args) == 1:
        arg = on.args[0]
        if isinstance(arg, ast.Name):
            return arg.name, arg.name
    return None


def _dec(v: Any) -> Decimal | None:
    return v if isinstance(v, Decimal) and not isinstance(v, bool) else None


def tier_progress(tiers: ast.Tiers, values: Mapping[str, Any]) -> TierProgress | None:
    """The payee's progress on ``tiers`` from their computed values, or None if unknown."""
    base = _base_of(tiers.on)
    bands = [b for b in tiers.bands if isinstance(b, ast.Band)]
    if base is None or tiers.per is not None or not bands:
        return None
    name, metric = base
    current = _dec(values.get(name))
    scale = Decimal(1) if metric is None else _dec(values.get(f"target({metric})"))
    if current is None or scale is None:
        return None
    position = _CTX.divide(current, scale) if metric is not None and scale != 0 else current
    if metric is not None and scale == 0:
        return None
    percent = metric is not None or any(b.lower.percent for b in bands)
    index = 0
    for i, band in enumerate(bands):
        if position >= band.lower.value:
            index = i
    nxt = bands[index + 1] if index + 1 < len(bands) else None
    edge = None if nxt is None else _CTX.multiply(nxt.lower.value, scale)
    needed = None if edge is None else max(Decimal(0), _CTX.subtract(edge, current))
    fraction = Decimal(1) if edge is None or edge <= 0 else min(Decimal(1), max(Decimal(0), _CTX.divide(current, edge)))
    return TierProgress(
        tiers=tiers.name,
        base=name,
        current=current,
        next_edge=edge,
        needed=needed,
        band=_band_text(bands[index], percent),
        next_band=None if nxt is None else _band_text(nxt, percent),
        fraction=fraction,
    )


def progress_for(
    model: Any,
    payee: str,
    attributes: Mapping[str, str],
    day: dt.date,
    values: Mapping[str, Any],
    used: set[str],
) -> tuple[TierProgress, ...]:
    """Progress on every tiers table in force for the payee on ``day`` that their pay used."""
    from kpidsl.eval.resolve import resolve

    out: list[TierProgress] = []
    applied = resolve(model, payee, attributes, day)
    for key in sorted(applied):
        d = applied[key].definition
        if isinstance(d, ast.Tiers) and d.name in used:
            p = tier_progress(d, values)
            if p is not None:
                out.append(p)
    return tuple(out)
