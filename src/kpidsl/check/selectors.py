"""Override selectors as sets: specificity, compatibility, windows and the winning block."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from kpidsl import ast

Window = tuple[dt.date, dt.date]


def items(block: ast.Override) -> frozenset[tuple[str, str]]:
    return frozenset((i.attr, i.value) for i in block.selector)


def specificity(block: ast.Override) -> tuple[int, int]:
    """``payee`` beats any attribute combination; otherwise the number of attributes."""
    attrs_ = {i.attr for i in block.selector}
    return (1 if "payee" in attrs_ else 0, len(attrs_))


def window(block: ast.Override) -> Window:
    return (block.start or dt.date.min, block.until or dt.date.max)


def overlap(a: Window, b: Window) -> Window | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start <= end else None


def compatible(a: ast.Override, b: ast.Override) -> bool:
    """Whether some payee could match both selectors (no attribute asks two values)."""
    values: dict[str, set[str]] = {}
    for attr, value in items(a) | items(b):
        values.setdefault(attr, set()).add(value)
    return all(len(v) == 1 for v in values.values())


def can_meet(a: ast.Override, b: ast.Override) -> Window | None:
    """The window where both blocks apply to some payee, or None."""
    if not compatible(a, b):
        return None
    return overlap(window(a), window(b))


def covered(want: Window, windows: Sequence[Window]) -> bool:
    """Whether the union of ``windows`` contains ``want`` (inclusive dates)."""
    point = want[0]
    for start, end in sorted(windows):
        if start > point:
            break
        if end >= point:
            if end >= want[1]:
                return True
            point = end + dt.timedelta(days=1)
    return False


def winner(blocks: Sequence[ast.Override]) -> ast.Override | None:
    """The block that decides among blocks that all apply; None when that is ambiguous."""
    if not blocks:
        return None
    top = max(specificity(b) for b in blocks)
    best = [b for b in blocks if specificity(b) == top]
    if len({items(b) for b in best}) > 1:
        return None
    return max(best, key=lambda b: b.start or dt.date.min)


def joint_sets(blocks: Sequence[ast.Override], limit: int = 4096) -> Iterator[list[int]]:
    """Every non-empty set of blocks (as indexes) that can apply to one payee on one date.

    Windows pairwise overlapping means a common date (intervals on a line).
    """
    count = 0

    def grow(chosen: list[int], start: int) -> Iterator[list[int]]:
        nonlocal count
        for i in range(start, len(blocks)):
            if count >= limit:
                return
            if all(can_meet(blocks[i], blocks[j]) for j in chosen):
                count += 1
                yield [*chosen, i]
                yield from grow([*chosen, i], i + 1)

    yield from grow([], 0)
