"""Source files and spans: where in which file a piece of a plan came from."""

from __future__ import annotations

import attrs


@attrs.frozen
class Span:
    """A region of one source file; lines and columns are 1-based, end exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def cover(self, other: Span) -> Span:
        """The smallest span containing both (same file assumed)."""
        first, last = (self, other) if self.start <= other.start else (other, self)
        end = last if last.end >= first.end else first
        return Span(self.file, first.line, first.col, end.end_line, end.end_col, first.start, end.end)


NO_SPAN = Span("<unknown>", 0, 0, 0, 0)


@attrs.frozen
class SourceFile:
    """The text of a plan file, kept so diagnostics can quote it."""

    name: str
    text: str

    def line_text(self, line: int) -> str:
        lines = self.text.splitlines()
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return ""

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, col) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, col

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(self.name, line, col, end_line, end_col, start, end)
