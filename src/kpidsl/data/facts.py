"""Binding fact tables (``deals``, ``collections``, a plan's own kinds) to their kinds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.gcpause import gc_paused
from kpidsl.model import OPTIONAL_BUILTIN_FIELDS, PAYEE_TYPE, KindSchema
from kpidsl.source import Span

from . import codes
from .model import Fact, Payee, RawRow, RawTable, RowRef, Value
from .tableview import (
    KeyIndex,
    Sink,
    View,
    check_columns,
    check_percent,
    check_shape,
    empty_required,
    invalid,
    located,
)
from .values import PARSERS, ValueProblem, ambiguous_percent


def optional_fields(kind: KindSchema) -> tuple[str, ...]:
    """Fields a row may leave empty (the built-in deal's customer and product)."""
    return OPTIONAL_BUILTIN_FIELDS.get(kind.name, ()) if kind.builtin else ()


def required_fields(kind: KindSchema) -> tuple[str, ...]:
    optional = optional_fields(kind)
    return tuple(f for f in kind.fields if f not in optional)


class FactsBound:
    """The typed facts of every kind, and the keys of rows that were rejected."""

    def __init__(self) -> None:
        self.facts: dict[str, dict[str, Fact]] = {}
        self.rejected_keys: dict[str, set[str]] = {}
        # per kind, the first rejected row of each rejected key: "that deal was rejected
        # (data/deals.csv line 3)"; rows the reader rejected (ragged) included
        self.rejected_rows: dict[str, dict[str, RowRef]] = {}
        self.rows: dict[tuple[str, str], tuple[View, RawRow]] = {}
        # per kind, its files that were there but not read (undecodable, or no row usable:
        # a required column missing...): a key not found may be in them
        self.unread: dict[str, list[str]] = {}
        # per kind, its files whose read a malformed record stopped (KPI0713), with the last
        # line read: a key not found may be in the rest of the file
        self.partly: dict[str, dict[str, int]] = {}


def bind_facts(
    kinds: dict[str, KindSchema],
    tables: dict[str, list[RawTable]],
    payees: dict[str, Payee],
    sink: Sink,
    navigated: Mapping[tuple[str, str], Span] | None = None,
    unread: Mapping[str, Sequence[str]] | None = None,
) -> FactsBound:
    """Type every fact table; then report references to facts not in the data.

    ``navigated`` maps (kind, reference field) to where the plan reads through
    it: a dangling reference there is an error, elsewhere a warning. ``unread``
    maps a kind to its files that are there but could not be read (their own
    error says why): a reference to such a kind is reported as not checked.
    """
    out = FactsBound()
    for name, files in (unread or {}).items():
        out.unread.setdefault(name, []).extend(files)
    for name in sorted(kinds):
        kind = kinds[name]
        out.facts[name] = {}
        out.rejected_keys[name] = set()
        keys = KeyIndex()
        for table in tables.get(name, []):
            bind_table(kind, table, payees, keys, out, sink)
    for name in sorted(kinds):
        _check_references(kinds[name], out, sink, navigated or {}, set(tables))
    return out


@attrs.frozen
class _Column:
    """How to type one field: its cell index, parser (None for ids) and whether it is required."""

    field: str
    index: int | None
    parse: Callable[[str], Value] | None
    required: bool
    payee: bool
    percent: bool = False


def _columns(kind: KindSchema, view: View) -> list[_Column]:
    optional = optional_fields(kind)
    return [
        _Column(
            f, view.index.get(f), PARSERS.get(t), f not in optional, t == PAYEE_TYPE, t == "percent"
        )
        for f, t in kind.fields.items()
    ]


def bind_table(
    kind: KindSchema,
    table: RawTable,
    payees: Mapping[str, Payee],
    keys: KeyIndex,
    out: FactsBound,
    sink: Sink,
) -> None:
    """Type one table's rows in order; a row is a fact unless a cell or its key has a problem.

    Each column's distinct texts are typed once (:func:`_clean_texts`); a row whose
    cells are all clean texts and whose key is new is bound directly. Any other row
    goes through :func:`_careful_row`, which words every problem at that row.
    """
    view = View(table)
    what = f"fact kind {kind.name}"
    if not check_columns(view, required_fields(kind), kind.fields, sink, what):
        out.unread.setdefault(kind.name, []).append(table.file)
        return
    columns = _columns(kind, view)
    rows = check_shape(view, sink)
    _dropped_keys(kind, table, out)
    if table.read_to is not None:
        out.partly.setdefault(kind.name, {})[table.file] = table.read_to
    if table.rows and not rows:  # a bad header, or no row as wide as it: nothing was read
        out.unread.setdefault(kind.name, []).append(table.file)
    fields = [c.field for c in columns]
    key_index = view.index.get(kind.key)
    name = kind.name
    facts = out.facts[name]
    bound = out.rows
    claim = keys.claim
    value_columns: list[list[Value]] = []
    unusual: set[int] = set()
    for col in columns:
        index = col.index
        if index is None:  # an optional column the table does not have: every value is None
            value_columns.append([None] * len(rows))
            if "" not in _clean_texts(col, {""}, payees):
                unusual.update(range(len(rows)))
            continue
        texts = [r.cells[index] for r in rows]
        distinct = set(texts)
        clean = _clean_texts(col, distinct, payees)
        if len(clean) < len(distinct):
            unusual.update(i for i, t in enumerate(texts) if t not in clean)
            value_columns.append([clean.get(t) for t in texts])
        else:
            value_columns.append(list(map(clean.__getitem__, texts)))
    if key_index is None:  # no key column (a kind whose key is optional): every row is careful
        unusual.update(range(len(rows)))
    at_key = key_index or 0
    records = zip(*value_columns, strict=True) if value_columns else iter([()] * len(rows))
    # the facts are acyclic: collections triggered by allocating them would only cost time
    with gc_paused():
        for i, (row, values) in enumerate(zip(rows, records, strict=True)):
            if i not in unusual:
                key = row.cells[at_key]
                if key and claim(view, row, (key,)):
                    bound[name, key] = (view, row)
                    facts[key] = Fact(name, key, dict(zip(fields, values, strict=True)), row.ref)
                    continue
            _careful_row(kind, view, row, columns, fields, key_index, payees, keys, out, sink)


def _dropped_keys(kind: KindSchema, table: RawTable, out: FactsBound) -> None:
    """The keys of the rows the reader rejected (a row with more or fewer cells than the
    header, KPI0705), where the key's cell can be read: a reference to one is to a
    rejected fact, not to a key no row has."""
    at = table.header.index(kind.key) if kind.key in table.header else None
    if at is None or not table.dropped:
        return
    for row in table.dropped:
        key = row.cells[at] if at < len(row.cells) else ""
        if key:
            out.rejected_keys.setdefault(kind.name, set()).add(key)
            out.rejected_rows.setdefault(kind.name, {}).setdefault(key, row.ref)


def rejected_why(out: FactsBound, target: str, value: str) -> str:
    """Why no ``target`` has key ``value``: ``that deal was rejected (data/deals.csv line 3)``
    when a row of that key was rejected; that it could not be checked when a file of
    ``target`` was not read, or read only in part; else ``no deal has this key``."""
    if value not in out.rejected_keys.get(target, set()):
        unchecked = unchecked_why(out.unread.get(target, ()), out.partly.get(target, {}))
        if unchecked is not None:
            return f"it could not be checked: {unchecked}"
        return f"no {target} has this key"
    ref = out.rejected_rows.get(target, {}).get(value)
    where = f" ({ref.file} line {ref.line})" if ref is not None else ""
    return f"that {target} was rejected{where}"


def _careful_row(
    kind: KindSchema,
    view: View,
    row: RawRow,
    columns: list[_Column],
    fields: list[str],
    key_index: int | None,
    payees: Mapping[str, Payee],
    keys: KeyIndex,
    out: FactsBound,
    sink: Sink,
) -> None:
    """One row: its cells' problems in column order, then a duplicate key; rejected if any."""
    problems: list[Diagnostic] = []
    values = [_field(view, row, col, payees, problems) for col in columns]
    # check_shape keeps only rows as wide as the header: the key's cell is there.
    key = row.cells[key_index] if key_index is not None else ""
    if key:
        dup = keys.duplicate(view, row, (key,), kind.key, f"{kind.name} {kind.key}")
        if dup is not None:
            problems.append(dup)
    if problems:
        sink.reject_all(row, problems)
        if key:
            out.rejected_keys[kind.name].add(key)
            out.rejected_rows.setdefault(kind.name, {}).setdefault(key, row.ref)
        return
    out.facts[kind.name][key] = Fact(
        kind.name, key, dict(zip(fields, values, strict=True)), row.ref
    )
    out.rows[kind.name, key] = (view, row)


def _clean_texts(
    col: _Column, texts: set[str], payees: Mapping[str, Payee]
) -> dict[str, Value]:
    """The value of each text of ``texts`` that types without a problem in ``col``
    (what :func:`_field` gives it); texts with a problem are left out."""
    clean: dict[str, Value] = {}
    parse = col.parse
    for text in texts:
        if not text:
            if not col.required:
                clean[text] = None
            continue
        if parse is not None:
            try:
                value = parse(text)
            except ValueProblem:
                continue
            if col.percent and isinstance(value, Decimal) and ambiguous_percent(text, value):
                continue
            clean[text] = value
        elif not col.payee or text in payees:
            clean[text] = text
    return clean


def _field(
    view: View, row: RawRow, col: _Column, payees: Mapping[str, Payee], problems: list[Diagnostic]
) -> Value:
    text = row.cells[col.index] if col.index is not None else ""
    if not text:
        if col.required:
            problems.append(empty_required(view, row, col.field))
        return None
    if col.parse is not None:
        try:
            value = col.parse(text)
        except ValueProblem as exc:
            problems.append(invalid(view, row, col.field, str(exc)))
            return None
        if col.percent:
            check_percent(view, row, col.field, value, problems)
        return value
    if col.payee and text not in payees:
        problems.append(invalid(view, row, col.field, "no payee has this id", codes.UNKNOWN_PAYEE))
    return text


def _check_references(
    kind: KindSchema,
    out: FactsBound,
    sink: Sink,
    navigated: Mapping[tuple[str, str], Span],
    present: set[str],
) -> None:
    """A reference to a missing fact: an error when the plan navigates through the
    reference (``collection.deal.product``), a warning otherwise. When the target
    kind has no table at all, one diagnostic says so instead of one per fact."""
    for field, target in sorted(kind.references().items()):
        known = out.facts.get(target, {})
        used_at = navigated.get((kind.name, field))
        unread = out.unread.get(target)
        if target not in present and not unread:
            _no_target_table(kind, field, target, out, used_at, sink)
            continue
        missing = [fact for _, fact in sorted(out.facts[kind.name].items())
                   if isinstance(v := fact.values.get(field), str) and v not in known]
        if unread and missing:  # not known missing: in a file that was not read, perhaps
            sink.add(not_checked(kind, field, target, missing, unread, out, used_at))
            continue
        partly = out.partly.get(target)
        if partly and missing:  # in the rest of a file whose read stopped, perhaps (a rejected
            rejected = out.rejected_keys.get(target, set())  # row's key is known rejected)
            unsure = [f for f in missing if f.values[field] not in rejected]
            if unsure:
                sink.add(not_checked(kind, field, target, unsure, (), out, used_at, partly=partly))
            missing = [f for f in missing if f.values[field] in rejected]
        for fact in missing:
            value = fact.values[field]
            assert isinstance(value, str)
            sink.add(_dangling(kind, field, target, fact, value, out, used_at))


_LISTED_RANGES = 12  # line ranges a "not checked" diagnostic lists before "and N more rows"


def not_checked(
    kind: KindSchema,
    field: str,
    target: str,
    facts: list[Fact],
    unread: Sequence[str],
    out: FactsBound,
    used_at: Span | None,
    outcome: str | None = None,
    partly: Mapping[str, int] | None = None,
) -> Diagnostic:
    """One diagnostic for every row whose reference could not be checked because a file of
    the kind it refers to was not read (``unread``), or read only up to a line (``partly``:
    file -> last line read, a malformed record stopped the read): not one "no deal has this
    key" per row. Every row is named (as line ranges), so none is lost from the report.
    ``outcome``: what becomes of the rows when the plan reads through the reference
    (default: not evaluated)."""
    first = facts[0]
    view, row = out.rows[kind.name, first.key]
    files = " and ".join(sorted({*unread, *(partly or {})}))
    why = unchecked_why(unread, partly or {})
    assert why is not None
    read = "read in full" if partly else "read"
    this = f"{kind.name} '{first.key}' in {view.where(row, field)} refers to {target} '{first.values[field]}'"
    if len(facts) == 1:
        msg = f"{this}, which could not be checked: {why}"
    else:
        msg = f"{len(facts)} {kind.name} rows refer to {target} facts that could not be checked (first: {this}): {why}"
    notes = [f"the rows: {_line_ranges(facts)}"]
    if used_at is not None:
        outcome = outcome or f"these rows are not evaluated, and nothing is paid, until {files} is {read}"
        notes.append(f"the plan navigates through {kind.name}.{field} (at {used_at}): {outcome}")
        return error(codes.DANGLING_REFERENCE, msg, view.span(row, field), notes=tuple(notes),
                     help=f"mend {files} (its error says what is wrong) and run again",
                     cell=view.cell(row, field))
    notes.append(f"an error if the plan reads {kind.name}.{field}.<field>")
    return warning(codes.DANGLING_REFERENCE, msg, view.span(row, field), notes=tuple(notes),
                   cell=view.cell(row, field))


def unchecked_why(unread: Sequence[str], partly: Mapping[str, int]) -> str | None:
    """``data/deals.csv was not read (see its error)``, ``data/deals.csv was read only up
    to line 40 (see its error)``; None when every file of the kind was read in full."""
    parts: list[str] = []
    names = sorted(set(unread))
    if names:
        parts.append(f"{' and '.join(names)} {'was' if len(names) == 1 else 'were'} not read")
    parts.extend(f"{file} was read only up to line {line}" for file, line in sorted(partly.items()))
    if not parts:
        return None
    return f"{'; '.join(parts)} (see {'its error' if len(parts) == 1 else 'their errors'})"


def _line_ranges(facts: list[Fact]) -> str:
    """``data/collections.csv lines 2-40, 42`` (per file, in line order; capped)."""
    return ref_ranges([f.ref for f in facts])


def ref_ranges(refs: Sequence[RowRef]) -> str:
    """:func:`_line_ranges` of rows by their references."""
    by_file: dict[str, list[int]] = {}
    for ref in refs:
        by_file.setdefault(ref.file, []).append(ref.line)
    parts: list[str] = []
    for file, lines in sorted(by_file.items()):
        ranges: list[list[int]] = []
        for n in sorted(lines):
            if ranges and n == ranges[-1][1] + 1:
                ranges[-1][1] = n
            else:
                ranges.append([n, n])
        shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges]
        more = len(ranges) - _LISTED_RANGES
        text = ", ".join(shown[:_LISTED_RANGES])
        if more > 0:
            rest = sum(b - a + 1 for a, b in ranges[_LISTED_RANGES:])
            text += f" and {rest} more row(s)"
        parts.append(f"{file} line{'s' if len(lines) > 1 else ''} {text}")
    return "; ".join(parts)


def _no_target_table(
    kind: KindSchema,
    field: str,
    target: str,
    out: FactsBound,
    used_at: Span | None,
    sink: Sink,
) -> None:
    referring = [
        f for _, f in sorted(out.facts[kind.name].items()) if isinstance(f.values.get(field), str)
    ]
    if not referring:
        return
    first = referring[0]
    view, row = out.rows[kind.name, first.key]
    msg = (
        f"{len(referring)} {kind.name} row(s) refer to {target} facts through column {field} "
        f"(first: {view.where(row, field)}), but the data has no {target} table"
    )
    cell = view.cell(row, field)
    if used_at is None:
        sink.add(warning(codes.DANGLING_REFERENCE, msg, view.span(row, field), cell=cell))
        return
    label = located(used_at, f"the plan reads through {kind.name}.{field} here")
    sink.add(error(codes.DANGLING_REFERENCE, msg, view.span(row, field), secondary=(label,),
                   cell=cell))


def _dangling(
    kind: KindSchema,
    field: str,
    target: str,
    fact: Fact,
    value: str,
    out: FactsBound,
    used_at: Span | None,
) -> Diagnostic:
    why = rejected_why(out, target, value)
    msg = (
        f"{kind.name} '{fact.key}' in {fact.ref.file} line {fact.ref.line}, column {field} "
        f"refers to {target} '{value}': {why}"
    )
    view, row = out.rows[kind.name, fact.key]
    span = view.span(row, field)
    cell = view.cell(row, field)
    if used_at is not None:
        return error(
            codes.DANGLING_REFERENCE,
            msg,
            span,
            notes=(f"the plan navigates through {kind.name}.{field} (at {used_at})",),
            help=(f"mend the rejected {target} row (its error says what is wrong), or correct "
                  "the key" if why.startswith("that") else
                  f"add {target} '{value}' to the data, or correct the key"),
            cell=cell,
        )
    return warning(
        codes.DANGLING_REFERENCE,
        msg,
        span,
        notes=(f"an error if the plan reads {kind.name}.{field}.<field>",),
        cell=cell,
    )
