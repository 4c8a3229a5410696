"""Import problems: every rejected cell or row with its file, sheet, line, column and value."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from kpidsl.data.model import RowRef
from kpidsl.diagnostics import Diagnostic, Label
from kpidsl.source import Span

Severity = Literal["error", "warning"]


@attrs.frozen
class Problem:
    """One finding; ``rejects`` says whether the row it names was left out. ``notes`` and
    ``help`` are a data diagnostic's own (the rows a KPI0722 stands for, say): kept so that
    nothing the diagnostic says is lost from the report."""

    code: str
    severity: Severity
    message: str
    file: str
    line: int = 0
    column: str = ""
    col: int = 0
    value: str = ""
    sheet: str | None = None
    rejects: bool = False
    notes: tuple[str, ...] = ()
    help: str | None = None
    related: tuple[str, ...] = ()  # the secondary labels (``data/deals.csv:2:1: first defined here``)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.col, self.code, self.message)

    def where(self) -> str:
        place = self.file
        if self.line:
            place += f" row {self.line}" if self.sheet else f" line {self.line}"
        if self.column:
            place += f", column {self.column}"
        return place

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "row_rejected": self.rejects,
            "related": list(self.related),
            "notes": list(self.notes),
            "help": self.help,
        }

    def to_diagnostic(self) -> Diagnostic:
        col = max(self.col, 1)
        span = Span(self.file, self.line, col, self.line, col + max(len(self.value), 1))
        return Diagnostic(self.code, self.message, Label(span, self.column), self.severity)

    def render(self) -> str:
        """The one-line form (related places, notes and help: :meth:`details`)."""
        head = f"{self.severity}[{self.code}]: "
        if self.message.startswith(self.file):
            return head + self.message
        return f"{head}{self.where()}: {self.message}"

    def details(self) -> list[str]:
        """The related places, notes and help, a line each, indented under :meth:`render`'s
        line (as ``eval`` shows a diagnostic's)."""
        return [*(f"  = {r}" for r in self.related), *(f"  = note: {n}" for n in self.notes),
                *((f"  = help: {self.help}",) if self.help else ())]


def from_diagnostic(d: Diagnostic, rejected: frozenset[RowRef] = frozenset()) -> Problem:
    """A problem from a data diagnostic (binding or CSV reading): the column and value of
    the cell it is about (:attr:`Diagnostic.cell`; none for a row or a whole file), its
    notes and help."""
    s = d.primary.span
    rejects = RowRef(s.file, s.line) in rejected
    column, value = (d.cell.column, d.cell.value) if d.cell is not None else ("", "")
    related = tuple(label.message for label in d.secondary if label.message)
    return Problem(d.code, d.severity, d.message, s.file, s.line, column, s.col, value, None,
                   rejects, d.notes, d.help, related)


def error(code: str, message: str, file: str, **where: Any) -> Problem:
    """An error problem (keyword arguments: line, column, col, value, sheet, rejects)."""
    return Problem(code, "error", message, file, **where)


def warning(code: str, message: str, file: str, **where: Any) -> Problem:
    """A warning problem (keyword arguments as for :func:`error`)."""
    return Problem(code, "warning", message, file, **where)


def has_errors(problems: list[Problem] | tuple[Problem, ...]) -> bool:
    return any(p.severity == "error" for p in problems)
