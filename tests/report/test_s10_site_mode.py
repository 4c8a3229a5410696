"""A report's folder and files get the permissions any new file gets (the umask), not those of
a temporary file: a site built with mkdtemp was 0700 and an .xlsx 0600, unreadable by the web
server or the colleagues it was made for (found by the docs audit, helper-64)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kpidsl.report.site import write_file, write_tree


@pytest.fixture
def umask() -> Iterator[object]:
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "folder", "file"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600),
                                                      (0o002, 0o775, 0o664)])
def test_a_report_is_as_readable_as_the_umask_makes_new_files(
    tmp_path: Path, umask: object, mask: int, folder: int, file: int
) -> None:
    os.umask(mask)
    written = write_tree(tmp_path / "site", {"index.html": "<p>", "payees/a.html": "<p>"}, force=False)
    assert _mode(tmp_path / "site") == folder
    assert _mode(tmp_path / "site" / "payees") == folder
    assert {_mode(p) for p in written} == {file}
    assert _mode(write_file(tmp_path / "q3.xlsx", b"PK", force=False)) == file
    # replacing keeps the rule (the old one is moved aside, the new one renamed in)
    write_tree(tmp_path / "site", {"index.html": "<p>again"}, force=True)
    assert _mode(tmp_path / "site") == folder


@pytest.mark.parametrize(("mask", "folder"), [(0o022, 0o755), (0o077, 0o700)])
def test_an_imported_data_folder_follows_the_umask_too(tmp_path: Path, umask: object, mask: int, folder: int) -> None:
    """`kpidsl import` set its folder to 0755 whatever the umask: a folder of everyone's pay
    was readable by all under umask 077."""
    from kpidsl.importer.output import write_folder

    os.umask(mask)
    write_folder(tmp_path / "data", {"deals.csv": b"id\n"})
    assert _mode(tmp_path / "data") == folder
