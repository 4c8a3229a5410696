"""Source files and spans: where in which file a piece of a plan came from.

A plan's line ends are ``\\n``, ``\\r\\n`` and a lone ``\\r`` (as editors and Python
read them). :class:`SourceFile` holds its text with all three normalised to
``\\n``, the one line end the lexer counts, so that lines and columns mean the
same to the parser, to diagnostics and to the caret excerpts. Other characters
that ``str.splitlines`` breaks at (``\\f``, U+0085, U+2028...) do not end a line.
"""

from __future__ import annotations

import attrs


def normalize_line_ends(text: str) -> str:
    """``text`` with ``\\r\\n`` and a lone ``\\r`` turned into ``\\n``."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    """The text of a plan file (line ends normalised), kept so diagnostics can quote it."""

    name: str
    text: str = attrs.field(converter=normalize_line_ends)

    def line_count(self) -> int:
        """Lines in the text; a final line end does not start another line."""
        text = self.text
        return text.count("\n") + (0 if not text or text.endswith("\n") else 1)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line end ("" past the end)."""
        if line < 1:
            return ""
        text, start = self.text, 0
        for _ in range(line - 1):
            start = text.find("\n", start) + 1
            if start == 0:
                return ""
        end = text.find("\n", start)
        return text[start:] if end < 0 else text[start:end]

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
