"""A plan file and, transitively, the files it imports, confined to the plan's root.

File names in spans are POSIX paths relative to the root (``shared/rates.kpi``),
so messages do not depend on where the repository is checked out. Imports are
resolved relative to the importing file; an import that is absolute, escapes
the root with ``..`` or through a symlink is KPI0102, a missing one KPI0101 and
a cycle KPI0103. A plan given as text (:func:`load_text_modules`) may import
only when a ``root`` is passed: its imports resolve relative to that root.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, error
from kpidsl.source import SourceFile, Span
from kpidsl.syntax.parser import parse_source

Loaded = tuple[tuple[ast.Module, ...], dict[str, SourceFile], list[Diagnostic]]


def _read(path: Path, name: str) -> tuple[str | None, Diagnostic | None]:
    """The file's text (UTF-8, optional BOM), or a diagnostic."""
    span = Span(name, 1, 1, 1, 1)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, error("KPI0101", f"cannot read `{name}`: {exc.strerror}", span, "not found")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, error(
            "KPI0002", f"`{name}` is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            span, "not UTF-8", help="save the file as UTF-8",
        )


@attrs.define
class _Loader:
    """One load: the root, what was loaded, and the chain of files being loaded."""

    root: Path
    modules: list[ast.Module] = attrs.Factory(list)
    sources: dict[str, SourceFile] = attrs.Factory(dict)
    diags: list[Diagnostic] = attrs.Factory(list)
    done: set[Path] = attrs.Factory(set)
    chain: list[Path] = attrs.Factory(list)

    def name_of(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def load_file(self, path: Path, name: str) -> None:
        text, problem = _read(path, name)
        if problem is not None:
            self.diags.append(problem)
        if text is not None:
            self.load_text(text, name, path)

    def load_text(self, text: str, name: str, path: Path | None) -> None:
        self.sources[name] = SourceFile(name, text)
        module, diags = parse_source(text, name)
        self.diags.extend(diags)
        if module is None:
            return
        self.modules.append(module)
        if path is not None:
            self.done.add(path)
            self.chain.append(path)
        for item in module.items:
            if isinstance(item, ast.Import):
                self.follow(item, path)
        if path is not None:
            self.chain.pop()

    def follow(self, imp: ast.Import, importer: Path | None) -> None:
        if importer is None:
            self.diags.append(error(
                "KPI0101", f"cannot import `{imp.path}` from a plan given as text", imp.span,
                "no root to import from", help="load the plan from a file, or pass root=",
            ))
            return
        target = self.resolve(imp, importer.parent)
        if target is None or (target in self.done and target not in self.chain):
            return
        if target in self.chain:
            cycle = [*self.chain[self.chain.index(target):], target]
            shown = " -> ".join(self.name_of(p) for p in cycle)
            self.diags.append(error(
                "KPI0103", f"import cycle: {shown}", imp.span, "closes the cycle",
                help="move the shared definitions into a file both can import",
            ))
            return
        self.load_file(target, self.name_of(target))

    def resolve(self, imp: ast.Import, base: Path) -> Path | None:
        """The imported file inside the root, or None after reporting why not."""
        raw = imp.path
        if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute() or PureWindowsPath(raw).drive:
            self.diags.append(_outside(imp, "an absolute path"))
            return None
        target = (base / raw).resolve()
        if not target.is_relative_to(self.root):
            self.diags.append(_outside(imp, "a path outside the plan's root"))
            return None
        if not target.is_file():
            self.diags.append(error(
                "KPI0101", f"imported file `{raw}` not found", imp.span, "no such file",
                notes=(f"looked for `{self.name_of(target)}` under the plan's root",),
            ))
            return None
        return target


def _outside(imp: ast.Import, what: str) -> Diagnostic:
    return error(
        "KPI0102", f"import `{imp.path}` leaves the plan's root ({what})", imp.span,
        "outside the root", help="keep imported files in the plan's directory or below it",
    )


def load_modules(path: str | Path, root: Path | None = None) -> Loaded:
    """Parse a plan file and the files it imports (root defaults to its directory)."""
    given = Path(path)
    top = (Path(root) if root is not None else given.parent).resolve()
    loader = _Loader(top)
    main = given.resolve()
    name = loader.name_of(main) if main.is_relative_to(top) else given.as_posix()
    if main.is_dir():
        loader.diags.append(error("KPI0101", f"`{name}` is a directory, not a plan file", Span(name, 1, 1, 1, 1),
                                  help="name the plan's .kpi file inside it"))
    elif not main.is_file():
        loader.diags.append(error("KPI0101", f"plan file `{name}` not found", Span(name, 1, 1, 1, 1)))
    else:
        loader.load_file(main, name)
    return tuple(loader.modules), loader.sources, loader.diags


def load_text_modules(text: str, name: str = "<string>", root: Path | None = None) -> Loaded:
    """Parse a plan given as text; its imports resolve under ``root`` (none without one)."""
    if root is None:
        loader = _Loader(Path())
        loader.load_text(text, name, None)
    else:
        top = Path(root).resolve()
        loader = _Loader(top)
        loader.load_text(text, name, top / "__text__.kpi")
        loader.done.discard(top / "__text__.kpi")
    return tuple(loader.modules), loader.sources, loader.diags
