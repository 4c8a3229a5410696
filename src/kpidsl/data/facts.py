"""Binding fact tables (``deals``, ``collections``, a plan's own kinds) to their kinds."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.model import OPTIONAL_BUILTIN_FIELDS, PAYEE_TYPE, KindSchema
from kpidsl.source import Span

from . import codes
from .model import Fact, Payee, RawRow, RawTable, Value
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
from .values import PARSERS, ValueProblem


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
        self.rows: dict[tuple[str, str], tuple[View, RawRow]] = {}


def bind_facts(
    kinds: dict[str, KindSchema],
    tables: dict[str, list[RawTable]],
    payees: dict[str, Payee],
    sink: Sink,
    navigated: Mapping[tuple[str, str], Span] | None = None,
) -> FactsBound:
    """Type every fact table; then report references to facts not in the data.

    ``navigated`` maps (kind, reference field) to where the plan reads through
    it: a dangling reference there is an error, elsewhere a warning.
    """
    out = FactsBound()
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
    view = View(table)
    what = f"fact kind {kind.name}"
    if not check_columns(view, required_fields(kind), kind.fields, sink, what):
        return
    columns = _columns(kind, view)
    rows = check_shape(view, sink)
    typed, cell_problems = _typed_columns(view, rows, columns, payees)
    fields = [c.field for c in columns]
    key_index = view.index.get(kind.key)
    facts = out.facts[kind.name]
    records = zip(*typed, strict=True) if typed else iter([()] * len(rows))
    for i, (row, values) in enumerate(zip(rows, records, strict=True)):
        problems = cell_problems.get(i, [])
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
            continue
        facts[key] = Fact(kind.name, key, dict(zip(fields, values, strict=True)), row.ref)
        out.rows[kind.name, key] = (view, row)


def _typed_columns(
    view: View, rows: list[RawRow], columns: list[_Column], payees: Mapping[str, Payee]
) -> tuple[list[list[Value]], dict[int, list[Diagnostic]]]:
    """Each column's typed values, row by row, and each row's problems in column order.

    A cell that typed without a problem is a pure function of its text, so each
    column caches its values by text: a repeated date, flag or amount is parsed
    once per table. A failing cell is typed again at every row, so its problem
    is reported with that row's location.
    """
    problems: dict[int, list[Diagnostic]] = {}
    typed: list[list[Value]] = []
    for col in columns:
        index = col.index
        texts = [r.cells[index] for r in rows] if index is not None else [""] * len(rows)
        cache: dict[str, Value] = {}
        values: list[Value] = []
        for i, text in enumerate(texts):
            if text in cache:
                values.append(cache[text])
                continue
            found: list[Diagnostic] = []
            value = _field(view, rows[i], col, payees, found)
            if found:
                problems.setdefault(i, []).extend(found)
            else:
                cache[text] = value
            values.append(value)
        typed.append(values)
    return typed, problems


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
        if target not in present:
            _no_target_table(kind, field, target, out, used_at, sink)
            continue
        for key in sorted(out.facts[kind.name]):
            fact = out.facts[kind.name][key]
            value = fact.values.get(field)
            if isinstance(value, str) and value not in known:
                sink.add(_dangling(kind, field, target, fact, value, out, used_at))


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
    if used_at is None:
        sink.add(warning(codes.DANGLING_REFERENCE, msg, view.span(row, field)))
        return
    label = located(used_at, f"the plan reads through {kind.name}.{field} here")
    sink.add(error(codes.DANGLING_REFERENCE, msg, view.span(row, field), secondary=(label,)))


def _dangling(
    kind: KindSchema,
    field: str,
    target: str,
    fact: Fact,
    value: str,
    out: FactsBound,
    used_at: Span | None,
) -> Diagnostic:
    rejected = value in out.rejected_keys.get(target, set())
    why = f"that {target} was rejected" if rejected else f"no {target} has this key"
    msg = (
        f"{kind.name} '{fact.key}' in {fact.ref.file} line {fact.ref.line}, column {field} "
        f"refers to {target} '{value}': {why}"
    )
    view, row = out.rows[kind.name, fact.key]
    span = view.span(row, field)
    if used_at is not None:
        return error(
            codes.DANGLING_REFERENCE,
            msg,
            span,
            notes=(f"the plan navigates through {kind.name}.{field} (at {used_at})",),
            help=f"add {target} '{value}' to the data, or correct the key",
        )
    return warning(
        codes.DANGLING_REFERENCE,
        msg,
        span,
        notes=(f"an error if the plan reads {kind.name}.{field}.<field>",),
    )
