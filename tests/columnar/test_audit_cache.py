"""The columnar cache audited against what happens around it: a fact file rewritten while a
run reads it, a cache folder that fills up, two runs filling the cache at once, a check result
whose content is not the one written, and what ``kpidsl cache`` counts. Each run gives what a
run without the cache gives on the same bytes."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

import duckdb

from kpidsl.columnar import cache, facttable, load_folder

from .test_cache import COLLS, PLAN, ROWS, outcome
from .test_validation import folder

DUPLICATE = [r.replace("D3,", "D2,") for r in ROWS]  # D2 twice; the same file size


def _rewritten_before_typing(monkeypatch: pytest.MonkeyPatch, path: Path, data: bytes) -> None:
    """A writer replaces ``path`` with ``data`` after the run hashed it, before DuckDB reads it."""
    load = facttable.load_fact_table

    def racing(con: Any, kind: Any, src: Any, *args: Any, **kwargs: Any) -> Any:
        if src.path.name == path.name and path.read_bytes() != data:
            path.write_bytes(data)
        return load(con, kind, src, *args, **kwargs)

    monkeypatch.setattr(facttable, "load_fact_table", racing)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_fact_file_rewritten_while_a_run_reads_it_is_never_mistaken_for_the_one_hashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    old, new = folder(tmp_path / "old", ROWS, COLLS), folder(tmp_path / "new", DUPLICATE, COLLS)
    if fmt == "parquet":
        from .test_fastload import to_parquet

        old, new = to_parquet(old), to_parquet(new)
    name = f"deals.{fmt}"
    path, store = folder(tmp_path / "d", ROWS, COLLS), tmp_path / "cache"
    if fmt == "parquet":
        path = to_parquet(path)
    original, rewritten = (old / name).read_bytes(), (new / name).read_bytes()
    load_folder(PLAN.model, path, fmt=fmt, cache=store)  # the checks of the old bytes are kept
    with monkeypatch.context() as m:
        _rewritten_before_typing(m, path / name, rewritten)
        during = outcome(load_folder(PLAN.model, path, fmt=fmt, cache=store))
    assert (path / name).read_bytes() == rewritten
    # the run reads the new bytes: their duplicate key is found, not the old bytes' kept checks
    assert during == outcome(load_folder(PLAN.model, path, fmt=fmt, cache=False))
    assert any("duplicate deal key" in r for r in during["reasons"])
    # and nothing it kept says the old bytes hold the new rows
    (path / name).write_bytes(original)
    for _ in range(2):
        assert outcome(load_folder(PLAN.model, path, fmt=fmt, cache=store)) == outcome(
            load_folder(PLAN.model, path, fmt=fmt, cache=False))


def test_a_cache_folder_that_fills_up_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, store = folder(tmp_path / "d", ROWS, COLLS), tmp_path / "cache"
    want = outcome(load_folder(PLAN.model, path, cache=False))
    load_folder(PLAN.model, path, cache=store)  # the re-run will write the typed copies
    typed = cache.Cache.typed

    def disk_full(self: cache.Cache, key: str, write: Any, make: bool = True) -> Any:
        def fails(out: Path) -> None:
            out.write_bytes(b"PAR1")  # a part written, then DuckDB's error (no OSError)
            raise duckdb.IOException("IO Error: Could not write file: No space left on device")
        return typed(self, key, fails, make)

    monkeypatch.setattr(cache.Cache, "typed", disk_full)
    loaded = load_folder(PLAN.model, path, cache=store)
    assert loaded.tables["deal"].file is None  # typed in memory, as without a cache
    assert outcome(loaded) == want
    assert not list((store / "v1" / "typed").glob("*.tmp"))


def test_a_run_never_replaces_the_typed_copy_another_run_is_reading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, store = folder(tmp_path / "d", ROWS, COLLS), tmp_path / "cache"
    want = outcome(load_folder(PLAN.model, path, cache=False))
    load_folder(PLAN.model, path, cache=store)
    typed, others = cache.Cache.typed, []

    def meanwhile(self: cache.Cache, key: str, write: Any, make: bool = True) -> Any:
        def slow(out: Path) -> None:  # another run makes the same copy while this one writes it
            if not others:
                others.append(None)
                others.append(load_folder(PLAN.model, path, cache=store))
            write(out)
        return typed(self, key, slow, make)

    monkeypatch.setattr(cache.Cache, "typed", meanwhile)
    this = load_folder(PLAN.model, path, cache=store)
    monkeypatch.setattr(cache.Cache, "typed", typed)
    other = others[1]
    assert other.tables["deal"].file is not None and other.tables["deal"].file == this.tables["deal"].file
    assert outcome(other) == outcome(this) == want  # no SourceChanged: the other's copy is still its own


def _fill(store: str, folders: list[str], ready: Any, out: Any) -> None:
    got = []
    for path in folders:
        ready.wait()
        try:
            got.append(json.dumps(outcome(load_folder(PLAN.model, Path(path), cache=Path(store))),
                                  sort_keys=True, default=str))
        except Exception as exc:
            got.append(repr(exc))
    out.put(got)


def test_two_processes_filling_the_cache_at_once(tmp_path: Path) -> None:
    store, folders = tmp_path / "cache", []
    for i in range(4):
        path = folder(tmp_path / f"d{i}", [*ROWS, *(f"D{10 + j},a,{i}.{j:02d},won,2026-08-02,c,P,no"
                                                   for j in range(100))], COLLS)
        load_folder(PLAN.model, path, cache=store)  # the next runs write the copies
        folders.append(str(path))
    want = [json.dumps(outcome(load_folder(PLAN.model, Path(p), cache=False)), sort_keys=True, default=str)
            for p in folders]
    ctx = multiprocessing.get_context("spawn")  # no fork of a process running threads
    ready, out = ctx.Barrier(2), ctx.Queue()
    runs = [ctx.Process(target=_fill, args=(str(store), folders, ready, out)) for _ in range(2)]
    for r in runs:
        r.start()
    got = [out.get(timeout=120) for _ in runs]
    for r in runs:
        r.join(timeout=60)
    assert got == [want, want]


def test_a_check_result_whose_content_is_not_the_one_written_is_not_believed(tmp_path: Path) -> None:
    path, store = folder(tmp_path / "d", [*ROWS, "D2,a,5,won,2026-08-01,c,P,no"], COLLS), tmp_path / "cache"
    want = outcome(load_folder(PLAN.model, path, cache=False))
    assert any("duplicate deal key" in r for r in want["reasons"])
    load_folder(PLAN.model, path, cache=store)
    checks = store / "v1" / "checks"
    for f in checks.glob("*.json"):  # a digit changed: "as many distinct keys as rows"
        if json.loads(f.read_text())["row"] == [4]:
            f.write_text(f.read_text().replace("4", "5"))
    assert outcome(load_folder(PLAN.model, path, cache=store)) == want
    # one entry's file copied over another's: each is found under its own key only
    files = sorted(checks.glob("*.json"))
    texts = [f.read_text() for f in files]
    for f, text in zip(files, [*texts[1:], texts[0]], strict=True):
        f.write_text(text)
    assert outcome(load_folder(PLAN.model, path, cache=store)) == want


def test_kpidsl_cache_counts_only_its_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from kpidsl.cli import main

    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path / "c"))
    load_folder(PLAN.model, folder(tmp_path / "d", ROWS, COLLS))
    checks = tmp_path / "c" / "v1" / "checks"
    n = len(list(checks.glob("*.json")))
    (checks / "notes.txt").write_text("not an entry")
    (checks / f"{'0' * 64}.json.123.456.tmp").write_text("{")  # left by a stopped process
    assert main(["cache", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["check_results"] == n
    os.remove(checks / "notes.txt")


def test_a_typed_copy_kept_under_another_key_is_not_read(tmp_path: Path) -> None:
    path, store = folder(tmp_path / "d", ROWS, COLLS), tmp_path / "cache"
    other = folder(tmp_path / "e", [r.replace("50000", "90000") for r in ROWS], COLLS)
    want = outcome(load_folder(PLAN.model, path, cache=False))
    for _ in range(2):  # the second runs write the typed copies
        load_folder(PLAN.model, path, cache=store)
        load_folder(PLAN.model, other, cache=store)
    mine = load_folder(PLAN.model, path, cache=store).tables["deal"].file
    theirs = load_folder(PLAN.model, other, cache=store).tables["deal"].file
    assert mine is not None and theirs is not None and mine != theirs
    for suffix in (".parquet", ".json"):  # the other file's copy and its SHA-256 under this key
        mine.with_suffix(suffix).write_bytes(theirs.with_suffix(suffix).read_bytes())
    assert outcome(load_folder(PLAN.model, path, cache=store)) == want


def test_a_copy_another_run_made_meanwhile_is_kept_even_if_its_bytes_differ(tmp_path: Path) -> None:
    store = cache.Cache(tmp_path / "c", "salt")
    key, theirs = store.key("deals"), []

    def ours(out: Path) -> None:  # another run writes its copy while this one writes
        theirs.append(store.typed(key, lambda o: o.write_bytes(b"row groups cut one way")))
        out.write_bytes(b"row groups cut another way")

    got = store.typed(key, ours)
    assert got is not None and theirs[0] is not None and got[0] == theirs[0][0]
    assert got[0].read_bytes() == b"row groups cut one way"  # not replaced under the other run
    assert store.typed(key, ours, make=False) == (got[0], True)  # and intact
    assert not list(got[0].parent.glob("*.tmp"))
