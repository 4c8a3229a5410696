"""The columnar stage's cache: a re-run on the same files reuses their typed copy and the
checks' results, and gives byte for byte what a run without the cache gives; a changed
byte, a changed payee list, a damaged copy or an unwritable folder never give a stale or
wrong figure."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, cache, facttable, load_folder
from kpidsl.columnar.run import Loaded

from .test_validation import GOOD, PLAN, diag_keys, folder

ROWS = [GOOD[0], "D2,b,1234.50,won,2026-09-30,c,P,no", "D3,a,7.125,won,2026-08-01,c,P,0",
        "D4,b,50000,won,2026-08-02,c,P,yes"]
COLLS = ["C1,D1,a,10.01,2026-08-01", "C2,D4,b,20.5,2026-08-03"]


def outcome(loaded: Loaded) -> dict[str, Any]:
    """Everything a user sees of a load: engine, reasons, diagnostics, digest, every payee's
    figures and the facts (file, line) behind the commission."""
    out: dict[str, Any] = {"engine": loaded.engine, "reasons": loaded.reasons,
                           "diags": diag_keys(loaded.diagnostics), "digest": loaded.dataset.digest}
    run = ColumnarRun(PLAN.model, loaded, "2026-Q3")
    result = run.evaluate()
    if result is None:
        return out
    out["values"] = {p: (sorted((k, str(v)) for k, v in r.values.items()), str(r.total))
                     for p, r in result.payees.items()}
    out["explained"] = {p: json.dumps(e.to_dict() if (e := run.explain(p, "commission")) else None,
                                      sort_keys=True, default=str) for p in sorted(result.payees)}
    stage = run._stage()  # each fact as fetched for an explanation: its values, file and line
    assert stage is not None
    out["facts"] = sorted((f.kind, f.key, str(sorted(f.values.items())), f.ref.file, f.ref.line)
                          for ft in stage.tables.values()
                          for f in stage.index.fetch(ft, ft.kind.key, [k for k, _ in _keys(loaded, ft.table)]))
    return out


def _keys(loaded: Loaded, table: str) -> list[tuple[str, int]]:
    return [tuple(r) for r in loaded.con.execute(f"SELECT id, 0 FROM {table}").fetchall()]  # type: ignore[misc]


def entries(root: Path) -> dict[str, list[str]]:
    return {sub: sorted(p.name for p in (root / "v1" / sub).glob("*")) for sub in ("typed", "checks")}


@pytest.mark.parametrize("fmt", ["csv", "parquet-text", "parquet"])
def test_a_re_run_reuses_the_work_and_gives_what_a_run_without_the_cache_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    path = folder(tmp_path / "data", ROWS, COLLS)
    if fmt != "csv":
        from .test_fastload import to_parquet

        path = to_parquet(path, typed=fmt == "parquet")
    fmt_arg = "csv" if fmt == "csv" else "parquet"
    store = tmp_path / "cache"
    off = outcome(load_folder(PLAN.model, path, fmt=fmt_arg, cache=False))
    cold_run = load_folder(PLAN.model, path, fmt=fmt_arg, cache=store)  # typed in memory, checks kept
    cold = outcome(cold_run)
    assert all(ft.file is None for ft in cold_run.tables.values())
    assert entries(store)["checks"] and not any(n.endswith(".parquet") for n in entries(store)["typed"])

    # a re-run writes the typed copy (not typed Parquet: read in place) and reuses the checks:
    # checking again would fail now
    def fail(*args: object) -> Any:
        raise AssertionError("checked again")

    monkeypatch.setattr(facttable, "_distinct", fail)
    monkeypatch.setattr(facttable, "_row", fail)
    second_run = load_folder(PLAN.model, path, fmt=fmt_arg, cache=store)
    assert all((ft.file is not None) == (fmt != "parquet") for ft in second_run.tables.values())
    second = outcome(second_run)
    kept = entries(store)
    third = outcome(load_folder(PLAN.model, path, fmt=fmt_arg, cache=store))  # reads the copy
    assert off["engine"] == "columnar" and off == cold == second == third
    assert entries(store) == kept


def test_the_same_bytes_elsewhere_are_found_again_and_a_changed_byte_is_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "cache"
    load_folder(PLAN.model, folder(tmp_path / "a", ROWS, COLLS), cache=store)
    first = load_folder(PLAN.model, folder(tmp_path / "a", ROWS, COLLS), cache=store)  # writes the copy
    moved = load_folder(PLAN.model, folder(tmp_path / "b", ROWS, COLLS), cache=store)
    assert first.tables["deal"].file is not None
    assert first.tables["deal"].file == moved.tables["deal"].file  # one typed copy
    assert moved.tables["deal"].source.display == "b/deals.csv"  # cited as the file it came from
    # one cent more, same size and same modification time: a different content, typed again
    changed = folder(tmp_path / "c", ROWS, COLLS)
    deals = changed / "deals.csv"
    st = deals.stat()
    deals.write_text(deals.read_text().replace("7.125", "7.126"))
    os.utime(deals, ns=(st.st_atime_ns, st.st_mtime_ns))
    load_folder(PLAN.model, changed, cache=store)
    again = load_folder(PLAN.model, changed, cache=store)
    assert again.tables["deal"].file != first.tables["deal"].file
    assert again.dataset.digest != first.dataset.digest
    assert outcome(again) == outcome(load_folder(PLAN.model, changed, cache=False))


def test_a_new_payee_list_checks_the_kept_copy_again(tmp_path: Path) -> None:
    store = tmp_path / "cache"
    path = folder(tmp_path / "d", ROWS, COLLS)
    assert load_folder(PLAN.model, path, cache=store).engine == "columnar"
    (path / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,west,\n")  # b has left
    loaded = load_folder(PLAN.model, path, cache=store)
    plain = load_folder(PLAN.model, path, cache=False)
    assert loaded.engine == plain.engine == "columnar" and loaded.worded == plain.worded != frozenset()
    assert diag_keys(loaded.diagnostics) == diag_keys(plain.diagnostics)
    assert any("b" in d.message for d in loaded.diagnostics)


def test_a_dangling_reference_is_found_when_only_the_deals_change(tmp_path: Path) -> None:
    store = tmp_path / "cache"
    path = folder(tmp_path / "d", ROWS, COLLS)
    assert load_folder(PLAN.model, path, cache=store).engine == "columnar"
    (path / "deals.csv").write_text((path / "deals.csv").read_text().replace("D4,", "D5,"))
    loaded = load_folder(PLAN.model, path, cache=store)
    assert any("reference(s) in deal to a missing deal" in r for r in loaded.reasons)


def test_bad_rows_are_reported_alike_from_the_cache(tmp_path: Path) -> None:
    store = tmp_path / "cache"
    path = folder(tmp_path / "d", [*ROWS, "D9,a,12.3.4,won,2026-07-02,c,P,true"], COLLS)
    cold, warm = (load_folder(PLAN.model, path, cache=store) for _ in range(2))
    plain = load_folder(PLAN.model, path, cache=False)
    assert cold.engine == warm.engine == plain.engine == "columnar"
    assert cold.worded == warm.worded == plain.worded != frozenset()
    assert cold.reasons == warm.reasons == plain.reasons
    assert diag_keys(warm.diagnostics) == diag_keys(plain.diagnostics) != []


def test_a_damaged_typed_copy_is_made_again(tmp_path: Path) -> None:
    store = tmp_path / "cache"
    path = folder(tmp_path / "d", ROWS, COLLS)
    want = outcome(load_folder(PLAN.model, path, cache=False))
    load_folder(PLAN.model, path, cache=store)
    copy = load_folder(PLAN.model, path, cache=store).tables["deal"].file
    assert copy is not None
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    again = load_folder(PLAN.model, path, cache=store)
    assert again.tables["deal"].file == copy and copy.read_bytes() != bytes(data)
    assert outcome(again) == want


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = folder(tmp_path / "d", ROWS, COLLS)
    loaded = load_folder(PLAN.model, path, cache=blocker / "cache")
    assert loaded.tables["deal"].file is None  # typed in memory, as without a cache
    assert outcome(loaded) == outcome(load_folder(PLAN.model, path, cache=False))


def test_the_environment_turns_it_off_or_moves_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder(tmp_path / "d", ROWS, COLLS)
    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("KPIDSL_CACHE", "off")
    assert load_folder(PLAN.model, path).tables["deal"].file is None
    assert not (tmp_path / "env-cache").exists()
    monkeypatch.delenv("KPIDSL_CACHE")
    load_folder(PLAN.model, path)
    assert load_folder(PLAN.model, path).tables["deal"].file is not None
    assert entries(tmp_path / "env-cache")["typed"]
    monkeypatch.delenv("KPIDSL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    got = cache.open_cache()
    assert got is not None and got.root == tmp_path / "xdg" / "kpidsl" / "v1"


def test_eviction_removes_the_least_recently_used_but_never_a_fresh_entry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = cache.Cache(tmp_path / "c", "salt", max_bytes=300)  # one copy and its .json fit
    for i, name in enumerate(["old", "mid", "new"]):
        path, hit = store.typed(store.key(name), lambda out: out.write_bytes(b"x" * 100)) or (None, None)
        assert path is not None and hit is False
        used = 1_000_000 + i * 1000  # seconds since the epoch: long ago, in this order
        os.utime(path, (used, used))
        os.utime(path.with_suffix(".json"), (used, used))  # where a copy's use is marked
    store.evict()
    assert not (store.root / "typed" / f"{store.key('old')}.parquet").exists()
    assert not (store.root / "typed" / f"{store.key('old')}.json").exists()
    assert (store.root / "typed" / f"{store.key('new')}.parquet").exists()
    # a copy used in the last day stays, even over the size (a service may be reading it)
    fresh = cache.Cache(tmp_path / "f", "salt", max_bytes=1)
    got = fresh.typed(fresh.key("x"), lambda out: out.write_bytes(b"y" * 100))
    assert got is not None and got[0].exists()


def test_every_key_depends_on_the_code_and_duckdb() -> None:
    a = cache.open_cache(Path("/nonexistent"))
    assert a is not None and a.salt == cache._salt()
    b = cache.Cache(a.root, "another version")
    assert a.key("typed", "sha256:1") != b.key("typed", "sha256:1")
    assert a.key("typed", "sha256:1") != a.key("typed", "sha256:2")


def test_kpidsl_cache_shows_and_clears_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from kpidsl.cli import main

    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path / "c"))
    for _ in range(2):  # a re-run writes the copies of the two CSV fact files
        load_folder(PLAN.model, folder(tmp_path / "d", ROWS, COLLS))
    assert main(["cache", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["enabled"] and shown["folder"] == str(tmp_path / "c" / "v1")
    assert shown["typed_copies"] == 2 and shown["typed_bytes"] > 0 and shown["check_results"] > 0
    assert main(["cache", "--clear"]) == 0
    out = capsys.readouterr().out
    assert "removed" in out and "typed copies: 0" in out and "check results: 0" in out
    assert not list((tmp_path / "c" / "v1" / "typed").iterdir())
    monkeypatch.setenv("KPIDSL_CACHE", "off")
    assert main(["cache"]) == 0
    assert "cache: off" in capsys.readouterr().out


def test_an_unchanged_file_is_known_by_its_stamp_and_an_edit_is_not_missed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a run hashed them, a fact file and its typed copy are known by their stamps
    (kpidsl.columnar.stamps): later runs read neither in full to hash it. A rewrite of the same
    size with the modification time put back is hashed again, and counted. (The margin that
    protects coarse file systems is set to 0 here: these files are seconds old.)"""
    from kpidsl.columnar import stamps

    monkeypatch.setattr(stamps, "MARGIN_NS", 0)
    path = folder(tmp_path / "data", ROWS, COLLS)
    store = tmp_path / "cache"
    hashed: list[str] = []
    real = cache._sha256

    def counting(p: Path) -> str:
        hashed.append(p.name)
        return real(p)

    monkeypatch.setattr(cache, "_sha256", counting)
    for _ in range(3):  # typed in memory; the copy written; the copy's SHA-256 checked once
        want = outcome(load_folder(PLAN.model, path, cache=store))
    hashed.clear()
    assert outcome(load_folder(PLAN.model, path, cache=store)) == want
    assert hashed == []  # neither the CSV files nor the typed copies were read to be hashed
    deals = path / "deals.csv"
    st = deals.stat()
    text = deals.read_text(encoding="utf-8")
    deals.write_text(text.replace("1234.50", "4321.50"), encoding="utf-8")  # the same size
    os.utime(deals, ns=(st.st_atime_ns, st.st_mtime_ns))
    got = outcome(load_folder(PLAN.model, path, cache=store))
    assert "deals.csv" in hashed and got != want
    assert got == outcome(load_folder(PLAN.model, path, cache=False))
    monkeypatch.setenv("KPIDSL_CACHE_VERIFY", "bytes")  # stamps off: every file hashed
    hashed.clear()
    assert outcome(load_folder(PLAN.model, path, cache=store)) == got
    assert {"collections.csv", "deals.csv"} <= set(hashed) and any(n.endswith(".parquet") for n in hashed)


@pytest.mark.parametrize("amounts, stored", [
    (["100.5", "7.125", "50000"], "DECIMAL(18,3)"),  # mixed places: each row keeps its own
    (["12345678901234.5678", "1"], "DECIMAL(18,4)"),  # 14 + 4 digits: still 64 bits
    (["123456789012345.6789", "1"], "DECIMAL(38,12)"),  # 15 + 4: too wide, kept as typed
])
def test_a_typed_copy_stores_numbers_as_narrowly_as_they_allow(tmp_path: Path, amounts: list[str],
                                                               stored: str) -> None:
    """The second run writes the copy with each amount column in 64 bits when the first run's
    checks (most decimal places, largest magnitude) allow it; every figure, fact and digest
    is still what a run without the cache gives."""
    rows = [f"D{i},a,{a},won,2026-08-0{i + 1},c,P,yes" for i, a in enumerate(amounts)]
    path = folder(tmp_path / "data", rows, ["C1,D0,a,10.01,2026-08-01"])
    store = tmp_path / "cache"
    off = outcome(load_folder(PLAN.model, path, cache=False))
    for _ in range(3):
        loaded = load_folder(PLAN.model, path, cache=store)
        assert outcome(loaded) == off
    copy = loaded.tables["deal"].file
    assert copy is not None
    types = {str(r[0]): str(r[1]) for r in loaded.con.execute(f"DESCRIBE SELECT * FROM read_parquet('{copy}')").fetchall()}
    assert types["amount"] == stored


@pytest.mark.parametrize("value", ["xyz", "-5", "1.5", "２０"])
def test_a_cache_size_that_is_not_a_number_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str], value: str) -> None:
    """As KPIDSL_MEMORY_MB: a bad KPIDSL_CACHE_MAX_MB was silently taken for the default."""
    from kpidsl.cli import main

    monkeypatch.setenv("KPIDSL_CACHE_MAX_MB", value)
    assert main(["cache"]) == 2
    assert f"KPIDSL_CACHE_MAX_MB={value!r} is not a whole number" in capsys.readouterr().err
    monkeypatch.setenv("KPIDSL_CACHE_MAX_MB", " 512 ")
    assert cache.max_bytes() == 512 << 20
