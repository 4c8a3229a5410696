"""Typing a batch of facts that arrives after the data was loaded (a service's new deal).

The batch is typed by the same code as a fact table read from a file
(:func:`kpidsl.data.facts.bind_table`): the same cell rules and wording, each
rejected record reported with its position in the batch, column and value.
Then it is checked against the data already loaded, through ``lookup``
(where a fact of a kind and key is, or None):

* adding a fact whose key is already in the data is a duplicate key (KPI0720),
  with a hint to replace it instead; replacing one that is not there is
  KPI0726;
* a reference to a fact that is neither in the data nor in the batch is
  KPI0722, an error when the plan reads through that reference, a warning
  otherwise — as when the folder is loaded; when a file of the kind referred
  to was not read at loading (``unread``), one KPI0722 says that the references
  could not be checked, naming every record, not "no deal has this key" for each.

A batch is all or nothing: :func:`bind_batch` returns the typed facts and the
warnings, or raises :class:`FactsRejected` with every problem.

A removal (:func:`check_removal`: a CRM deleted a deal created by mistake) is
checked the same way: a key not in the data is KPI0727, a key given twice in
one removal is KPI0720, and a fact left referring to a removed one dangles as
if the rows were deleted from the files (KPI0722: an error where the plan
reads through that reference, then nothing is removed; a warning otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from kpidsl.diagnostics import Diagnostic, KpiError, error, has_errors, warning
from kpidsl.model import KindSchema, PlanModel
from kpidsl.source import Span

from . import codes
from .facts import FactsBound, bind_table, not_checked
from .literals import case_mismatches
from .model import Fact, Payee, RawRow, RowRef
from .navigation import compared_literals, navigated_references
from .records import tables_from_records
from .tableview import KeyIndex, Sink, View, located

Lookup = Callable[[str, str], Fact | None]  # (kind, key) -> the fact already loaded, if any
# (kind, keys) -> the facts, of any kind, whose reference fields name one of ``keys`` of ``kind``
Referring = Callable[[str, Sequence[str]], list[Fact]]


class FactsRejected(KpiError):
    """A batch of facts that was not applied; ``diagnostics`` lists every problem."""


@attrs.frozen
class PlanRules:
    """What the checks read of the plan, found once per plan rather than per batch."""

    navigated: Mapping[tuple[str, str], Span]  # where the plan reads through a reference
    compared: Mapping[tuple[str, str], frozenset[str]]  # text literals fields are compared to

    @classmethod
    def of(cls, model: PlanModel) -> PlanRules:
        return cls(navigated_references(model), compared_literals(model))


def bind_batch(model: PlanModel, table: str, records: Sequence[Mapping[str, object]],
               payees: Mapping[str, Payee], lookup: Lookup, *, replace: bool,
               source: str, rules: PlanRules | None = None,
               unread: Mapping[str, Sequence[str]] | None = None,
               partly: Mapping[str, Mapping[str, int]] | None = None) -> tuple[list[Fact], list[Diagnostic]]:
    """The batch's facts (sorted by key) and warnings; raises :class:`FactsRejected`.

    ``table`` is a fact kind (``deal``) or its file stem (``deals``); ``source``
    names the batch in diagnostics and in the facts' row references (record
    ``n`` is line ``n``). ``replace``: every key must already be in the data.
    ``unread``: per kind, the files that were not read at loading
    (:attr:`kpidsl.data.bind.BindResult.unread`); ``partly``: per kind, the files whose read
    a malformed record stopped at loading, with the last line read
    (:attr:`kpidsl.data.bind.BindResult.partly`).
    """
    kind_name = fact_kind(model, table)
    if kind_name is None:
        known = ", ".join(sorted({k.file_stem or k.name for k in model.kinds.values()}))
        raise FactsRejected([error(codes.UNUSED_TABLE, f"no fact table named {table!r} in the "
                                   f"plan (fact tables: {known})", _where(source))])
    kind = model.kinds[kind_name]
    raw, diags = tables_from_records(kind.file_stem or kind.name, records, source)
    sink = Sink(list(diags))
    if raw is None or not records:
        raise FactsRejected(sink.diagnostics or [error(codes.BAD_HEADER, "no records to add",
                                                       _where(source))])
    out = FactsBound()
    out.facts[kind_name], out.rejected_keys[kind_name] = {}, set()
    rules = PlanRules.of(model) if rules is None else rules
    bind_table(kind, raw, payees, KeyIndex(), out, sink)
    batch = out.facts[kind_name]
    view = View(raw)
    for row in raw.rows:  # rejected rows too: every problem of the batch at once
        _against_data(kind, view, row, lookup, replace, sink)
    _references(model, kind_name, out, lookup, sink, rules.navigated, unread or {}, partly or {})
    case_mismatches(model, out.facts, out.rows, sink, rules.compared)
    problems = sorted(sink.diagnostics, key=Diagnostic.sort_key)
    if has_errors(problems):
        raise FactsRejected(problems)
    return [batch[k] for k in sorted(batch)], problems


def fact_kind(model: PlanModel, table: str) -> str | None:
    """The fact kind named ``table`` (``deal``) or read from it (``deals``), if any."""
    for name, kind in sorted(model.kinds.items()):
        if table in (name, kind.file_stem):
            return name
    return None


def _where(source: str) -> Span:
    return Span(source, 1, 1, 1, 1)


def _against_data(schema: KindSchema, view: View, row: RawRow, lookup: Lookup, replace: bool,
                  sink: Sink) -> None:
    kind, key_field = schema.name, schema.key
    key = view.text(row, key_field)
    if not key:
        return
    there = lookup(kind, key)
    if there is not None and not replace:
        msg = (f"duplicate {kind} {key_field} '{key}' in {view.where(row, key_field)}: already "
               f"in the data at {there.ref.file} line {there.ref.line}; the batch was rejected")
        sink.reject(row, error(codes.DUPLICATE_KEY, msg, view.span(row, key_field), cell=view.cell(row, key_field),
                               secondary=(located(_span(there.ref), "already here"),),
                               help="to correct a fact already loaded, replace it "
                                    "(ColumnarRun.replace_facts)"))
    elif there is None and replace:
        msg = (f"no {kind} '{key}' to replace ({view.where(row, key_field)}): the data has no "
               f"{kind} with this {key_field}; the batch was rejected")
        sink.reject(row, error(codes.NOTHING_TO_REPLACE, msg, view.span(row, key_field), cell=view.cell(row, key_field),
                               help="add it as a new fact (ColumnarRun.add_facts)"))


def _span(ref: RowRef) -> Span:
    return Span(ref.file, ref.line, 1, ref.line, 1)


def _references(model: PlanModel, kind_name: str, out: FactsBound, lookup: Lookup,
                sink: Sink, navigated: Mapping[tuple[str, str], Span],
                unread: Mapping[str, Sequence[str]], partly: Mapping[str, Mapping[str, int]]) -> None:
    """A reference to a fact neither in the batch nor in the data: KPI0722, as at loading;
    one "could not be checked" for those to a kind with a file not read, or read in part."""
    kind = model.kinds[kind_name]
    batch = out.facts[kind_name]
    for field, target in sorted(kind.references().items()):
        used_at = navigated.get((kind_name, field))
        missing = [key for key in sorted(batch)
                   if isinstance(value := batch[key].values.get(field), str)
                   and not (target == kind_name and value in batch) and lookup(target, value) is None]
        files = unread.get(target, ())
        cut = partly.get(target, {})
        if (files or cut) and missing:  # not known missing: in a file not read (in full), perhaps
            named = " and ".join(sorted({*files, *cut}))
            read = "read in full" if cut else "read"
            sink.add(not_checked(kind, field, target, [batch[k] for k in missing], files, out, used_at,
                                 f"the batch was rejected; send it again once {named} is {read}",
                                 partly=cut or None))
            continue
        for key in missing:
            value = batch[key].values[field]
            view, row = out.rows[kind_name, key]
            msg = (f"{kind_name} '{key}' in {view.where(row, field)} refers to {target} '{value}': "
                   f"no {target} has this key")
            if used_at is None:
                sink.add(warning(codes.DANGLING_REFERENCE, msg, view.span(row, field), cell=view.cell(row, field)))
                continue
            sink.reject(row, error(codes.DANGLING_REFERENCE, msg, view.span(row, field), cell=view.cell(row, field),
                                   notes=(f"the plan navigates through {kind_name}.{field} "
                                          f"(at {used_at})",),
                                   help=f"add {target} '{value}' first, or correct the key"))


@attrs.frozen
class Removal:
    """A removal that was accepted: what it removes and what it leaves dangling."""

    kind: str
    facts: tuple[Fact, ...]  # the removed facts, as the data has them now, by key
    referrers: tuple[Fact, ...]  # facts left referring to a removed one (by kind and key)
    warnings: tuple[Diagnostic, ...]


def check_removal(model: PlanModel, table: str, keys: Sequence[object], lookup: Lookup,
                  referring: Referring, *, source: str,
                  rules: PlanRules | None = None) -> Removal:
    """Check that the facts of ``table`` with ``keys`` can be removed; raises
    :class:`FactsRejected` listing every problem (see the module docstring).

    ``source`` names the removal in diagnostics; the ``n``-th key is its line ``n``.
    ``lookup`` finds a fact as the data has it now (changes included, removed facts
    not); ``referring`` the facts still in the data that refer to some of the keys."""
    kind_name = fact_kind(model, table)
    if kind_name is None:
        known = ", ".join(sorted({k.file_stem or k.name for k in model.kinds.values()}))
        raise FactsRejected([error(codes.UNUSED_TABLE, f"no fact table named {table!r} in the "
                                   f"plan (fact tables: {known})", _where(source))])
    if not keys:
        raise FactsRejected([error(codes.BAD_HEADER, "no keys to remove", _where(source))])
    schema = model.kinds[kind_name]
    problems: list[Diagnostic] = []
    first: dict[str, int] = {}
    found: dict[str, Fact] = {}
    for line, raw in enumerate(keys, start=1):
        key = _key_text(raw)
        if key is None:
            msg = (f"invalid {schema.key} in {source} record {line}: {type(raw).__name__} value "
                   f"{raw!r}: a key is text (str); the removal was rejected")
            problems.append(error(codes.UNSUPPORTED_PYTHON_VALUE, msg, _at(source, line, "?")))
            continue
        if key in first:
            msg = (f"duplicate {kind_name} {schema.key} '{key}' in {source} line {line}: already "
                   f"given at line {first[key]}; the removal was rejected")
            problems.append(error(codes.DUPLICATE_KEY, msg, _at(source, line, key),
                                  secondary=(located(_at(source, first[key], key), "first given here"),)))
            continue
        first[key] = line
        fact = lookup(kind_name, key)
        if fact is None:
            msg = (f"no {kind_name} '{key}' to remove ({source} line {line}): the data has no "
                   f"{kind_name} with this {schema.key}; the removal was rejected")
            problems.append(error(codes.NOTHING_TO_REMOVE, msg, _at(source, line, key),
                                  help="correct the key (a fact removed earlier is no longer "
                                       "in the data)"))
            continue
        found[key] = fact
    referrers = [f for f in (referring(kind_name, sorted(found)) if found else [])
                 if not (f.kind == kind_name and f.key in found)]  # removed too: no dangling
    referrers = sorted({(f.kind, f.key): f for f in referrers}.values(), key=lambda f: (f.kind, f.key))
    rules = PlanRules.of(model) if rules is None else rules
    for f in referrers:
        problems.extend(_left_dangling(model, kind_name, f, first, source, rules.navigated))
    problems.sort(key=Diagnostic.sort_key)
    if has_errors(problems):
        raise FactsRejected(problems)
    return Removal(kind_name, tuple(found[k] for k in sorted(found)), tuple(referrers), tuple(problems))


def _key_text(raw: object) -> str | None:
    """A key as the binder reads it (cells are stripped); an int is written as text."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def _at(source: str, line: int, text: str) -> Span:
    return Span(source, line, 1, line, 1 + max(len(text), 1))


def _left_dangling(model: PlanModel, kind_name: str, fact: Fact, lines: Mapping[str, int],
                   source: str, navigated: Mapping[tuple[str, str], Span]) -> list[Diagnostic]:
    """KPI0722 for each reference of ``fact`` to a removed fact, as loading would say it."""
    out: list[Diagnostic] = []
    for field, target in sorted(model.kinds[fact.kind].references().items()):
        value = fact.values.get(field)
        if target != kind_name or not isinstance(value, str) or value not in lines:
            continue
        line = lines[value]
        msg = (f"removing {target} '{value}' ({source} line {line}) leaves {fact.kind} '{fact.key}' "
               f"in {fact.ref.file} line {fact.ref.line}, column {field} referring to {target} "
               f"'{value}': no {target} has this key")
        span = _at(source, line, value)
        here = (located(_span(fact.ref), f"{fact.kind} '{fact.key}' refers to it"),)
        used_at = navigated.get((fact.kind, field))
        if used_at is None:
            out.append(warning(codes.DANGLING_REFERENCE, msg, span, secondary=here,
                               notes=(f"an error if the plan reads {fact.kind}.{field}.<field>",)))
            continue
        out.append(error(codes.DANGLING_REFERENCE, msg, span, secondary=here,
                         notes=(f"the plan navigates through {fact.kind}.{field} (at {used_at})",),
                         help=f"remove {fact.kind} '{fact.key}' first, or correct its {field}"))
    return out
