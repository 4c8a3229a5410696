"""Rich display in notebooks: HTML for results and explanations, and a DataFrame.

``Result._repr_html_`` and ``Explanation._repr_html_`` can delegate here::

    def _repr_html_(self) -> str:
        from kpidsl.report.notebook import result_html
        return result_html(self)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kpidsl.explain.fragment import FRAGMENT_CSS, html_fragment
from kpidsl.explain.tree import Explanation
from kpidsl.report.page import money
from kpidsl.report.safe import esc

_STYLE = (
    "<style>.kpi-result table{border-collapse:collapse}"
    ".kpi-result th,.kpi-result td{border:1px solid #ccd;padding:.15rem .5rem}"
    ".kpi-result td.num{text-align:right;font-family:ui-monospace,monospace}"
    f"{FRAGMENT_CSS}</style>"
)


def result_html(result: Any) -> str:
    """A ``kpidsl.Result`` as an HTML table: one row per payee, components and total."""
    plan = result.plan
    head = f"<p><b>{esc(plan.name)}</b> · {esc(result.period)} · {'ok' if result.ok else 'FAILED'}</p>"
    if result.evaluation is None:
        items = "".join(f"<li>{esc(d.code)}: {esc(d.message)}</li>" for d in result.data_diagnostics)
        return f'<div class="kpi-result">{_STYLE}{head}<p>The data was rejected:</p><ul>{items}</ul></div>'
    comps = list(plan.model.payouts)
    names: dict[str, str] = dict(getattr(result, "names", None) or {})
    header = "".join(f"<th>{esc(h)}</th>" for h in ["payee", "name", *comps, "total", "errors"])
    rows = []
    for pid in sorted(result.payees):
        pr = result.payees[pid]
        cells = "".join(f'<td class="num">{esc(money(pr.components.get(c)))}</td>' for c in comps)
        errors = "; ".join(f"{e.code} {e.name}" for e in pr.errors)
        rows.append(
            f"<tr><td>{esc(pid)}</td><td>{esc(names.get(pid, ''))}</td>{cells}<td class='num'>{esc(money(pr.total))}</td>"
            f"<td>{esc(errors)}</td></tr>"
        )
    table = f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return f'<div class="kpi-result">{_STYLE}{head}{table}</div>'


def explanation_html(expl: Explanation) -> str:
    """An explanation tree as collapsible HTML (the first level open)."""
    return f"{_STYLE}{html_fragment([expl])}"


def to_pandas(result: Any) -> Any:
    """A ``pandas.DataFrame`` indexed by payee: each component and the total as ``Decimal``.

    Figures stay exact: the columns have dtype ``object`` holding ``Decimal``
    values (or None for an absent total), never floats. Needs pandas, which is
    not a dependency of kpidsl.
    """
    try:
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:
        raise ImportError("to_pandas needs pandas, which kpidsl does not install: pip install pandas") from e
    comps = list(result.plan.model.payouts)
    records: list[dict[str, Decimal | str | None]] = []
    for pid in sorted(result.payees):
        pr = result.payees[pid]
        row: dict[str, Decimal | str | None] = {"payee": pid}
        row.update({c: pr.components.get(c) for c in comps})
        row["total"] = pr.total
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=["payee", *comps, "total"])
    frame = frame.set_index("payee")
    return frame.astype(object)
