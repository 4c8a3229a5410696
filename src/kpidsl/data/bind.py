"""Binding raw tables to a plan: every cell typed, every row validated, every rejection reported.

Order: payees, then facts (which name payees), then credits (which name
facts), then history, targets, inputs and payments. A rejected row is left out
of the :class:`Dataset` and reported; a few errors keep their row (an unknown
manager, a manager cycle) so that facts of that payee do not cascade into
"unknown payee" errors — the data has errors either way and the engine will
not pay. Tuples in the dataset are sorted by key, never by file order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.model import PlanModel
from kpidsl.source import Span

from . import codes
from .credits import bind_credits
from .digest import CREDIT_KEY, HISTORY_KEY, INPUT_KEY, PAYMENT_KEY, TARGET_KEY, digest
from .facts import bind_facts, ref_ranges, unchecked_why
from .folder import FolderTables, missing_fact_files, missing_payees
from .literals import attribute_mismatches, case_mismatches
from .model import Dataset, HistoryRow, RawRow, RawTable, RowRef
from .navigation import navigated_references
from .people import bind_history, bind_payees
from .plandata import bind_inputs, bind_payments, bind_targets
from .tableview import Sink, View

AUX_TABLES = ("payees", "payee_history", "targets", "inputs", "credits", "payments")
_ALIASES = {
    "payee": "payees",
    "history": "payee_history",
    "target": "targets",
    "input": "inputs",
    "credit": "credits",
    "payment": "payments",
}


@attrs.frozen
class BindResult:
    """A bound data set, its diagnostics (sorted) and the rows that were rejected."""

    dataset: Dataset
    diagnostics: tuple[Diagnostic, ...]
    rejected: frozenset[RowRef]
    # per fact kind, its files that are there but were not read (undecodable, or no row
    # usable): a batch's reference to such a kind cannot be checked either (kpidsl.data.batch)
    unread: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    # per fact kind, its files whose read a malformed record stopped (KPI0713), with the last
    # line read: a batch's reference to a key not found may be in the rest of such a file
    partly: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)


@attrs.frozen
class SourceSummary:
    """Row accounting for one source file: read = accepted + rejected."""

    file: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int


def route(model: PlanModel, name: str) -> str | None:
    """What a table is: an auxiliary table name, ``fact:<kind>``, or None (unused)."""
    if name in AUX_TABLES:
        return name
    kind = model.kind_by_stem(name)
    if kind is not None:
        return f"fact:{kind.name}"
    return _ALIASES.get(name)


def _misnamed(model: PlanModel, table: RawTable) -> tuple[str, Diagnostic] | None:
    """A table whose name differs only in letter case (or spaces) from one the plan reads."""
    wanted = table.name.strip().lower()
    role = route(model, wanted)
    if role is None:
        return None
    suffix = next((s for s in (".csv", ".parquet") if table.file.lower().endswith(s)), "")
    msg = (
        f"{table.file}: did you mean {wanted}{suffix}? file names are matched exactly, "
        "letter case included; its rows were not read"
    )
    span = Span(table.file, 0, 1, 0, 2)
    return role, error(codes.MISNAMED_FILE, msg, span, help=f"rename it to {wanted}{suffix}")


def _unused(table: RawTable, strict: bool) -> Diagnostic:
    msg = f"{table.file} ('{table.name}') is not used by the plan; its rows were ignored"
    span = Span(table.file, table.header_line, 1, table.header_line, 2)
    hint = "data files are payees, payee_history, targets, inputs, credits, payments and one per fact kind"
    make = error if strict else warning
    return make(codes.UNUSED_TABLE, msg, span, help=hint)


def bind_result(
    model: PlanModel, tables: Mapping[str, RawTable], *, strict_unused: bool = False
) -> BindResult:
    """Type and validate every table against the plan (see the module docstring)."""
    sink = Sink()
    groups: dict[str, list[RawTable]] = {}
    misnamed: set[str] = set()
    for name in sorted(tables):
        role = route(model, name)
        wrong_case = _misnamed(model, tables[name]) if role is None else None
        if wrong_case is not None:
            misnamed.add(wrong_case[0])
            sink.add(wrong_case[1])
            sink.rejected.update(r.ref for r in tables[name].rows)
        elif role is None:
            sink.add(_unused(tables[name], strict_unused))
        else:
            groups.setdefault(role, []).append(tables[name])
    present = {r[5:] for r in groups if r.startswith("fact:")}
    sink.diagnostics.extend(
        missing_fact_files(model, tables, present, {r[5:] for r in misnamed})
    )
    payee_rows: dict[str, tuple[View, RawRow]] = {}
    payees = bind_payees(groups.get("payees", []), sink, payee_rows)
    fact_tables = {r[5:]: ts for r, ts in groups.items() if r.startswith("fact:")}
    unread: dict[str, list[str]] = {}  # fact files that are there but could not be read
    folder = tables if isinstance(tables, FolderTables) else None
    for stem in sorted(folder.unreadable if folder is not None else ()):
        role = route(model, stem)
        if folder is not None and role is not None and role.startswith("fact:"):
            unread.setdefault(role[5:], []).append(folder.path(stem))
    facts = bind_facts(model.kinds, fact_tables, payees, sink, navigated_references(model), unread)
    credits = bind_credits(model, groups.get("credits", []), payees, facts, sink)
    history_rows: list[tuple[HistoryRow, View, RawRow]] = []
    history = bind_history(groups.get("payee_history", []), payees, sink, payee_rows, history_rows)
    targets = bind_targets(model, groups.get("targets", []), payees, sink)
    inputs = bind_inputs(model, groups.get("inputs", []), payees, sink)
    payments = bind_payments(model, groups.get("payments", []), payees, sink)
    if "payees" not in groups:
        _one_missing_payees_error(tables, sink, reported="payees" in misnamed)
    else:
        _payees_cut(groups["payees"], sink)
    case_mismatches(model, facts.facts, facts.rows, sink)
    attribute_mismatches(model, groups.get("payees", []), payee_rows, history_rows, sink)
    dataset = Dataset(
        payees=tuple(payees[k] for k in sorted(payees)),
        facts={k: tuple(v[key] for key in sorted(v)) for k, v in sorted(facts.facts.items())},
        history=tuple(sorted(history, key=HISTORY_KEY)),
        targets=tuple(sorted(targets, key=TARGET_KEY)),
        inputs=tuple(sorted(inputs, key=INPUT_KEY)),
        credits=tuple(sorted(credits, key=CREDIT_KEY)),
        payments=tuple(sorted(payments, key=PAYMENT_KEY)),
    )
    dataset = attrs.evolve(dataset, digest=digest(dataset, presorted=True))
    diags = tuple(sorted(sink.diagnostics, key=Diagnostic.sort_key))
    unread_files = {k: tuple(v) for k, v in sorted(facts.unread.items())}
    partly = {k: dict(v) for k, v in sorted(facts.partly.items())}
    return BindResult(dataset, diags, frozenset(sink.rejected), unread_files, partly)


_NO_PAYEE = ": no payee has this id"


def _payees_cut(tables: Sequence[RawTable], sink: Sink) -> None:
    """A payees file whose read a malformed record stopped (KPI0713): the rows naming a payee
    not read may name one in the rest of the file. One KPI0721 says that they could not be
    checked (as :func:`~.facts.not_checked` says of facts), in place of "no payee has this
    id" per row; the rows stay rejected (a payee's row read, and rejected, is not in doubt)."""
    partly = {t.file: t.read_to for t in tables if t.read_to is not None}
    if not partly:
        return
    read: set[str] = set()  # the ids of every payee row read (rejected ones included)
    for t in tables:
        if "id" in t.header:
            at = t.header.index("id")
            read.update(r.cells[at].strip() for r in (*t.rows, *t.dropped) if at < len(r.cells))
    unsure = [d for d in sink.diagnostics
              if d.code == codes.UNKNOWN_PAYEE and d.message.endswith(_NO_PAYEE)
              and not (d.cell is not None and d.cell.value.strip() in read)]
    if not unsure:
        return
    unsure.sort(key=Diagnostic.sort_key)
    sink.diagnostics = [d for d in sink.diagnostics if all(d is not u for u in unsure)]
    why = unchecked_why((), partly)
    first = unsure[0]
    this = first.message.removesuffix(_NO_PAYEE).removeprefix("invalid ")
    if len(unsure) == 1:
        msg = f"{this} could not be checked: {why}; the row was rejected"
    else:
        msg = (f"{len(unsure)} rows name payees that could not be checked (first: {this}): {why}; "
               "the rows were rejected")
    files = " and ".join(sorted(partly))
    rows = ref_ranges([RowRef(d.span.file, d.span.line) for d in unsure])
    sink.add(error(codes.UNKNOWN_PAYEE, msg, first.span, cell=first.cell,
                   notes=(f"the rows: {rows}", f"the rows are rejected until {files} is read in full"),
                   help=f"mend {files} (its error says what is wrong) and run again"))


def _one_missing_payees_error(
    tables: Mapping[str, RawTable], sink: Sink, *, reported: bool
) -> None:
    """No payees table: one error naming the file instead of an error per row naming a payee.

    ``reported``: the file is there under a wrong letter case, already an error.
    """
    unknown = [d for d in sink.diagnostics if d.code == codes.UNKNOWN_PAYEE]
    if unknown:
        sink.diagnostics = [d for d in sink.diagnostics if d.code != codes.UNKNOWN_PAYEE]
        if not reported:
            sink.add(missing_payees(tables, unknown))


def bind(
    model: PlanModel, tables: Mapping[str, RawTable], *, strict_unused: bool = False
) -> tuple[Dataset, list[Diagnostic]]:
    """The typed data set and every diagnostic about the data (see :func:`bind_result`)."""
    result = bind_result(model, tables, strict_unused=strict_unused)
    return result.dataset, list(result.diagnostics)


def accepted_refs(dataset: Dataset) -> set[RowRef]:
    """Where every row of the data set came from."""
    refs: set[RowRef] = {p.ref for p in dataset.payees}
    refs.update(h.ref for h in dataset.history)
    refs.update(t.ref for t in dataset.targets)
    refs.update(i.ref for i in dataset.inputs)
    refs.update(c.ref for c in dataset.credits)
    refs.update(p.ref for p in dataset.payments)
    refs.update(f.ref for facts in dataset.facts.values() for f in facts)
    return refs


# the codes of rows the reader rejects before binding (each at its row's line; a malformed
# record, KPI0713, in a file whose header was read: the rows after it are not read at all)
_READ_REJECTIONS = frozenset({codes.RAGGED_ROW, codes.UNSUPPORTED_PYTHON_VALUE, codes.MALFORMED_CSV})


def summarize(
    model: PlanModel,
    tables: Mapping[str, RawTable],
    result: BindResult,
    read_diagnostics: Sequence[Diagnostic] = (),
) -> list[SourceSummary]:
    """Per used source file: rows read, accepted and rejected.

    Rows rejected while reading (ragged rows, reported as KPI0705 by the CSV
    reader; Python records holding a value with no exact text, KPI0709; the
    malformed record that stopped the read of a file, KPI0713, as ``kpidsl
    import`` counts it) count as read and rejected. Tables not used by the plan are left out.
    """
    accepted = accepted_refs(result.dataset)
    out: list[SourceSummary] = []
    for name in sorted(tables):
        table = tables[name]
        if route(model, name) is None:
            continue
        refs = {r.ref for r in table.rows}
        early = {
            (d.span.file, d.span.line)
            for d in read_diagnostics
            if d.code in _READ_REJECTIONS and d.span.file == table.file
        }
        n_acc = len(refs & accepted)
        n_rej = len(refs & result.rejected) + len(early)
        out.append(SourceSummary(table.file, len(refs) + len(early), n_acc, n_rej))
    return out
