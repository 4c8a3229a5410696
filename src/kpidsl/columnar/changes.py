"""Facts added, replaced or removed after loading: an overlay over the facts in DuckDB.

A service keeps a :class:`~kpidsl.columnar.ColumnarRun` loaded and tells it
about a new, corrected or deleted deal (``add_facts``, ``replace_facts``,
``remove_facts``). The loaded tables are not rewritten: the typed facts of
each accepted batch are kept here, in Python, and so are the keys of the
loaded facts that were removed. Every payee whose figures they can change is
*dirty*:

* the payee a new or replacing fact is credited to;
* on a replacement, the payee the replaced fact was credited to, and the
  payees of every fact that refers to it (``collection.deal``), since the
  plan may read through that reference;
* on a removal, the payee the removed fact was credited to and the payees of
  the facts that referred to it (they now dangle: KPI0722).

For a dirty payee the columnar stage answers no aggregate: the reference
fact stage computes it from the payee's facts, fetched by index from DuckDB,
minus the replaced and removed ones, plus the overlay's. Clean payees keep
the grouped aggregates computed once per period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from kpidsl.data.digest import fact_line
from kpidsl.data.model import Dataset, Fact, Payee
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import KindSchema, PlanModel

if TYPE_CHECKING:
    from kpidsl.data.batch import PlanRules

    from .run import Loaded
    from .stage import ColumnarStage


@attrs.define
class Overlay:
    """The facts accepted after loading (kind -> key -> fact), the keys of the loaded facts
    removed (kind -> keys) and the payees they touch."""

    facts: dict[str, dict[str, Fact]] = attrs.field(factory=dict)
    dirty: set[str] = attrs.field(factory=set)
    base: str = ""  # the data digest as loaded
    fold: int = 0  # the sum of the overlay facts' and removals' hashes (see ``digest``)
    removed: dict[str, set[str]] = attrs.field(factory=dict)  # loaded facts removed, not added again

    def fact(self, kind: str, key: str) -> Fact | None:
        return self.facts.get(kind, {}).get(key)

    def hides(self, kind: str, key: str) -> bool:
        """A loaded fact with this key was replaced (or is being shadowed) by the overlay's,
        or removed."""
        return key in self.facts.get(kind, {}) or key in self.removed.get(kind, ())

    def is_removed(self, kind: str, key: str) -> bool:
        """A loaded fact with this key was removed (and no fact with its key added since)."""
        return key in self.removed.get(kind, ()) and key not in self.facts.get(kind, {})

    def of_payee(self, kind: KindSchema, field: str, payee: str,
                 as_of: dt.date | None) -> list[Fact]:
        """The overlay's facts of ``kind`` credited to ``payee`` (by its payee field)."""
        return [f for _, f in sorted(self.facts.get(kind.name, {}).items())
                if f.values.get(field) == payee and not _after(f, kind, as_of)]

    def referring(self, model: PlanModel, kind: str, keys: Collection[str]) -> list[Fact]:
        """The overlay's facts whose reference fields name one of ``keys`` of ``kind``."""
        out: list[Fact] = []
        for name, schema in sorted(model.kinds.items()):
            fields = [f for f, target in sorted(schema.references().items()) if target == kind]
            out.extend(f for _, f in sorted(self.facts.get(name, {}).items())
                       if any(f.values.get(field) in keys for field in fields))
        return out

    def accept(self, facts: list[Fact], touched: set[str], digested: bool = True) -> None:
        """Keep ``facts`` (replacing any with their keys); ``digested``: they count in the data
        digest (what-it-takes' trial facts do not: they are taken back)."""
        for f in facts:
            old = self.facts.setdefault(f.kind, {}).get(f.key)
            if old is not None and digested:
                self.fold -= _fact_hash(old)
            self.facts[f.kind][f.key] = f
            if digested:
                self.fold += _fact_hash(f)
                gone = self.removed.get(f.kind)
                if gone is not None and f.key in gone:  # a removed loaded fact, added again:
                    gone.discard(f.key)  # now it is a replacement of the loaded one
                    self.fold -= _removal_hash(f.kind, f.key)
        self.dirty |= touched

    def remove(self, kind: str, key: str, loaded: bool, touched: set[str]) -> None:
        """Remove the fact ``kind`` ``key``: the overlay's (added or replacing) and, when
        ``loaded``, the loaded one it hides (or the loaded one itself)."""
        mine = self.facts.get(kind)
        old = mine.pop(key, None) if mine is not None else None
        if old is not None:
            self.fold -= _fact_hash(old)
        if mine is not None and not mine:
            del self.facts[kind]
        if loaded and key not in self.removed.get(kind, ()):
            self.removed.setdefault(kind, set()).add(key)
            self.fold += _removal_hash(kind, key)
        self.dirty |= touched

    def discard(self, kind: str, key: str) -> None:
        """Take back a trial fact (``accept(..., digested=False)``: what-it-takes); its payee
        stays dirty."""
        self.facts.get(kind, {}).pop(key, None)

    def digest(self, base: str) -> str:
        """The data digest after the changes: the loaded data's and the sum (mod 2**256) of the
        overlay facts' sha256 and of each removed loaded fact's (its kind and key): the same
        facts give the same digest, whatever the batches, and each change costs the same
        however many came before. With no change left (a fact added, then removed) it is
        the loaded data's."""
        if self.fold % 2 ** 256 == 0:
            return base
        text = f"{base}\0{self.fold % 2 ** 256:064x}"
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fact_hash(fact: Fact) -> int:
    return int.from_bytes(hashlib.sha256(fact_line(fact).encode("utf-8")).digest(), "big")


def _removal_hash(kind: str, key: str) -> int:
    """A removed loaded fact's part of the fold: its kind and key (the fact as loaded is
    already in the loaded data's digest); no fact's line hashes the same text."""
    text = f"removed\0{kind}\0{key}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def _after(fact: Fact, kind: KindSchema, as_of: dt.date | None) -> bool:
    day = fact.values.get(kind.date)
    return as_of is not None and isinstance(day, dt.date) and day > as_of


def touched_payees(model: PlanModel, stage: ColumnarStage, facts: list[Fact],
                   before: dict[str, Fact]) -> set[str]:
    """Payees whose figures the batch can change: see the module docstring."""
    out: set[str] = set()
    for f in facts:
        out.add(_payee(model, f))
        old = before.get(f.key)
        if old is None:
            continue
        out.add(_payee(model, old))
        for other in _referring(model, stage, f.kind, [f.key]):
            out.add(_payee(model, other))
    out.discard("")
    return out


def _payee(model: PlanModel, fact: Fact) -> str:
    from kpidsl.eval.facts import payee_field

    field = payee_field(model.kinds[fact.kind]) or "payee"
    value = fact.values.get(field)
    return value if isinstance(value, str) else ""


def _referring(model: PlanModel, stage: ColumnarStage, kind: str, keys: Sequence[str]) -> list[Fact]:
    """Every fact, loaded or added (not removed), whose reference fields name one of ``keys``
    of ``kind``."""
    out = stage.overlay.referring(model, kind, set(keys))
    for name, schema in sorted(model.kinds.items()):
        ft = stage.tables.get(name)
        for field, target in sorted(schema.references().items()):
            if target == kind and ft is not None and field in ft.columns and keys:
                out.extend(f for f in stage.index.fetch(ft, field, list(keys), every_day=True)
                           if not stage.overlay.hides(name, f.key))
    return out


def loaded_fact(stage: ColumnarStage, kind: str, key: str) -> Fact | None:
    """The fact of ``kind`` with ``key`` as the run has it now (changes included), any day."""
    changed = stage.overlay.fact(kind, key)
    if changed is not None:
        return changed
    ft = stage.tables.get(kind)
    if ft is None or stage.overlay.is_removed(kind, key):
        return None
    found = stage.index.fetch(ft, ft.kind.key, [key], every_day=True)
    return found[0] if found else None


def change_facts(model: PlanModel, loaded: Loaded, stage: ColumnarStage | None, table: str,
                 records: Sequence[Mapping[str, object]], *, replace: bool, source: str | None,
                 context: BatchContext) -> tuple[Dataset, tuple[Diagnostic, ...]]:
    """Type, check and apply one batch; the data set after it (a new digest) and the warnings.

    Raises :class:`~kpidsl.data.batch.FactsRejected` (nothing applied) on any error."""
    from kpidsl.data.batch import bind_batch

    dataset = loaded.dataset
    label = _label(model, table, source, f"batch {context.batches + 1}")
    if stage is None:  # the reference engine's data set: facts in memory
        by_key = {k: {f.key: f for f in fs} for k, fs in dataset.facts.items()}
        facts, warnings = bind_batch(model, table, records, context.payees,
                                     lambda k, key: by_key.get(k, {}).get(key),
                                     replace=replace, source=label, rules=context.rules,
                                     unread=context.unread, partly=context.partly)
        for f in facts:
            by_key.setdefault(f.kind, {})[f.key] = f
        from kpidsl.data.digest import digest

        merged = {k: tuple(v[key] for key in sorted(v)) for k, v in sorted(by_key.items())}
        changed = attrs.evolve(dataset, facts=merged)
        context.batches += 1
        return attrs.evolve(changed, digest=digest(changed)), tuple(warnings)
    seen: dict[tuple[str, str], Fact | None] = {}

    def lookup(k: str, key: str) -> Fact | None:
        if (k, key) not in seen:
            seen[(k, key)] = loaded_fact(stage, k, key)
        return seen[(k, key)]

    facts, warnings = bind_batch(model, table, records, context.payees, lookup,
                                 replace=replace, source=label, rules=context.rules,
                                 unread=context.unread, partly=context.partly)
    before = {f.key: old for f in facts if (old := lookup(f.kind, f.key)) is not None}
    touched = touched_payees(model, stage, facts, before)
    overlay = stage.overlay
    if not overlay.base:
        overlay.base = dataset.digest
    overlay.accept(facts, touched)
    context.batches += 1
    return attrs.evolve(dataset, digest=overlay.digest(overlay.base)), tuple(warnings)


def remove_facts(model: PlanModel, loaded: Loaded, stage: ColumnarStage | None, table: str,
                 keys: Sequence[object], *, source: str | None,
                 context: BatchContext) -> tuple[Dataset, tuple[Diagnostic, ...]]:
    """Check and apply one removal; the data set after it (a new digest) and the warnings.

    Raises :class:`~kpidsl.data.batch.FactsRejected` (nothing removed) on any error: see
    :func:`~kpidsl.data.batch.check_removal`."""
    from kpidsl.data.batch import check_removal, fact_kind

    dataset = loaded.dataset
    kind = fact_kind(model, table)
    label = _label(model, table, source, f"removal {context.batches + 1}")
    if stage is None:  # the reference engine's data set: facts in memory
        by_key = {k: {f.key: f for f in fs} for k, fs in dataset.facts.items()}

        def in_memory(k: str, wanted: Sequence[str]) -> list[Fact]:
            return _referring_in(model, dataset, k, set(wanted))

        removal = check_removal(model, table, keys, lambda k, key: by_key.get(k, {}).get(key),
                                in_memory, source=label, rules=context.rules)
        for f in removal.facts:
            del by_key[f.kind][f.key]
        from kpidsl.data.digest import digest

        merged = {k: tuple(v[key] for key in sorted(v)) for k, v in sorted(by_key.items())}
        changed = attrs.evolve(dataset, facts=merged)
        context.batches += 1
        return attrs.evolve(changed, digest=digest(changed)), removal.warnings
    seen: dict[tuple[str, str], Fact | None] = {}

    def lookup(k: str, key: str) -> Fact | None:
        if (k, key) not in seen:
            seen[(k, key)] = loaded_fact(stage, k, key)
        return seen[(k, key)]

    if kind is not None:  # the loaded facts with these keys in one query, not one per key
        _prefetch(stage, kind, keys, seen)
    removal = check_removal(model, table, keys, lookup,
                            lambda k, wanted: _referring(model, stage, k, wanted),
                            source=label, rules=context.rules)
    overlay = stage.overlay
    if not overlay.base:
        overlay.base = dataset.digest
    # a fact in the overlay may hide a loaded one with its key (a replacement): that goes too
    changed_keys = sorted(f.key for f in removal.facts if overlay.fact(f.kind, f.key) is not None)
    ft = stage.tables.get(removal.kind)
    under = ({f.key for f in stage.index.fetch(ft, ft.kind.key, changed_keys, every_day=True)}
             if ft is not None and changed_keys else set())
    touched = {_payee(model, f) for f in (*removal.facts, *removal.referrers)} - {""}
    in_overlay = set(changed_keys)
    for f in removal.facts:
        overlay.remove(f.kind, f.key, f.key in under or f.key not in in_overlay, touched)
    context.batches += 1
    return attrs.evolve(dataset, digest=overlay.digest(overlay.base)), removal.warnings


def _prefetch(stage: ColumnarStage, kind: str, keys: Sequence[object],
              seen: dict[tuple[str, str], Fact | None]) -> None:
    """Fill ``seen`` (what ``loaded_fact`` would say) for the text keys given."""
    wanted = sorted({k.strip() for k in keys if isinstance(k, str)})
    ft = stage.tables.get(kind)
    if ft is None or len(wanted) < 2:
        return
    found = {f.key: f for f in stage.index.fetch(ft, ft.kind.key, wanted, every_day=True)}
    for key in wanted:
        changed = stage.overlay.fact(kind, key)
        if changed is not None or stage.overlay.is_removed(kind, key):
            seen[(kind, key)] = changed
        else:
            seen[(kind, key)] = found.get(key)


def _referring_in(model: PlanModel, dataset: Dataset, kind: str, keys: Collection[str]) -> list[Fact]:
    """The facts of an in-memory data set whose reference fields name one of ``keys`` of ``kind``."""
    out: list[Fact] = []
    for name, schema in sorted(model.kinds.items()):
        fields = [f for f, target in sorted(schema.references().items()) if target == kind]
        if fields:
            out.extend(f for f in dataset.facts.get(name, ())
                       if any(f.values.get(field) in keys for field in fields))
    return out


@attrs.define
class BatchContext:
    """What a run's batches share: the payees by id, the plan's rules, the batches accepted,
    and the fact files not read at loading (a reference to their kind cannot be checked)."""

    payees: Mapping[str, Payee]
    rules: PlanRules
    batches: int = 0
    unread: Mapping[str, Sequence[str]] = attrs.field(factory=dict)
    # per fact kind, the files whose read a malformed record stopped at loading (KPI0713),
    # with the last line read: a reference to a key not found may be in their unread rest
    partly: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, model: PlanModel, dataset: Dataset,
           unread: Mapping[str, Sequence[str]] | None = None,
           partly: Mapping[str, Mapping[str, int]] | None = None) -> BatchContext:
        """``unread``, ``partly``: :attr:`kpidsl.data.bind.BindResult.unread` and
        :attr:`~kpidsl.data.bind.BindResult.partly` of the loading."""
        from kpidsl.data.batch import PlanRules

        return cls({p.id: p for p in dataset.payees}, PlanRules.of(model), unread=dict(unread or {}),
                   partly=dict(partly or {}))


def _label(model: PlanModel, table: str, source: str | None, what: str) -> str:
    """How diagnostics and explanations name a batch: ``source``, or ``<deals batch 3>``."""
    from kpidsl.data.batch import fact_kind

    kind = fact_kind(model, table)
    stem = (model.kinds[kind].file_stem or kind) if kind is not None else table
    return source or f"<{stem} {what}>"
