"""Solving for the amount: breakpoints, exact linear solves between them, bisection otherwise.

Every answer is verified: the plan evaluated with the amount reaches the goal
and with one quantum (0.01, or one fact for a count) less it does not.

The upper bound of the search grows from a start until the goal is reached, the
figure stops rising, or a limit. An amount of money is one synthetic fact whatever
its size, so it starts past every breakpoint (at least 2,000.00) and grows by 4
up to 10^15. A count of N is N synthetic facts, so it starts at one fact and
doubles: the facts built are proportional to the answer (at most twice it). A
count stops growing when its figure is flat from hi/2 to hi once hi is past
twice the last breakpoint and at least :data:`COUNT_FLOOR` facts (so a SPIFF on
its cap is seen by 64 facts, not 200,000), or at :data:`COUNT_LIMIT` facts.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from kpidsl import ast
from kpidsl.eval.result import PayeeResult
from kpidsl.numbers import fmt
from kpidsl.source import Span

if TYPE_CHECKING:
    from kpidsl.whatif.solve import Probe

_CTX = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.DivisionByZero])
SEARCH_CONTEXT = _CTX  # the thread's context while a search runs (kpidsl.whatif.solve)
_LIMIT = Decimal("1e15")
COUNT_FLOOR = Decimal(64)  # a count is judged flat only from this many facts on
COUNT_LIMIT = Decimal(100_000)  # the most synthetic facts a count goal is tried with
_FIGURE_QUANTUM = Decimal("0.01")  # the rounding a paid figure may carry, per component
_MAX_EVALUATIONS = 600  # for halving pieces that are not linear; plus _PER_BREAKPOINT each
_PER_BREAKPOINT = 4  # a linear piece costs its two ends and its middle, and the next start
Solved = tuple[str, Decimal | None, str, bool, str]  # status, amount, reason, exact, method

EXACT = "exact: linear between breakpoints, verified by evaluation"
SEARCH = ("search: bisection on the quantum, verified by evaluation "
          "(assumes the goal only rises with the amount in that range)")


@attrs.frozen
class Goal:
    """What must reach ``target``: a figure read from a payee's result."""

    label: str
    value: Callable[[PayeeResult], Decimal | None]
    target: Decimal
    figure: str = "total"  # the name of the figure in before/after


def ceil_to(x: Decimal, q: Decimal) -> Decimal:
    """``x`` rounded up to a multiple of ``q``, written at ``q``'s scale (``60000.00``, not ``6E+4``)."""
    steps = _CTX.divide(x, q).to_integral_value(rounding=decimal.ROUND_CEILING)
    return _CTX.multiply(steps, q).quantize(q, context=_CTX)


def _reached(probe: Probe, goal: Goal, x: Decimal) -> bool:
    v = goal.value(probe.at(x))
    return v is not None and v >= goal.target


def _verified(probe: Probe, goal: Goal, x: Decimal) -> bool:
    q = probe.recipe.quantum
    return _reached(probe, goal, x) and (x <= 0 or not _reached(probe, goal, x - q))


def _bisect(probe: Probe, goal: Goal, lo: Decimal, hi: Decimal) -> Decimal:
    """Smallest x in (lo, hi] reaching the goal, given lo does not and hi does."""
    q = probe.recipe.quantum
    while hi - lo > q:
        mid = lo + ceil_to((hi - lo) / 2, q) if hi - lo > 2 * q else lo + q
        if _reached(probe, goal, mid):
            hi = mid
        else:
            lo = mid
    return hi


def solve_threshold(probe: Probe, goal: Goal, guess: Decimal | None,
                    how: str = "edge × target − current") -> Solved:
    """The smallest amount reaching a threshold of a rising figure (a tier's input); ``how``
    the guess was made, for the method."""
    q = probe.recipe.quantum
    if _reached(probe, goal, Decimal(0)):
        v = goal.value(probe.at(Decimal(0)))
        return ("already", None, f"already reached: {goal.figure} is {_shown(v)}", False, "none")
    if guess is not None:
        x = max(ceil_to(guess, q), q)
        if _verified(probe, goal, x):
            return ("reachable", x, f"{goal.label} is reached with {fmt(x)} more", True,
                    f"exact: {how}, verified by evaluation")
    start = max(ceil_to(guess, q) if guess is not None else q, q)
    counting = probe.recipe.func == "count"
    hi, stop = _grow(probe, goal, start, floor=COUNT_FLOOR if counting else None)
    if stop == "limit":
        return ("unreachable", None, f"{goal.label} is not reached with any amount up to "
                f"{fmt(hi)}{' ' + probe.recipe.unit if counting else ''}", False, SEARCH)
    if stop == "flat":
        value = goal.value(probe.at(hi))
        return ("unreachable", None, f"{goal.label} is not reached: {goal.figure} stops rising "
                f"at {_shown(value)} with {fmt(hi)} more {probe.recipe.unit}", False, SEARCH)
    x = _bisect(probe, goal, Decimal(0), hi)
    return ("reachable", x, f"{goal.label} is reached with {fmt(x)} more", False, SEARCH)


def _grow(probe: Probe, goal: Goal, start: Decimal, floor: Decimal | None) -> tuple[Decimal, str]:
    """An upper bound ``hi`` from ``start``, and why it stopped: "reached", "flat" or "limit".

    Money grows by 4 up to 10^15 (one fact whatever the amount); a count doubles up
    to :data:`COUNT_LIMIT` facts, so at most twice the answer is ever built. With a
    ``floor``, the bound stops at ``hi >= floor`` when the figure is the same at
    ``hi / 2`` and ``hi`` (see :func:`_rising`); the floor must be past every breakpoint.
    """
    counting = probe.recipe.func == "count"
    limit, factor = (COUNT_LIMIT, 2) if counting else (_LIMIT, 4)
    hi = start
    while not _reached(probe, goal, hi):
        if floor is not None and hi >= floor and not _rising(probe, goal, hi):
            return hi, "flat"
        if hi >= limit:
            return hi, "limit"
        hi = min(hi * factor, limit) if counting else hi * factor
    return hi, "reached"


# ---------------------------------------------------------------- breakpoints


def walk(node: Any) -> Iterator[Any]:
    """Every attrs node under ``node`` (itself included), spans aside."""
    yield node
    for f in attrs.fields(type(node)):
        v = getattr(node, f.name)
        for child in v if isinstance(v, tuple) else (v,):
            if attrs.has(type(child)) and not isinstance(child, Span):
                yield from walk(child)


def _is_att(e: ast.Expr, m: str) -> bool:
    return (isinstance(e, ast.Call) and e.func == "attainment" and len(e.args) == 1
            and isinstance(e.args[0], ast.Name) and e.args[0].name == m)


def _ratio_of(d: ast.Definition | None, m: str) -> str | None:
    """``metric r = a / m [else ...]``: the numerator's name."""
    e = d.expr if isinstance(d, ast.Metric) else None
    if isinstance(e, ast.Fallback):
        e = e.expr
    if (isinstance(e, ast.Binary) and e.op == "/" and isinstance(e.left, ast.Name)
            and isinstance(e.right, ast.Name) and e.right.name == m):
        return e.left.name
    return None


def depends(e: ast.Expr, metric: str, defs: Mapping[str, ast.Definition], depth: int = 0) -> bool:
    """Whether ``e`` reads ``metric``, directly or through derived metrics."""
    for node in walk(e):
        if not isinstance(node, ast.Name):
            continue
        if node.name == metric:
            return True
        d = defs.get(node.name)
        if (depth < 20 and isinstance(d, ast.Metric) and not isinstance(d.expr, ast.Aggregate)
                and depends(d.expr, metric, defs, depth + 1)):
            return True
    return False


def _other(e: ast.Expr, m: str, defs: Mapping[str, ast.Definition]) -> str | None:
    """The name of the value ``e`` reads when it is another metric than ``m`` (``won``, a
    derived ``doubled``) or its attainment (``attainment(won)``): the synthetic fact may
    move it too (a collection feeds every sum of collections its filter passes)."""
    if isinstance(e, ast.Name) and e.name != m and isinstance(defs.get(e.name), ast.Metric):
        return e.name
    if (isinstance(e, ast.Call) and e.func == "attainment" and len(e.args) == 1
            and isinstance(e.args[0], ast.Name) and e.args[0].name != m):
        return f"attainment({e.args[0].name})"
    return None


def _thresholds(defs: Mapping[str, ast.Definition], m: str) -> list[tuple[str, Decimal]]:
    """(unit, value): unit "att" (attainment of m), "m" (m itself), "ratio:NAME" (NAME / m)
    or "other:NAME" (another metric, or its attainment, that the fact may move)."""
    out: list[tuple[str, Decimal]] = []
    for d in defs.values():
        if isinstance(d, ast.Tiers) and d.per is None:
            other = _other(d.on, m, defs)
            unit = "att" if _is_att(d.on, m) else "m" if d.on == ast.Name(m) else \
                f"other:{other}" if other is not None else ""
            for b in d.bands if unit else ():
                edges = (b.lower, b.upper) if isinstance(b, ast.Band) else (b.x,)
                out.extend((unit, e.value) for e in edges if e is not None)
        if isinstance(d, ast.Score):
            for line in d.lines:
                unit = "att" if line.ref == m else f"other:attainment({line.ref})"
                out.extend((unit, n.value) for n in (line.cap, line.threshold) if n is not None)
        for node in walk(d):
            if isinstance(node, ast.Binary) and node.op in ("<", "<=", ">", ">=", "==", "!="):
                out.extend(_comparison(node, defs, m))
    return out


def _comparison(e: ast.Binary, defs: Mapping[str, ast.Definition], m: str) -> list[tuple[str, Decimal]]:
    for side, other in ((e.left, e.right), (e.right, e.left)):
        if not isinstance(other, ast.Number):
            continue
        if _is_att(side, m):
            return [("att", other.value)]
        if side == ast.Name(m):
            return [("m", other.value)]
        if isinstance(side, ast.Name) and (num := _ratio_of(defs.get(side.name), m)) is not None:
            return [(f"ratio:{num}", other.value)]
        if (name := _other(side, m, defs)) is not None:
            return [(f"other:{name}", other.value)]
    return []


def breakpoints(probe: Probe, defs: Mapping[str, ast.Definition], m: str) -> list[Decimal]:
    """Amounts where the plan may bend or jump: tier edges, gate and score thresholds."""
    values = probe.at(Decimal(0)).values
    m0, target = _dec(values.get(m)), _dec(values.get(f"target({m})"))
    q = probe.recipe.quantum
    raw: list[Decimal] = [b for b in (probe.recipe.lower, probe.recipe.upper) if b is not None]
    if m0 is not None:
        for unit, v in _thresholds(defs, m):
            if unit == "m":
                raw.append(v - m0)
            elif unit == "att" and target is not None:
                raw.append(_CTX.subtract(_CTX.multiply(v, target), m0))
            elif unit.startswith("ratio:") and v != 0 and (a := _dec(values.get(unit[6:]))) is not None:
                raw.append(_CTX.subtract(_CTX.divide(a, v), m0))
            elif unit.startswith("other:") and (x := _crossing(probe, unit[6:], v)) is not None:
                raw.append(x)
    raw.extend(_floor_crossings(probe, defs))
    out: set[Decimal] = set()
    for b in raw:
        if b > 0:
            c = ceil_to(b, q)
            out.update((c, c + q))
    return sorted(out)


def _step(probe: Probe) -> Decimal:
    """The amount a value is sampled at to see how the fact moves it: 1,000.00 (or the
    filter's lower bound), or one fact."""
    step = probe.recipe.quantum * (1 if probe.recipe.func == "count" else 100_000)
    if probe.recipe.lower is not None and probe.recipe.lower > step:
        step = probe.recipe.lower
    return step


def _linear_reach(d0: Decimal, d1: Decimal, step: Decimal, v: Decimal) -> Decimal | None:
    """Where a value ``d0`` with none and ``d1`` with ``step`` added would reach ``v``, if linear."""
    return None if d0 == d1 else _CTX.divide(_CTX.multiply(v - d0, step), d1 - d0)


def _crossing(probe: Probe, name: str, v: Decimal) -> Decimal | None:
    """Where another value would reach ``v`` if it were linear in the amount (its value
    with none and with :func:`_step` added). Only a cut of the search: every piece is still
    checked, so a value that is not linear costs a piece, and one that the fact does not
    move (the same at both) gives none."""
    step = _step(probe)
    d0, d1 = _dec(probe.at(Decimal(0)).values.get(name)), _dec(probe.at(step).values.get(name))
    return None if d0 is None or d1 is None else _linear_reach(d0, d1, step, v)


_FLOOR = re.compile(r"^floor (\S+) binding \(value was (\S+)\)$")


def _floor_crossings(probe: Probe, defs: Mapping[str, ast.Definition]) -> list[Decimal]:
    """Where a component held up by its floor would rise above it: the figure is flat
    there (a guaranteed minimum), and the search must not take that for the most it pays.
    From the explanation's ``floor 500 binding (value was 36.75)`` with none and with
    :func:`_step` added."""
    out: list[Decimal] = []
    step = _step(probe)
    r0, r1 = probe.at(Decimal(0)), probe.at(step)
    for name, d in defs.items():
        if not (isinstance(d, ast.Payout) and any(isinstance(c, ast.Floor) for c in d.clauses)):
            continue
        tree0 = r0.explanations.get(name)
        m0 = next((m for n in (tree0.notes if tree0 else ()) if (m := _FLOOR.match(n))), None)
        if m0 is None:  # the floor does not hold the figure up
            continue
        tree1 = r1.explanations.get(name)
        m1 = next((m for n in (tree1.notes if tree1 else ()) if (m := _FLOOR.match(n))), None)
        v1 = _num_text(m1.group(2)) if m1 is not None else r1.components.get(name)
        floor, v0 = _num_text(m0.group(1)), _num_text(m0.group(2))
        if floor is not None and v0 is not None and v1 is not None and (x := _linear_reach(v0, v1, step, floor)):
            out.append(x)
    return out


def _num_text(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        return None


def _dec(v: object) -> Decimal | None:
    return v if isinstance(v, Decimal) else None


# ---------------------------------------------------------------- payout


def solve_payout(probe: Probe, goal: Goal, bps: list[Decimal],
                 why: Callable[[Decimal], str]) -> Solved:
    """The smallest amount making the goal figure reach its target (see the module doc)."""
    q = probe.recipe.quantum
    zero = Decimal(0)
    if _reached(probe, goal, zero):
        v = goal.value(probe.at(zero))
        return ("already", None, f"already reached: {goal.figure} is {_shown(v)}", False, "none")
    if probe.recipe.func == "count":  # one fact, two, four, ...: built facts ~ the answer
        floor = max(ceil_to(max(bps, default=zero) * 2, q), COUNT_FLOOR)
        hi, stop = _grow(probe, goal, q, floor)
    else:  # one fact whatever the amount: start past every breakpoint
        hi = ceil_to(max([*bps, q * 100_000]) * 2, q)
        hi, stop = _grow(probe, goal, hi, hi)
    points = [zero, *(b for b in bps if 0 < b < hi), hi]
    pieces = [(points[i], points[i + 1] - q) for i in range(len(points) - 2)]
    pieces.append((points[-2], hi))
    tol = _FIGURE_QUANTUM * (len(probe.at(zero).components) + 1)
    # every piece between breakpoints is examined (a step tiers of 400 bands has 800 of them):
    # running out earlier fell back to a bisection that assumes a rising figure, which on
    # rates that go down and up again answered far past the first amount reaching the goal
    budget = _MAX_EVALUATIONS + _PER_BREAKPOINT * len(bps)
    while pieces:
        a, b = pieces.pop(0)
        if a > b:
            continue
        if probe.evaluations > budget:
            return _fallback(probe, goal, a, hi, why)
        if _reached(probe, goal, a):
            return ("reachable", a, f"{goal.label} from {fmt(a)} more", _verified(probe, goal, a), EXACT)
        m = a + ceil_to((b - a) / 2, q) if b - a > q else b
        ga, gm, gb = (goal.value(probe.at(x)) for x in (a, m, b))
        linear = None not in (ga, gm, gb) and abs(_lerp(a, ga, b, gb, m) - (gm or zero)) <= tol
        if not linear and b - a > q:
            pieces[:0] = [(a, m), (m + q, b)]
            continue
        if _reached(probe, goal, b):
            return _solve_in(probe, goal, a, b, ga, gb)
    reason = why(hi) if stop != "limit" else (  # at the limit the figure still rises
        f"{goal.label} is not reached with up to {fmt(hi)} more {probe.recipe.unit}, the most tried "
        f"({goal.figure} is {_shown(goal.value(probe.at(hi)))} there and still rising)")
    return ("unreachable", None, reason, False, f"every linear piece checked up to {fmt(hi)} more")


def _shown(v: Decimal | None) -> str:
    """A figure in a reason, at its own scale (``0.00``, not ``0``)."""
    return "an error" if v is None else fmt(v)


def _rising(probe: Probe, goal: Goal, x: Decimal) -> bool:
    """Whether the figure at ``x`` is above the one at ``x / 2`` (rounded down to the quantum,
    so that one fact is compared with none, not with itself)."""
    q = probe.recipe.quantum
    half = _CTX.multiply(_CTX.divide(x, 2 * q).to_integral_value(rounding=decimal.ROUND_FLOOR), q)
    hi, lo = goal.value(probe.at(x)), goal.value(probe.at(half))
    if hi is not None and lo is not None and hi > lo:
        return True
    # the paid figure is flat while what it is computed from may still rise: a component
    # held up by its floor, or one rounded to a coarse quantum (100, 1)
    under_hi, under_lo = _unrounded(probe.at(x), goal), _unrounded(probe.at(half), goal)
    return under_hi is not None and under_lo is not None and under_hi > under_lo


_ROUNDED = re.compile(r"^rounded \w+ to (?:a multiple of )?\S+ from (\S+)$")


def _unrounded(r: PayeeResult, goal: Goal) -> Decimal | None:
    """What the goal's components compute before their floor holds them up and before
    rounding, from their explanations (``floor 500 binding (value was 203.4)``,
    ``rounded half_up to 1 from 500.0003``); None when a component has no such figure."""
    total = Decimal(0)
    for name in [goal.figure] if goal.figure in r.components else list(r.components):
        tree = r.explanations.get(name)
        notes = tree.notes if tree is not None else ()
        found = next((m.group(2) for n in notes if (m := _FLOOR.match(n))), None) or \
            next((m.group(1) for n in notes if (m := _ROUNDED.match(n))), None)
        v = _num_text(found) if found is not None else None
        if v is None:
            return None
        total = _CTX.add(total, v)
    return total


def _lerp(a: Decimal, ga: Decimal | None, b: Decimal, gb: Decimal | None, x: Decimal) -> Decimal:
    if ga is None or gb is None or a == b:
        return ga or Decimal(0)
    return _CTX.add(ga, _CTX.divide(_CTX.multiply(gb - ga, x - a), b - a))


def _solve_in(probe: Probe, goal: Goal, a: Decimal, b: Decimal,
              ga: Decimal | None, gb: Decimal | None) -> Solved:
    """In a linear piece [a, b] with goal(a) < target <= goal(b): solve, then refine and verify.

    The figures are rounded, so the linear solve is refined by a bisection in a
    window around it as wide as the rounding can shift the answer.
    """
    q = probe.recipe.quantum
    lo, hi = a, b
    if ga is not None and gb is not None and gb > ga:
        slope = _CTX.divide(gb - ga, b - a)
        x0 = _CTX.add(a, _CTX.divide(goal.target - ga, slope))
        tol = _FIGURE_QUANTUM * (len(probe.at(a).components) + 1)
        width = ceil_to(_CTX.divide(tol, slope), q) + q
        lo = max(a, ceil_to(x0 - width, q))
        hi = min(b, ceil_to(x0 + width, q))
        if lo > a and _reached(probe, goal, lo):
            lo = a
        if not _reached(probe, goal, hi):
            hi = b
    x = _bisect(probe, goal, lo, hi) if lo < hi else hi
    exact = _verified(probe, goal, x)
    return ("reachable", x, f"{goal.label} with {fmt(x)} more", exact, EXACT if exact else SEARCH)


def _fallback(probe: Probe, goal: Goal, a: Decimal, hi: Decimal, why: Callable[[Decimal], str]) -> Solved:
    if not _reached(probe, goal, hi):
        return ("unreachable", None, why(hi), False, SEARCH)
    x = _bisect(probe, goal, max(a - probe.recipe.quantum, Decimal(0)), hi)
    return ("reachable", x, f"{goal.label} with {fmt(x)} more", False, SEARCH)
