"""Renderers for explanation trees: a terminal tree, JSON and a self-contained HTML page.

Values are shown as the engine computed them, never rounded: the text and HTML
renderers group the digits of a number's integer part (``5100.00`` -> ``5,100.00``),
show attainments and scores as percents (``1.185`` -> ``118.5%``) and drop
trailing zeros past the second decimal that carry no digit
(``542.0000000000000000000000000`` -> ``542``). JSON keeps the exact strings. The reconciliation check lives in
:mod:`kpidsl.explain.reconcile` and is re-exported here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from decimal import Decimal

from kpidsl import display
from kpidsl.explain.reconcile import reconcile
from kpidsl.explain.tree import Explanation
from kpidsl.numbers import percent_text

__all__ = [
    "display_value",
    "display_width",
    "format_value",
    "reconcile",
    "render_html",
    "render_json",
    "render_text",
]

_NUMBER = re.compile(r"^(-?)(\d+)(\.\d+)?$")
_PADDED = re.compile(r"(?<![\w.])(-?\d+)\.(\d{2}\d*?)0+(?![\w.%])")
_PERCENT_KINDS = ("attainment", "score")

_RESET = "\x1b[0m"
_STYLES = {"name": "\x1b[1m", "kind": "\x1b[36m", "span": "\x1b[2m", "error": "\x1b[1;31m"}


def format_value(value: str | None) -> str:
    """The value for display: thousands grouped, every digit kept; ``ERROR`` when absent."""
    if value is None:
        return "ERROR"
    m = _NUMBER.match(value)
    if not m or (len(m.group(2)) > 1 and m.group(2).startswith("0")):
        return value  # not a figure: a text such as the code 007 is shown as written
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    return f"{sign}{int(whole):,}{frac}"


def trim_zeros(text: str) -> str:
    """Drop trailing zeros past the second decimal of every number in ``text``: ``271.000`` -> ``271``.

    Only zeros go, so no figure with real digits is ever rounded; two decimals
    or fewer (``2370.00``) are kept as written.
    """
    def one(m: re.Match[str]) -> str:
        whole, frac = m.group(1), m.group(2).rstrip("0")
        return f"{whole}.{frac}" if frac else whole

    return _PADDED.sub(one, text)


def display_value(value: str | None, kind: str = "", unit: str | None = None) -> str:
    """A node's value for people: percents for attainments, scores and percent-typed values,
    padding zeros dropped."""
    if value is None:
        return "ERROR"
    if unit == "text":
        return value
    if (kind in _PERCENT_KINDS or unit == "percent") and _NUMBER.match(value):
        return format_value(percent_text(Decimal(value)).removesuffix("%")) + "%"
    return format_value(trim_zeros(value))


display_width = display.width  # the one definition is kpidsl.display.width


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


class _Text:
    """Builds the lines of the terminal tree."""

    def __init__(self, color: bool, max_facts: int) -> None:
        self.color = color
        self.max_facts = max_facts
        self.lines: list[str] = []

    def style(self, key: str, text: str) -> str:
        return f"{_STYLES[key]}{text}{_RESET}" if self.color else text

    def header(self, e: Explanation) -> str:
        value = display_value(e.value, e.kind, e.unit)
        value = self.style("error", value) if e.value is None else value
        out = f"{self.style('name', e.name)} = {value}  {self.style('kind', '[' + e.kind + ']')}"
        if e.span is not None:
            out += "  " + self.style("span", f"({e.span})")
        return out

    def node(self, e: Explanation, first: str, rest: str) -> None:
        self.lines.append(first + self.header(e))
        detail = rest + ("│  " if e.children else "   ")
        for line in self.details(e):
            self.lines.append((detail + line).rstrip())
        for i, child in enumerate(e.children):
            last = i == len(e.children) - 1
            self.node(child, rest + ("└─ " if last else "├─ "), rest + ("   " if last else "│  "))

    def details(self, e: Explanation) -> list[str]:
        out: list[str] = []
        if e.error:
            out.append(self.style("error", f"✖ error: {e.error}"))
        if e.formula:
            out.append(f"formula: {e.formula}")
        if e.override:
            out.append(f"override: {e.override}")
        out.extend(f"note: {trim_zeros(n)}" for n in e.notes)
        if e.rows:
            out.extend(table_lines(e.row_header, _shown_rows(e)))
        if e.facts or e.fact_count:
            out.append(facts_line(e.facts, e.fact_count, self.max_facts))
        return out


def _shown_rows(e: Explanation) -> list[list[str]]:
    """A node's table for people: a score's points are percents of the score, as its value
    and its attainment and weight columns are (``0.08`` -> ``8%``)."""
    rows = _trimmed(e.rows)
    if e.kind in _PERCENT_KINDS and "points" in e.row_header:
        i = e.row_header.index("points")
        for row in rows:
            if i < len(row) and _NUMBER.match(row[i]):
                row[i] = display_value(row[i], e.kind)
    return rows


def _trimmed(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Padding zeros dropped from the figures; the first column names the row (a fact's key,
    a component, a score line, a band) and is shown as written: invoice ``2026.100`` is
    not ``2026.1``."""
    return [[c if i == 0 else trim_zeros(c) for i, c in enumerate(row)] for row in rows]


def _is_numeric(cell: str) -> bool:
    return bool(re.match(r"^-?[\d,]+(\.\d+)?%?$", cell))


def table_lines(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as an aligned table; numeric cells right-aligned, widths by display width."""
    ncols = max([len(header), *(len(r) for r in rows)])
    head = list(header) + [""] * (ncols - len(header))
    body = [list(r) + [""] * (ncols - len(r)) for r in rows]
    widths = [max(display_width(line[i]) for line in [head, *body]) for i in range(ncols)]
    right = [all(_is_numeric(r[i]) or r[i] == "" for r in body) for i in range(ncols)]
    out: list[str] = []
    if any(head):
        out.append("  ".join(_pad(h, w, r) for h, w, r in zip(head, widths, right, strict=True)))
        out.append("  ".join("─" * w for w in widths))
    for row in body:
        out.append("  ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)))
    return [line.rstrip() for line in out]


def facts_line(facts: Sequence[str], count: int, max_facts: int) -> str:
    """``12 facts: D1, D2, … (+2 more)``: the count and the first ``max_facts`` keys."""
    total = max(count, len(facts))
    noun = "fact" if total == 1 else "facts"
    shown = list(facts[: max(0, max_facts)])
    text = f"{total} {noun}"
    if shown:
        text += ": " + ", ".join(shown)
    more = total - len(shown)
    if more > 0:
        text += (", …" if shown else ": …") + f" (+{more} more)"
    return text


def render_text(expl: Explanation, *, color: bool = False, max_facts: int = 10) -> str:
    """A terminal tree with box-drawing characters, one node per named value or part."""
    builder = _Text(color, max_facts)
    builder.node(expl, "", "")
    return "\n".join(builder.lines) + "\n"


def render_json(expl: Explanation | Sequence[Explanation]) -> str:
    """JSON of one tree (or a list of trees): UTF-8 text, indent 2, stable key order."""
    data = expl.to_dict() if isinstance(expl, Explanation) else [e.to_dict() for e in expl]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei",
  sans-serif; margin: 2rem; color: #1d2330; background: #fff; }
h1 { font-size: 1.4rem; }
details, .leaf { margin: .15rem 0 .15rem 1.2rem; }
summary { cursor: pointer; }
.name { font-weight: 600; }
.value { font-family: ui-monospace, Menlo, Consolas, monospace; }
.kind { color: #2a6f97; font-size: .85em; margin-left: .5rem; }
.src { color: #777; font-size: .8em; margin-left: .5rem; }
.detail { margin: .1rem 0 .1rem 1.2rem; font-size: .9em; }
.formula { font-family: ui-monospace, Menlo, Consolas, monospace; }
.error { color: #b00020; font-weight: 600; }
table { border-collapse: collapse; margin: .3rem 0 .3rem 1.2rem; font-size: .85em; }
th, td { border: 1px solid #ccd; padding: .15rem .5rem; }
td.num { text-align: right; font-family: ui-monospace, Menlo, Consolas, monospace; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_summary(e: Explanation) -> str:
    value_cls = "value error" if e.value is None else "value"
    out = (
        f'<span class="name">{_e(e.name)}</span> = '
        f'<span class="{value_cls}">{_e(display_value(e.value, e.kind, e.unit))}</span>'
        f'<span class="kind">[{_e(e.kind)}]</span>'
    )
    if e.span is not None:
        out += f'<span class="src">({_e(str(e.span))})</span>'
    return out


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    parts = ["<table>"]
    if header:
        parts.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if _is_numeric(c) else f"<td>{_e(c)}</td>" for c in row
        )
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table>")
    return "".join(parts)


def _html_details(e: Explanation, max_facts: int) -> list[str]:
    out: list[str] = []
    if e.error:
        out.append(f'<div class="detail error">✖ error: {_e(e.error)}</div>')
    if e.formula:
        out.append(
            f'<div class="detail">formula: <span class="formula">{_e(e.formula)}</span></div>'
        )
    if e.override:
        out.append(f'<div class="detail">override: {_e(e.override)}</div>')
    out.extend(f'<div class="detail">note: {_e(trim_zeros(n))}</div>' for n in e.notes)
    if e.rows:
        out.append(_html_table(e.row_header, _shown_rows(e)))
    if e.facts or e.fact_count:
        out.append(f'<div class="detail">{_e(facts_line(e.facts, e.fact_count, max_facts))}</div>')
    return out


def _html_node(e: Explanation, max_facts: int, open_: bool) -> str:
    inner = _html_details(e, max_facts)
    inner.extend(_html_node(c, max_facts, False) for c in e.children)
    if not inner:
        return f'<div class="leaf">{_html_summary(e)}</div>'
    attr = " open" if open_ else ""
    return f"<details{attr}><summary>{_html_summary(e)}</summary>{''.join(inner)}</details>"


def render_html(expls: Sequence[Explanation], title: str, *, max_facts: int = 50) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no network) of the trees."""
    body = "\n".join(_html_node(e, max_facts, True) for e in expls)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{_e(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
