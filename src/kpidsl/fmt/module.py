"""A whole module: header, items, and comments woven back in."""

from __future__ import annotations

import re

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, has_errors
from kpidsl.fmt.blocks import header_lines
from kpidsl.fmt.items import sequence_lines
from kpidsl.fmt.layout import COMMENT_LINES, SOURCE_TEXT, Line, blank, masked, render_lines
from kpidsl.source import normalize_line_ends
from kpidsl.syntax.parser import parse_source

__all__ = ["format_module", "format_source"]

# After `rounding`: the mode, then the quantum (the grammar's NUMBER).
_QUANTUM = re.compile(r"\s+\w+\s+(\d(?:_?\d)*(?:\.\d(?:_?\d)*)?)(?![\w.%])")


def _header_source(header: ast.PlanHeader, text: str | None) -> tuple[list[int], str | None]:
    """Source lines of the header's settings, in written order, found in ``text``, and
    the rounding quantum as written (``0.010``: its scale is part of its meaning)."""
    span = header.span
    if text is None or span.line <= 0 or span.end <= span.start:
        return [], None
    # Blank out strings and comments so a setting name inside them is not found.
    body = masked(text[span.start : span.end])
    lines: list[int] = []
    quantum: str | None = None
    pos = body.find("{") + 1
    for name in header.settings:
        found = re.compile(rf"(?<!\w){name}(?!\w)").search(body, pos)
        if found is None:
            return [], None
        lines.append(span.line + body.count("\n", 0, found.start()))
        pos = found.end()
        if name == "rounding":
            written = _QUANTUM.match(body, pos)
            quantum = written.group(1) if written else None
    return lines, quantum


def module_lines(module: ast.Module, text: str | None = None) -> list[Line]:
    """The module's output lines before comments are woven in."""
    comment_lines = frozenset(c.line for c in module.comments)
    token = COMMENT_LINES.set(comment_lines)
    source = SOURCE_TEXT.set(text)
    try:
        return _module_lines(module, text, comment_lines)
    finally:
        SOURCE_TEXT.reset(source)
        COMMENT_LINES.reset(token)


def _module_lines(
    module: ast.Module, text: str | None, comment_lines: frozenset[int]
) -> list[Line]:
    out: list[Line] = []
    if module.header is not None:
        lines, quantum = _header_source(module.header, text)
        out.extend(header_lines(module.header, lines, quantum))
    items = sequence_lines(module.items, 0, comment_lines)
    if out and items:
        out.append(blank())
    return out + items


def format_module(module: ast.Module, text: str | None = None) -> str:
    """The canonical text of ``module`` (``text``, its source, helps place comments)."""
    return render_lines(module_lines(module, text), module.comments)


def format_source(text: str, file: str = "<string>") -> tuple[str | None, list[Diagnostic]]:
    """Parse then format; ``(None, diagnostics)`` when the text does not parse.

    The output's line ends are ``\\n`` whatever the input's (``\\r\\n``, ``\\r``).
    """
    text = normalize_line_ends(text)
    module, diagnostics = parse_source(text, file)
    if module is None or has_errors(diagnostics):
        return None, list(diagnostics)
    return format_module(module, text), list(diagnostics)
