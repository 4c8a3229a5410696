"""The summary page and the leaderboard.

The leaderboard is filterable without JavaScript: one pre-rendered section
per filter (all, each region, each role), shown with the CSS ``:target``
selector when its link is followed; "all" shows when no filter is chosen.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation

from kpidsl.report.model import PayeeView, ReportModel
from kpidsl.report.page import figure, shell, table, text_figure
from kpidsl.report.safe import anchor, esc
from kpidsl.report.statement import statement_path, team_path

_CTX = Context(prec=40)


def _subtitle(m: ReportModel) -> str:
    version = f" v{m.plan_version}" if m.plan_version else ""
    return f"{m.plan_name}{version} · {m.period} · {m.currency}"


def _measure(p: PayeeView, name: str) -> Decimal | None:
    text = dict(p.values).get(name)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def ranked(payees: list[PayeeView], measures: tuple[str, ...]) -> list[PayeeView]:
    """Highest first by each measure in turn (absent last), then by total, then by id."""

    def key(p: PayeeView) -> tuple[object, ...]:
        parts: list[object] = []
        for name in measures:
            v = _measure(p, name)
            parts.extend([v is None, -(v or Decimal(0))])
        parts.extend([p.total is None, -(p.total or Decimal(0)), p.id])
        return tuple(parts)

    return sorted(payees, key=key)


def _board_table(payees: list[PayeeView], m: ReportModel) -> str:
    header = ["#", "Payee", "Name", "Role", "Region", *m.measures, "Total"]
    nums = {0, *range(5, len(header))}
    rows = []
    for rank, p in enumerate(ranked(payees, m.measures), 1):
        values = dict(p.values)
        cells = "".join(
            text_figure(f"{p.id}.values.{n}", values[n], percent=True) if n in values else "<td class='num'>—</td>"
            for n in m.measures
        )
        rows.append(
            f"<tr><td class='num'>{rank}</td><td><a href='{esc(statement_path(p.id))}'>{esc(p.id)}</a></td>"
            f"<td>{esc(p.name)}</td><td>{esc(p.role)}</td><td>{esc(p.region)}</td>{cells}"
            f"{figure(p.id + '.total', p.total, 'td')}</tr>"
        )
    return table(header, rows, nums)


def leaderboard_page(m: ReportModel) -> str:
    """Every payee ranked by the plan's score (then attainment), with per-filter sections."""
    everyone = list(m.payees)
    filters: list[tuple[str, str, list[PayeeView]]] = []
    for attr, label in (("region", "Region"), ("role", "Role")):
        values = sorted({getattr(p, attr) for p in everyone if getattr(p, attr)})
        for v in values:
            members = [p for p in everyone if getattr(p, attr) == v]
            filters.append((anchor(attr, v), f"{label}: {v}", members))
    links = "".join(f'<a href="#{esc(a)}">{esc(label)}</a>' for a, label, _ in filters)
    nav = f'<nav class="filters"><a href="#board-all">All</a>{links}</nav>'
    sections = [
        f'<section class="board" id="{esc(a)}"><h2>{esc(label)}</h2>{_board_table(ps, m)}</section>'
        for a, label, ps in filters
    ]
    ranked_by = ", then ".join(m.measures) or "total"
    sections.append(
        f'<section class="board" id="board-all"><h2>All payees</h2>{_board_table(everyone, m)}</section>'
    )
    body = f"<section><p>Ranked by {esc(ranked_by)}.</p>{nav}</section>" + "".join(sections)
    return shell(f"Leaderboard — {m.period}", _subtitle(m), body, root="")


def index_page(m: ReportModel) -> str:
    """The summary: plan, period, digests, the totals, links to every page."""
    totals = [p.total for p in m.payees]
    grand = None
    if all(t is not None for t in totals):
        grand = Decimal(0)
        for t in totals:
            grand = _CTX.add(grand, t or Decimal(0))
    status = "ok" if m.ok else "FAILED: some payees have errors (see their statements)"
    meta = [
        ("Plan", m.plan_name + (f" v{m.plan_version}" if m.plan_version else "")),
        ("Period", m.period),
        ("Currency", m.currency),
        ("Plan digest", m.plan_digest),
        ("Data digest", m.data_digest),
        ("Status", status),
    ]
    meta_rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in meta)
    comp_rows = []
    for c in m.components:
        s: Decimal | None = Decimal(0)
        for p in m.payees:
            v = dict(p.components).get(c)
            s = None if s is None or v is None else _CTX.add(s, v)
        comp_rows.append(f"<tr><td>{esc(c)}</td>{figure('sum:components.' + c, s, 'td')}</tr>")
    comp_rows.append(f"<tr><th>Total</th>{figure('sum:total', grand, 'td')}</tr>")
    managers = [p for p in m.payees if p.reports]
    rows = [
        f"<tr><td><a href='{esc(statement_path(p.id))}'>{esc(p.id)}</a></td><td>{esc(p.name)}</td>"
        f"<td>{esc(p.role)}</td><td>{esc(p.region)}</td>{figure(p.id + '.total', p.total, 'td')}</tr>"
        for p in m.payees
    ]
    teams = "".join(
        f"<li><a href='{esc(team_path(p.id))}'>{esc(p.name)} ({esc(p.id)})</a> · {len(p.reports)} members</li>"
        for p in managers
    )
    body = (
        f'<section><h2>Run</h2><table class="grid">{meta_rows}</table></section>'
        f"<section><h2>Totals ({esc(m.currency)})</h2>{table(['Component', 'Sum'], comp_rows, {1})}"
        f"<p><a href='leaderboard.html'>Leaderboard</a></p></section>"
        f"<section><h2>Teams</h2><ul>{teams}</ul></section>"
        f"<section><h2>Statements</h2>{table(['Payee', 'Name', 'Role', 'Region', 'Total'], rows, {4})}</section>"
    )
    return shell(f"{m.plan_name} — {m.period}", _subtitle(m), body, root="")
