"""Text rendering of import and validate reports: a summary per source, then every problem."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kpidsl.display import ljust, rjust, visible, width

from .problems import Problem


class Counted(Protocol):
    """Anything with a name and row counts (import sources, validated files)."""

    @property
    def source(self) -> str: ...
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_accepted(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...


def summary_table(rows: Sequence[Counted]) -> str:
    """An aligned table: source, read, accepted, rejected. A source refused before any row
    was read (``status = "not read"``, import only) shows ``-`` counts and its reason: it
    is not a source of zero rows."""
    head = ("source", "read", "accepted", "rejected", "")
    body = [(r.source, "-", "-", "-", f"not read ({getattr(r, 'reason', '')})")
            if getattr(r, "status", "read") == "not read" else
            (r.source, str(r.rows_read), str(r.rows_accepted), str(r.rows_rejected), "")
            for r in rows]
    widths = [max(width(x[i]) for x in [head, *body]) for i in range(4)]
    lines = []
    for cells in [head, *body]:
        first = ljust(cells[0], widths[0])
        rest = [rjust(c, w) for c, w in zip(cells[1:4], widths[1:], strict=True)]
        lines.append("  ".join([first, *rest, cells[4]]).rstrip())
    return "\n".join(lines) + "\n"


def problems_text(problems: Sequence[Problem]) -> str:
    """One line per problem, in file/line order, with its notes and help (if any) on the
    lines under it, then a count line."""
    out: list[str] = []
    for p in problems:  # a value holding ESC or a line break stays on its line, inert
        out.append(visible(p.render() + (f" [value: {p.value}]" if p.value and p.value not in p.message else "")))
        out.extend(visible(line) for line in p.details())
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    out.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(out) + "\n"
