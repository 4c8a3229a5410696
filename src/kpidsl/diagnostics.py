"""Diagnostics as data: one primary label, secondary labels, notes and help.

Rendering lives in :mod:`kpidsl.render`; nothing here formats text for a
terminal. Every code is documented in ``docs/diagnostics.md``.
"""

from __future__ import annotations

from typing import Literal

import attrs

from kpidsl.source import Span

Severity = Literal["error", "warning"]


@attrs.frozen
class Label:
    """A span with a short message; the primary label carries the caret underline."""

    span: Span
    message: str = ""


@attrs.frozen
class Cell:
    """The data cell a diagnostic is about: its column's name and its text as read."""

    column: str
    value: str


@attrs.frozen
class Diagnostic:
    """A problem found in a plan or its data, with a stable code like ``KPI0203``."""

    code: str
    message: str
    primary: Label
    severity: Severity = "error"
    secondary: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    help: str | None = None
    # a data diagnostic about one cell: which column, and the cell's text (for reports
    # such as ``kpidsl validate --format json``; the message words it too)
    cell: Cell | None = None

    @property
    def span(self) -> Span:
        return self.primary.span

    def sort_key(self) -> tuple[str, int, int, str]:
        s = self.primary.span
        return (s.file, s.line, s.col, self.code)


def error(
    code: str,
    message: str,
    span: Span,
    label: str = "",
    *,
    secondary: tuple[Label, ...] = (),
    notes: tuple[str, ...] = (),
    help: str | None = None,
    cell: Cell | None = None,
) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(code, message, Label(span, label), "error", secondary, notes, help, cell)


def warning(
    code: str,
    message: str,
    span: Span,
    label: str = "",
    *,
    secondary: tuple[Label, ...] = (),
    notes: tuple[str, ...] = (),
    help: str | None = None,
    cell: Cell | None = None,
) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(code, message, Label(span, label), "warning", secondary, notes, help, cell)


def has_errors(diags: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.severity == "error" for d in diags)


class KpiError(Exception):
    """The library's own error: carries the diagnostics that caused it."""

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        msg = f"{first.code}: {first.message} at {first.span}" if first else "kpidsl error"
        if len(self.diagnostics) > 1:
            msg += f" (and {len(self.diagnostics) - 1} more)"
        super().__init__(msg)
