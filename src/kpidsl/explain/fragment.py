"""An explanation tree as an HTML fragment, for embedding in a larger page.

The same markup as :func:`kpidsl.explain.render.render_html` (collapsible
``<details>`` per node, no script), without the page around it; the page must
include :data:`FRAGMENT_CSS` (scoped under ``.kpi-explain``).
"""

from __future__ import annotations

from collections.abc import Sequence

from kpidsl.explain import render
from kpidsl.explain.tree import Explanation

__all__ = ["FRAGMENT_CSS", "html_fragment"]

FRAGMENT_CSS = """
.kpi-explain details, .kpi-explain .leaf { margin: .15rem 0 .15rem 1.2rem; }
.kpi-explain summary { cursor: pointer; }
.kpi-explain .name { font-weight: 600; }
.kpi-explain .value, .kpi-explain .formula, .kpi-explain td.num {
  font-family: ui-monospace, Menlo, Consolas, "Noto Sans Mono CJK SC", monospace; }
.kpi-explain .kind { color: #2a6f97; font-size: .85em; margin-left: .5rem; }
.kpi-explain .src { color: #777; font-size: .8em; margin-left: .5rem; }
.kpi-explain .detail { margin: .1rem 0 .1rem 1.2rem; font-size: .9em; }
.kpi-explain .error { color: #b00020; font-weight: 600; }
.kpi-explain table { border-collapse: collapse; margin: .3rem 0 .3rem 1.2rem; font-size: .85em; }
.kpi-explain th, .kpi-explain td { border: 1px solid #ccd; padding: .15rem .5rem; }
.kpi-explain td.num { text-align: right; }
"""


def html_fragment(expls: Sequence[Explanation], *, max_facts: int = 50, open_levels: int = 1) -> str:
    """``<div class="kpi-explain">`` holding each tree; the top ``open_levels`` start open.

    Every text from the tree (names, formulas, notes, fact keys) is HTML-escaped.
    """
    parts = [_node(e, max_facts, open_levels) for e in expls]
    return '<div class="kpi-explain">' + "".join(parts) + "</div>"


def _node(e: Explanation, max_facts: int, open_levels: int) -> str:
    inner = render._html_details(e, max_facts)
    inner.extend(_node(c, max_facts, open_levels - 1) for c in e.children)
    if not inner:
        return f'<div class="leaf">{render._html_summary(e)}</div>'
    attr = " open" if open_levels > 0 else ""
    return f"<details{attr}><summary>{render._html_summary(e)}</summary>{''.join(inner)}</details>"
