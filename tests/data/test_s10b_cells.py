"""Data diagnostics about one cell carry it (Diagnostic.cell: the column's name and the
cell's text as read), and a reference to a deal whose row was rejected names that row,
a row the CSV reader rejected for its number of cells (KPI0705) included."""

from __future__ import annotations

from pathlib import Path

from linked_deal_plan import PLAN  # tests/ is on the path: its modules have no package

import kpidsl
from kpidsl.data import codes
from kpidsl.data.bind import bind
from kpidsl.data.csvread import read_folder
from kpidsl.diagnostics import Cell, Diagnostic, Label, error
from kpidsl.source import Span

FILES = {
    "payees.csv": "id,name,role,region,manager\nann,Ann,AE,east,\nbob,Bob,AE,east,ghost\n",
    "deals.csv": ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
                  "D2,ann,9000,won,2026-07-11,Y,extra\nD3,ann,25x0,won,2026-08-01,X\n"
                  "D4,zoe,1,won,2026-08-01,X\nD1,ann,5,won,2026-08-01,X\nD5,ann,,won,2026-08-01,X\n"),
    "collections.csv": ("id,deal,payee,amount,received_on\nC1,D1,ann,1000,2026-08-02\n"
                        "C2,D2,ann,5000,2026-08-03\nC3,D3,ann,700,2026-09-02\nC4,D9,ann,10,2026-09-03\n"),
}


def _diagnostics(tmp_path: Path) -> tuple[list[Diagnostic], list[Diagnostic]]:
    folder = tmp_path / "data"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    tables, read = read_folder(folder)
    _, bound = bind(kpidsl.loads(PLAN).model, tables)
    return read, bound


def test_every_cell_diagnostic_names_its_column_and_value(tmp_path: Path) -> None:
    read, bound = _diagnostics(tmp_path)
    got = {(d.code, d.span.file, d.span.line, d.cell) for d in bound}
    assert got == {
        (codes.UNKNOWN_MANAGER, "data/payees.csv", 3, Cell("manager", "ghost")),
        (codes.INVALID_VALUE, "data/deals.csv", 4, Cell("amount", "25x0")),
        (codes.UNKNOWN_PAYEE, "data/deals.csv", 5, Cell("payee", "zoe")),
        (codes.DUPLICATE_KEY, "data/deals.csv", 6, Cell("id", "D1")),
        (codes.EMPTY_REQUIRED, "data/deals.csv", 7, Cell("amount", "")),
        (codes.DANGLING_REFERENCE, "data/collections.csv", 3, Cell("deal", "D2")),
        (codes.DANGLING_REFERENCE, "data/collections.csv", 4, Cell("deal", "D3")),
        (codes.DANGLING_REFERENCE, "data/collections.csv", 5, Cell("deal", "D9")),
    }
    [ragged] = read
    assert ragged.code == codes.RAGGED_ROW and ragged.cell is None  # a row, not a cell


def test_a_reference_to_a_ragged_or_rejected_deal_names_its_row(tmp_path: Path) -> None:
    _, bound = _diagnostics(tmp_path)
    by_line = {d.span.line: d for d in bound if d.code == codes.DANGLING_REFERENCE}
    assert by_line[3].message.endswith("refers to deal 'D2': that deal was rejected (data/deals.csv line 3)")
    assert by_line[4].message.endswith("refers to deal 'D3': that deal was rejected (data/deals.csv line 4)")
    assert by_line[5].message.endswith("refers to deal 'D9': no deal has this key")
    assert by_line[3].help == "mend the rejected deal row (its error says what is wrong), or correct the key"
    assert by_line[5].help == "add deal 'D9' to the data, or correct the key"


def test_the_cell_field_is_optional_and_positional_constructors_still_work() -> None:
    span = Span("f", 1, 1, 1, 2)
    d = Diagnostic("KPI0710", "m", Label(span))
    assert d.cell is None and error("KPI0710", "m", span).cell is None
    assert error("KPI0710", "m", span, cell=Cell("amount", "1x")).cell == Cell("amount", "1x")
