"""Building the site's files and writing them atomically.

Output goes to a fresh temporary folder beside the destination, which is then
renamed into place; an existing destination is replaced only with ``force``
(the old one is moved aside first and removed after the rename), so a reader
never sees a half-written report.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

from kpidsl.paths import umask
from kpidsl.report.board import index_page, leaderboard_page
from kpidsl.report.model import ReportModel
from kpidsl.report.statement import statement_page, statement_path, team_page, team_path

Progress = Callable[[int, int], None]


class OutputExists(Exception):
    """The destination exists and ``force`` was not given."""


def site_files(m: ReportModel, progress: Progress | None = None) -> dict[str, str]:
    """Every page of the site by relative path (POSIX separators)."""
    return dict(site_pages(m, progress))


def site_pages(m: ReportModel, progress: Progress | None = None) -> Iterator[tuple[str, str]]:
    """Every page of the site (relative path, HTML), one at a time: :func:`write_tree`
    writes each as it comes, so the pages of 10,000 statements are never all in memory."""
    yield "index.html", index_page(m)
    yield "leaderboard.html", leaderboard_page(m)
    total = len(m.payees)
    for i, p in enumerate(m.payees, 1):
        yield statement_path(p.id), statement_page(p, m)
        if p.reports:
            yield team_path(p.id), team_page(p, m)
        if progress is not None:
            progress(i, total)


def _inside(root: Path, rel: str) -> Path:
    """``root / rel`` for a relative POSIX path that stays inside ``root``, checked by its
    text (the folder is new and ours: no link in it can lead out). Anything else — an
    absolute path, a drive, ``..``, a backslash, an empty part — is refused."""
    parts = rel.split("/")
    if (not rel or "\\" in rel or ":" in rel or "\0" in rel
            or any(part in ("", ".", "..") for part in parts)):
        raise ValueError(f"refusing to write outside the output folder: {rel!r}")
    return root.joinpath(*parts)


def write_tree(out: Path, files: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]], *,
               force: bool) -> list[Path]:
    """Write ``files`` (by relative path, or pairs as they are made) under a new folder
    ``out`` atomically; the paths written, sorted."""
    out = out.resolve()
    if out.exists() and not force:
        raise OutputExists(str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.chmod(tmp, 0o777 & ~umask())  # mkdtemp's 0700 would make a site to share readable by its owner only
    written: list[str] = []
    made: set[Path] = {tmp}
    try:
        for rel, content in (files.items() if isinstance(files, Mapping) else files):
            target = _inside(tmp, rel)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            data = content.encode("utf-8") if isinstance(content, str) else content
            target.write_bytes(data)
            written.append(rel)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(out / rel for rel in written)


def write_file(out: Path, data: bytes, *, force: bool) -> Path:
    """Write one file atomically (temporary file in the same folder, then rename)."""
    out = out.resolve()
    if out.exists() and not force:
        raise OutputExists(str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    try:
        os.fchmod(fd, 0o666 & ~umask())  # as open() makes a file, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(name, out)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return out


def _swap(tmp: Path, out: Path) -> None:
    if not out.exists():
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def tty_progress(stream: TextIO | None = None) -> Progress | None:
    """A one-line progress bar on a terminal's stderr; None (silent) when not a terminal."""
    s = stream if stream is not None else sys.stderr
    if not getattr(s, "isatty", lambda: False)():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        s.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} statements")
        if done >= total:
            s.write("\n")
        s.flush()

    return show
