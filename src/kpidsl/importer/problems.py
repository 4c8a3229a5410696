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
    """One finding; ``rejects`` says whether the row it names was left out."""

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
        }

    def to_diagnostic(self) -> Diagnostic:
        col = max(self.col, 1)
        span = Span(self.file, self.line, col, self.line, col + max(len(self.value), 1))
        return Diagnostic(self.code, self.message, Label(span, self.column), self.severity)

    def render(self) -> str:
        head = f"{self.severity}[{self.code}]: "
        if self.message.startswith(self.file):
            return head + self.message
        return f"{head}{self.where()}: {self.message}"


def from_diagnostic(d: Diagnostic, rejected: frozenset[RowRef] = frozenset()) -> Problem:
    """A problem from a data diagnostic (binding or CSV reading)."""
    s = d.primary.span
    rejects = RowRef(s.file, s.line) in rejected
    return Problem(d.code, d.severity, d.message, s.file, s.line, "", s.col, "", None, rejects)


def error(code: str, message: str, file: str, **where: Any) -> Problem:
    """An error problem (keyword arguments: line, column, col, value, sheet, rejects)."""
    return Problem(code, "error", message, file, **where)


def warning(code: str, message: str, file: str, **where: Any) -> Problem:
    """A warning problem (keyword arguments as for :func:`error`)."""
    return Problem(code, "warning", message, file, **where)


def has_errors(problems: list[Problem] | tuple[Problem, ...]) -> bool:
    return any(p.severity == "error" for p in problems)
