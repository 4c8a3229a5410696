"""``kpidsl fmt`` on files: rewrite in place, ``--check`` or ``--diff``.

What the command reports (``reformatted``/``would reformat`` lines, diffs) is
returned as text for standard output; errors (a file that cannot be read or
written, a syntax error's diagnostics) are written to standard error as they
happen, so that ``fmt --diff > fix.patch`` holds only the diff.

A file is rewritten atomically: the new text goes to a temporary file in the
same folder, which then replaces the plan in one rename. A full disk or a
Ctrl-C leaves the plan as it was (never truncated). The file keeps its
permissions, and a symbolic link stays a link (the file it names is rewritten).
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TextIO

from kpidsl.diagnostics import Diagnostic
from kpidsl.fmt.module import format_source
from kpidsl.render import render_text
from kpidsl.source import SourceFile

__all__ = ["collect_files", "fmt_paths", "write_atomically"]

_BOM = "\ufeff"
_NO_NEWLINE = "\\ No newline at end of file\n"


def collect_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files named, with directories expanded to their ``*.kpi`` files (sorted).

    A file named twice (``fmt plans/ plans/a.kpi``, or through a link) is taken once."""
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        found = sorted(p for p in path.rglob("*.kpi") if p.is_file()) if path.is_dir() else [path]
        for file in found:
            key = _identity(file)
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reported when it is read
        return path.absolute()


def _shown(path: Path) -> str:
    """The path as printed: a name that is not UTF-8 (``\\xff.kpi``) cannot be written to a
    UTF-8 output as is (Python holds its bytes as surrogates), so they are escaped."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _read(path: Path) -> str:
    """The file's text as written: UTF-8 (BOM kept as ``\\ufeff``), line ends untouched."""
    return path.read_bytes().decode("utf-8")


def _as_written(before: str, formatted: str) -> str:
    """The formatted text in the file's own conventions: a BOM is kept, and
    ``\\r\\n`` line ends when the file's first line ends so (``\\n`` otherwise)."""
    bom = _BOM if before.startswith(_BOM) else ""
    first = before.find("\n")
    if first > 0 and before[first - 1] == "\r":
        formatted = formatted.replace("\n", "\r\n")
    return bom + formatted


def _lines(text: str) -> list[str]:
    """Lines ending in ``\n`` (the last may not): not ``str.splitlines``, which also
    breaks at ``\f``, U+0085, U+2028... that a string or comment may hold."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _diff(name: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        _lines(before),
        _lines(after),
        fromfile=f"{name} (original)",
        tofile=f"{name} (formatted)",
    )
    # A last line without its newline is marked as `diff -u` does, so the patch applies.
    return "".join(line if line.endswith("\n") else line + "\n" + _NO_NEWLINE for line in lines)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file at ``path`` (through a symlink: the file it names) with ``data``.

    The bytes go to a temporary file in the same folder, flushed to disk, given
    the file's permission bits, then renamed over it: the file is either as it
    was or fully rewritten. A file without write permission is refused
    (``PermissionError``), as a plain write would be.
    """
    target = path.resolve(strict=True)
    info = target.stat()
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".fmt-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # only root may give a file away
                os.chown(name, info.st_uid, info.st_gid)
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def fmt_paths(
    paths: Sequence[str | Path],
    check: bool = False,
    diff: bool = False,
    *,
    errors: TextIO | None = None,
    output: TextIO | None = None,
) -> tuple[int, str]:
    """Format files; returns (exit code, text for standard output).

    Exit code 0: all well (files rewritten unless ``check``/``diff``);
    1: ``check`` found files that would change; 2: a file could not be read,
    parsed or written (the file is left untouched, the message goes to
    ``errors``, standard error by default; the other files are still done).
    ``output``: each file's line (``reformatted x.kpi``, or its diff) is written there as
    the file is done, not returned: after Ctrl-C the files already rewritten are listed.
    """
    err = sys.stderr if errors is None else errors
    out: list[str] = []
    emit: Callable[[str], object] = out.append if output is None else partial(_write_now, output)
    changed: list[Path] = []
    failed = False
    for path in collect_files(paths):
        name = _shown(path)
        try:
            before = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            err.write(f"error: cannot read {name}: {_reason(exc)}\n")
            failed = True
            continue
        formatted, diagnostics = format_source(before.removeprefix(_BOM), name)
        if formatted is None:
            err.write(_failure(name, before.removeprefix(_BOM), diagnostics))
            failed = True
            continue
        after = _as_written(before, formatted)
        if after == before:
            continue
        if diff:
            emit(_diff(name, before, after))
        elif check:
            emit(f"would reformat {name}\n")
        else:
            try:
                write_atomically(path, after.encode("utf-8"))
            except OSError as exc:
                err.write(f"error: cannot write {name}: {_reason(exc)} (the file is unchanged)\n")
                failed = True
                continue
            emit(f"reformatted {name}\n")
        changed.append(path)
    return _exit_code(failed, bool(changed) and check), "".join(out)


def _write_now(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _failure(name: str, text: str, diagnostics: list[Diagnostic]) -> str:
    return render_text(diagnostics, {name: SourceFile(name, text)})


def _exit_code(failed: bool, would_change: bool) -> int:
    if failed:
        return 2
    return 1 if would_change else 0
