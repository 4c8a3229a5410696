"""The report as an Excel workbook (openpyxl, imported only when used).

Sheets: ``Summary`` (one row per payee: attributes, each component, total),
one sheet per payout component, and ``Facts`` (every fact behind each
payee's figures). Money cells hold the exact decimal text of the amounts (not
openpyxl's float formatting of a ``Decimal``), with the number format
``#,##0.00``; a spreadsheet reads them back as binary floats, which for amounts
of up to 15 significant digits round back to the same cents. The file's bytes
depend on nothing but the report: its dates are fixed. Text from the data that a spreadsheet would
take for a formula (``=``, ``+``, ``-``, ``@``...) is stored as a string cell
with a quote prefix, never as a formula.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

from kpidsl.numbers import fmt
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


def put(ws: Any, value: Any, money: bool = False) -> Any:
    """One cell of a row: text neutralised against formulas, money as Decimal with
    ``#,##0.00``; a plain value where nothing needs setting. The sheets are written in
    openpyxl's write-only mode, row by row, so the cells are never all held in memory
    (10,000 statements on 100k deals: 380 -> 242 MB peak, in the same time)."""
    if value is None or (isinstance(value, str) and not is_formula_like(value)):
        return value
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped,unused-ignore]

    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    if isinstance(value, Decimal):
        # openpyxl writes a number with "%.16g", in binary floating point (99999999999999.99
        # would be stored as 99999999999999.98): the cell holds the decimal's own text
        cell = WriteOnlyCell(ws, value=0)
        cell._value, cell.data_type = fmt(value), "n"
        if money:
            cell.number_format = MONEY_FORMAT
        return cell
    return value


def _sheet(wb: Any, title: str, names: list[str]) -> Any:
    """A new sheet with a bold, frozen header row."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font  # type: ignore[import-untyped,unused-ignore]

    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in names:
        cell = WriteOnlyCell(ws, value=name)
        if is_formula_like(name):
            cell.data_type = "s"
            cell.quotePrefix = True
        cell.font = bold
        header.append(cell)
    ws.append(header)
    return ws


def _summary(wb: Any, m: ReportModel, taken: set[str]) -> None:
    ws = _sheet(wb, sheet_title("Summary", taken),
                ["payee", "name", "role", "region", "manager", *m.components, "total", "errors"])
    for p in m.payees:
        comps = dict(p.components)
        ws.append([*(put(ws, v) for v in (p.id, p.name, p.role, p.region, p.manager)),
                   *(put(ws, comps.get(name), money=True) for name in m.components),
                   put(ws, p.total, money=True), put(ws, "; ".join(p.errors) or None)])


def _component(wb: Any, m: ReportModel, name: str, taken: set[str]) -> None:
    ws = _sheet(wb, sheet_title(name, taken), ["payee", "name", "role", "region", name])
    for p in m.payees:
        ws.append([*(put(ws, v) for v in (p.id, p.name, p.role, p.region)),
                   put(ws, dict(p.components).get(name), money=True)])


def _facts(wb: Any, m: ReportModel, taken: set[str]) -> None:
    fields: list[str] = []
    for p in m.payees:
        for f in p.facts:
            fields.extend(n for n, _ in f.fields if n not in fields)
    ws = _sheet(wb, sheet_title("Facts", taken), ["statement of", "kind", "key", *fields, "source"])
    for p in m.payees:
        for f in p.facts:
            values = dict(f.fields)
            ws.append([put(ws, p.id), put(ws, f.kind), put(ws, f.key),
                       *(put(ws, *_typed(values.get(name), name in f.money)) for name in fields),
                       put(ws, f.source)])


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
    wb = openpyxl.Workbook(write_only=True)
    taken: set[str] = set()
    _summary(wb, m, taken)
    for name in m.components:
        _component(wb, m, name, taken)
    _facts(wb, m, taken)
    # the same report gives the same bytes whatever the clock or the timezone: the document's
    # dates and every zip entry's date are fixed (openpyxl stamps both with the time of saving)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_dates(buf.getvalue())


FIXED_TIME = datetime.datetime(1980, 1, 1)  # the earliest date a zip entry can carry


# the document's dates in docProps/core.xml: openpyxl's save stamps `modified` with the
# wall clock whatever the workbook's properties say (openpyxl.writer.excel.save_workbook)
_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)")


def _fixed_dates(data: bytes) -> bytes:
    """The zip ``data`` with every entry dated :data:`FIXED_TIME`, in the same order, and the
    document's created and modified dates :data:`FIXED_TIME` too."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            content = src.read(info)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\2", content)
            dst.writestr(entry, content)
    return out.getvalue()
