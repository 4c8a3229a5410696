"""Loading checks that rest on hashes stay exact: sorted key hashes, faked hash collisions on
a whole load, the digest's fold summed without a cast, and DATE cells the reference refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("duckdb")

import duckdb

from kpidsl.columnar import facttable, load_folder
from kpidsl.columnar.facttable import fold_sql
from kpidsl.columnar.sources import connect

from .test_fastload import to_parquet
from .test_validation import GOOD, PLAN, diag_keys, folder

COLLIDING = "(hash({key}) % 2)"  # every key's hash is 0 or 1: many collisions


def test_a_load_whose_key_hashes_collide_counts_the_keys_and_stays_columnar(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [*GOOD, *(f"D{i},a,1.00,won,2026-07-0{1 + i % 9},c,P,true" for i in range(3, 30))]
    path = folder(tmp_path, rows)
    monkeypatch.setenv("KPIDSL_CACHE", "off")  # the second load must check the keys again
    clean = load_folder(PLAN.model, path)
    monkeypatch.setattr(facttable, "KEY_HASH", COLLIDING)
    colliding = load_folder(PLAN.model, path)
    assert clean.engine == colliding.engine == "columnar"
    assert colliding.tables["deal"].rows == 29
    assert colliding.dataset.digest == clean.dataset.digest


def test_duplicate_keys_are_reported_alike_whether_or_not_hashes_collide(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [*GOOD, "D1,b,3.00,won,2026-07-02,c,P,no", "D7,b,3.00,won,2026-07-02,c,P,no"]
    path = folder(tmp_path, rows)
    monkeypatch.setenv("KPIDSL_CACHE", "off")  # the second load must check the keys again
    honest = load_folder(PLAN.model, path)
    monkeypatch.setattr(facttable, "KEY_HASH", COLLIDING)
    colliding = load_folder(PLAN.model, path)
    assert honest.engine == colliding.engine == "columnar"
    assert honest.worded == colliding.worded and {r.line for r in honest.worded} == {2, 4}
    assert honest.reasons == colliding.reasons
    assert any(r.endswith("deals.csv: 1 duplicate deal key(s)") for r in honest.reasons)
    assert diag_keys(colliding.diagnostics) == diag_keys(honest.diagnostics) and honest.diagnostics


def test_sorted_hashes_count_each_repeat_once() -> None:
    con = connect()
    con.execute("CREATE TABLE k AS SELECT * FROM (VALUES ('a'), ('a'), ('a'), (NULL), (NULL), ('b')) t(id)")
    assert facttable._distinct_hashes(con, "k", "id") == 2  # NULL keys are not counted
    assert facttable._distinct(con, "k", "id", 6) == 2


def test_the_fold_is_the_exact_sum_of_the_row_hashes() -> None:
    con = connect()
    con.execute("CREATE TABLE t AS SELECT 'D' || i AS id, (i * 1.25)::DECIMAL(18,2) AS amount FROM range(500) r(i)")
    hashes = [int(h) for (h,) in con.execute('SELECT hash("amount", "id") FROM t').fetchall()]
    assert sum(hashes) > 2**64  # the sum overflows 64 bits: DuckDB widens it, as Python does
    assert int(con.execute(f"SELECT {fold_sql(['id', 'amount'])} FROM t").fetchone()[0]) == sum(hashes)


@pytest.mark.parametrize("day", ["infinity", "-infinity"])
def test_a_typed_parquet_date_without_a_year_is_worded_by_the_reference(tmp_path: Path, day: str) -> None:
    path = to_parquet(folder(tmp_path, [GOOD[0], "D2,b,1234.50,won,2026-09-30,c,P,no"]))
    deals = path / "deals.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * REPLACE (CASE WHEN id = 'D2' THEN '{day}'::DATE ELSE signed_on END AS signed_on) "
                f"FROM read_parquet('{deals}')) TO '{path}/x.parquet' (FORMAT PARQUET)")
    (path / "x.parquet").replace(deals)
    loaded = load_folder(PLAN.model, path, fmt="parquet")
    reference = load_folder(PLAN.model, path, fmt="parquet", engine="reference")
    assert loaded.engine == "columnar" and {r.line for r in loaded.worded} == {3}  # worded by the reference
    assert loaded.reasons[0] == f"{path.name}/deals.parquet: 1 row(s) fail typed parsing (first on line 3)"
    assert diag_keys(loaded.diagnostics) == diag_keys(reference.diagnostics) and reference.diagnostics
