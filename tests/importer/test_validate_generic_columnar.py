"""``kpidsl validate`` without a plan, on the columnar engine (kpidsl.importer.bulkcheck), reports
exactly what the reference reports: every problem (code, message, file, line, column, value,
rejected or not, order) and rows read/accepted/rejected per file.

Hypothesis generates folders (the deals and collections of tests/columnar/test_worded.py, in CSV
and Parquet) with up to five problems of many kinds: bad amounts and dates, empty required
cells, repeated keys (``D7 `` is ``D7``), unknown payees, collections of missing or rejected
deals, credits of unknown deals, Chinese ids, Unicode spaces, and what the columnar engine
leaves to the reference (blank lines, quoted line breaks, lone CR, ragged rows, rows of empty
cells, floating-point columns). The columnar engine is forced on these small folders.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

pytest.importorskip("duckdb")

from kpidsl.importer import bulkcheck
from kpidsl.importer.validate import _generic, validate_generic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: its package columnar, as pytest imports it

from columnar.test_differential import write
from columnar.test_messy import to_parquet
from columnar.test_worded import COLL_COLUMNS, DATA, DEAL_COLUMNS, EDITS

Change = Callable[[str, int], str]

# cell edits beyond test_worded's (file, column, how the cell is rewritten)
CELLS: list[tuple[str, str, Change]] = [*EDITS,
    ("collections", "received_on", lambda v, row: "2026-13-01"),  # no such month
    ("deals", "signed_on", lambda v, row: "0000-01-01"),  # year 0: not a Python date
    ("deals", "signed_on", lambda v, row: "2026-7-1"),
    ("deals", "amount", lambda v, row: "１２３"),  # full-width digits
    ("deals", "amount", lambda v, row: "1_000.5"),  # accepted
    ("deals", "amount", lambda v, row: "-0.00"),  # accepted
    ("deals", "amount", lambda v, row: "1e3"),
    ("deals", "amount", lambda v, row: "\u00a012.50\u3000"),  # Unicode spaces: stripped, accepted
    ("deals", "id", lambda v, row: "\u3000" + v),  # the same key to the reference
    ("deals", "id", lambda v, row: "单" + v[1:]),  # a Chinese id
    ("deals", "payee", lambda v, row: "张三"),  # an unknown Chinese payee
    ("deals", "payee", lambda v, row: v + " "),  # a known payee, spaced
    ("deals", "payee", lambda v, row: " "),  # empty after stripping
    ("deals", "customer", lambda v, row: '"a,b"'),  # a quoted cell with a comma
    ("deals", "customer", lambda v, row: '"a\nb"'),  # a line break in a cell: the reference reads it
    ("deals", "customer", lambda v, row: ' "q"'),  # a space before a quote: the reference reads it
    ("collections", "deal", lambda v, row: ""),
    ("collections", "deal", lambda v, row: "单" + v[1:]),
    ("collections", "id", lambda v, row: v + "\t"),
    ("collections", "payee", lambda v, row: ""),
]

# line edits: (file, how the data line is rewritten)
LINES: list[tuple[str, Callable[[str], str]]] = [
    ("deals", lambda line: line + "\n"),  # a blank line after it
    ("deals", lambda line: line + "\r" + line.replace("D", "E", 1)),  # a lone CR ends a line for the reference
    ("deals", lambda line: line + ",extra"),  # a ragged row
    ("deals", lambda line: "," * (len(DEAL_COLUMNS) - 1)),  # a row of empty cells
    ("deals", lambda line: line + "\n" + line),  # the whole row twice
    ("collections", lambda line: " " * 3),  # a line of spaces
    ("collections", lambda line: line + "\n" + line.replace("C0", "C9", 1)),  # one more collection
]

FOLDERS = ("plain", "credits", "other-table", "other-table-no-id", "payee-twice", "payee-gone", "chinese")


def _edit_cell(folder: Path, name: str, column: str, change: Change, row: int) -> None:
    path = folder / f"{name}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    columns = DEAL_COLUMNS if name == "deals" else COLL_COLUMNS
    index = 1 + row % (len(lines) - 2)
    cells = lines[index].split(",")
    if len(cells) != len(columns):  # a line an earlier edit rewrote otherwise
        return
    at = columns.index(column)
    cells[at] = change(cells[at], index - 1)
    lines[index] = ",".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")


def _edit_line(folder: Path, name: str, change: Callable[[str], str], row: int) -> None:
    path = folder / f"{name}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    index = 1 + row % (len(lines) - 2)
    lines[index] = change(lines[index])
    path.write_text("\n".join(lines), encoding="utf-8")


def _folder(folder: Path, kind: str, cells: list[tuple[int, int]], lines: list[tuple[int, int]]) -> None:
    write(folder, {**DATA, "splits": kind == "credits"})
    if kind == "credits":  # and credits of deals that are not there, or that may be rejected
        with (folder / "credits.csv").open("a", encoding="utf-8") as f:
            f.write("deal,D404,a,100%,split\ndeal,D003,b,100%,split\ncollection,C002,c,100%,split\n")
    if kind.startswith("other-table"):  # a plan's own kind: keyed by id, no typed column
        key = "id" if kind == "other-table" else "ref"
        rows = [f"R{i % 5},{'abcdz'[i % 5]},{i}.5" for i in range(8)] + ["R9 ,a,x", "R9,b,1"]
        (folder / "renewals.csv").write_text("\n".join([f"{key},payee,amount", *rows]) + "\n", encoding="utf-8")
    if kind in ("payee-twice", "payee-gone"):
        path = folder / "payees.csv"
        text = path.read_text(encoding="utf-8").split("\n")
        text = [*text[:-1], "c,C2,AE,west,"] if kind == "payee-twice" else [t for t in text if not t.startswith("e,")]
        path.write_text("\n".join([*text, ""]), encoding="utf-8")
    if kind == "chinese":
        for name in ("deals", "collections"):
            path = folder / f"{name}.csv"
            path.write_text(path.read_text(encoding="utf-8").replace("D0", "单0"), encoding="utf-8")
    for which, row in cells:
        name, column, change = CELLS[which]
        _edit_cell(folder, name, column, change, row)
    for which, row in lines:
        name, change = LINES[which]
        _edit_line(folder, name, change, row)


TAKEN = {"columnar": 0, "reference": 0}


def _same(folder: Path) -> None:
    """validate_generic(folder, "columnar"), with the path it took counted (``TAKEN``)."""
    got = bulkcheck.read_bulk(folder)
    TAKEN["reference" if isinstance(got, str) else "columnar"] += 1
    columnar = (validate_generic(folder, "reference") if isinstance(got, str)
                else _generic(got.tables, got.diagnostics, got.types, got.rows)).to_dict()
    assert columnar == validate_generic(folder, "reference").to_dict(), got if isinstance(got, str) else "columnar"


# about 0.4 s an example: a quarter of the profile's count (25 under ci and dev, 1,250 under long)
@settings(max_examples=max(25, settings.default.max_examples // 4))
@given(kind=st.sampled_from(FOLDERS),
       cells=st.lists(st.tuples(st.integers(0, len(CELLS) - 1), st.integers(0, 40)), max_size=5),
       lines=st.lists(st.tuples(st.integers(0, len(LINES) - 1), st.integers(0, 40)), max_size=1),
       parquet=st.sampled_from(["text", "typed", "float"]))
@example(kind="plain", cells=[(0, 0), (4, 20), (5, 34)], lines=[], parquet="text")
@example(kind="credits", cells=[(0, 3)], lines=[], parquet="typed")  # deal D003 rejected, a credit names it
@example(kind="plain", cells=[(2, 2), (8, 4)], lines=[], parquet="text")  # a collection of a rejected deal
@example(kind="chinese", cells=[(len(EDITS) + 9, 3), (len(EDITS) + 18, 5)], lines=[], parquet="text")
@example(kind="plain", cells=[(len(EDITS) + 8, 6), (len(EDITS) + 12, 1)], lines=[], parquet="text")
@example(kind="other-table-no-id", cells=[], lines=[(3, 2)], parquet="float")
def test_columnar_validate_reports_what_the_reference_reports(
        kind: str, cells: list[tuple[int, int]], lines: list[tuple[int, int]], parquet: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-bulk-")) / "data"
    try:
        _folder(folder, kind, cells, lines)
        _same(folder)
        try:  # the same folder in Parquet, cells as text or typed (when every cell can be)
            types = {"text": None, "typed": {"deals.amount": "DECIMAL(18,2)", "deals.signed_on": "DATE"},
                     "float": {"collections.amount": "DOUBLE"}}[parquet]
            to_parquet(folder, types)
        except Exception:  # a ragged row, a cell that does not cast: not a Parquet file one can write
            return
        _same(folder)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def test_most_generated_folders_take_the_columnar_path() -> None:
    """The differential test above is not only the reference against itself."""
    if sum(TAKEN.values()) < 20:
        pytest.skip("run with the differential test")
    assert TAKEN["columnar"] > TAKEN["reference"], TAKEN


def test_only_the_rows_with_something_to_say_are_read(tmp_path: Path) -> None:
    """A bad amount on deal D002: that deal and the collections of it (their warning), not the other rows."""
    folder = tmp_path / "data"
    _folder(folder, "plain", [(0, 2)], [])
    got = bulkcheck.read_bulk(folder)
    assert not isinstance(got, str)
    assert {n: [r.ref.line for r in t.rows] for n, t in got.tables.items() if n in got.rows} == {
        "collections": [3, 10], "deals": [4]}
    assert got.rows == {"collections": 9, "deals": 14}
    report = validate_generic(folder, "columnar")
    assert [(p["code"], p["line"]) for p in report.to_dict()["problems"]] == [  # type: ignore[attr-defined]
        ("KPI0722", 3), ("KPI0722", 10), ("KPI0710", 4)]
    assert report.to_dict() == validate_generic(folder, "reference").to_dict()


@pytest.mark.parametrize(("line", "why"), [(1, "lone CR"), (0, "lines for")])
def test_what_the_columnar_engine_does_not_read_exactly_goes_to_the_reference(
        tmp_path: Path, line: int, why: str) -> None:
    folder = tmp_path / "data"
    _folder(folder, "plain", [], [(line, 3)])
    got = bulkcheck.read_bulk(folder)
    assert isinstance(got, str) and why in got
    assert validate_generic(folder, "columnar").to_dict() == validate_generic(folder, "reference").to_dict()


def test_auto_takes_the_columnar_engine_on_a_large_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kpidsl.columnar import run

    folder = tmp_path / "data"
    _folder(folder, "plain", [(0, 2)], [])
    calls: list[Path] = []
    read = bulkcheck.read_bulk
    monkeypatch.setattr(bulkcheck, "read_bulk", lambda f: calls.append(f) or read(f))
    validate_generic(folder)
    assert calls == []  # a small folder: the reference
    monkeypatch.setattr(run, "LARGE_BYTES", 100)
    assert validate_generic(folder).to_dict() == validate_generic(folder, "reference").to_dict()
    assert calls == [folder]
    with pytest.raises(ValueError, match="engine must be"):
        validate_generic(folder, "fast")


def test_the_command_line_engine_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kpidsl.cli import main

    folder = tmp_path / "data"
    _folder(folder, "credits", [(0, 2), (4, 5)], [])
    out = {}
    for engine in ("reference", "columnar"):
        assert main(["validate", "--data", str(folder), "--format", "json", "--engine", engine]) == 1
        out[engine] = capsys.readouterr().out
    assert out["columnar"] == out["reference"] and '"KPI0710"' in out["columnar"]
