"""A file's content known again by its stat stamp, as git's index knows a file unchanged.

Hashing a fact file's bytes is how the cache (:mod:`.cache`) finds its typed copy and
check results again; at 5M deals that is most of a re-run from CSV (~0.5 s for 314 MB,
and as much again for the typed copy's own check). So, after a file is hashed, its
**stamp** is kept beside its hash: device, inode, size, modification and change times
(in nanoseconds). A later run that finds the same stamp takes the hash as known and
does not read the file.

Why that is safe: any write to a file, and any change of its times by ``touch`` or
``os.utime`` (putting an edited file's modification time back included), sets its change
time (``ctime``) to the clock's current time; no program can set it back. Replacing a
file by another (a copy, a rename, an export overwriting it) changes the inode or the
change time too. The one gap is a file system whose times are coarse (whole seconds):
a write in the same tick as the hashing would keep the stamp. So a stamp is trusted only
if the file had not changed for :data:`MARGIN_NS` when its stat was taken ("racily
clean" in git's words); otherwise the file is hashed again next time, and its stamp kept
then.

``KPIDSL_CACHE_VERIFY=bytes`` turns stamps off: every run hashes every file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

MARGIN_NS = 3_000_000_000  # coarser than any file system's time stamps (FAT: 2 s)
Stamp = tuple[int, ...]  # device, inode, size, modification time, change time (ns)


def stamp(path: Path) -> Stamp:
    """What says a file has not changed: device, inode, size, modification and change times."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def enabled() -> bool:
    """Stamps are used unless ``KPIDSL_CACHE_VERIFY=bytes``."""
    return os.environ.get("KPIDSL_CACHE_VERIFY", "").strip().lower() != "bytes"


def record(now: Stamp, taken_ns: int) -> dict[str, object]:
    """A stamp record of a file whose stamp ``now`` was taken at ``taken_ns`` (the clock read
    just before it), before its bytes were read. A write while they were read then changes
    the stamp, even on a coarse file system, once the file had been unchanged for the margin."""
    return {"stamp": list(now), "taken_ns": taken_ns}


def trusted(kept: object, now: Stamp) -> bool:
    """Whether ``kept`` (a :func:`record`) still describes the file whose stamp is ``now``: the
    same stamp, taken long enough after the file's last change."""
    if not isinstance(kept, dict) or not enabled():
        return False
    taken = kept.get("taken_ns")
    return (kept.get("stamp") == list(now) and isinstance(taken, int) and len(now) == 5
            and taken - max(now[3], now[4]) >= MARGIN_NS)


class Stamps:
    """The fact files' stamps and hashes, one small JSON file per file path in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry(self, path: Path) -> Path:
        name = hashlib.sha256(os.fsencode(path.resolve())).hexdigest()
        return self.folder / f"{name}.json"

    def known(self, path: Path) -> tuple[str, Stamp] | None:
        """The content hash kept for ``path`` and its stamp, when the stamp still holds."""
        if not enabled():
            return None
        try:
            now = stamp(path)
            kept = json.loads(self._entry(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        content = kept.get("content") if isinstance(kept, dict) else None
        return (content, now) if isinstance(content, str) and trusted(kept, now) else None

    def keep(self, path: Path, now: Stamp, taken_ns: int, content: str) -> None:
        """Keep ``content``, the hash of ``path``'s bytes read after its stamp ``now`` was taken
        at ``taken_ns`` (and found the same after), for later runs. A folder that cannot be
        written keeps nothing."""
        entry = self._entry(path)
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            write_json(entry, {**record(now, taken_ns), "content": content})


def write_json(path: Path, data: object) -> None:
    """``data`` as ``path``, whole or not at all (written aside, then renamed over it): a
    reader never sees half a file. OSError when it cannot be written."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # renamed, or no folder to be in
            tmp.unlink(missing_ok=True)
