"""Loading fact tables on the columnar path: the one-pass checks, the data digest's fold,
partitioned duplicate-key counting and keeping reference columns the plan does not read."""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import facttable, load_folder
from kpidsl.columnar.facttable import fold_sql
from kpidsl.columnar.sources import connect

from .test_validation import GOOD, PLAN, folder

NAVIGATING = kpidsl.loads("""plan "n" {
  currency USD
  period quarter
  rounding half_up 0.01
}
fact deal {
  is_new_customer: bool
}
metric collected: money = sum collection.amount where collection.deal.stage == "won"
payout commission: money = collected * 1%
""").model


def _fold(con: object, table: str) -> int:
    return int(con.execute(f"SELECT {fold_sql(['id', 'amount'])} FROM {table}").fetchone()[0])  # type: ignore[attr-defined]


def test_fold_ignores_row_order_but_counts_a_row_given_twice() -> None:
    con = connect()
    con.execute("CREATE TABLE a AS SELECT * FROM (VALUES ('D1', 1.50), ('D2', 2.00)) t(id, amount)")
    con.execute("CREATE TABLE b AS SELECT * FROM (VALUES ('D2', 2.00), ('D1', 1.50)) t(id, amount)")
    con.execute("CREATE TABLE c AS SELECT * FROM (VALUES ('D1', 1.50), ('D2', 2.00), ('D2', 2.00)) t(id, amount)")
    con.execute("CREATE TABLE d AS SELECT * FROM (VALUES ('D1', 1.50), ('D1', 1.50)) t(id, amount)")
    con.execute("CREATE TABLE e AS SELECT * FROM (VALUES ('D1', 1.51), ('D2', 2.00)) t(id, amount)")
    assert _fold(con, "a") == _fold(con, "b")
    assert _fold(con, "c") != _fold(con, "a")  # XOR would cancel the second D2
    assert _fold(con, "d") != 0
    assert _fold(con, "e") != _fold(con, "a")


def test_digest_is_order_independent_and_changes_with_one_amount(tmp_path: Path) -> None:
    base = load_folder(PLAN.model, folder(tmp_path / "a", GOOD))
    shuffled = load_folder(PLAN.model, folder(tmp_path / "b", list(reversed(GOOD))))
    changed = load_folder(PLAN.model, folder(tmp_path / "c", [GOOD[0].replace("100.05", "100.06"), GOOD[1]]))
    assert base.engine == shuffled.engine == changed.engine == "columnar"
    assert base.dataset.digest == shuffled.dataset.digest
    assert changed.dataset.digest != base.dataset.digest


def test_duplicate_keys_are_counted_the_same_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"D{i},a,1.00,won,2026-07-01,c,P,true" for i in range(40)] + ["D3,a,2.00,won,2026-07-02,c,P,no"] * 3
    path = folder(tmp_path, rows)
    monkeypatch.setenv("KPIDSL_CACHE", "off")  # the second load must count again, in parts
    whole = load_folder(PLAN.model, path)
    monkeypatch.setattr(facttable, "PART_ROWS", 7)
    parts = load_folder(PLAN.model, path)
    assert whole.engine == parts.engine == "columnar"  # the repeated rows worded by the reference binder
    assert whole.worded == parts.worded and len(whole.worded) == 4
    assert whole.reasons == parts.reasons
    assert any(r.endswith("deals.csv: 3 duplicate deal key(s)") for r in whole.reasons)


CACHE = pytest.mark.parametrize("cache", [False, None], ids=["in-memory", "typed-copy"])


@CACHE
def test_clean_parts_and_scales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: bool | None) -> None:
    monkeypatch.setattr(facttable, "PART_ROWS", 1)
    path = folder(tmp_path, [*GOOD, "D3,b,7.125,lost,2026-08-01,c,P,0"])
    if cache is None:  # the first run on new bytes types in memory; the second writes the copy
        load_folder(PLAN.model, path, cache=cache)
    loaded = load_folder(PLAN.model, path, cache=cache)
    assert loaded.engine == "columnar"
    deals = loaded.tables["deal"]
    assert deals.rows == 3
    assert deals.scales == {"amount": 3}  # the widest scale as written
    assert "_bad" not in deals.columns and "_sc_amount" not in deals.columns
    # amounts written with 2 and 3 decimals: each row's own is kept, as the reference keeps it
    assert deals.row_scales == {"amount"}
    cols = {r[0] for r in loaded.con.execute("DESCRIBE f_deal").fetchall()} - {"_row"}  # a view's line
    assert cols == {*deals.columns, "_sc_amount"}
    assert (deals.file is None) == (cache is False)


@CACHE
def test_a_column_written_with_one_scale_keeps_no_scale_column(tmp_path: Path, cache: bool | None) -> None:
    path = folder(tmp_path, [*GOOD, "D3,b,7.12,lost,2026-08-01,c,P,0"])
    if cache is None:
        load_folder(PLAN.model, path, cache=cache)
    loaded = load_folder(PLAN.model, path, cache=cache)
    deals = loaded.tables["deal"]
    assert deals.scales == {"amount": 2} and deals.row_scales == frozenset()
    cols = {r[0] for r in loaded.con.execute("DESCRIBE f_deal").fetchall()} - {"_row"}
    assert cols == set(deals.columns)


def test_unknown_payees_are_found_in_the_checking_pass(tmp_path: Path) -> None:
    loaded = load_folder(PLAN.model, folder(tmp_path, [*GOOD, "D3,zz,7.00,won,2026-08-01,c,P,0"]))
    assert loaded.engine == "columnar" and {r.line for r in loaded.worded} == {4}  # that row alone
    assert any(r.endswith("deals.csv: 1 row(s) name an unknown payee in payee") for r in loaded.reasons)


def test_a_reference_the_plan_does_not_read_is_kept_for_later_changes(tmp_path: Path) -> None:
    # a service that changes or removes a deal must find the collections that refer to it
    kept = load_folder(NAVIGATING, folder(tmp_path / "n", GOOD))
    assert kept.engine == "columnar" and "deal" in kept.tables["collection"].columns
    loaded = load_folder(PLAN.model, folder(tmp_path, GOOD))
    assert loaded.engine == "columnar"
    assert "deal" in loaded.tables["collection"].columns
    assert "deal" in {r[0] for r in loaded.con.execute("DESCRIBE f_collection").fetchall()}
    dangling = load_folder(PLAN.model, folder(tmp_path / "d", GOOD, ["C1,D9,a,10.01,2026-08-01"]))
    assert any("reference(s) in deal to a missing deal" in r for r in dangling.reasons)
