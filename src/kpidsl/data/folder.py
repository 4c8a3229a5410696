"""What a data folder must hold for a plan: a file per fact kind the plan reads, and payees.

:func:`kpidsl.data.csvread.read_folder` returns a :class:`FolderTables` (a dict
of tables that remembers its folder), so the binder knows that an absent table
is a missing file rather than a table a test or a Python caller left out. A
missing fact file is an error (its metrics would silently be 0): a kind with no
facts is given as a file with its header line only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kpidsl.diagnostics import Diagnostic, Label, error
from kpidsl.model import PlanModel
from kpidsl.source import Span

from . import codes
from .model import RawTable
from .navigation import read_kinds

IMPORT_REPORT = "import-report.json"  # what `kpidsl import` writes beside the tables: not a table


def passed_over(name: str) -> bool:
    """A file of a data folder that is neither read nor reported as not read: hidden files
    (``.DS_Store``) and the import report ``kpidsl import`` writes with the tables."""
    return name.startswith(".") or name == IMPORT_REPORT


class FolderTables(dict[str, RawTable]):
    """Tables read from a data folder, keyed by file stem; ``folder`` is its display name and
    ``suffix`` the extension of its table files (``.csv``, or ``.parquet``)."""

    def __init__(self, folder: str, tables: Mapping[str, RawTable] | None = None, suffix: str = ".csv",
                 unreadable: Iterable[str] = ()) -> None:
        super().__init__(tables or {})
        self.folder = folder
        self.suffix = suffix
        # stems of files that are there but could not be read (their error says so): not missing
        self.unreadable = set(unreadable)

    def path(self, stem: str) -> str:
        return f"{self.folder}/{stem}{self.suffix}" if self.folder else f"{stem}{self.suffix}"


def where(span: Span) -> str:
    """``plan.kpi:7:24`` (a location written into a label shown without its source)."""
    return f"{span.file}:{span.line}:{span.col}"


def file_span(file: str) -> Span:
    """A whole file: shown by name only."""
    return Span(file, 0, 1, 0, 2)


def missing_fact_files(
    model: PlanModel, tables: Mapping[str, RawTable], present: set[str], misnamed: set[str]
) -> list[Diagnostic]:
    """An error per fact kind the plan reads that has no file in a data folder.

    ``present`` holds the kinds that have a table; ``misnamed`` the kinds for
    which a file differs only in letter case (already reported with a "did you mean").
    """
    if not isinstance(tables, FolderTables):
        return []
    out: list[Diagnostic] = []
    for kind, span in sorted(read_kinds(model).items()):
        stem = model.kinds[kind].file_stem or kind
        if kind in present or kind in misnamed or stem in tables.unreadable:
            continue
        file = tables.path(stem)
        msg = (
            f"{file} is missing: the plan's metrics read {kind} facts; "
            "if there are none, give the file with its header line only"
        )
        header = ",".join(model.kinds[kind].fields)
        label = Label(span, f"{where(span)}: the plan reads {kind} facts here")
        out.append(
            error(
                codes.MISSING_FILE,
                msg,
                file_span(file),
                secondary=(label,),
                help=f"its header line: {header}",
            )
        )
    return out


def missing_payees(tables: Mapping[str, RawTable], unknown: list[Diagnostic]) -> Diagnostic:
    """One error for a missing payees file, in place of an "unknown payee" error per row; for
    a payees file that is there but could not be read (its own error says why, KPI0701),
    one error saying so rather than calling it missing."""
    file = tables.path("payees") if isinstance(tables, FolderTables) else "the payees table"
    suffix = tables.suffix if isinstance(tables, FolderTables) else ".csv"
    first = min(unknown, key=Diagnostic.sort_key)
    unread = isinstance(tables, FolderTables) and "payees" in tables.unreadable
    if unread:
        msg = (f"{file} was not read (see its error): {len(unknown)} row(s) name payees, whom it "
               "defines; the rows were rejected")
        hint = f"mend {file} (its error says what is wrong); these rows are read again with it"
    else:
        msg = (f"{file} is missing: {len(unknown)} row(s) name payees, and payees are defined there; "
               "the rows were rejected")
        hint = f"give payees{suffix} with the columns id,name,role,region,manager"
    label = Label(first.span, f"{where(first.span)}: the first row naming a payee")
    return error(
        codes.MISSING_FILE if not unread else codes.UNKNOWN_PAYEE,  # as each row would be, worded once
        msg,
        file_span(file if isinstance(tables, FolderTables) else "payees"),
        secondary=(label,),
        help=hint,
    )
