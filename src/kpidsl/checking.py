"""``kpidsl check`` over many files: every plan checked, every problem reported once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kpidsl.diagnostics import Diagnostic, warning
from kpidsl.source import SourceFile


def check_files(files: Sequence[Path]) -> tuple[list[Diagnostic], dict[str, SourceFile]]:
    """Check each plan file (a file with a ``plan`` header) with its imports.

    A file without a header is a library of definitions: it is checked through
    the plans that import it, and on its own only for syntax.
    """
    from kpidsl.check import check
    from kpidsl.syntax.loader import load_modules

    diags: dict[tuple[object, ...], Diagnostic] = {}
    sources: dict[str, SourceFile] = {}
    for path in files:
        modules, srcs, found = load_modules(path)
        for name, src in srcs.items():
            sources.setdefault(name, src)
        found = list(found)
        if modules and not modules[0].items and modules[0].header is None:
            text = srcs.get(modules[0].file)
            span = text.span(0, 0) if text is not None else modules[0].span
            found.append(warning("KPI0011", "this plan file is empty", span, "",
                                 help="write a `plan \"Name\" { ... }` header and definitions, "
                                      "or delete the file"))
        if modules and modules[0].header is not None and not _has_error(found):
            _, checked = check(modules)
            found.extend(checked)
        for d in found:
            key = (d.code, d.span.file, d.span.line, d.span.col, d.message)
            diags.setdefault(key, d)
    return sorted(diags.values(), key=Diagnostic.sort_key), sources


def _has_error(diags: Sequence[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diags)
