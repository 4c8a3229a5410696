"""The report as an Excel workbook (openpyxl, imported only when used).

Sheets: ``Summary`` (one row per payee: attributes, each component, total),
one sheet per payout component, and ``Facts`` (every fact behind each
payee's figures). Money cells hold ``Decimal`` values (openpyxl writes their
exact decimal text) with the number format ``#,##0.00``; a spreadsheet reads
them back as binary floats, which for amounts of up to 15 significant digits
round back to the same cents. Text from the data that a spreadsheet would
take for a formula (``=``, ``+``, ``-``, ``@``...) is stored as a string cell
with a quote prefix, never as a formula.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from kpidsl.report.model import ReportModel
from kpidsl.report.safe import is_formula_like

MONEY_FORMAT = "#,##0.00"
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _require_openpyxl() -> Any:
    try:
        import openpyxl  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the xlsx report needs openpyxl: pip install 'kpidsl[report]' (or pip install openpyxl)"
        ) from e
    return openpyxl


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet title (at most 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET.sub("_", name).strip("'")[:28] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        title = f"{base[:25]}~{n}"
        n += 1
    taken.add(title.lower())
    return title


def put(ws: Any, row: int, col: int, value: Any, money: bool = False) -> None:
    """Write one cell: text neutralised against formulas, money as Decimal with ``#,##0.00``."""
    cell = ws.cell(row=row, column=col)
    if value is None:
        return
    if isinstance(value, str):
        cell.value = value
        if is_formula_like(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        return
    cell.value = value
    if money and isinstance(value, Decimal):
        cell.number_format = MONEY_FORMAT


def _header(ws: Any, names: list[str]) -> None:
    from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

    for i, name in enumerate(names, 1):
        put(ws, 1, i, name)
        ws.cell(row=1, column=i).font = Font(bold=True)
    ws.freeze_panes = "A2"


def _summary(wb: Any, m: ReportModel, taken: set[str]) -> None:
    ws = wb.active
    ws.title = sheet_title("Summary", taken)
    _header(ws, ["payee", "name", "role", "region", "manager", *m.components, "total", "errors"])
    for r, p in enumerate(m.payees, 2):
        for c, v in enumerate([p.id, p.name, p.role, p.region, p.manager], 1):
            put(ws, r, c, v)
        comps = dict(p.components)
        for c, name in enumerate(m.components, 6):
            put(ws, r, c, comps.get(name), money=True)
        put(ws, r, 6 + len(m.components), p.total, money=True)
        put(ws, r, 7 + len(m.components), "; ".join(p.errors) or None)


def _component(wb: Any, m: ReportModel, name: str, taken: set[str]) -> None:
    ws = wb.create_sheet(sheet_title(name, taken))
    _header(ws, ["payee", "name", "role", "region", name])
    for r, p in enumerate(m.payees, 2):
        for c, v in enumerate([p.id, p.name, p.role, p.region], 1):
            put(ws, r, c, v)
        put(ws, r, 5, dict(p.components).get(name), money=True)


def _facts(wb: Any, m: ReportModel, taken: set[str]) -> None:
    ws = wb.create_sheet(sheet_title("Facts", taken))
    fields: list[str] = []
    for p in m.payees:
        for f in p.facts:
            fields.extend(n for n, _ in f.fields if n not in fields)
    _header(ws, ["statement of", "kind", "key", *fields, "source"])
    r = 2
    for p in m.payees:
        for f in p.facts:
            put(ws, r, 1, p.id)
            put(ws, r, 2, f.kind)
            put(ws, r, 3, f.key)
            values = dict(f.fields)
            for c, name in enumerate(fields, 4):
                put(ws, r, c, *_typed(values.get(name), name in f.money))
            put(ws, r, 4 + len(fields), f.source)
            r += 1


def _typed(text: str | None, money: bool) -> tuple[Any, bool]:
    """A fact's money field as a Decimal money cell; anything else as the text it is."""
    if money and text:
        try:
            return Decimal(text), True
        except ArithmeticError:
            return text, False
    return (text or None), False


def workbook_bytes(m: ReportModel) -> bytes:
    """The workbook as ``.xlsx`` bytes."""
    openpyxl = _require_openpyxl()
    wb = openpyxl.Workbook()
    taken: set[str] = set()
    _summary(wb, m, taken)
    for name in m.components:
        _component(wb, m, name, taken)
    _facts(wb, m, taken)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
