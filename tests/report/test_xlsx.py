"""The workbook: figures round-trip to the JSON result; data text never becomes a formula."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

from kpidsl.report.xlsx import MONEY_FORMAT, sheet_title, workbook_bytes

openpyxl = pytest.importorskip("openpyxl")


def _book(model: Any) -> Any:
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes(model)))


def _cents(v: Any) -> str:
    """A cell read back (float or int) as the 2-dp decimal text it stands for."""
    return str(Decimal(repr(v)).quantize(Decimal("0.01")))


def test_summary_figures_round_trip_to_the_json_result(east: Any) -> None:
    _, _, result, model = east
    payees = result.to_dict()["payees"]
    ws = _book(model)["Summary"]
    header = [c.value for c in ws[1]]
    seen = 0
    for row in ws.iter_rows(min_row=2, values_only=False):
        pid = row[0].value
        for name, value in payees[pid]["components"].items():
            cell = row[header.index(name)]
            assert cell.number_format == MONEY_FORMAT
            assert _cents(cell.value) == value, (pid, name)
            seen += 1
        assert _cents(row[header.index("total")].value) == payees[pid]["total"]
    assert seen == 3 * len(payees)


def test_money_is_written_as_exact_decimal_text(east: Any) -> None:
    model = east[3]
    import zipfile

    with zipfile.ZipFile(io.BytesIO(workbook_bytes(model))) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    lina = next(p for p in model.payees if p.id == "lina")
    assert f"<v>{lina.total}</v>" in sheet


def test_a_sheet_per_component_and_the_facts(east: Any) -> None:
    _, _, result, model = east
    book = _book(model)
    assert book.sheetnames == ["Summary", *model.components, "Facts"]
    facts = book["Facts"]
    header = [c.value for c in facts[1]]
    rows = list(facts.iter_rows(min_row=2, values_only=True))
    assert len(rows) == sum(len(p.facts) for p in model.payees)
    amount = header.index("amount")
    assert all(isinstance(r[amount], (int, float)) for r in rows if r[1] == "deal")
    bonus = book["bonus"]
    got = {r[0]: _cents(r[4]) for r in bonus.iter_rows(min_row=2, values_only=True)}
    assert got == {k: v["components"]["bonus"] for k, v in result.to_dict()["payees"].items()}


def test_formula_like_text_stays_text(hostile: Any) -> None:
    model = hostile[3]
    book = _book(model)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    formulas = [c.coordinate for c in cells if c.data_type == "f"]
    assert formulas == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"=1+1", "@SUM(A1)", "-2+3", '=HYPERLINK("http://x")'} <= texts
    risky = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert risky and all(c.data_type == "s" and c.quotePrefix for c in risky)


def test_negative_amounts_and_cents_survive(hostile: Any) -> None:
    _, _, _result, model = hostile
    rows = list(_book(model)["Facts"].iter_rows(values_only=True))
    amount = list(rows[0]).index("amount")
    assert "-1500.25" in {_cents(r[amount]) for r in rows[1:]}
    assert "120000.10" in {_cents(r[amount]) for r in rows[1:]}


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    a = sheet_title("a/b:c*?[d]" + "x" * 40, taken)
    b = sheet_title("a/b:c*?[d]" + "x" * 40, taken)
    assert len(a) <= 31 and len(b) <= 31 and a != b
    assert not set("[]:*?/\\") & set(a + b)
