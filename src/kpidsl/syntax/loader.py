"""A plan file and, transitively, the files it imports, confined to the plan's root.

File names in spans are POSIX paths relative to the root (``shared/rates.kpi``),
so messages do not depend on where the repository is checked out. Imports are
resolved relative to the importing file; an import that is absolute, escapes
the root with ``..`` or through a symlink, or names anything but a ``.kpi``
file, is KPI0102; a missing or unreadable one KPI0101 and a cycle KPI0103. A
plan given as text (:func:`load_text_modules`) may import only when a ``root``
is passed: its imports resolve relative to that root.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, error
from kpidsl.source import SourceFile, Span
from kpidsl.syntax.limits import MAX_PLAN_BYTES
from kpidsl.syntax.parser import parse_source

Loaded = tuple[tuple[ast.Module, ...], dict[str, SourceFile], list[Diagnostic]]


def _read(path: Path, name: str) -> tuple[str | None, Diagnostic | None]:
    """The file's text (UTF-8, optional BOM), or a diagnostic.

    A file larger than the plan size limit (KPI0005) is refused without reading it
    whole (a BOM and ``\\r\\n`` line ends count: the limit is on the file).
    """
    span = Span(name, 1, 1, 1, 1)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PLAN_BYTES + len(codecs.BOM_UTF8) + 1)
            size = os.fstat(file.fileno()).st_size
    except OSError as exc:
        return None, error("KPI0101", f"cannot read `{name}`: {exc.strerror}", span, "not found")
    if len(data) > MAX_PLAN_BYTES + len(codecs.BOM_UTF8):
        return None, error(
            "KPI0005", f"the plan is too large ({max(size, len(data)):,} bytes; the limit is {MAX_PLAN_BYTES:,})",
            span, "this file", help="split the plan into files joined by `import`",
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        # the codec decoded the bytes after a BOM: its offsets count from there
        at = exc.start + len(data) - len(exc.object)
        line, col = _byte_position(data, at)
        return None, error(
            "KPI0002", f"`{name}` is not valid UTF-8 (byte 0x{data[at]:02x} at offset {at}, line {line})",
            Span(name, line, col, line, col + 1), "not UTF-8", help="save the file as UTF-8",
        )


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, col) of the first byte that is not UTF-8, as :class:`SourceFile`
    counts them: lines end at ``\\r\\n``, a lone ``\\r`` or ``\\n``, and the column counts the
    characters before it on its line (all UTF-8, since this byte is the first that is not;
    a BOM is not one)."""
    before = data[:offset]
    line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
    start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    if start == 0 and before.startswith(codecs.BOM_UTF8):
        start = len(codecs.BOM_UTF8)
    return line, len(before[start:].decode("utf-8")) + 1


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
        module = self.read_and_parse(path, name)
        if module is not None:
            self.follow_all(module, path)

    def load_text(self, text: str, name: str, path: Path | None) -> None:
        module = self.parse(text, name)
        if module is None:
            return
        if path is None:
            for imp in _imports(module):
                self.diags.append(error(
                    "KPI0101", f"cannot import `{imp.path}` from a plan given as text", imp.span,
                    "no root to import from", help="load the plan from a file, or pass root=",
                ))
            return
        self.follow_all(module, path)

    def read_and_parse(self, path: Path, name: str) -> ast.Module | None:
        text, problem = _read(path, name)
        if problem is not None:
            self.diags.append(problem)
        return None if text is None else self.parse(text, name)

    def parse(self, text: str, name: str) -> ast.Module | None:
        self.sources[name] = SourceFile(name, text)
        module, diags = parse_source(text, name)
        self.diags.extend(diags)
        if module is not None:
            self.modules.append(module)
        return module

    def follow_all(self, module: ast.Module, path: Path) -> None:
        """Load the imports of ``module`` depth first, in written order.

        An explicit stack rather than recursion: a long chain of imports must not
        exhaust the Python stack (which would surface as a bogus "nested too deeply").
        """
        self.done.add(path)
        self.chain.append(path)
        pending: list[Iterator[ast.Import]] = [iter(_imports(module))]
        while pending:
            imp = next(pending[-1], None)
            if imp is None:
                pending.pop()
                self.chain.pop()
                continue
            target = self.target(imp, self.chain[-1])
            if target is None:
                continue
            loaded = self.read_and_parse(target, self.name_of(target))
            if loaded is not None:
                self.done.add(target)
                self.chain.append(target)
                pending.append(iter(_imports(loaded)))

    def target(self, imp: ast.Import, importer: Path) -> Path | None:
        """The file to load for ``imp``; None when it is not to be loaded (reported if wrong)."""
        target = self.resolve(imp, importer.parent)
        if target is None or (target in self.done and target not in self.chain):
            return None
        if target in self.chain:
            cycle = [*self.chain[self.chain.index(target):], target]
            shown = " -> ".join(self.name_of(p) for p in cycle)
            self.diags.append(error(
                "KPI0103", f"import cycle: {shown}", imp.span, "closes the cycle",
                help="move the shared definitions into a file both can import",
            ))
            return None
        return target

    def resolve(self, imp: ast.Import, base: Path) -> Path | None:
        """The imported file inside the root, or None after reporting why not."""
        raw = imp.path
        if PurePosixPath(raw).is_absolute() or PureWindowsPath(raw).is_absolute() or PureWindowsPath(raw).drive:
            self.diags.append(_outside(imp, "an absolute path"))
            return None
        if PurePosixPath(raw).suffix != ".kpi":
            self.diags.append(_not_kpi(imp, "it is not a `.kpi` file"))
            return None
        try:
            target = (base / raw).resolve()
            found = target.is_file()
        except (OSError, ValueError, RuntimeError) as exc:  # NUL byte, name too long, symlink loop
            self.diags.append(_unreadable(imp, exc))
            return None
        if not target.is_relative_to(self.root):
            self.diags.append(_outside(imp, "a path outside the plan's root"))
            return None
        if not found:
            self.diags.append(error(
                "KPI0101", f"imported file `{raw}` not found", imp.span, "no such file",
                notes=(f"looked for `{self.name_of(target)}` under the plan's root",),
            ))
            return None
        if target.suffix != ".kpi":
            self.diags.append(_not_kpi(imp, f"it links to `{self.name_of(target)}`, not a `.kpi` file"))
            return None
        return target


def _imports(module: ast.Module) -> list[ast.Import]:
    return [item for item in module.items if isinstance(item, ast.Import)]


def _unreadable(imp: ast.Import, exc: Exception) -> Diagnostic:
    if isinstance(exc, OSError) and exc.strerror:
        why = exc.strerror.lower()
    elif isinstance(exc, RuntimeError):
        why = "symbolic link loop"
    else:
        why = "the path holds a character no file name may hold" if "\0" in imp.path else str(exc)
    return error(
        "KPI0101", f"cannot read imported file `{_shown(imp.path)}`: {why}", imp.span,
        "cannot be read", help="import an existing `.kpi` file by a plain relative path",
    )


def _shown(path: str) -> str:
    """An import path fit for a message: control characters escaped, long ones cut."""
    text = path.encode("unicode_escape").decode("ascii") if not path.isprintable() else path
    return text if len(text) <= 80 else text[:77] + "..."


def _not_kpi(imp: ast.Import, why: str) -> Diagnostic:
    return error(
        "KPI0102", f"import `{_shown(imp.path)}` is refused: {why}", imp.span,
        "not a .kpi file", help="a plan imports only `.kpi` files under its root; "
        "rename the file to end in `.kpi` if it holds plan definitions",
    )


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
    try:
        main = given.resolve()
        is_dir, is_file = main.is_dir(), main.is_file()
    except (OSError, ValueError, RuntimeError):  # NUL byte, name too long, symlink loop
        is_dir = is_file = False
        main = given
    if main.is_relative_to(top):
        name = loader.name_of(main)
    else:  # a link to a file elsewhere: named, as any other, from the folder it was given in
        name = given.name if root is None else given.as_posix()
    if is_dir:
        loader.diags.append(error("KPI0101", f"`{name}` is a directory, not a plan file", Span(name, 1, 1, 1, 1),
                                  help="name the plan's .kpi file inside it"))
    elif not is_file:  # the path as given: the name alone would not say which folder was looked in
        loader.diags.append(error("KPI0101", f"plan file `{given.as_posix()}` not found", Span(name, 1, 1, 1, 1)))
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
