"""Checked fact tables kept between runs, found again by the content of the files.

Revenue operations re-run a quarter many times a day on the same files while
they settle disputes. Typing a CSV fact file and checking a fact table (bad
cells, duplicate keys, unknown payees, dangling references, the digest fold)
is most of a columnar run's time, and its outcome depends only on the bytes of
the files, the plan's schema and the code. So it is kept:

* a **typed copy**: a CSV fact file (or a Parquet one with text columns) typed
  by the plan's schema, written once as Parquet; later runs read it in place,
  as they read a natively typed Parquet file;
* a **check result**: the figures a checking query returned (counts, scales,
  the digest fold), found again by the query's text and the content of what it
  reads.

Every key is a SHA-256 of the files' **bytes** (never their names, sizes or
dates), DuckDB's version, this package's typing and checking code, and the SQL
that types or checks them; a typed copy's own SHA-256 is checked before it is
read. A changed byte, an upgrade or a different schema is a different key, and
the work is done again. A file hashed by an earlier run and unchanged since (its
stat stamp, :mod:`.stamps`) is not read again to be hashed. A run whose fact file changes after it was hashed (its
stat differs) neither reads from nor adds to the cache: what DuckDB reads is not
what was hashed. Entries used least recently are removed when the cache
grows past its size (never one used in the last day: a service may be reading
it). Nothing here decides a figure: with the cache off (``KPIDSL_CACHE=off``)
every run types and checks its files itself, with the same results.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from . import stamps
from .sources import SourceFile, out_of_memory
from .stamps import Stamp, stamp, write_json

FORMAT = "kpidsl-cache-1"
DEFAULT_MAX_MB = 2048
KEEP_SECONDS = 86_400  # an entry used in the last day is never removed (a service may read it)
CODE_FILES = ("cache.py", "cells.py", "facttable.py", "sources.py")  # the code whose output is kept


@attrs.frozen
class Cache:
    """A cache folder and the salt (versions, code) every key includes."""

    root: Path
    salt: str
    max_bytes: int = DEFAULT_MAX_MB << 20
    # the fact files the entries are made from, as they were when hashed (:func:`file_memo`):
    # once one has changed, what DuckDB reads of it is not what was hashed, and nothing is
    # read from or kept in the cache (the run types and checks what it reads, as without one)
    sources: tuple[tuple[Path, Stamp], ...] = ()

    def current(self) -> bool:
        """Whether every one of ``sources`` is still the file that was hashed."""
        try:
            return all(stamp(path) == was for path, was in self.sources)
        except OSError:
            return False

    def key(self, *parts: str) -> str:
        """The key of an entry: a SHA-256 of the salt and ``parts``."""
        h = hashlib.sha256(self.salt.encode())
        for p in parts:
            h.update(b"\0" + p.encode("utf-8"))
        return h.hexdigest()

    def seen(self, key: str) -> bool:
        """Whether ``key`` was asked for before (a run already typed these bytes); marks it."""
        marker = self.root / "typed" / f"{key}.seen"
        if marker.exists():
            _touch(marker)
            return True
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass
        return False

    def typed(self, key: str, write: Callable[[Path], None], make: bool = True) -> tuple[Path, bool] | None:
        """The typed copy for ``key`` and whether it was already there (its SHA-256 checked);
        otherwise, if ``make``, ``write(path)`` makes it. None when there is none (not made,
        or the cache folder cannot be written)."""
        folder = self.root / "typed"
        final, meta = folder / f"{key}.parquet", folder / f"{key}.json"
        if not self.current():
            return None
        if _intact(final, meta, key):
            _touch(meta)  # the copy's own times stay as written: its stamp vouches for it
            return final, True
        if not make:
            return None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        tmp = folder / f"{key}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            write(tmp)
            digest, size = _sha256(tmp), tmp.stat().st_size
            if not self.current():  # the source changed while it was typed: the copy may hold either
                return None
            if _commit(tmp, final, meta, key, digest):
                write_json(meta, {"key": key, "sha256": digest, "bytes": size})
        except Exception as exc:  # a full disk, a read-only folder: DuckDB's IOException is no OSError
            if out_of_memory(exc):
                raise
            return None
        finally:
            tmp.unlink(missing_ok=True)
        self.evict()
        return final, False

    def result(self, key: str, compute: Callable[[], list[Any]]) -> list[Any]:
        """A checking query's result row, kept under ``key`` (ints, texts and None only) with
        its SHA-256 and key: a row edited, or another entry's, is computed again."""
        kept = self.peek(key)
        if kept is not None:
            return kept
        row = compute()
        if not self.current():  # a source changed while it was checked
            return row
        path = self.root / "checks" / f"{key}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, {"row": row, "sha256": _seal(key, row)})
        except OSError:
            pass
        return row

    def peek(self, key: str) -> list[Any] | None:
        """The result row kept under ``key`` (see :meth:`result`), or None."""
        if not self.current():
            return None
        path = self.root / "checks" / f"{key}.json"
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(kept, dict) and isinstance(kept.get("row"), list) and \
                    kept.get("sha256") == _seal(key, kept["row"]):
                _touch(path)
                return list(kept["row"])
        except (OSError, ValueError):
            pass
        return None

    def evict(self) -> None:
        """Remove the entries used least recently until the cache fits ``max_bytes`` (never
        one used in the last day), and temporary files left by a stopped process."""
        now = time.time()
        entries: list[tuple[float, int, list[Path]]] = []  # (last used, bytes, files)
        total = 0
        for path in _files(self.root):
            try:
                st = path.stat()
            except OSError:
                continue
            if path.suffix == ".tmp":
                if now - st.st_mtime > KEEP_SECONDS:
                    path.unlink(missing_ok=True)
                continue
            total += st.st_size
            if path.suffix == ".parquet":  # a typed copy goes with its .json, marked used
                used = max(st.st_atime, st.st_mtime, *_times(path.with_suffix(".json")))
                entries.append((used, st.st_size, [path, path.with_suffix(".json")]))
            elif path.parent.name in ("checks", "stamps") or path.suffix == ".seen":
                entries.append((max(st.st_atime, st.st_mtime), st.st_size, [path]))
        for used, size, paths in sorted(entries, key=lambda e: (e[0], str(e[2][0]))):
            if total <= self.max_bytes:
                break
            if now - used < KEEP_SECONDS:
                continue
            for p in paths:
                p.unlink(missing_ok=True)
            total -= size


def open_cache(setting: bool | str | Path | None = None) -> Cache | None:
    """The cache to use (:func:`cache_root`), or None when it is off."""
    root = cache_root(setting)
    return None if root is None else Cache(root, _salt(), max_bytes())


def cache_root(setting: bool | str | Path | None = None) -> Path | None:
    """The cache's folder: ``setting`` False or ``"off"`` for none, a folder, or None/True for
    the environment's (``KPIDSL_CACHE=off`` turns it off; ``KPIDSL_CACHE_DIR`` names the
    folder, else ``$XDG_CACHE_HOME/kpidsl``, else ``~/.cache/kpidsl``)."""
    if setting is False or (isinstance(setting, str) and setting.lower() == "off"):
        return None
    if setting in (None, True) and os.environ.get("KPIDSL_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    if isinstance(setting, (str, Path)):
        base = Path(setting)
    elif os.environ.get("KPIDSL_CACHE_DIR"):
        base = Path(os.environ["KPIDSL_CACHE_DIR"])
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "kpidsl"
    return base / "v1"


def max_bytes() -> int:
    """The cache's size (``KPIDSL_CACHE_MAX_MB``, default 2048 MB); a value that is not a whole
    number of megabytes is a :class:`~.sources.SettingError` (a usage error), as
    ``KPIDSL_MEMORY_MB``'s is, rather than silently the default."""
    from .sources import SettingError

    text = os.environ.get("KPIDSL_CACHE_MAX_MB", "").strip()
    if not text:
        return DEFAULT_MAX_MB << 20
    if not text.isascii() or not text.isdigit():
        raise SettingError(f"KPIDSL_CACHE_MAX_MB={text!r} is not a whole number of megabytes")
    return int(text) << 20


@attrs.frozen
class Summary:
    """What a cache folder holds: typed copies and check results (count, bytes)."""

    root: Path
    copies: int
    copy_bytes: int
    checks: int
    check_bytes: int


def summary(root: Path) -> Summary:
    """Count what ``root`` holds (temporary files left by a stopped process included)."""
    counts = {"copies": [0, 0], "checks": [0, 0]}
    for path in _files(root):
        try:
            size = path.stat().st_size
        except OSError:
            continue
        typed = path.parent.name == "typed"
        slot = counts["copies" if typed else "checks"]
        # a fact file's stamp (stamps/) counts in the bytes, not as a check result
        slot[0] += path.suffix == ".parquet" if typed else (path.suffix == ".json" and path.parent.name == "checks")
        slot[1] += size
    return Summary(root, counts["copies"][0], counts["copies"][1], counts["checks"][0], counts["checks"][1])


def clear(root: Path) -> int:
    """Remove every entry of ``root`` (only the cache's own files); the number removed."""
    gone = 0
    for path in list(_files(root)):
        if path.suffix in (".parquet", ".json", ".tmp", ".seen"):
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def content_of(path: Path) -> str | None:
    """``sha256:<hex>`` of a file's bytes; None if it changed while it was read (or cannot be)."""
    got = _hashed(path)
    return None if got is None else got[0]


def _times(path: Path) -> tuple[float, ...]:
    """A file's access and modification times; none when it is not there."""
    try:
        st = path.stat()
    except OSError:
        return ()
    return st.st_atime, st.st_mtime


def _hashed(path: Path) -> tuple[str, Stamp] | None:
    """:func:`content_of` and the file's :func:`stamp` when it was read."""
    try:
        before = stamp(path)
        digest = _sha256(path)
        after = stamp(path)
    except OSError:
        return None
    return ("sha256:" + digest, before) if before == after else None


def _salt() -> str:
    import duckdb

    h = hashlib.sha256(f"{FORMAT}\0duckdb {duckdb.__version__}".encode())
    here = Path(__file__).parent
    for name in CODE_FILES:
        h.update(b"\0" + (here / name).read_bytes())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _intact(final: Path, meta: Path, key: str) -> bool:
    """A typed copy whose bytes are the ones written for ``key`` (size, then SHA-256; or its
    stamp, unchanged since the last run that checked its SHA-256: :mod:`.stamps`)."""
    try:
        kept = json.loads(meta.read_text(encoding="utf-8"))
        if kept["key"] != key or final.stat().st_size != kept["bytes"]:
            return False
        taken = time.time_ns()
        now = stamp(final)
        if stamps.trusted(kept.get("verified"), now):
            return True
        if _sha256(final) != kept["sha256"]:
            return False
        if stamp(final) == now:  # unchanged while it was read: from now on its stamp vouches for it
            with contextlib.suppress(OSError):
                write_json(meta, {**kept, "verified": stamps.record(now, taken)})
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _commit(tmp: Path, final: Path, meta: Path, key: str, digest: str) -> bool:
    """``tmp`` (SHA-256 ``digest``) as ``final``, never in place of an intact copy: another
    run that made it meanwhile may be reading it (a replaced file is a changed one). False
    when the copy there is another run's (its ``meta`` is its own)."""
    try:
        os.link(tmp, final)  # no copy there yet: it is ours
        return True
    except OSError:  # there is one, or the file system has no hard links
        pass
    if _intact(final, meta, key):
        return False
    try:
        same = _sha256(final) == digest  # the same bytes, their .json not written yet
    except OSError:
        same = False
    if not same:  # none, or a damaged one
        os.replace(tmp, final)
    return True


def _seal(key: str, row: list[Any]) -> str:
    """The SHA-256 a check result is kept with: its key and its row."""
    return hashlib.sha256(f"{key}\0{json.dumps(row)}".encode()).hexdigest()


def _touch(*paths: Path) -> None:
    """Mark an entry used: its access time (its modification time is a view's stamp)."""
    for p in paths:
        try:
            os.utime(p, ns=(time.time_ns(), p.stat().st_mtime_ns))
        except OSError:
            pass


def _files(root: Path) -> Iterable[Path]:
    for sub in ("typed", "checks", "stamps"):
        folder = root / sub
        try:
            yield from (p for p in folder.iterdir() if p.is_file())
        except OSError:
            continue


@attrs.frozen
class Memo:
    """Where checking results are kept: a cache, the fact files' contents (kind -> SHA-256)
    and the payee ids' digest (the checks that read ``_payees`` depend on them)."""

    cache: Cache | None = None
    contents: dict[str, str | None] = attrs.field(factory=dict)
    payees: str = ""

    def __call__(self, parts: tuple[str, ...], compute: Callable[[], list[Any]]) -> list[Any]:
        """``compute()``, or its result kept under ``parts`` (computed when any part is unknown)."""
        if self.cache is None or "" in parts:
            return compute()
        return self.cache.result(self.cache.key(*parts), compute)

    def peek(self, parts: tuple[str, ...]) -> list[Any] | None:
        """The result kept under ``parts``, if any (nothing is computed)."""
        if self.cache is None or "" in parts:
            return None
        return self.cache.peek(self.cache.key(*parts))

    def content(self, src: SourceFile) -> str:
        return (self.contents.get(src.name) or "") if self.cache is not None else ""

    def lines(self, src: SourceFile, count: Callable[[Path], int | str]) -> int | str:
        """``count(src.path)`` (a CSV file's lines, :func:`~.sources.csv_lines`), kept."""
        got = self(("lines", self.content(src)), lambda: [count(src.path)])[0]
        return got if isinstance(got, (int, str)) else str(got)


def file_memo(cache: Cache | None, facts: dict[str, SourceFile]) -> Memo:
    """A memo over ``cache`` knowing each fact file's content (SHA-256 of its bytes, read
    two files at a time, or kept from an earlier run with the file's stamp, unchanged since:
    :mod:`.stamps`); without a cache, a memo that keeps nothing."""
    if cache is None:
        return Memo()
    from concurrent.futures import ThreadPoolExecutor

    book = stamps.Stamps(cache.root / "stamps")

    def known(path: Path) -> tuple[str, Stamp] | None:
        """The file's content: as kept with its stamp (:mod:`.stamps`), or read and hashed."""
        got = book.known(path)
        if got is not None:
            return got
        taken = time.time_ns()
        got = _hashed(path)
        if got is not None:
            book.keep(path, got[1], taken, got[0])
        return got

    with ThreadPoolExecutor(2) as pool:
        sums = dict(zip(facts, pool.map(known, [s.path for s in facts.values()]), strict=True))
    sources = tuple((facts[k].path, v[1]) for k, v in sums.items() if v is not None)
    return Memo(attrs.evolve(cache, sources=sources), {facts[k].name: v and v[0] for k, v in sums.items()})
