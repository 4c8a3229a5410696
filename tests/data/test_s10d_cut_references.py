"""References into the unread rest of a file whose read a malformed record (KPI0713)
stopped: ``kpidsl validate`` without a plan, the rows naming payees of a cut payees file
(KPI0721), and a run's batches (``add_facts``/``replace_facts``, both engines) say the
reference could not be checked, the file having been read only up to line N; not that no
such key exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from linked_deal_plan import PLAN  # tests/ is on the path: its modules have no package

import kpidsl
from kpidsl.data import codes
from kpidsl.data.batch import FactsRejected

# line 4 is malformed (a quote in the middle of a cell): D3 and D4, after it, are not read
DEALS = ("id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
         "D2,ann,x,won,2026-07-11,X\nD5,ann,\"90\"00,won,2026-07-11,X\n"
         "D3,ann,25,won,2026-08-01,X\nD4,ann,25,won,2026-08-01,X\n")
COLLECTIONS = ("id,deal,payee,amount,received_on\nC1,D1,ann,1000,2026-08-02\n"
               "C2,D3,ann,5000,2026-08-03\nC3,D2,ann,5,2026-08-03\n")
PAYEES = "id,name,role,region,manager\nann,Ann,AE,east,\n"
# line 3 is malformed: bob, after it, is not read
CUT_PAYEES = "id,name,role,region,manager\nann,Ann,AE,east,\nx,\"X\"y,AE,east,\nbob,Bob,AE,east,\n"
GOOD_DEALS = "id,payee,amount,stage,signed_on,product\nD1,ann,4000,won,2026-07-10,X\n"
CUT = "data/deals.csv was read only up to line 3 (see its error)"


def _folder(tmp_path: Path, **files: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    texts = {"payees": PAYEES, "deals": DEALS, "collections": COLLECTIONS, **files}
    for name, text in texts.items():
        (data / f"{name}.csv").write_text(text, encoding="utf-8")
    return data


def test_validate_without_a_plan_says_a_reference_into_a_cut_file_was_not_checked(tmp_path: Path) -> None:
    from kpidsl.importer import validate_generic

    result = validate_generic(_folder(tmp_path), engine="reference")
    refs = {p.line: p.message for p in result.problems if p.code == codes.DANGLING_REFERENCE}
    assert refs[3] == f"deal 'D3' could not be checked: {CUT}", refs
    assert "is not in deals" not in refs[3]
    # D2 was read and rejected: still named as such
    assert refs[4] == "deal 'D2' is not in deals: its row was rejected (data/deals.csv line 3)"


def test_validate_without_a_plan_on_a_whole_file_still_says_not_in_deals(tmp_path: Path) -> None:
    from kpidsl.importer import validate_generic

    data = _folder(tmp_path, deals=GOOD_DEALS, collections=COLLECTIONS + "C4,D9,ann,5,2026-08-03\n")
    result = validate_generic(data, engine="reference")
    refs = {p.line: p.message for p in result.problems if p.code == codes.DANGLING_REFERENCE}
    assert refs[5] == "deal 'D9' is not in deals"


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_rows_naming_payees_past_a_cut_payees_file_are_not_checked(tmp_path: Path, engine: str) -> None:
    deals = GOOD_DEALS + "D6,bob,10,won,2026-07-12,X\nD7,bob,10,won,2026-07-13,X\nD8,x,10,won,2026-07-13,X\n"
    data = _folder(tmp_path, payees=CUT_PAYEES, deals=deals, collections=COLLECTIONS.split("C2")[0])
    result = kpidsl.loads(PLAN).evaluate(data, "2026-Q3", engine=engine)
    unknown = [d for d in result.data_diagnostics if d.code == codes.UNKNOWN_PAYEE]
    assert all("no payee has this id" not in d.message for d in unknown), [d.message for d in unknown]
    [d] = unknown
    assert d.severity == "error"
    assert d.message == ("3 rows name payees that could not be checked (first: payee 'bob' in data/deals.csv "
                         "line 3, column payee): data/payees.csv was read only up to line 2 (see its error); "
                         "the rows were rejected")
    assert d.notes[0] == "the rows: data/deals.csv lines 3-5"
    assert not result.ok and result.evaluation is None  # nothing is paid while data has errors


def test_a_payee_read_before_the_cut_and_rejected_is_not_in_doubt(tmp_path: Path) -> None:
    payees = "id,name,role,region,manager\nann,Ann,AE,east,\nann,Ann2,AE,east,\nx,\"X\"y,AE,east,\n"
    deals = GOOD_DEALS + "D6,bob,10,won,2026-07-12,X\n"
    data = _folder(tmp_path, payees=payees, deals=deals, collections=COLLECTIONS.split("C2")[0])
    result = kpidsl.loads(PLAN).evaluate(data, "2026-Q3")
    [d] = [d for d in result.data_diagnostics if d.code == codes.UNKNOWN_PAYEE]
    assert d.message == ("payee 'bob' in data/deals.csv line 3, column payee could not be checked: "
                         "data/payees.csv was read only up to line 3 (see its error); the row was rejected")


@pytest.mark.parametrize("engine", ["reference", "columnar"])
@pytest.mark.parametrize("replace", [False, True], ids=["add", "replace"])
def test_a_run_s_batch_into_a_cut_file_s_rest_is_not_checked(tmp_path: Path, engine: str, replace: bool) -> None:
    pytest.importorskip("duckdb")
    from kpidsl.columnar import ColumnarRun, load_folder

    plan = kpidsl.loads(PLAN)
    loaded = load_folder(plan.model, _folder(tmp_path), engine=engine)
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    coll = {"id": "C1" if replace else "C900", "deal": "D4", "payee": "ann", "amount": "5.00",
            "received_on": "2026-07-09"}
    with pytest.raises(FactsRejected) as exc:
        (run.replace_facts if replace else run.add_facts)("collections", [coll])
    (d,) = exc.value.diagnostics
    assert d.code == codes.DANGLING_REFERENCE
    assert d.message == (f"collection '{coll['id']}' in <collections batch 1> line 1, column deal refers to "
                         f"deal 'D4', which could not be checked: {CUT}")
    assert d.notes[-1].endswith("the batch was rejected; send it again once data/deals.csv is read in full")
