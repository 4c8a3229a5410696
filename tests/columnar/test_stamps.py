"""A file's content hash known again by its stat stamp (kpidsl.columnar.stamps), and only then."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kpidsl.columnar import stamps
from kpidsl.columnar.stamps import MARGIN_NS, Stamps

LATER = 10 * MARGIN_NS  # a hash taken long after the file last changed


def kept(tmp_path: Path, text: str = "id,amount\nD1,100.00\n") -> tuple[Stamps, Path]:
    data = tmp_path / "deals.csv"
    data.write_text(text, encoding="utf-8")
    book = Stamps(tmp_path / "stamps")
    book.keep(data, stamps.stamp(data), time.time_ns() + LATER, "sha256:one")
    return book, data


def test_an_unchanged_file_is_known_by_its_stamp(tmp_path: Path) -> None:
    book, data = kept(tmp_path)
    assert book.known(data) == ("sha256:one", stamps.stamp(data))
    assert Stamps(tmp_path / "elsewhere").known(data) is None  # never kept there


def test_an_edit_is_seen_even_with_the_same_size_and_modification_time(tmp_path: Path) -> None:
    book, data = kept(tmp_path)
    before = data.stat()
    time.sleep(0.01)
    data.write_text("id,amount\nD1,900.00\n", encoding="utf-8")  # same size
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))  # the old time put back
    assert data.stat().st_size == before.st_size and data.stat().st_mtime_ns == before.st_mtime_ns
    assert book.known(data) is None  # its change time moved: it is hashed again


def test_a_replaced_file_is_not_taken_for_the_one_hashed(tmp_path: Path) -> None:
    book, data = kept(tmp_path)
    other = tmp_path / "new.csv"
    other.write_bytes(data.read_bytes())
    os.utime(other, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns))
    os.replace(other, data)  # another inode under the same name
    assert book.known(data) is None


def test_a_file_hashed_right_after_it_changed_is_hashed_again(tmp_path: Path) -> None:
    """Racily clean (git's words): on a file system with whole-second times, a write in the
    same second as the hashing would keep the stamp; such a stamp is not trusted."""
    data = tmp_path / "deals.csv"
    data.write_text("id\nD1\n", encoding="utf-8")
    book = Stamps(tmp_path / "stamps")
    st, now = data.stat(), stamps.stamp(data)
    book.keep(data, now, max(st.st_mtime_ns, st.st_ctime_ns) + MARGIN_NS - 1, "sha256:racy")
    assert book.known(data) is None
    book.keep(data, now, max(st.st_mtime_ns, st.st_ctime_ns) + MARGIN_NS, "sha256:calm")
    assert book.known(data) == ("sha256:calm", now)


def test_verify_bytes_turns_stamps_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book, data = kept(tmp_path)
    monkeypatch.setenv("KPIDSL_CACHE_VERIFY", "bytes")
    assert book.known(data) is None
    monkeypatch.setenv("KPIDSL_CACHE_VERIFY", "stamps")
    assert book.known(data) == ("sha256:one", stamps.stamp(data))


def test_a_damaged_or_unwritable_book_knows_nothing_and_never_raises(tmp_path: Path) -> None:
    book, data = kept(tmp_path)
    [entry] = (tmp_path / "stamps").iterdir()
    for damaged in ("", "{", "[]", '{"stamp": "x", "taken_ns": 1, "content": "sha256:one"}',
                    '{"stamp": null, "content": 5}'):
        entry.write_text(damaged, encoding="utf-8")
        assert book.known(data) is None
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    Stamps(blocked).keep(data, stamps.stamp(data), time.time_ns(), "sha256:x")  # cannot be written
    assert Stamps(blocked).known(data) is None
    assert stamps.trusted({"stamp": list(stamps.stamp(data)), "taken_ns": "soon"}, stamps.stamp(data)) is False
