"""``kpidsl fmt`` on files: rewrite in place, ``--check`` or ``--diff``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from kpidsl.diagnostics import Diagnostic
from kpidsl.fmt.module import format_source
from kpidsl.render import render_text
from kpidsl.source import SourceFile

__all__ = ["collect_files", "fmt_paths"]

_BOM = "\ufeff"


def collect_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files named, with directories expanded to their ``*.kpi`` files (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.kpi") if p.is_file()))
        else:
            files.append(path)
    return files


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


def _diff(path: Path, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{path} (original)",
        tofile=f"{path} (formatted)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def fmt_paths(
    paths: Sequence[str | Path], check: bool = False, diff: bool = False
) -> tuple[int, str]:
    """Format files; returns (exit code, text to print).

    Exit code 0: all well (files rewritten unless ``check``/``diff``);
    1: ``check`` found files that would change; 2: a file could not be read
    or parsed (its diagnostics are in the text; other files are still done).
    """
    out: list[str] = []
    changed: list[Path] = []
    failed = False
    for path in collect_files(paths):
        try:
            before = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            out.append(f"error: cannot read {path}: {exc}\n")
            failed = True
            continue
        formatted, diagnostics = format_source(before.removeprefix(_BOM), str(path))
        if formatted is None:
            out.append(_failure(path, before.removeprefix(_BOM), diagnostics))
            failed = True
            continue
        after = _as_written(before, formatted)
        if after == before:
            continue
        changed.append(path)
        if diff:
            out.append(_diff(path, before, after))
        elif check:
            out.append(f"would reformat {path}\n")
        else:
            path.write_bytes(after.encode("utf-8"))
            out.append(f"reformatted {path}\n")
    return _exit_code(failed, bool(changed) and check), "".join(out)


def _failure(path: Path, text: str, diagnostics: list[Diagnostic]) -> str:
    return render_text(diagnostics, {str(path): SourceFile(str(path), text)})


def _exit_code(failed: bool, would_change: bool) -> int:
    if failed:
        return 2
    return 1 if would_change else 0
