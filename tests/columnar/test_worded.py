"""Problem rows worded from those rows alone (kpidsl.columnar.worded) say exactly what binding the
whole folder says: generated folders with bad cells, repeated keys, unknown payees, references to
missing, rejected or badly written deals, in CSV and Parquet, under a plan that reads through
``collection.deal`` (a missing deal is an error) and one that does not (a warning)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import kpidsl
from kpidsl.diagnostics import has_errors
from kpidsl.importer.validate import validate_with_plan

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder
from kpidsl.columnar import worded as worded_module

from .test_differential import BENCH_PLAN, WIDE_PLAN, assert_same, write
from .test_messy import to_parquet

PLANS = {"wide": kpidsl.loads(WIDE_PLAN), "bench": kpidsl.loads(BENCH_PLAN)}
DEALS = 14
DATA = {
    "deals": [("abcde"[i % 5], f"{100 + 37 * i}.{i % 10}5", ("won", "lost", "won")[i % 3],
               dt.date(2026, 7 + i % 3, 1 + i), "xyz"[i % 3], f"P{1 + i % 3}", i % 4 == 0) for i in range(DEALS)],
    "collections": [(i * 2 % DEALS, f"{10 + i}.50", dt.date(2026, 8, 1 + i)) for i in range(9)],
    "roles": ["AE", "SE", "AM", "AE", "AE"], "regions": ["west", "north", "west", "north", "west"],
    "targets": [100, 200, 300, 400, 500], "history": False, "splits": False, "manager": True,
}
DEAL_COLUMNS = "id,payee,amount,stage,signed_on,customer,product,is_new_customer".split(",")
COLL_COLUMNS = "id,deal,payee,amount,received_on".split(",")

# (file, column, how the cell is rewritten): the problems a migration from a spreadsheet or a CRM leaves
EDITS = [
    ("deals", "amount", lambda v, row: "12x.50"),  # not a number
    ("deals", "amount", lambda v, row: ""),  # empty required cell
    ("deals", "signed_on", lambda v, row: "2026-02-30"),  # no such day
    ("deals", "payee", lambda v, row: "nobody"),  # unknown payee
    ("deals", "id", lambda v, row: f"D{(row + 1) % DEALS:03d}"),  # the next deal's key, repeated
    ("deals", "id", lambda v, row: v + " "),  # a trailing space: the reference strips it, DuckDB does not
    ("deals", "id", lambda v, row: ""),  # empty key
    ("deals", "stage", lambda v, row: "Won"),  # a KPI0717 warning on an accepted row
    ("collections", "deal", lambda v, row: "D999"),  # a deal that is not there
    ("collections", "deal", lambda v, row: v + " "),  # a reference written with a trailing space
    ("collections", "amount", lambda v, row: "1.2.3"),
    ("collections", "id", lambda v, row: "C000"),  # repeated key
    ("collections", "payee", lambda v, row: "zz"),
]


def _edit(folder: Path, edits: list[tuple[int, int]]) -> None:
    for which, row in edits:
        name, column, change = EDITS[which]
        path = folder / f"{name}.csv"
        lines = path.read_text(encoding="utf-8").split("\n")
        columns = DEAL_COLUMNS if name == "deals" else COLL_COLUMNS
        index = 1 + row % (len(lines) - 2)  # a data line (the last one is empty): row r is on line r + 2
        cells = lines[index].split(",")
        at = columns.index(column)
        cells[at] = change(cells[at], index - 1)
        lines[index] = ",".join(cells)
        path.write_text("\n".join(lines), encoding="utf-8")


def _same(plan: kpidsl.Plan, folder: Path, fmt: str) -> None:
    reference = load_folder(plan.model, folder, fmt=fmt, engine="reference")
    loaded = load_folder(plan.model, folder, fmt=fmt, engine="columnar")
    assert [(d.code, d.severity, d.message, d.span, d.secondary, d.notes, d.help) for d in loaded.diagnostics] == \
        [(d.code, d.severity, d.message, d.span, d.secondary, d.notes, d.help) for d in reference.diagnostics], \
        loaded.reasons
    if loaded.engine == "columnar" and not has_errors(loaded.diagnostics):
        assert_same(ColumnarRun(plan.model, reference, "2026-Q3").evaluate(),
                    ColumnarRun(plan.model, loaded, "2026-Q3").evaluate())
    # kpidsl validate: the same problems (rejected or not) and rows read = accepted + rejected per file
    assert loaded.summaries == reference.summaries and loaded.rejected == reference.rejected
    assert validate_with_plan(folder, plan, "columnar").to_dict() == \
        validate_with_plan(folder, plan, "reference").to_dict()


@given(edits=st.lists(st.tuples(st.integers(0, len(EDITS) - 1), st.integers(0, 40)), min_size=1, max_size=5),
       plan=st.sampled_from(sorted(PLANS)))
@example(edits=[(0, 0), (4, 20), (5, 34)], plan="bench")  # "D007 " and "D007": a repeated key to the reference
def test_worded_rows_say_what_the_whole_folder_says(edits: list[tuple[int, int]], plan: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-worded-"))
    try:
        write(folder, DATA)
        _edit(folder, edits)
        _same(PLANS[plan], folder, "csv")
        to_parquet(folder)
        _same(PLANS[plan], folder, "parquet")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_bad_deal_is_worded_with_its_collections_and_nothing_else(tmp_path: Path) -> None:
    """The rows bound: the bad deal, the collections of it ("that deal was rejected"), and no
    other row of a file of 14 deals."""
    write(tmp_path, DATA)
    _edit(tmp_path, [(0, 2)])  # deal D002's amount (line 4): collections C001 and C008 refer to it
    loaded = load_folder(PLANS["bench"].model, tmp_path)
    assert loaded.engine == "columnar"
    assert sorted((r.file.split("/")[1], r.line) for r in loaded.worded) == [
        ("collections.csv", 3), ("collections.csv", 10), ("deals.csv", 4)]
    assert {r.line for r in loaded.rejected} == {4}
    warnings = [d for d in loaded.diagnostics if d.code == "KPI0722"]
    assert [(d.span.line, d.severity) for d in warnings] == [(3, "warning"), (10, "warning")]
    assert all("refers to deal 'D002': that deal was rejected" in d.message for d in warnings)


def test_a_reference_with_a_trailing_space_finds_its_deal(tmp_path: Path) -> None:
    """The reference strips cells: ``D004 `` refers to deal D004, which is bound with it (found by
    the reference's text of the reference, not DuckDB's), so it is not reported missing."""
    write(tmp_path, DATA)
    _edit(tmp_path, [(9, 2)])  # collection C002's deal (line 4) written "D004 " (deal D004 is on line 6)
    alone = load_folder(PLANS["wide"].model, tmp_path)
    assert alone.engine == "reference" and alone.diagnostics == ()  # the text differs from DuckDB's
    _edit(tmp_path, [(3, 1)])  # and deal D001 (line 3) names an unknown payee: an error, worded
    loaded = load_folder(PLANS["wide"].model, tmp_path)
    assert loaded.engine == "columnar"
    assert {(r.file.split("/")[1], r.line) for r in loaded.worded} == {("collections.csv", 4), ("deals.csv", 3),
                                                                     ("deals.csv", 6)}
    assert [d.code for d in loaded.diagnostics] == ["KPI0721"]


def test_a_row_that_cannot_be_read_back_sends_the_folder_to_the_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, DATA)
    _edit(tmp_path, [(0, 3)])
    monkeypatch.setattr(worded_module, "_csv_rows", lambda src, data, rows, header: None)
    loaded = load_folder(PLANS["bench"].model, tmp_path)
    assert loaded.engine == "reference" and not loaded.worded
    assert any(d.code == "KPI0710" for d in loaded.diagnostics)


@pytest.mark.parametrize("ends", [b"\n", b"\r\n"])
def test_lines_are_found_in_any_chunking(monkeypatch: pytest.MonkeyPatch, ends: bytes) -> None:
    data = ends.join(f"line {i},x".encode() for i in range(1, 300)) + ends
    for chunk in (1, 2, 7, 64, 1 << 16):
        monkeypatch.setattr(worded_module, "CHUNK", chunk)
        wanted = [1, 2, 3, 50, 51, 150, 298, 299]
        assert worded_module._lines(data, wanted) == [f"line {i},x".encode() for i in wanted]
    assert worded_module._lines(b"a\rb\r", [1]) is None  # a lone CR ends a line for the reference


@pytest.mark.parametrize("row", ["D900,a,12x,won,2026-07-02,x,P1,true", "D900,a,5,won,2026-07-02,x,P1,true"])
def test_a_second_file_of_a_kind_is_bound_not_dropped(tmp_path: Path, row: str) -> None:
    """``deal.csv`` beside ``deals.csv``: both are deal facts to the reference binder. The
    columnar stage read one file per kind and dropped the other's rows (its bad row unreported,
    its good row unpaid); such a folder is the reference's."""
    write(tmp_path, DATA)
    (tmp_path / "deal.csv").write_text(",".join(DEAL_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    plan = PLANS["wide"]
    loaded = load_folder(plan.model, tmp_path, engine="columnar")
    assert loaded.engine == "reference" and "are all deal facts" in loaded.reasons[0]
    assert f"{tmp_path.name}/deal.csv" in {s.file for s in loaded.summaries}
    _same(plan, tmp_path, "csv")


def test_a_parquet_column_named_file_row_number_does_not_stop_the_wording(tmp_path: Path) -> None:
    import duckdb

    write(tmp_path, DATA)
    _edit(tmp_path, [(0, 2)])
    to_parquet(tmp_path)
    deals = tmp_path / "deals.parquet"
    duckdb.sql(f"COPY (SELECT *, 0 AS file_row_number FROM read_parquet('{deals}')) TO '{tmp_path / 'd.tmp'}' "
               "(FORMAT parquet)")
    (tmp_path / "d.tmp").replace(deals)
    _same(PLANS["wide"], tmp_path, "parquet")  # KPI0707 for the column, KPI0710 for the amount; no exception
