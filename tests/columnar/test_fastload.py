"""Loading without copying: natively typed Parquet is checked and aggregated in place (a view
over the file), copied only when a payee's facts are fetched; duplicate keys are found by
counting key hashes first, and by the keys themselves when the hashes do not settle it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl

pytest.importorskip("duckdb")

import duckdb

from kpidsl.columnar import ColumnarRun, facttable, load_folder
from kpidsl.columnar.cells import _typed
from kpidsl.columnar.sources import SourceChanged, connect
from kpidsl.columnar.stage import DIRECT_READS
from kpidsl.explain.render import render_json

from .test_differential import WIDE_PLAN, write
from .test_stage import DATA

TYPES = {"deals": {"amount": "DECIMAL(18,2)", "signed_on": "DATE", "is_new_customer": "BOOLEAN"},
         "collections": {"amount": "DECIMAL(18,2)", "received_on": "DATE"}}


def to_parquet(folder: Path, typed: bool = True) -> Path:
    """Every CSV of ``folder`` as Parquet; fact columns natively typed unless ``typed`` is false."""
    con = duckdb.connect()
    for f in sorted(folder.glob("*.csv")):
        cols = con.execute(f"DESCRIBE SELECT * FROM read_csv('{f}', all_varchar = true)").fetchall()
        casts = TYPES.get(f.stem, {}) if typed else {}
        sel = ", ".join(f"CAST(nullif(\"{c[0]}\", '') AS {casts[c[0]]}) AS \"{c[0]}\"" if c[0] in casts
                        else f'"{c[0]}"' for c in cols)
        con.execute(f"COPY (SELECT {sel} FROM read_csv('{f}', all_varchar = true)) TO "
                    f"'{f.with_suffix('.parquet')}' (FORMAT PARQUET)")
        f.unlink()
    return folder


def relations(con: Any) -> tuple[set[str], set[str]]:
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return views, tables


@pytest.fixture()
def typed(tmp_path: Path) -> Path:
    write(tmp_path, DATA)
    return to_parquet(tmp_path)


def test_typed_parquet_is_read_in_place_and_gives_the_reference_figures(typed: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, typed, fmt="parquet")
    assert loaded.engine == "columnar"
    views, tables = relations(loaded.con)
    assert {"f_deal", "f_collection"} <= views and not {"f_deal", "f_collection"} & tables
    assert loaded.tables["deal"].scales == {"amount": 2}
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    ref = ColumnarRun(plan.model, load_folder(plan.model, typed, fmt="parquet", engine="reference"), "2026-Q3")
    mine, theirs = run.evaluate(), ref.evaluate()
    assert mine is not None and theirs is not None
    assert {p: r.components for p, r in mine.payees.items()} == {p: r.components for p, r in theirs.payees.items()}
    for name in ("bookings", "collected", "via_deal", "team_bookings", "total"):
        a, b = run.explain("a", name), ref.explain("a", name)
        assert a is not None and b is not None and render_json(a) == render_json(b), name


def test_facts_fetched_from_a_view_keep_their_file_and_line(typed: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, typed, fmt="parquet")
    ref = load_folder(plan.model, typed, fmt="parquet", engine="reference")
    stage = ColumnarRun(plan.model, loaded, "2026-Q3")._stage()
    assert stage is not None
    # the first fetches read the file; then it is copied once, sorted by payee: the same facts
    for n in range(1, DIRECT_READS + 3):
        for kind in ("deal", "collection"):
            for field, values in (("payee", ["a", "b"]), (loaded.tables[kind].kind.key, ["D000", "C001"])):
                got = stage.index.fetch(loaded.tables[kind], field, values)
                want = sorted((f for f in ref.dataset.facts[kind] if f.values[field] in values),
                              key=lambda f: f.key)
                assert [(f.key, f.ref, f.values) for f in got] == [(f.key, f.ref, f.values) for f in want]
                assert got or field != "payee"
        copied = "f_deal__rows" in relations(loaded.con)[1]
        assert copied == (2 * n > DIRECT_READS), n


def test_a_bad_row_in_typed_parquet_names_its_line_and_the_reference_reports_it(tmp_path: Path) -> None:
    deals = [*DATA["deals"]]
    deals[1] = ("a", "", "lost", deals[1][3], "y", "P3", False)  # an empty amount on line 3
    write(tmp_path, {**DATA, "deals": deals})
    path = to_parquet(tmp_path)
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, path, fmt="parquet")
    ref = load_folder(plan.model, path, fmt="parquet", engine="reference")
    assert loaded.engine == "columnar" and {r.line for r in loaded.worded} == {3}  # worded by the reference
    assert loaded.reasons[0] == f"{path.name}/deals.parquet: 1 row(s) fail typed parsing (first on line 3)"
    assert [(d.code, d.message, d.span) for d in loaded.diagnostics] == \
        [(d.code, d.message, d.span) for d in ref.diagnostics] and ref.diagnostics


@pytest.mark.parametrize("typed_columns", [True, False])
def test_duplicate_and_empty_keys_are_counted_as_before(tmp_path: Path, typed_columns: bool) -> None:
    deals = [*DATA["deals"]]
    write(tmp_path, {**DATA, "deals": deals})
    text = (tmp_path / "deals.csv").read_text().replace("D001,", "D000,").replace("D002,", ",")
    (tmp_path / "deals.csv").write_text(text)
    csv_reasons = load_folder(kpidsl.loads(WIDE_PLAN).model, tmp_path, fmt="csv").reasons
    path = to_parquet(tmp_path, typed_columns)
    loaded = load_folder(kpidsl.loads(WIDE_PLAN).model, path, fmt="parquet")
    assert any(r.endswith("2 duplicate deal key(s)") for r in csv_reasons)
    assert loaded.reasons == tuple(r.replace(".csv", ".parquet") for r in csv_reasons)


@pytest.mark.parametrize("part_rows", [2, 1000])
def test_distinct_keys_are_exact_whatever_the_hashes_say(monkeypatch: pytest.MonkeyPatch, part_rows: int) -> None:
    monkeypatch.setattr(facttable, "PART_ROWS", part_rows)
    con = connect()
    con.execute("CREATE TABLE k AS SELECT * FROM (VALUES ('a'), ('b'), (NULL), ('c'), ('b'), ('d')) t(id)")
    con.execute("CREATE TABLE u AS SELECT 'k' || i AS id FROM range(50) r(i)")
    assert facttable._distinct_hashes(con, "k", "id") == 4  # sorted hashes: the second b repeats
    assert facttable._distinct(con, "k", "id", 6) == 4  # the empty key and the second b do not count
    assert facttable._distinct(con, "u", "id", 50) == 50
    # a hash collision (faked: fewer hashes than keys) falls back to counting the keys
    con.execute("CREATE MACRO hash(x) AS 1")  # every key hashes alike: the keys decide
    assert facttable._distinct_hashes(con, "u", "id") == 1
    assert facttable._distinct(con, "u", "id", 50) == 50


def test_text_typed_parquet_is_copied_once_typed(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    path = to_parquet(tmp_path, typed=False)
    loaded = load_folder(kpidsl.loads(WIDE_PLAN).model, path, fmt="parquet", cache=False)
    assert loaded.engine == "columnar" and loaded.tables["deal"].view == ()
    assert "f_deal" in relations(loaded.con)[1]
    # with a cache, the typed copy is a Parquet file there, read in place
    load_folder(kpidsl.loads(WIDE_PLAN).model, path, fmt="parquet", cache=tmp_path / "cache")
    cached = load_folder(kpidsl.loads(WIDE_PLAN).model, path, fmt="parquet", cache=tmp_path / "cache")
    deal = cached.tables["deal"]  # the second run on these bytes writes the typed copy
    assert cached.engine == "columnar" and deal.view and deal.file is not None
    assert deal.file.is_relative_to(tmp_path / "cache") and deal.source.path.name == "deals.parquet"
    assert "f_deal" in relations(cached.con)[0]


def test_a_file_changed_after_loading_is_refused(typed: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, typed, fmt="parquet")
    deals = typed / "deals.parquet"
    st = deals.stat()
    os.utime(deals, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(SourceChanged, match=r"deals\.parquet changed after it was loaded"):
        ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()


@pytest.mark.parametrize("how", ["rewritten in place", "replaced by a copy"])
def test_a_file_rewritten_with_the_same_size_and_time_is_refused(typed: Path, tmp_path: Path, how: str) -> None:
    """The same byte count, the modification time set back: read in place, another content
    would be evaluated under the old one's checks and digest (found by helper-52). Its change
    time, or its inode, says it was written."""
    plan = kpidsl.loads(WIDE_PLAN)
    deals = typed / "deals.parquet"
    loaded = load_folder(plan.model, typed, fmt="parquet", cache=False, period="2026-Q3")
    st = deals.stat()
    if how == "rewritten in place":
        deals.write_bytes(deals.read_bytes())
    else:
        other = tmp_path / "other.parquet"
        other.write_bytes(deals.read_bytes())
        os.replace(other, deals)
    os.utime(deals, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (deals.stat().st_size, deals.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.raises(SourceChanged, match=r"deals\.parquet changed after it was loaded"):
        ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()


def test_a_removed_typed_copy_is_named_as_the_cache_s(tmp_path: Path) -> None:
    import shutil

    plan = kpidsl.loads(WIDE_PLAN)
    csv_folder = tmp_path / "csv"
    write(csv_folder, DATA)
    for _ in range(2):  # the second run writes the typed copy, which the third reads in place
        load_folder(plan.model, csv_folder, cache=tmp_path / "cache")
    loaded = load_folder(plan.model, csv_folder, cache=tmp_path / "cache")
    copy = loaded.tables["deal"].file
    assert copy is not None and copy.is_relative_to(tmp_path / "cache")
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(SourceChanged, match=r"the cache's typed copy of .*deals\.csv .* was removed or changed"):
        ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()


def test_a_view_reads_its_file_by_absolute_path(typed: Path, tmp_path_factory: pytest.TempPathFactory,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    monkeypatch.chdir(typed.parent)
    loaded = load_folder(plan.model, Path(typed.name), fmt="parquet")
    assert loaded.tables["deal"].view
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    result = ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()
    assert result is not None and result.ok


def test_a_deleted_file_is_refused(typed: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, typed, fmt="parquet")
    (typed / "collections.parquet").unlink()
    with pytest.raises(SourceChanged, match=r"collections\.parquet changed"):
        ColumnarRun(plan.model, loaded, "2026-Q3").evaluate()


BOOL_CELLS = ["true", "false", "TRUE", "False", "yes", "No", "1", "0", "tRuE", "maybe", "tru", "t", "yes!"]


def _cells(vtype: str, cells: list[str], kept: bool = True) -> list[tuple[object, bool]]:
    value, bad, helpers = _typed('"c"', vtype, "VARCHAR", True, kept, True, "_h")
    con = connect()
    con.execute("CREATE TABLE t AS SELECT unnest(CAST(? AS VARCHAR[])) AS c", [cells])
    rel = f"(SELECT *, {', '.join(f'{e} AS {a}' for a, e in helpers)} FROM t)" if helpers else "t"
    return [(v, bool(b)) for v, b in con.execute(f"SELECT {value}, {bad} FROM {rel}").fetchall()]


def test_boolean_cells_are_typed_as_the_reference_types_them() -> None:
    from kpidsl.data.values import ValueProblem, parse_bool

    for cell, (value, bad) in zip(BOOL_CELLS, _cells("bool", BOOL_CELLS), strict=True):
        try:
            want: bool | None = parse_bool(cell)
        except ValueProblem:
            want = None
        assert (value, bad) == (want, want is None), cell


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "Z", "!", "~", " ", "\t", "\x1f", "\x7f", "\x85", "\xa0",
                                          "é", "\u3000", "\u200b", "\n"]), min_size=1, max_size=4))
def test_text_cells_with_space_at_either_end_or_a_line_break_are_refused(cell: str) -> None:
    [(value, bad)] = _cells("text", [cell])
    assert bad == (cell != cell.strip() or "\n" in cell)
    assert value == cell


def test_a_parquet_file_with_its_own_file_row_number_column_is_copied(typed: Path) -> None:
    con = duckdb.connect()
    deals = typed / "deals.parquet"
    con.execute(f"COPY (SELECT *, 7 AS file_row_number FROM read_parquet('{deals}')) TO '{typed}/d.parquet' "
                "(FORMAT PARQUET)")
    (typed / "d.parquet").replace(deals)
    loaded = load_folder(kpidsl.loads(WIDE_PLAN).model, typed, fmt="parquet", cache=False)
    assert loaded.engine == "columnar" and loaded.tables["deal"].view == ()
    assert loaded.tables["collection"].view
    load_folder(kpidsl.loads(WIDE_PLAN).model, typed, fmt="parquet")
    cached = load_folder(kpidsl.loads(WIDE_PLAN).model, typed, fmt="parquet")  # its typed copy is read
    assert cached.tables["deal"].file is not None and cached.tables["collection"].file is None


def test_index_facts_copies_each_view_sorted_by_payee_and_explanations_stay_the_same(typed: Path) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, typed, fmt="parquet")
    ref = ColumnarRun(plan.model, load_folder(plan.model, typed, fmt="parquet", engine="reference"), "2026-Q3")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    run.index_facts()  # a service, before its first request
    assert {"f_deal__rows", "f_collection__rows"} <= relations(loaded.con)[1]
    rows = loaded.con.execute("SELECT payee FROM f_deal__rows").fetchall()
    assert rows == sorted(rows)
    for pid in ("a", "b", "c"):
        mine, theirs = run.explain(pid, "total"), ref.explain(pid, "total")
        assert mine is not None and theirs is not None and render_json(mine) == render_json(theirs), pid


def test_a_managers_team_facts_are_fetched_in_one_query(typed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, typed, fmt="parquet"), "2026-Q3")
    stage = run._stage()
    assert stage is not None
    calls: list[tuple[str, str, tuple[str, ...]]] = []
    fetch = stage.index.fetch

    def counted(ft: Any, field: str, values: list[str], every_day: bool = False) -> Any:
        calls.append((ft.kind.name, field, tuple(values)))
        return fetch(ft, field, values, every_day)

    monkeypatch.setattr(stage.index, "fetch", counted)
    node = run.explain("a", "team_bookings")  # a manages b and c
    assert node is not None
    # a's own deals (bookings...), then the rest of the team at once (not one query per person)
    assert [c for c in calls if c[0] == "deal" and c[1] == "payee"] == [("deal", "payee", ("a",)),
                                                                         ("deal", "payee", ("b", "c"))]


@pytest.mark.parametrize("engine", ["reference", "auto", "columnar"])
def test_a_parquet_folder_evaluates_on_every_engine_as_its_csv(tmp_path: Path, engine: str) -> None:
    """A folder of Parquet files is read through DuckDB whatever the engine (it used to be read
    as a CSV folder by the reference engine, and every table was "missing")."""
    plan = kpidsl.loads(WIDE_PLAN)
    write(tmp_path / "csv", DATA)
    want = plan.evaluate(tmp_path / "csv", "2026-Q3")
    write(tmp_path / "pq", DATA)
    got = plan.evaluate(to_parquet(tmp_path / "pq"), "2026-Q3", engine=engine)
    assert want.ok and got.ok, got.data_diagnostics
    assert {p: r.total for p, r in got.payees.items()} == {p: r.total for p, r in want.payees.items()}


def test_load_data_reads_a_parquet_folder_for_every_command(tmp_path: Path) -> None:
    """``kpidsl.load_data`` (what report, diff and what-it-takes read) takes a Parquet folder
    through DuckDB: the same evaluation as its CSV, and a float column the plan reads refused."""
    plan = kpidsl.loads(WIDE_PLAN)
    write(tmp_path / "csv", DATA)
    want = plan.evaluate(kpidsl.load_data(tmp_path / "csv"), "2026-Q3")
    write(tmp_path / "pq", DATA)
    folder = to_parquet(tmp_path / "pq")
    raw = kpidsl.load_data(folder)
    assert raw.types and plan.evaluate(raw, "2026-Q3").ok
    got = plan.evaluate(raw, "2026-Q3")
    assert {p: r.total for p, r in got.payees.items()} == {p: r.total for p, r in want.payees.items()}
    con = duckdb.connect()
    path = folder / "deals.parquet"
    con.execute(f"COPY (SELECT * REPLACE (CAST(amount AS DOUBLE) AS amount) FROM read_parquet('{path}')) "
                f"TO '{folder / 'x.parquet'}' (FORMAT PARQUET)")
    (folder / "x.parquet").replace(path)
    bad = plan.evaluate(kpidsl.load_data(folder), "2026-Q3")
    assert bad.evaluation is None and [d.code for d in bad.data_diagnostics if d.severity == "error"] == ["KPI0753"]
