"""Diagnostics rendered for people (rustc/codespan style text) or machines (JSON).

A diagnostic is data (:mod:`kpidsl.diagnostics`); this module is the only place
that turns it into text. The text layout::

    error[KPI0203]: cannot add money and count
      --> plans/q3.kpi:12:18
       |
    12 |   metric x: money = bookings + new_logos
       |                     ^^^^^^^^   --------- count
       |                     |
       |                     money
       |
       = note: ...

Columns are display columns: tabs are expanded and wide (CJK) characters take
two cells, so carets line up under what they point at in a terminal. Every piece
of text that comes from a plan or its data (the excerpt, file names, messages,
labels, notes and help) is shown with its control characters as pictures
(:func:`kpidsl.display.visible`): nothing reaches the terminal as an escape.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kpidsl.diagnostics import Diagnostic, Label
from kpidsl.display import char_width, visible, visible_char, width
from kpidsl.source import SourceFile, Span

__all__ = [
    "char_width",
    "diagnostic_to_dict",
    "display_width",
    "render_json",
    "render_text",
    "sorted_diagnostics",
]

TAB_WIDTH = 4

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "secondary": "\x1b[1;34m",
    "gutter": "\x1b[1;34m",
    "note": "\x1b[1m",
}


# --------------------------------------------------------------------------
# Display width
# --------------------------------------------------------------------------


display_width = width  # re-exported: the one definition is kpidsl.display.width


def _expand(text: str) -> tuple[str, list[int]]:
    """Expand tabs; also return the display column where each character starts."""
    out: list[str] = []
    starts: list[int] = []
    col = 0
    for ch in text:
        starts.append(col)
        if ch == "\t":
            pad = TAB_WIDTH - col % TAB_WIDTH
            out.append(" " * pad)
            col += pad
        else:
            shown = _visible(ch)
            out.append(shown)
            col += char_width(ch) if shown is ch else display_width(shown)
    starts.append(col)
    return "".join(out), starts


_visible = visible_char  # the one definition is kpidsl.display.visible_char


# --------------------------------------------------------------------------
# Text rendering
# --------------------------------------------------------------------------


@attrs.frozen
class _Mark:
    """One label placed on a source line: display columns [start, end)."""

    start: int
    end: int
    primary: bool
    message: str


class _Painter:
    """Wraps text in ANSI styles when color is on; identity otherwise."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"


def _has_source(span: Span, sources: Mapping[str, SourceFile]) -> bool:
    src = sources.get(span.file)
    return src is not None and span.line >= 1 and span.line <= src.line_count()


def _location(span: Span) -> str:
    if span.line <= 0:
        return visible(span.file)
    return f"{visible(span.file)}:{span.line}:{span.col}"


# A source line longer than this is shown as an excerpt around its labels.
MAX_EXCERPT = 240
_CONTEXT = 60
_CUT = "..."


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


# Labels of one long line further apart than this are shown in excerpts of their own.
_SPREAD = 4 * MAX_EXCERPT - 2 * _CONTEXT


@attrs.frozen
class _Excerpt:
    """The part of a source line shown: ``text`` (cut ends marked ``...``), the column shift
    (a 0-based column ``c`` of the line is ``c - shift`` in ``text``) and the characters of
    ``text`` that are the line's own, ``[lo, hi)`` (not a ``...``)."""

    text: str
    shift: int = 0
    lo: int = 0
    hi: int = -1

    def own(self) -> tuple[int, int]:
        return self.lo, len(self.text) if self.hi < 0 else self.hi


def _window(text: str, labels: list[tuple[Label, bool]]) -> _Excerpt:
    """The part of a long line worth showing: around its labels (which :func:`_clusters`
    keeps within :data:`_SPREAD` of each other)."""
    if len(text) <= MAX_EXCERPT:
        return _Excerpt(text)
    firsts = [max(lab.span.col - 1, 0) for lab, _ in labels] or [0]
    lo = max(0, min(firsts) - _CONTEXT)
    hi = min(len(text), max(lo + MAX_EXCERPT, max(firsts) + _CONTEXT))
    hi = min(hi, lo + 4 * MAX_EXCERPT)
    head = _CUT if lo > 0 else ""
    tail = _CUT if hi < len(text) else ""
    return _Excerpt(head + text[lo:hi] + tail, lo - len(head), len(head), len(head) + hi - lo)


def _clusters(text: str, labels: list[tuple[Label, bool]]) -> list[list[tuple[Label, bool]]]:
    """The labels of one line in groups that one excerpt can show: all of them for a short
    line; on a long line, labels too far apart to share a window get windows of their own
    (else a label past the window would be drawn under its ``...``)."""
    if len(text) <= MAX_EXCERPT or len(labels) < 2:
        return [labels]
    ordered = sorted(labels, key=lambda lp: lp[0].span.col)
    groups: list[list[tuple[Label, bool]]] = [[ordered[0]]]
    for lab in ordered[1:]:
        if lab[0].span.col - groups[-1][0][0].span.col > _SPREAD:
            groups.append([])
        groups[-1].append(lab)
    return groups


def _mark_for(label: Label, primary: bool, excerpt: _Excerpt) -> _Mark:
    """Where a label's underline goes on its first line (multi-line: to the end of the line
    or of its excerpt, never under a ``...``)."""
    line_text, shift = excerpt.text, excerpt.shift
    own_lo, own_hi = excerpt.own()
    starts = _expand(line_text)[1]
    span = label.span
    first = min(max(span.col - 1 - shift, own_lo), own_hi)
    if span.end_line > span.line:
        last = own_hi
    else:
        last = min(max(span.end_col - 1 - shift, first), own_hi)
    start, end = starts[first], starts[last]
    if end <= start:
        # no cell to underline: an empty span, or a zero-width character. A combining mark
        # is drawn on the character it follows, so the caret goes under that character
        # (not under the next one).
        base = first
        while base > own_lo and base < len(line_text) and _is_mark(line_text[base]):
            base -= 1
        if base < first:
            start = starts[base]
        end = max(end, start + 1)
    return _Mark(start, end, primary, visible(label.message))


def _underline_rows(marks: list[_Mark], paint: _Painter, sev: str) -> list[str]:
    """The underline row plus the rows that hang the other labels' messages."""
    marks = sorted(marks, key=lambda m: (m.start, m.end))
    width = max(m.end for m in marks)
    cells = [" "] * width
    for m in sorted(marks, key=lambda m: m.primary):  # primary drawn last, on top
        for i in range(m.start, m.end):
            cells[i] = "^" if m.primary else "-"
    inline = marks[-1] if marks[-1].end >= width else None
    hanging = [m for m in marks if m.message and m is not inline]
    row = _paint_cells(cells, paint, sev)
    if inline is not None and inline.message:
        row += " " + paint(inline.message, sev if inline.primary else "secondary")
    rows = [row.rstrip()]
    if hanging:
        rows.append(_bar_row(hanging, None, paint, sev))
        for i in range(len(hanging) - 1, -1, -1):
            rows.append(_bar_row(hanging[:i], hanging[i], paint, sev))
    return rows


def _paint_cells(cells: list[str], paint: _Painter, sev: str) -> str:
    """The underline row, each run of ``^`` or ``-`` painted as one piece."""
    text = "".join(cells)
    if not paint.color:
        return text
    runs = re.findall(r"\^+|-+| +", text)
    return "".join(
        paint(r, sev if r[0] == "^" else "secondary") if r[0] != " " else r for r in runs
    )


def _bar_row(bars: list[_Mark], message: _Mark | None, paint: _Painter, sev: str) -> str:
    """Vertical bars under the given labels, then optionally one label's message."""
    row, col = "", 0  # col: the cells taken so far (``row`` may hold ANSI styles, which take none)
    for m in bars:
        row += " " * (m.start - col) + paint("|", _style(m, sev))
        col = m.start + 1
    if message is not None:
        row += " " * (message.start - col)
        row += paint(message.message, _style(message, sev))
    return row


def _style(m: _Mark, sev: str) -> str:
    return sev if m.primary else "secondary"


def _group_labels(diag: Diagnostic) -> list[tuple[str, list[tuple[Label, bool]]]]:
    """Labels grouped by file: the primary's file first, others by name."""
    labels = [(diag.primary, True)] + [(lab, False) for lab in diag.secondary]
    groups: dict[str, list[tuple[Label, bool]]] = {}
    for lab, prim in labels:
        groups.setdefault(lab.span.file, []).append((lab, prim))
    first = diag.primary.span.file
    order = [first, *sorted(f for f in groups if f != first)]
    return [(f, groups[f]) for f in order]


class _DiagRenderer:
    """Renders one diagnostic; the gutter is as wide as its largest line number."""

    def __init__(self, diag: Diagnostic, sources: Mapping[str, SourceFile], paint: _Painter):
        self.diag = diag
        self.sources = sources
        self.paint = paint
        self.sev = diag.severity
        shown = [lab.span.line for lab in (diag.primary, *diag.secondary)]
        self.gutter = max([len(str(n)) for n in shown if n > 0] or [1])

    def pad(self) -> str:
        return " " * self.gutter

    def bar(self, rest: str = "") -> str:
        return (f"{self.pad()} {self.paint('|', 'gutter')} {rest}").rstrip()

    def render(self) -> list[str]:
        d = self.diag
        head = self.paint(f"{d.severity}[{d.code}]", self.sev) + self.paint(
            f": {visible(d.message)}", "note"
        )
        out = [head]
        for idx, (_file, labels) in enumerate(_group_labels(d)):
            out.extend(self.file_group(labels, first=idx == 0))
        tail = [f"note: {visible(n)}" for n in d.notes] + ([f"help: {visible(d.help)}"] if d.help else [])
        if tail:
            out.append(self.bar())
            out.extend(f"{self.pad()} {self.paint('=', 'gutter')} {t}" for t in tail)
        return out

    def file_group(self, labels: list[tuple[Label, bool]], first: bool) -> list[str]:
        arrow = "-->" if first else ":::"
        anchor = labels[0][0].span
        out: list[str] = []
        if not (anchor.line <= 0 and anchor.file == "<unknown>"):
            out.append(f"{self.pad()}{self.paint(arrow, 'gutter')} {_location(anchor)}")
        with_src = [(lab, p) for lab, p in labels if _has_source(lab.span, self.sources)]
        for lab, _p in labels:
            if not _has_source(lab.span, self.sources) and lab.message:
                out.append(f"{self.pad()} {self.paint('=', 'gutter')} {visible(lab.message)}")
        if with_src:
            out.append(self.bar())
            out.extend(self.snippet(with_src))
        return out

    def snippet(self, labels: list[tuple[Label, bool]]) -> list[str]:
        src = self.sources[labels[0][0].span.file]
        by_line: dict[int, list[tuple[Label, bool]]] = {}
        for lab, prim in labels:
            by_line.setdefault(lab.span.line, []).append((lab, prim))
        out: list[str] = []
        previous = 0
        for line in sorted(by_line):
            if previous and line - previous == 2:
                out.append(self.source_row(previous + 1, _window(src.line_text(previous + 1), []).text))
            elif previous and line - previous > 2:
                out.append(self.paint("...", "gutter"))
            line_text = src.line_text(line)
            for group in _clusters(line_text, by_line[line]):
                excerpt = _window(line_text, group)
                out.append(self.source_row(line, excerpt.text))
                marks = [_mark_for(lab, prim, excerpt) for lab, prim in group]
                out.extend(self.bar(r) for r in _underline_rows(marks, self.paint, self.sev))
            previous = line
        return out

    def source_row(self, line: int, text: str) -> str:
        num = self.paint(f"{line:>{self.gutter}}", "gutter")
        return f"{num} {self.paint('|', 'gutter')} {_expand(text)[0]}".rstrip()


def _summary(diags: Sequence[Diagnostic], paint: _Painter) -> str:
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    sev = "error" if errors else "warning"
    return paint(sev, sev) + paint(": " + ", ".join(parts), "note")


def sorted_diagnostics(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in source order: file, line, column, code (stable otherwise)."""
    return sorted(diagnostics, key=lambda d: d.sort_key())


def render_text(
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, SourceFile],
    *,
    color: bool = False,
) -> str:
    """All diagnostics in source order, a blank line apart, then a summary line.

    Returns the empty string when there is nothing to report. Labels whose file
    is not in ``sources`` (or whose line is 0) are shown by location only.
    """
    if not diagnostics:
        return ""
    paint = _Painter(color)
    blocks = [
        "\n".join(_DiagRenderer(d, sources, paint).render())
        for d in sorted_diagnostics(diagnostics)
    ]
    return "\n\n".join([*blocks, _summary(diagnostics, paint)]) + "\n"


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def _span_dict(span: Span) -> dict[str, Any]:
    return {
        "file": span.file,
        "line": span.line,
        "col": span.col,
        "end_line": span.end_line,
        "end_col": span.end_col,
    }


def diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    """A plain dict with a stable key order (the JSON shape of a diagnostic)."""
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        **_span_dict(d.primary.span),
        "label": d.primary.message,
        "labels": [{**_span_dict(lab.span), "message": lab.message} for lab in d.secondary],
        "notes": list(d.notes),
        "help": d.help,
    }


_SURROGATE = re.compile("[\ud800-\udfff]")


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    """A JSON array of diagnostics in source order (UTF-8 text, not ASCII-escaped).

    A lone surrogate (a file name that is not UTF-8, as Python reads it) is written as
    U+FFFD: no UTF-8 output can hold it, and a JSON reader may refuse it escaped."""
    items = [diagnostic_to_dict(d) for d in sorted_diagnostics(diagnostics)]
    return _SURROGATE.sub("\ufffd", json.dumps(items, ensure_ascii=False, indent=2))
