"""What is wrong with a path given on the command line, in one line that names it.

Every command that takes a plan file or a data folder checks them here, so that
each says the same thing for the same mistake: the path is missing, is a folder
where a file is expected (or the other way round), or cannot be read (and why).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable

PLAN_FILE = "plan file"
DATA_FOLDER = "data folder"
# a path that names nothing: "no such ..." (ENOTDIR: a component of it is a file)
_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR})


def path_problem(path: str, what: str) -> str | None:
    """Why ``path`` cannot serve as ``what`` (:data:`PLAN_FILE`, :data:`DATA_FOLDER`, or any
    ``... file`` / ``... folder``), or None when it can: ``no such plan file: P``, ``a folder,
    not a plan file: P``, ``a file, not a data folder: P``, ``a device, not a plan file: P``,
    ``the plan file cannot be read (permission denied): P``. The path is named as given."""
    folder = what.endswith("folder")
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        if e.errno in _MISSING:
            return f"no such {what}: {path}"
        return f"the {what} cannot be read ({_reason(e)}): {path}"
    except ValueError:  # a NUL byte in the path
        return f"no such {what}: {path!r}"
    if not (stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)):
        return f"{_kind_of(mode)}, not a {what}: {path}"
    try:
        if folder:
            with os.scandir(path):
                pass
        else:
            with open(path, "rb"):
                pass
    except OSError as e:
        return f"the {what} cannot be read ({_reason(e)}): {path}"
    return None


def _kind_of(mode: int) -> str:
    """What a path is, in words: ``a folder``, ``a file``, ``a device``..."""
    for test, words in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"), (stat.S_ISFIFO, "a pipe"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return words
    return "neither a file nor a folder"


def _reason(e: OSError) -> str:
    text = e.strerror or type(e).__name__
    return text[:1].lower() + text[1:]


def umask() -> int:
    """The process's umask: the permission bits a new file or folder does not get (``umask
    077``: only its owner may read it). Read by setting it, then set back at once. Folders and
    files kpidsl writes through temporary ones (a report, an imported data folder) are given
    what a plain new file would get, not the temporary file's 0700/0600."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def bad_paths(checks: Iterable[tuple[str | None, str]]) -> bool:
    """Print ``error: <problem>`` on stderr for each (path, what) that cannot serve (a None
    path is not checked); True when any was printed. Every bad path is named, not the
    first only (a path given twice, once)."""
    # once each: `diff X X` with X a folder says so once
    problems = list(dict.fromkeys(p for path, what in checks if path is not None and (p := path_problem(path, what))))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return bool(problems)
