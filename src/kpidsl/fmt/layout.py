"""Output lines that remember their source lines, and comments woven back in.

Every printed line carries the range of source lines it came from. A comment
on a line that some printed line covers stays at the end of that printed line
(the last one covering it); any other comment leads the next printed line that
starts after it, at that line's indentation (or at the end of the file); the
comments before any code stay at the top of the file, even when a ``plan`` header
written later is printed first. One blank line the author left between a comment
and the code after it is kept.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from contextvars import ContextVar

import attrs

from kpidsl import ast
from kpidsl.source import Span
from kpidsl.syntax.literals import ASCII_SPACE

__all__ = [
    "COMMENT_LINES",
    "INDENT",
    "SOURCE_TEXT",
    "Line",
    "blank",
    "comment_text",
    "holds_comments",
    "masked",
    "render_lines",
    "span_lines",
]

INDENT = "  "

# Source lines holding comments, for the module being formatted (blocks that
# hold only comments keep their braces on separate lines).
COMMENT_LINES: ContextVar[frozenset[int]] = ContextVar("kpidsl_fmt_comments", default=frozenset())
# The module's source text when known (``\n`` line ends), to place what the syntax
# tree has no span for (a fact's ``key`` and ``date`` lines).
SOURCE_TEXT: ContextVar[str | None] = ContextVar("kpidsl_fmt_source", default=None)

_STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|//[^\n]*')


def masked(text: str) -> str:
    """``text`` with strings and comments blanked out (same length, newlines kept), so
    that a word found in it is code."""
    return _STRING_OR_COMMENT.sub(lambda m: " " * len(m.group()), text)


@attrs.frozen
class Line:
    """One output line: indentation level, text, source lines covered (0 = none)."""

    indent: int
    text: str
    first: int = 0
    last: int = 0
    comment_indent: int | None = None

    @property
    def anchored(self) -> bool:
        return self.first > 0

    def covers(self, line: int) -> bool:
        return self.first <= line <= self.last


def blank() -> Line:
    """An empty separator line."""
    return Line(0, "")


def span_lines(span: Span, *, single: bool = False) -> tuple[int, int]:
    """The source line range of a span (0, 0 when unknown); ``single``: first line only."""
    if span.line <= 0:
        return (0, 0)
    return (span.line, span.line if single else max(span.line, span.end_line))


def comment_text(comment: ast.Comment) -> str:
    """``//`` and the comment's text (which keeps the author's leading space), right-trimmed
    of ASCII whitespace only: a U+3000 ideographic space (or any other Unicode space) the
    author ended the comment with is part of its text, as it is of a string's."""
    return ("//" + comment.text).rstrip(ASCII_SPACE)


def holds_comments(span: Span) -> bool:
    """True when a block over ``span`` holds a comment: on a line after its opening line and
    before its closing one, or at the end of its opening line (``deals { // note``) when the
    block closes on a later line. Such a block keeps its braces on separate lines."""
    if span.line <= 0 or span.end_line <= span.line:
        return False
    lines = COMMENT_LINES.get()
    return any(n in lines for n in range(span.line, span.end_line))


@attrs.define
class _Placement:
    """Where each comment goes: leading comments per line, trailing per line, tail."""

    leading: dict[int, list[ast.Comment]] = attrs.Factory(dict)
    trailing: dict[int, list[ast.Comment]] = attrs.Factory(dict)
    tail: list[ast.Comment] = attrs.Factory(list)


def _place(lines: Sequence[Line], comments: Sequence[ast.Comment]) -> _Placement:
    placement = _Placement()
    covering: dict[int, int] = {}  # source line -> last output line covering it
    for i, line in enumerate(lines):
        if line.anchored:
            for number in range(line.first, line.last + 1):
                covering[number] = i
    # "The output line starting next after source line n": output lines sorted by their
    # first source line (ties: the one printed first). Not the one printed first among
    # all that start later: a late `plan` header is printed first, and a comment inside
    # an item after it must stay with that item.
    starts = sorted((ln.first, i) for i, ln in enumerate(lines) if ln.anchored)
    firsts = [first for first, _ in starts]
    # The comments that open the file, before any code (a title, a licence), stay at its
    # top: before the first printed line even when that is a `plan` header written later.
    opening = next((i for i, ln in enumerate(lines) if ln.anchored), None)
    for comment in sorted(comments, key=lambda c: c.line):
        if comment.line in covering:
            placement.trailing.setdefault(covering[comment.line], []).append(comment)
            continue
        if opening is not None and comment.line < firsts[0]:
            placement.leading.setdefault(opening, []).append(comment)
            continue
        k = bisect.bisect_right(firsts, comment.line)
        if k < len(starts):
            placement.leading.setdefault(starts[k][1], []).append(comment)
        else:
            placement.tail.append(comment)
    return placement


def _leading_block(comments: list[ast.Comment], indent: str, next_line: int) -> list[str]:
    """Comment lines before some code (``next_line`` 0: nothing follows, or a ``}``)."""
    out: list[str] = []
    for i, comment in enumerate(comments):
        if i and comment.line - comments[i - 1].line > 1:
            out.append("")
        out.append(indent + comment_text(comment))
    if next_line and next_line - comments[-1].line > 1:
        out.append("")
    return out


def render_lines(lines: Sequence[Line], comments: Sequence[ast.Comment]) -> str:
    """The final text: lines indented, comments woven in, one newline at the end."""
    placement = _place(lines, comments)
    out: list[str] = []
    for i, line in enumerate(lines):
        lead = placement.leading.get(i)
        if lead:
            level = line.indent if line.comment_indent is None else line.comment_indent
            closing = line.comment_indent is not None
            out.extend(_leading_block(lead, INDENT * level, 0 if closing else line.first))
        text = INDENT * line.indent + line.text if line.text else ""
        trail = placement.trailing.get(i, [])
        if len(trail) > 1:
            out.extend(INDENT * line.indent + comment_text(c) for c in trail[:-1])
        if trail:
            text = f"{text}  {comment_text(trail[-1])}" if text else comment_text(trail[-1])
        out.append(text)
    if placement.tail:
        last = max((ln.last for ln in lines if ln.anchored), default=0)
        if out and out[-1] != "" and last and placement.tail[0].line - last > 1:
            out.append("")
        out.extend(_leading_block(placement.tail, "", 0))
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""
