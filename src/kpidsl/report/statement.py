"""A payee's statement and a manager's team page.

A statement shows only the payee's own figures, the facts credited to them
(or, for a manager paid on the team, their team's facts named in their
explanations), their explanation tree and their progress toward the next
tier. A team page lists the manager's reporting subtree and its totals.
"""

from __future__ import annotations

from decimal import Context, Decimal

from kpidsl.explain.fragment import html_fragment
from kpidsl.explain.render import format_value
from kpidsl.report.model import FactRow, PayeeView, ReportModel
from kpidsl.report.page import figure, money, progress_svg, shell, table, text_figure, up_to_cent
from kpidsl.report.progress import TierProgress
from kpidsl.report.safe import esc, file_stem

_CTX = Context(prec=40)


def statement_path(pid: str) -> str:
    return f"payees/{file_stem(pid)}.html"


def team_path(pid: str) -> str:
    return f"teams/{file_stem(pid)}.html"


def _subtitle(m: ReportModel) -> str:
    version = f" v{m.plan_version}" if m.plan_version else ""
    return f"{m.plan_name}{version} · {m.period} · {m.currency}"


def _who(p: PayeeView) -> str:
    rows = [("Payee", p.id), ("Role", p.role), ("Region", p.region), ("Manager", p.manager)]
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v)
    return f'<table class="grid">{cells}</table>'


def _total(p: PayeeView, m: ReportModel) -> str:
    errors = "".join(f'<li class="error">{esc(e)}</li>' for e in p.errors)
    errors_html = f"<ul>{errors}</ul>" if errors else ""
    return (
        f"<section><h2>Total payout ({esc(m.currency)})</h2>"
        f'{figure("total", p.total, "div", "total num")}{errors_html}</section>'
    )


def _components(p: PayeeView) -> str:
    rows = [
        f"<tr><td>{esc(name)}</td>{figure('components.' + name, value, 'td')}</tr>"
        for name, value in p.components
    ]
    return f"<section><h2>Components</h2>{table(['Component', 'Amount'], rows, {1})}</section>"


def _values(p: PayeeView) -> str:
    rows = [f"<tr><td>{esc(k)}</td>{text_figure('values.' + k, v)}</tr>" for k, v in p.values]
    body = table(["Measure", "Value"], rows, {1})
    return f"<section><details><summary><h2 style='display:inline'>Measures</h2></summary>{body}</details></section>"


def _progress_line(t: TierProgress) -> str:
    if t.next_edge is None or t.needed is None:
        text = f"{t.tiers}: {t.base} {money(t.current)} is in the top band ({t.band})."
    else:
        text = (
            f"{t.tiers}: {t.base} {money(t.current)} of {up_to_cent(t.next_edge)} (band {t.band}); "
            f"{up_to_cent(t.needed)} more reaches the next band ({t.next_band})."
        )
    return f'<div class="progress">{progress_svg(t.fraction, text)}<div>{esc(text)}</div></div>'


def _progress(p: PayeeView) -> str:
    if not p.progress:
        return ""
    lines = "".join(_progress_line(t) for t in p.progress)
    return f"<section><h2>Progress toward the next tier</h2>{lines}</section>"


def _explanation(p: PayeeView) -> str:
    if p.explanation is None:
        return ""
    return f"<section><h2>Why: the explanation</h2>{html_fragment([p.explanation])}</section>"


def facts_table(facts: tuple[FactRow, ...], with_payee: bool = False) -> str:
    """One table per fact kind: key, every field, and where the row came from."""
    out: list[str] = []
    kinds = sorted({f.kind for f in facts})
    for kind in kinds:
        rows_of = [f for f in facts if f.kind == kind]
        names = [n for n, _ in rows_of[0].fields]
        header = [*names, "source"]
        rows = []
        for f in rows_of:
            # digits grouped in numbers only: an id `007` or a customer `0012345678` as written
            cells = "".join(f"<td>{esc(format_value(v) if n in f.money | f.numbers and _numeric(v) else v)}</td>"
                            for n, v in f.fields)
            rows.append(f"<tr data-fact='{esc(f.kind)}:{esc(f.key)}'>{cells}<td class='muted'>{esc(f.source)}</td></tr>")
        out.append(f"<h3>{esc(kind)} ({len(rows_of)})</h3>{table(header, rows)}")
    return "".join(out) if out else "<p class='muted'>No facts.</p>"


def _numeric(v: str) -> bool:
    return bool(v) and v.lstrip("-").replace(".", "", 1).isdigit()


def statement_page(p: PayeeView, m: ReportModel) -> str:
    """The payee's statement: figures, progress, explanation and the deals behind them."""
    body = [
        f"<section><h2>Statement</h2>{_who(p)}</section>",
        _total(p, m),
        _components(p),
        _progress(p),
        _explanation(p),
        f"<section><h2>The facts behind these figures</h2>{facts_table(p.facts)}</section>",
        _values(p),
    ]
    if p.reports:
        body.insert(1, f'<p><a href="../{esc(team_path(p.id))}">Team view</a></p>')
    return shell(f"{p.name} — {m.period}", _subtitle(m), "\n".join(body), root="../")


def team_page(manager: PayeeView, m: ReportModel) -> str:
    """The manager's reporting subtree: each member's total and components, and the sum."""
    members = [m.payee(pid) for pid in manager.reports]
    header = ["Payee", "Name", "Role", "Region", *m.components, "Total"]
    nums = set(range(4, len(header)))
    rows = []
    for p in members:
        comps = dict(p.components)
        cells = "".join(figure(f"{p.id}.components.{c}", comps.get(c), "td") for c in m.components)
        link = f'<a href="../{esc(statement_path(p.id))}">{esc(p.id)}</a>'
        rows.append(
            f"<tr><td>{link}</td><td>{esc(p.name)}</td><td>{esc(p.role)}</td><td>{esc(p.region)}</td>"
            f"{cells}{figure(p.id + '.total', p.total, 'td')}</tr>"
        )
    totals = [x.total for x in members]
    team_total = _sum(totals)
    body = (
        f"<section><h2>Team of {esc(manager.name)} ({esc(manager.id)})</h2>"
        f"<p>{len(members)} members · team total {figure('team:total', team_total)} {esc(m.currency)}</p>"
        f"{table(header, rows, nums)}</section>"
    )
    return shell(f"Team {manager.name} — {m.period}", _subtitle(m), body, root="../")


def _sum(values: list[Decimal | None]) -> Decimal | None:
    """The exact sum (a local context), or None when any figure is absent."""
    out = Decimal(0)
    for v in values:
        if v is None:
            return None
        out = _CTX.add(out, v)
    return out
