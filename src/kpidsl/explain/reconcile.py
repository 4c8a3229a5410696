"""Reconciliation: do the parts an explanation shows add up to the value it explains?

Conventions the engine follows when it builds trees (see docs/explanations.md):

* parts: a ``tiers`` node's ``amount`` column (slices), a ``score`` node's
  ``points`` (or ``contribution``) column, the ``amount`` column of a ``sum``
  metric or payout (one row per credited fact) and of the ``total`` node (one
  row per component), and the ``segment`` children of a segmented value, all
  sum to the value *before* the steps its notes record;
* steps, in note order: ``when ...: met, OP X: BEFORE → AFTER``,
  ``requires ...: failed → 0``, ``floor|cap L binding (value was W)`` and
  finally ``rounded MODE to QUANTUM from V``; ``sum of N segments: S`` states
  the segments' sum;
* ``fact_count`` is at least the number of fact keys listed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    InvalidOperation,
)

from kpidsl.explain.tree import Explanation
from kpidsl.numbers import quantize

__all__ = ["reconcile"]

_CTX = Context(prec=60)
_SKIP_CELLS = ("", "-", "—")
_MODES = {
    "half_up": ROUND_HALF_UP,
    "half_even": ROUND_HALF_EVEN,
    "half_down": ROUND_HALF_DOWN,
    "down": ROUND_DOWN,
    "up": ROUND_UP,
}
_WHEN = re.compile(r"^when .*: met, .*: (\S+) → (\S+)$")
_FAILED = re.compile(r"^requires .*: failed → 0$")
_LIMIT = re.compile(r"^(floor|cap) (\S+) binding \(value was (\S+)\)$")
_ROUND = re.compile(r"^rounded (\w+) to (?:a multiple of )?(\S+) from (\S+)$")
_SEGS = re.compile(r"^sum of (\d+) segments: (\S+)$")


def _num(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        d = Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _has_error(e: Explanation) -> bool:
    return bool(e.error) or any(_has_error(c) for c in e.children)


def _column_sum(e: Explanation, column: str, problems: list[str]) -> Decimal | None:
    i = e.row_header.index(column)
    total = Decimal(0)
    for n, row in enumerate(e.rows, start=1):
        cell = row[i] if i < len(row) else ""
        if cell in _SKIP_CELLS:
            continue
        d = _num(cell)
        if d is None:
            problems.append(f"row {n}: {column} {cell!r} is not a number")
            return None
        total = _CTX.add(total, d)
    return total


def _parts_column(e: Explanation) -> str | None:
    """The column whose rows are parts of the value, if this node has one."""
    if not e.rows:
        return None
    if e.kind == "tiers" and "amount" in e.row_header:
        return "amount"
    if e.kind == "score":
        return next((c for c in ("points", "contribution") if c in e.row_header), None)
    summed = e.formula.startswith("sum ") or e.name == "total"
    if e.kind in ("metric", "payout") and summed and "amount" in e.row_header:
        return "amount"
    return None


def _parts(e: Explanation, problems: list[str]) -> tuple[str, Decimal, int] | None:
    """What the parts are, their sum, and how many there are."""
    segs = [c for c in e.children if c.kind == "segment"]
    if segs:
        values = [_num(s.value) for s in segs]
        if any(v is None for v in values):
            return None
        total = Decimal(0)
        for v in values:
            total = _CTX.add(total, v or Decimal(0))
        return "segments", total, len(segs)
    column = _parts_column(e)
    if column is None:
        return None
    column_total = _column_sum(e, column, problems)
    return (f"{column} column", column_total, len(e.rows)) if column_total is not None else None


def _same(computed: Decimal, stated: Decimal, parts: int = 1) -> bool:
    """Equal, or equal once ``computed`` is held to the digits the engine's context kept.

    The engine adds ``parts`` figures one at a time in its context, rounding each partial
    sum to its last digit: the exact sum of the parts may differ from its value by up to
    half a unit of that digit per addition (2354.3490260869565217391304354 summed in 28
    digits is ...0436, not ...0435)."""
    if computed == stated:
        return True
    digits = len(stated.as_tuple().digits)
    if digits < 20:  # short figures are exact: only context-length ones were rounded
        return False
    if Context(prec=digits, rounding=ROUND_HALF_EVEN).plus(computed) == stated:
        return True
    exponent = stated.as_tuple().exponent
    assert isinstance(exponent, int)
    return _CTX.abs(_CTX.subtract(computed, stated)) <= Decimal(max(parts, 1)).scaleb(exponent)


def _rounds_to(exact: Decimal, shown: Decimal) -> bool:
    """True when ``shown`` is ``exact`` rounded to ``shown``'s decimal places."""
    exponent = shown.as_tuple().exponent
    assert isinstance(exponent, int)
    half_unit = Decimal(1).scaleb(exponent) / 2
    return _CTX.abs(_CTX.subtract(exact, shown)) <= half_unit


class _Walk:
    """Follows a node's recorded steps from the sum of its parts to its value."""

    def __init__(self, e: Explanation, start: Decimal | None, label: str, parts: int = 1) -> None:
        self.e = e
        self.current = start
        self.label = label
        self.parts = parts  # how many figures were added into ``current`` (see _same)
        self.problems: list[str] = []
        self.rounded = False

    def expect(self, what: str, got: Decimal | None) -> None:
        if self.current is not None and got is not None and not _same(self.current, got, self.parts):
            self.problems.append(f"{what} is {got}, but the {self.label} gives {self.current}")

    def step(self, note: str) -> None:
        if m := _WHEN.match(note):
            self.expect("the value before `when`", _num(m.group(1)))
            self.current, self.label, self.parts = _num(m.group(2)), "`when` adjustment", 1
        elif _FAILED.match(note):
            self.current, self.label, self.parts = Decimal(0), "failed `requires`", 1
        elif m := _LIMIT.match(note):
            self.expect(f"the value before the {m.group(1)}", _num(m.group(3)))
            self.current, self.label, self.parts = _num(m.group(2)), f"binding {m.group(1)}", 1
        elif m := _ROUND.match(note):
            self.round(m.group(1), m.group(2), m.group(3))

    def round(self, mode: str, quantum: str, source: str) -> None:
        self.expect("the value before rounding", _num(source))
        exact, q, shown = _num(source), _num(quantum), _num(self.e.value)
        if exact is None or q is None or shown is None or mode not in _MODES:
            return
        want = quantize(exact, q, mode)
        if want != shown:
            self.problems.append(f"{exact} rounded {mode} to {quantum} is {want}, not {shown}")
        self.current, self.label, self.rounded, self.parts = shown, "rounding", True, 1

    def finish(self) -> None:
        shown = _num(self.e.value)
        if self.current is None or shown is None or _same(self.current, shown, self.parts):
            return
        if not self.rounded and _rounds_to(self.current, shown):
            return  # a hand-built tree without a rounding note
        if self.label == "segments" and self._explained_by_children(shown):
            return
        self.problems.append(f"{self.label} gives {self.current}, value is {self.e.value}")

    def _explained_by_children(self, shown: Decimal) -> bool:
        """A cap/floor child equal to the value, or a failed gate child for zero."""
        others = [c for c in self.e.children if c.kind != "segment"]
        if any((v := _num(c.value)) is not None and _rounds_to(v, shown) for c in others):
            return True
        return shown == 0 and any(c.kind == "gate" and c.value == "false" for c in others)


def _segments_note(e: Explanation, parts: tuple[str, Decimal, int] | None) -> list[str]:
    for note in e.notes:
        if m := _SEGS.match(note):
            count = sum(1 for c in e.children if c.kind == "segment")
            stated = _num(m.group(2))
            if int(m.group(1)) != count:
                return [f"note says {m.group(1)} segments, {count} shown"]
            if parts is not None and (stated is None or not _same(parts[1], stated, parts[2])):
                return [f"note says the segments sum to {stated}, they sum to {parts[1]}"]
    return []


def _arithmetic(e: Explanation) -> list[str]:
    if _num(e.value) is None:
        return []
    problems: list[str] = []
    parts = _parts(e, problems)
    walk = _Walk(e, parts[1], parts[0], parts[2]) if parts else _Walk(e, None, "")
    for note in e.notes:
        walk.step(note)
    walk.finish()
    return problems + walk.problems + _segments_note(e, parts)


def _shape(e: Explanation) -> list[str]:
    problems: list[str] = []
    if e.fact_count and len(e.facts) > e.fact_count:
        problems.append(f"{len(e.facts)} fact keys listed but fact_count is {e.fact_count}")
    if e.value is None and not _has_error(e):
        problems.append("no value and no error")
    for n, row in enumerate(e.rows, start=1):
        if e.row_header and len(row) != len(e.row_header):
            problems.append(f"row {n} has {len(row)} cells for {len(e.row_header)} columns")
    return problems


def reconcile(expl: Explanation, path: str = "") -> list[str]:
    """Problems where the parts shown do not add up to the value (empty when it reconciles)."""
    here = f"{path} > {expl.name}" if path else expl.name
    problems = [f"{here}: {p}" for p in _shape(expl) + _arithmetic(expl)]
    for child in expl.children:
        problems.extend(reconcile(child, here))
    return problems


def reconcile_all(expls: Sequence[Explanation]) -> list[str]:
    """The problems of several trees, in order."""
    return [p for e in expls for p in reconcile(e)]
