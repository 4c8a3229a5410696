"""``expect error CODE in "file.kpi"``: another plan file, under the plan's root, fails with CODE.

The file is resolved relative to the file holding the test and must stay
inside the plan's root (the folder of the plan file), like an ``import``. It
is loaded with its own imports (under the same root) and checked; the
expectation holds when one of the resulting errors has the code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, has_errors
from kpidsl.source import SourceFile, Span

from .outcome import Failure


def resolve(root: Path, item: ast.ExpectError) -> Path | None:
    """The file an ``expect error ... in`` names, or None when it leaves the root
    (or cannot name a file at all: a NUL byte, a name too long, a symlink loop)."""
    raw = item.file or ""
    if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute() \
            or PureWindowsPath(raw).drive:
        return None
    base = (root / item.span.file).parent
    try:
        target = (base / raw).resolve()
        target.is_file()  # raises where reading would: name too long
    except (OSError, ValueError, RuntimeError):  # NUL byte, name too long, symlink loop
        return None
    return target if target.is_relative_to(root) else None


def load_and_check(path: Path, root: Path) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """Every diagnostic of loading and checking ``path`` (with its imports) under ``root``."""
    from kpidsl.check import check
    from kpidsl.syntax.loader import load_modules

    modules, sources, diags = load_modules(path, root=root)
    found = list(diags)
    if modules and not has_errors(found) and modules[0].header is not None:
        _, checked = check(modules)
        found.extend(checked)
    return found, dict(sources)


def check_in_file(
    root: Path, item: ast.ExpectError, locate: Callable[[Span], str],
    render: Callable[[list[Diagnostic], dict[str, SourceFile]], str],
) -> Failure | None:
    """None when the named file fails to load or check with ``item.code``."""
    loc = locate(item.span)
    expected = f"error {item.code} in \"{item.file}\""
    head = f"expect error {item.code} in \"{item.file}\""
    target = resolve(root, item)
    if target is None:
        return Failure(loc, f"{head}: the file is outside the plan's root", expected,
                       "not loaded")
    if not target.is_file():
        return Failure(loc, f"{head}: no such file", expected, "no such file")
    diags, sources = load_and_check(target, root)
    errors = [d for d in diags if d.severity == "error"]
    if any(d.code == item.code for d in errors):
        return None
    if not errors:
        return Failure(loc, f"{head}: the file loads and checks without errors", expected,
                       "no errors")
    codes = ", ".join(sorted({d.code for d in errors}))
    return Failure(loc, f"{head}: the file fails with other errors", expected, codes,
                   render(errors, sources))
