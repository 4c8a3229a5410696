"""KPI0722 when the file of the kind referred to was not read (not UTF-8 text, a required
column missing...): one diagnostic says the references could not be checked because that
file was not read, and names every row; not "no deal has this key" for each row, nor "the
data has no deal table". The reference and the columnar loading say the same; so do the
batches a service adds afterwards (kpidsl.data.batch), on either engine."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl
from kpidsl.data import codes
from kpidsl.data.batch import FactsRejected, bind_batch
from kpidsl.data.bind import bind
from kpidsl.diagnostics import Diagnostic

HEADER = 'plan "t" {\n  currency CNY\n  period quarter\n}\n'
NAVIGATES = HEADER + """
metric x_cash: money =
  sum collection.amount where collection.deal.product == "X" and collection.received_on in period
payout c: money = x_cash * 1%
"""
COUNTS_ONLY = HEADER + """
metric cash: money = sum collection.amount where collection.received_on in period
metric bookings: money = sum deal.amount where deal.signed_on in period
payout c: money = (cash + bookings) * 1%
"""
PAYEES = "id,name,role,region,manager\nann,Ann,AE,east,\n"
DEALS = ("id,payee,amount,stage,signed_on,product\n"
         "D1,ann,4000,won,2026-07-10,X\nD2,ann,9000,won,2026-07-11,Y\nD3,ann,2500,won,2026-08-01,X\n")
COLLECTIONS = ("id,deal,payee,amount,received_on\n"
               "C1,D1,ann,1000,2026-08-02\nC2,D2,ann,5000,2026-08-03\nC3,D3,ann,700,2026-09-02\n"
               "C4,D9,ann,10,2026-09-03\nC5,D1,ann,20,2026-09-04\nC6,D2,ann,30,2026-09-05\n")


def _folder(tmp_path: Path, deals: bytes, collections: str = COLLECTIONS) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    (data / "payees.csv").write_text(PAYEES, encoding="utf-8")
    (data / "deals.csv").write_bytes(deals)
    (data / "collections.csv").write_text(collections, encoding="utf-8")
    return data


NOT_UTF8 = DEALS.encode("utf-8").replace(b"D2,ann", b"D2\xff\xfe\x00,ann")  # neither UTF-8 nor GB18030
NO_AMOUNT = DEALS.replace("amount", "amout").encode("utf-8")  # a required column missing


def _dangling(plan_text: str, folder: Path, engine: str = "reference") -> list[Diagnostic]:
    result = kpidsl.loads(plan_text).evaluate(folder, "2026-Q3", engine=engine)
    return [d for d in result.data_diagnostics if d.code == codes.DANGLING_REFERENCE]


@pytest.mark.parametrize("deals", [NOT_UTF8, NO_AMOUNT], ids=["not-utf8", "no-amount-column"])
def test_one_error_says_the_deals_could_not_be_checked_and_names_every_row(tmp_path: Path, deals: bytes) -> None:
    found = _dangling(NAVIGATES, _folder(tmp_path, deals))
    assert len(found) == 1, [d.message for d in found]  # it was one per collection (6), or "no deal table"
    d = found[0]
    assert d.severity == "error"
    assert d.message == (
        "6 collection rows refer to deal facts that could not be checked (first: collection 'C1' in "
        "data/collections.csv line 2, column deal refers to deal 'D1'): data/deals.csv was not read "
        "(see its error)")
    assert "no deal has this key" not in d.message and "has no deal table" not in d.message
    assert d.notes[0] == "the rows: data/collections.csv lines 2-7"  # every row, none lost
    assert d.notes[1].startswith("the plan navigates through collection.deal (at ")
    assert d.notes[1].endswith("these rows are not evaluated, and nothing is paid, until data/deals.csv is read")


def test_a_plan_that_does_not_read_through_the_deal_gets_one_warning(tmp_path: Path) -> None:
    found = _dangling(COUNTS_ONLY, _folder(tmp_path, NO_AMOUNT))
    assert [(d.severity, d.message.split(" (first")[0]) for d in found] == [
        ("warning", "6 collection rows refer to deal facts that could not be checked")]
    assert found[0].notes == ("the rows: data/collections.csv lines 2-7",
                              "an error if the plan reads collection.deal.<field>")


def test_one_row_is_worded_as_one_row_and_scattered_lines_are_listed(tmp_path: Path) -> None:
    one = COLLECTIONS.splitlines()[0] + "\nC1,D1,ann,1000,2026-08-02\n"
    (found,) = _dangling(NAVIGATES, _folder(tmp_path / "one", NO_AMOUNT, one))
    assert found.message == ("collection 'C1' in data/collections.csv line 2, column deal refers to deal 'D1', "
                             "which could not be checked: data/deals.csv was not read (see its error)")
    assert found.notes[0] == "the rows: data/collections.csv line 2"


def test_a_deal_missing_from_a_file_that_was_read_is_still_no_such_key(tmp_path: Path) -> None:
    found = _dangling(NAVIGATES, _folder(tmp_path, DEALS.encode("utf-8")))
    assert [d.message for d in found] == [
        "collection 'C4' in data/collections.csv line 5, column deal refers to deal 'D9': no deal has this key"]


@pytest.mark.parametrize("deals", [NOT_UTF8, NO_AMOUNT], ids=["not-utf8", "no-amount-column"])
def test_the_columnar_loading_says_the_same(tmp_path: Path, deals: bytes) -> None:
    pytest.importorskip("duckdb")
    folder = _folder(tmp_path, deals)
    plan = kpidsl.loads(NAVIGATES)
    ref = plan.evaluate(folder, "2026-Q3", engine="reference").data_diagnostics
    col = plan.evaluate(folder, "2026-Q3", engine="columnar").data_diagnostics
    assert col == ref
    assert len([d for d in col if d.code == codes.DANGLING_REFERENCE]) == 1


# ---------------------------------------------------------------- batches


def _batch(unread: dict[str, tuple[str, ...]] | None) -> FactsRejected:
    plan = kpidsl.loads(NAVIGATES)
    raw = kpidsl.load_data({"payees": [{"id": "ann", "name": "Ann", "role": "AE", "region": "east", "manager": ""}]})
    payees = {p.id: p for p in bind(plan.model, raw.tables)[0].payees}
    records = [{"id": f"C{i}", "deal": f"D{i}", "payee": "ann", "amount": "5", "received_on": "2026-07-09"}
               for i in (7, 8, 9)]
    with pytest.raises(FactsRejected) as exc:
        bind_batch(plan.model, "collections", records, payees, lambda kind, key: None, replace=False,
                   source="<crm>", unread=unread)
    return exc.value


def test_a_batch_referring_to_deals_that_were_not_read_gets_one_error() -> None:
    (d,) = _batch({"deal": ("data/deals.csv",)}).diagnostics
    assert d.code == codes.DANGLING_REFERENCE and d.severity == "error"
    assert d.message.startswith("3 collection rows refer to deal facts that could not be checked (first: "
                                "collection 'C7' in <crm> line 1, column deal refers to deal 'D7'): "
                                "data/deals.csv was not read")
    assert d.notes[0] == "the rows: <crm> lines 1-3"
    assert d.notes[1].endswith("the batch was rejected; send it again once data/deals.csv is read")
    # without it, as before: one "no deal has this key" per record
    assert [x.message.endswith("no deal has this key") for x in _batch(None).diagnostics] == [True] * 3


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_a_run_s_batches_say_the_same_on_either_engine(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("duckdb")
    from kpidsl.columnar import ColumnarRun, load_folder
    from kpidsl.columnar.changes import BatchContext

    plan = kpidsl.loads(NAVIGATES)
    folder = _folder(tmp_path, DEALS.encode("utf-8"))
    loaded = load_folder(plan.model, folder, engine=engine)
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    # as the loading would tell it had deals.csv not been read (BindResult.unread)
    run._batches = BatchContext.of(plan.model, loaded.dataset, {"deal": ("data/deals.csv",)})
    coll = {"id": "C900", "deal": "D999", "payee": "ann", "amount": "5.00", "received_on": "2026-07-09"}
    with pytest.raises(FactsRejected) as exc:
        run.add_facts("collections", [coll])
    (d,) = exc.value.diagnostics
    assert d.message == ("collection 'C900' in <collections batch 1> line 1, column deal refers to deal 'D999', "
                         "which could not be checked: data/deals.csv was not read (see its error)")


def test_the_binding_tells_which_fact_files_were_not_read(tmp_path: Path) -> None:
    from kpidsl.data.bind import bind_result

    plan = kpidsl.loads(NAVIGATES)
    for name, deals in (("not-utf8", NOT_UTF8), ("no-amount", NO_AMOUNT), ("good", DEALS.encode("utf-8"))):
        raw = kpidsl.load_data(_folder(tmp_path / name, deals))
        unread = bind_result(plan.model, raw.tables).unread
        assert unread == ({} if name == "good" else {"deal": ("data/deals.csv",)}), name
