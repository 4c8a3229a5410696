"""Data warnings about fact rows on the columnar path, worded as the reference binder words them.

KPI0717: a text the plan compares to a literal (``deal.stage == "won"``) that
differs from it only in case or surrounding space (``Won``) never matches, so
the fact silently drops out of a figure. The reference binder warns for every
such fact; here the distinct values of each compared field are read from
DuckDB, the odd ones picked out in Python (the same folding), and only their
rows fetched, so the warnings are the reference's, row for row.
"""

from __future__ import annotations

from typing import Any

from kpidsl.data.literals import case_mismatches, fold
from kpidsl.data.model import Fact, RawRow, RawTable, RowRef
from kpidsl.data.navigation import compared_literals
from kpidsl.data.tableview import Sink, View
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import PlanModel

from .facttable import FactTable
from .sources import quote


def case_mismatch_warnings(con: Any, model: PlanModel, tables: dict[str, FactTable],
                           headers: dict[str, tuple[str, ...]]) -> list[Diagnostic]:
    """KPI0717 for every fact row of ``tables`` (``headers``: each file's columns, in order)."""
    sink = Sink()
    for (kind, field), literals in sorted(compared_literals(model).items()):
        ft = tables.get(kind)
        if ft is None or field not in ft.columns or ft.kind.fields.get(field) in ("date", "bool"):
            continue
        folded = {fold(lit) for lit in literals}
        col = quote(field)
        found = con.execute(f"SELECT DISTINCT {col} FROM {quote(ft.table)} WHERE {col} IS NOT NULL").fetchall()
        odd = sorted(v for (v,) in found if isinstance(v, str) and v not in literals and fold(v) in folded)
        if not odd:
            continue
        header = headers.get(kind) or tuple(ft.kind.fields)
        view = View(RawTable(ft.source.name, ft.source.display, header, ()))
        marks = ", ".join("?" for _ in odd)
        rows = con.execute(f"SELECT {quote(ft.kind.key)}, {col}, {ft.line} FROM {quote(ft.table)} "
                           f"WHERE {col} IN ({marks})", odd).fetchall()
        facts: dict[str, Fact] = {}
        where: dict[tuple[str, str], tuple[View, RawRow]] = {}
        at = view.index.get(field, 0)
        for key, value, line in rows:
            ref = RowRef(ft.source.display, int(line) + 2)
            cells = tuple(value if i == at else "" for i in range(len(header)))
            facts[str(key)] = Fact(kind, str(key), {field: value}, ref)
            where[(kind, str(key))] = (view, RawRow(ref, cells, tuple(range(1, len(header) + 1))))
        case_mismatches(model, {kind: facts}, where, sink, {(kind, field): literals})
    return sink.diagnostics
