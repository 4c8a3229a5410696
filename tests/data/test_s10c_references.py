"""A reference to a key that may be in the unread rest of a file whose read a malformed
record stopped (KPI0713) is "not checked", not "no deal has this key"; a Python record
rejected for a float (KPI0709) is named by the references to its key, as a rejected CSV
row is. Both engines word them alike."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from linked_deal_plan import PAYEES, PLAN  # tests/ is on the path: its modules have no package

import kpidsl
from kpidsl.data import codes
from kpidsl.data.bind import bind
from kpidsl.data.csvread import read_folder
from kpidsl.diagnostics import Cell

# line 4 is malformed (a quote in the middle of a cell): D3 and D4, after it, are not read
DEALS = ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
         "D2,ann,x,won,2026-07-11,X\nD5,ann,\"90\"00,won,2026-07-11,X\n"
         "D3,ann,25,won,2026-08-01,X\nD4,ann,25,won,2026-08-01,X\n")
COLLECTIONS = ("id,deal,payee,amount,received_on\nC1,D1,ann,1000,2026-08-02\n"
               "C2,D3,ann,5000,2026-08-03\nC3,D2,ann,5,2026-08-03\nC4,D4,ann,5,2026-08-03\n")


def _folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, text in {"payees.csv": PAYEES, "deals.csv": DEALS, "collections.csv": COLLECTIONS}.items():
        (data / name).write_text(text, encoding="utf-8")
    return data


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_references_past_a_malformed_record_are_not_checked(tmp_path: Path, engine: str) -> None:
    result = kpidsl.loads(PLAN).evaluate(_folder(tmp_path), "2026-Q3", engine=engine)
    refs = sorted((d.span.line, d.message, d.notes) for d in result.data_diagnostics
                  if d.code == codes.DANGLING_REFERENCE)
    assert [r[0] for r in refs] == [3, 4], refs
    (_, unsure, notes), (_, rejected, _) = refs
    assert unsure == ("2 collection rows refer to deal facts that could not be checked (first: collection "
                      "'C2' in data/collections.csv line 3, column deal refers to deal 'D3'): "
                      "data/deals.csv was read only up to line 3 (see its error)")
    assert "no deal has this key" not in unsure
    assert notes[0] == "the rows: data/collections.csv lines 3, 5"
    assert notes[1].endswith("until data/deals.csv is read in full")
    # D2 was read and rejected: its reference says so, as when the whole file is read
    assert rejected.endswith("refers to deal 'D2': that deal was rejected (data/deals.csv line 3)")


def test_a_credit_of_a_deal_past_a_malformed_record_is_not_checked(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    (data / "credits.csv").write_text("kind,fact,payee,share\ndeal,D4,ann,100%\n", encoding="utf-8")
    tables, _ = read_folder(data)
    _, diags = bind(kpidsl.loads(PLAN).model, tables)
    [credit] = [d for d in diags if d.span.file == "data/credits.csv"]
    assert credit.message.endswith("it could not be checked: data/deals.csv was read only up to line 3 "
                                   "(see its error)"), credit.message


def test_a_whole_file_read_still_says_no_deal_has_this_key(tmp_path: Path) -> None:
    data = _folder(tmp_path)
    (data / "deals.csv").write_text(DEALS.replace('"90"00', "9000"), encoding="utf-8")
    (data / "collections.csv").write_text(COLLECTIONS + "C5,D9,ann,5,2026-08-03\n", encoding="utf-8")
    result = kpidsl.loads(PLAN).evaluate(data, "2026-Q3")
    [ref] = [d for d in result.data_diagnostics if d.code == codes.DANGLING_REFERENCE and d.span.line == 6]
    assert ref.message.endswith("refers to deal 'D9': no deal has this key")


def _records() -> dict[str, list[dict[str, object]]]:
    return {
        "payees": [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""}],
        "deals": [
            {"id": "D1", "payee": "ann", "amount": Decimal("10"), "stage": "won", "signed_on": "2026-07-10",
             "product": "X"},
            {"id": "D2", "payee": "ann", "amount": 9.5, "stage": "won", "signed_on": "2026-07-10",
             "product": "X"},
        ],
        "collections": [
            {"id": "C1", "deal": "D2", "payee": "ann", "amount": "5", "received_on": "2026-08-01"},
            {"id": "C2", "deal": "D9", "payee": "ann", "amount": "5", "received_on": "2026-08-01"},
        ],
    }


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_a_reference_to_a_float_record_names_it(engine: str) -> None:
    data = kpidsl.load_data(_records())
    assert [(d.code, d.cell) for d in data.diagnostics] == [(codes.UNSUPPORTED_PYTHON_VALUE, Cell("amount", "9.5"))]
    assert [r.ref.line for r in data.tables["deals"].dropped] == [2]
    result = kpidsl.loads(PLAN).evaluate(data, "2026-Q3", engine=engine)
    by_line = {d.span.line: d for d in result.data_diagnostics if d.code == codes.DANGLING_REFERENCE}
    assert by_line[1].message.endswith("refers to deal 'D2': that deal was rejected (<deals> line 2)")
    assert by_line[1].help == "mend the rejected deal row (its error says what is wrong), or correct the key"
    assert by_line[2].message.endswith("refers to deal 'D9': no deal has this key")


def test_a_record_whose_key_is_a_float_is_not_a_known_key() -> None:
    records = _records()
    records["deals"][1] = {**records["deals"][1], "id": 2.5, "amount": "1"}
    data = kpidsl.load_data(records)
    [dropped] = data.tables["deals"].dropped
    assert dropped.cells[0] == "" and len(dropped.cells) == len(data.tables["deals"].header)
