"""Audit fixes: engines and formats that must agree on what they read and count.

* ``count distinct`` counts distinct non-empty values (an empty cell, a NULL or an
  absent optional column is "no customer", not one more customer), on both engines,
  from CSV and Parquet, with team scope too.
* A CSV file beside its Parquet twin is not read, and says so (KPI0715).
* A Parquet row whose cells are all empty is skipped as the CSV reader skips a line
  of empty cells, the other rows keeping their line numbers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import load_folder
from kpidsl.columnar.sources import connect, find_sources, raw_table, unread

from .test_differential import write
from .test_messy import to_parquet

HEADER = """plan "audit" {
  currency USD
  period quarter
  rounding half_up 0.01
}

fact deal {
  is_new_customer: bool
}

metric bookings: money = sum deal.amount where deal.signed_on in period
target bookings = 1_000
"""

COUNT_PLAN = HEADER + """
metric customers: count = count distinct deal.customer where deal.signed_on in period
metric all_customers: count = count distinct deal.customer over self+team where deal.signed_on in period
metric team_customers: count = count distinct deal.customer over team where deal.signed_on in period
payout p: money = (customers + all_customers + team_customers) * 7.5
"""

# b and c report to a; a has one customer and two deals without one, b only a deal
# without one, c two customers (one of them also a's)
COUNT_DATA: dict[str, Any] = {
    "deals": [("a", "100", "won", dt.date(2026, 7, 1), "x", "P1", True),
              ("a", "200", "won", dt.date(2026, 7, 2), "", "P1", False),
              ("a", "300", "won", dt.date(2026, 7, 3), "", "P2", False),
              ("b", "400", "won", dt.date(2026, 8, 2), "", "P2", False),
              ("c", "500", "won", dt.date(2026, 8, 3), "x", "P3", False),
              ("c", "600", "won", dt.date(2026, 8, 4), "y", "P3", True)],
    "collections": [],
    "roles": ["AE", "SE", "AM", "AE", "AE"], "regions": ["west", "north", "west", "north", "west"],
    "targets": [100, 200, 300, 400, 500], "history": False, "splits": False, "manager": True,
}

COUNTED = {"a": ("1", "2", "2"), "b": ("0", "0", "0"), "c": ("2", "2", "0"), "d": ("0", "0", "0")}
NONE_COUNTED = {p: ("0", "0", "0") for p in COUNTED}


def _nulls(folder: Path, table: str) -> None:
    """``table``'s Parquet file again with every empty text cell a NULL."""
    con = connect()
    path = folder / f"{table}.parquet"
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    select = ", ".join(f"NULLIF(\"{c}\", '') AS \"{c}\"" for c in cols)
    tmp = folder / f"{table}.tmp"
    con.execute(f"COPY (SELECT {select} FROM read_parquet('{path}')) TO '{tmp}' (FORMAT PARQUET)")
    tmp.replace(path)


def _drop_column(folder: Path, name: str, column: str) -> None:
    path = folder / name
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    i = header.split(",").index(column)
    path.write_text("\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != i)
                              for line in [header, *rows]) + "\n", encoding="utf-8")


def _count_folder(tmp_path: Path, variant: str) -> Path:
    folder = tmp_path / "data"
    write(folder, COUNT_DATA)
    if variant.startswith("absent"):
        _drop_column(folder, "deals.csv", "customer")
    if variant.endswith("parquet") or variant == "parquet-null":
        to_parquet(folder)
    if variant == "parquet-null":
        _nulls(folder, "deals")
    return folder


VARIANTS = ["csv", "parquet", "parquet-null", "absent-csv", "absent-parquet"]


@pytest.mark.parametrize("engine", ["reference", "columnar"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_count_distinct_skips_empty_values_on_both_engines_and_formats(
        tmp_path: Path, variant: str, engine: str) -> None:
    folder = _count_folder(tmp_path, variant)
    plan = kpidsl.loads(COUNT_PLAN)
    fmt = "parquet" if "parquet" in variant else "csv"
    assert load_folder(plan.model, folder, fmt=fmt, engine=engine).engine == engine
    result = plan.evaluate(folder, "2026-Q3", engine=engine)
    assert [d.code for d in result.data_diagnostics] == []
    got = {p: (str(result.payees[p].values["customers"]), str(result.payees[p].values["all_customers"]),
               str(result.payees[p].values["team_customers"])) for p in COUNTED}
    assert got == (NONE_COUNTED if variant.startswith("absent") else COUNTED)


def test_count_distinct_still_lists_and_counts_every_matched_fact(tmp_path: Path) -> None:
    """The explanation's facts are the deals matched, those without a customer included."""
    folder = _count_folder(tmp_path, "csv")
    plan = kpidsl.loads(COUNT_PLAN)
    result = plan.evaluate(folder, "2026-Q3", engine="reference", explain=True)
    node = result.explain("a", "customers")
    assert node.value == "1"
    assert node.facts == ("D000", "D001", "D002") and node.fact_count == 3


def test_count_distinct_of_only_empty_values_is_zero() -> None:
    from decimal import Context

    from kpidsl.eval.facts import combine
    from kpidsl.numbers import ONE
    from kpidsl.source import Span

    values = [("D1", ONE, None), ("D2", ONE, None), ("D3", ONE, "x"), ("D4", ONE, "x"), ("D5", ONE, "y")]
    span = Span("p.kpi", 1, 1, 1, 2)
    assert combine("count_distinct", values, Context(), False, "m", span).value == 2
    assert combine("count_distinct", values[:2], Context(), False, "m", span).value == 0
    assert combine("count_distinct", values[:2], Context(), False, "m", span).count == 2


# ---- a CSV file beside its Parquet twin ---------------------------------------------------

TWIN_PLAN = HEADER + "payout p: money = bookings * 1%\n"


def _twins(tmp_path: Path) -> Path:
    """A Parquet folder, then deals.csv edited beside deals.parquet (a deal of a's doubled)."""
    folder = tmp_path / "data"
    write(folder, COUNT_DATA)
    to_parquet(folder)
    write(folder / "newer", COUNT_DATA)
    edited = (folder / "newer" / "deals.csv").read_text(encoding="utf-8").replace(",100,", ",200,")
    (folder / "deals.csv").write_text(edited, encoding="utf-8")
    for f in (folder / "newer").iterdir():
        f.unlink()
    (folder / "newer").rmdir()
    return folder


TWIN_MESSAGE = ("data/deals.csv was not read: the tables of this data folder are read from its "
                ".parquet files (data/deals.parquet is read in its place)")


@pytest.mark.parametrize("engine", ["reference", "columnar"])
def test_a_csv_file_beside_its_parquet_twin_is_a_warning_on_both_engines(tmp_path: Path, engine: str) -> None:
    folder = _twins(tmp_path)
    plan = kpidsl.loads(TWIN_PLAN)
    loaded = load_folder(plan.model, folder, engine=engine)
    assert loaded.engine == engine
    [d] = [d for d in loaded.diagnostics if d.code == "KPI0715"]
    assert (d.severity, d.message, d.span.file) == ("warning", TWIN_MESSAGE, "data/deals.csv")
    assert d.help is not None and "deals.parquet" in d.help
    result = plan.evaluate(folder, "2026-Q3", engine=engine)
    assert [(d.code, d.message) for d in result.data_diagnostics] == [("KPI0715", TWIN_MESSAGE)]
    assert str(result.payees["a"].values["bookings"]) == "600"  # the Parquet file's (100 + 200 + 300)


def test_a_csv_twin_is_reported_by_load_data_and_by_unread(tmp_path: Path) -> None:
    folder = _twins(tmp_path)
    raw = kpidsl.load_data(folder)
    assert [(d.code, d.message) for d in raw.diagnostics] == [("KPI0715", TWIN_MESSAGE)]
    sources = find_sources(folder)
    assert [d.message for d in unread(folder, sources)] == [TWIN_MESSAGE]
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / ".hidden.csv").write_text("x", encoding="utf-8")
    assert [d.span.file for d in unread(folder, sources)] == ["data/deals.csv", "data/notes.txt"]


# ---- a row of empty cells ---------------------------------------------------------------


def _blank_rows(folder: Path, bad: bool) -> None:
    """A row of empty cells (spaces in some) in deals and payees, before other rows; with
    ``bad``, a deal after it names an unknown payee (its line number is then checked)."""
    deals = (folder / "deals.csv").read_text(encoding="utf-8").splitlines()
    width = deals[0].count(",")
    deals.insert(2, ", ," + "," * (width - 2))
    if bad:
        deals.append("D999,zoe,1,won,2026-07-01,x,P1,false")
    (folder / "deals.csv").write_text("\n".join(deals) + "\n", encoding="utf-8")
    payees = (folder / "payees.csv").read_text(encoding="utf-8").splitlines()
    payees.insert(3, "," * payees[0].count(","))
    (folder / "payees.csv").write_text("\n".join(payees) + "\n", encoding="utf-8")


def _shown(diags: Any) -> list[tuple[str, str, str, int, int]]:
    return [(d.code, d.severity, d.message.replace(".parquet", ".csv"), d.span.line, d.span.col) for d in diags]


@pytest.mark.parametrize("nulls", [False, True], ids=["empty-texts", "nulls"])
@pytest.mark.parametrize("bad", [False, True], ids=["clean", "bad-row-after"])
def test_a_row_of_empty_cells_is_skipped_in_parquet_as_in_csv(tmp_path: Path, bad: bool, nulls: bool) -> None:
    plan = kpidsl.loads(COUNT_PLAN)
    csv_folder, pq_folder = tmp_path / "csv" / "data", tmp_path / "pq" / "data"
    for folder in (csv_folder, pq_folder):
        write(folder, COUNT_DATA)
        _blank_rows(folder, bad)
    to_parquet(pq_folder)
    if nulls:
        _nulls(pq_folder, "deals")
        _nulls(pq_folder, "payees")
    from_csv = plan.evaluate(csv_folder, "2026-Q3", engine="reference")
    from_pq = plan.evaluate(pq_folder, "2026-Q3", engine="reference")
    assert _shown(from_pq.data_diagnostics) == _shown(from_csv.data_diagnostics)
    if bad:
        assert [(d.code, d.span.line) for d in from_csv.data_diagnostics] == [("KPI0721", 9)]
        assert from_csv.evaluation is None and from_pq.evaluation is None
    else:
        assert from_csv.data_diagnostics == ()
        assert from_pq.to_dict()["payees"] == from_csv.to_dict()["payees"]
        assert len(from_pq.payees) == 5
    # the columnar engine: the same words and figures (today it hands such a folder to the
    # reference; it is not asked to keep it)
    for folder, ref in ((csv_folder, from_csv), (pq_folder, from_pq)):
        col = plan.evaluate(folder, "2026-Q3", engine="columnar")
        assert _shown(col.data_diagnostics) == _shown(ref.data_diagnostics)
        assert col.to_dict()["payees"] == ref.to_dict()["payees"]
    # load_data (a Parquet folder read through raw_table): the same rows, the same line numbers
    lines = {n: [r.ref.line for r in t.rows] for n, t in kpidsl.load_data(pq_folder).tables.items()}
    assert lines["deals"] == [2, *range(4, 9 + bad)] and lines["payees"] == [2, 3, 5, 6, 7]


def test_raw_table_keeps_the_line_of_each_row_after_a_skipped_one(tmp_path: Path) -> None:
    con = connect()
    path = tmp_path / "payees.parquet"
    con.execute(f"COPY (SELECT * FROM (VALUES ('a', 'A'), (NULL, '  '), ('', NULL), (' b ', '')) t(id, name)) "
                f"TO '{path}' (FORMAT PARQUET)")
    [src] = find_sources(tmp_path).values()
    table = raw_table(con, src)
    assert [(r.ref.line, r.cells) for r in table.rows] == [(2, ("a", "A")), (5, ("b", ""))]


def test_raw_table_strips_as_python_strips(tmp_path: Path) -> None:
    """Cells stripped of every white space ``str.strip`` removes (full-width, no-break, line
    separators, ASCII separators), and nothing else (a zero-width space, an ideographic comma,
    a BOM); a row left with empty cells only is skipped, the rows after it keep their lines."""
    import sys

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    kept = ["\u200b", "\u3001", "\ufeff", "x", "中"]
    cells = [f"{s}{k}{s}" for s, k in zip(spaces, kept * 6, strict=False)] + ["".join(spaces), None]
    rows = [(f"p{i:02}", c) for i, c in enumerate(cells)] + [(s, s) for s in ("\u3000", " \u2028")]
    con = connect()
    con.execute("CREATE TABLE t (id VARCHAR, name VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    path = tmp_path / "payees.parquet"
    con.execute(f"COPY (SELECT * FROM t ORDER BY id) TO '{path}' (FORMAT PARQUET)")
    ordered = con.execute("SELECT * FROM t ORDER BY id").fetchall()
    [src] = find_sources(tmp_path).values()
    expected = [(line, cells) for line, row in enumerate(ordered, 2)
                if any(cells := tuple("" if c is None else c.strip() for c in row))]
    assert [(r.ref.line, r.cells) for r in raw_table(con, src).rows] == expected
    assert len(expected) == len(rows) - 2 and expected[-1][1][1] == ""
