"""Boundary values of a plan: where its results can jump, for the invariant search to aim at.

Boundary-value analysis from the plan itself: every numeric literal (tier band
edges, ``requires``/``when`` thresholds, caps and floors, table values,
constants, targets) is a place where a payout may step; for tiers and
comparisons on ``attainment(...)`` the edge is a ratio, so the amount where it
bites is edge × target (the plan's targets and :data:`ROUND_TARGETS`, which the
generated targets favour). Amounts are drawn from these values and ±0.01 around
them, so a threshold such as ``requires bookings < 20_000`` is straddled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from kpidsl import ast
from kpidsl.model import PlanModel

from . import plandata

CENT = Decimal("0.01")
# targets the generated data favours, so attainment edges × target are known amounts
ROUND_TARGETS = (Decimal(100_000),)
MAX_VALUE = Decimal(1_000_000_000)
MAX_BOUNDARIES = 40


def _numbers(node: object) -> list[Decimal]:
    return [n.value for n in plandata.walk(node) if isinstance(n, ast.Number)]


def _mentions_attainment(node: object) -> bool:
    return any(isinstance(n, ast.Call) and n.func == "attainment" for n in plandata.walk(node))


def attainment_edges(model: PlanModel) -> list[Decimal]:
    """Ratios compared with attainment: band edges of tiers on ``attainment(...)``, gate thresholds."""
    edges: list[Decimal] = []
    for d in plandata.definitions(model):
        for node in plandata.walk(d):
            if isinstance(node, ast.Tiers) and _mentions_attainment(node.on):
                for band in node.bands:
                    if isinstance(band, ast.Band):
                        edges.extend(b.value for b in (band.lower, band.upper) if b is not None)
                    else:
                        edges.append(band.x.value)
            elif isinstance(node, ast.Binary) and node.op in ("<", "<=", ">", ">=", "==", "!="):
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if _mentions_attainment(a):
                        edges.extend(_numbers(b))
    return edges


def target_values(model: PlanModel) -> list[Decimal]:
    """The plan's own target amounts (``target bookings = 1_000_000``) and the round targets."""
    found = [v for d in plandata.definitions(model) if isinstance(d, ast.Target) for v in _numbers(d.expr)]
    return _unique([*found, *ROUND_TARGETS])


def _unique(values: Iterable[Decimal]) -> list[Decimal]:
    out: list[Decimal] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def boundaries(model: PlanModel) -> tuple[Decimal, ...]:
    """The plan's positive boundary amounts, smallest first (at most :data:`MAX_BOUNDARIES`)."""
    literals = [v for d in plandata.definitions(model) for v in _numbers(d)]
    scaled = [e * t for e in attainment_edges(model) for t in target_values(model)]
    found = sorted({abs(v).quantize(CENT) if abs(v) >= CENT else abs(v) for v in (*literals, *scaled)})
    kept = [v for v in found if 0 < v <= MAX_VALUE]
    if len(kept) > MAX_BOUNDARIES:  # keep an even spread
        step = len(kept) / MAX_BOUNDARIES
        kept = [kept[int(i * step)] for i in range(MAX_BOUNDARIES)]
    return tuple(kept)


def near(values: Sequence[Decimal], *, nonnegative: bool = True) -> tuple[Decimal, ...]:
    """Each value, and one cent below and above it (cents only; never negative when asked)."""
    out: list[Decimal] = []
    for v in values:
        if v != v.quantize(CENT):
            continue
        for x in (v - CENT, v, v + CENT):
            if (x >= 0 or not nonnegative) and x not in out:
                out.append(x)
    return tuple(sorted(out))


def steps_to(values: Sequence[Decimal], current: Decimal) -> tuple[Decimal, ...]:
    """Positive increases that take ``current`` exactly to a boundary (or a cent either side)."""
    return tuple(sorted({v - current for v in near(values) if v > current}))
