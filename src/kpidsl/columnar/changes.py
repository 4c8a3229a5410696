"""Facts added or replaced after loading: an overlay over the facts in DuckDB.

A service keeps a :class:`~kpidsl.columnar.ColumnarRun` loaded and tells it
about a new or corrected deal (``add_facts``, ``replace_facts``). The loaded
tables are not rewritten: the typed facts of each accepted batch are kept
here, in Python. Every payee whose figures they can change is *dirty*:

* the payee a new or replacing fact is credited to;
* on a replacement, the payee the replaced fact was credited to, and the
  payees of every fact that refers to it (``collection.deal``), since the
  plan may read through that reference.

For a dirty payee the columnar stage answers no aggregate: the reference
fact stage computes it from the payee's facts, fetched by index from DuckDB,
minus the replaced ones, plus the overlay's. Clean payees keep the grouped
aggregates computed once per period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
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
    """The facts accepted after loading (kind -> key -> fact) and the payees they touch."""

    facts: dict[str, dict[str, Fact]] = attrs.field(factory=dict)
    dirty: set[str] = attrs.field(factory=set)
    base: str = ""  # the data digest as loaded
    fold: int = 0  # the sum of the overlay facts' hashes (see ``digest``)

    def fact(self, kind: str, key: str) -> Fact | None:
        return self.facts.get(kind, {}).get(key)

    def hides(self, kind: str, key: str) -> bool:
        """A loaded fact with this key was replaced (or is being shadowed) by the overlay's."""
        return key in self.facts.get(kind, {})

    def of_payee(self, kind: KindSchema, field: str, payee: str,
                 as_of: dt.date | None) -> list[Fact]:
        """The overlay's facts of ``kind`` credited to ``payee`` (by its payee field)."""
        return [f for _, f in sorted(self.facts.get(kind.name, {}).items())
                if f.values.get(field) == payee and not _after(f, kind, as_of)]

    def referring(self, model: PlanModel, kind: str, key: str) -> list[Fact]:
        """The overlay's facts whose reference fields name ``kind`` ``key``."""
        out: list[Fact] = []
        for name, schema in sorted(model.kinds.items()):
            fields = [f for f, target in sorted(schema.references().items()) if target == kind]
            out.extend(f for _, f in sorted(self.facts.get(name, {}).items())
                       if any(f.values.get(field) == key for field in fields))
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
        self.dirty |= touched

    def discard(self, kind: str, key: str) -> None:
        """Take back a trial fact (``accept(..., digested=False)``: what-it-takes); its payee
        stays dirty."""
        self.facts.get(kind, {}).pop(key, None)

    def digest(self, base: str) -> str:
        """The data digest after the changes: the loaded data's and the sum (mod 2**256) of the
        overlay facts' sha256: the same facts give the same digest, whatever the batches,
        and each change costs the same however many came before."""
        if not self.facts:
            return base
        text = f"{base}\0{self.fold % 2 ** 256:064x}"
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fact_hash(fact: Fact) -> int:
    return int.from_bytes(hashlib.sha256(fact_line(fact).encode("utf-8")).digest(), "big")


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
        for other in _referring(model, stage, f.kind, f.key):
            out.add(_payee(model, other))
    out.discard("")
    return out


def _payee(model: PlanModel, fact: Fact) -> str:
    from kpidsl.eval.facts import payee_field

    field = payee_field(model.kinds[fact.kind]) or "payee"
    value = fact.values.get(field)
    return value if isinstance(value, str) else ""


def _referring(model: PlanModel, stage: ColumnarStage, kind: str, key: str) -> list[Fact]:
    """Every fact, loaded or added, whose reference fields name ``kind`` ``key``."""
    out = stage.overlay.referring(model, kind, key)
    for name, schema in sorted(model.kinds.items()):
        ft = stage.tables.get(name)
        for field, target in sorted(schema.references().items()):
            if target == kind and ft is not None and field in ft.columns:
                out.extend(f for f in stage.index.fetch(ft, field, [key], every_day=True)
                           if not stage.overlay.hides(name, f.key))
    return out


def loaded_fact(stage: ColumnarStage, kind: str, key: str) -> Fact | None:
    """The fact of ``kind`` with ``key`` as the run has it now (changes included), any day."""
    changed = stage.overlay.fact(kind, key)
    if changed is not None:
        return changed
    ft = stage.tables.get(kind)
    if ft is None:
        return None
    found = stage.index.fetch(ft, ft.kind.key, [key], every_day=True)
    return found[0] if found else None


def change_facts(model: PlanModel, loaded: Loaded, stage: ColumnarStage | None, table: str,
                 records: Sequence[Mapping[str, object]], *, replace: bool, source: str | None,
                 context: BatchContext) -> tuple[Dataset, tuple[Diagnostic, ...]]:
    """Type, check and apply one batch; the data set after it (a new digest) and the warnings.

    Raises :class:`~kpidsl.data.batch.FactsRejected` (nothing applied) on any error."""
    from kpidsl.data.batch import bind_batch, fact_kind

    dataset = loaded.dataset
    kind = fact_kind(model, table)
    stem = (model.kinds[kind].file_stem or kind) if kind is not None else table
    label = source or f"<{stem} batch {context.batches + 1}>"
    if stage is None:  # the reference engine's data set: facts in memory
        by_key = {k: {f.key: f for f in fs} for k, fs in dataset.facts.items()}
        facts, warnings = bind_batch(model, table, records, context.payees,
                                     lambda k, key: by_key.get(k, {}).get(key),
                                     replace=replace, source=label, rules=context.rules)
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
                                 replace=replace, source=label, rules=context.rules)
    before = {f.key: old for f in facts if (old := lookup(f.kind, f.key)) is not None}
    touched = touched_payees(model, stage, facts, before)
    overlay = stage.overlay
    if not overlay.base:
        overlay.base = dataset.digest
    overlay.accept(facts, touched)
    context.batches += 1
    return attrs.evolve(dataset, digest=overlay.digest(overlay.base)), tuple(warnings)


@attrs.define
class BatchContext:
    """What a run's batches share: the payees by id, the plan's rules, the batches accepted."""

    payees: Mapping[str, Payee]
    rules: PlanRules
    batches: int = 0

    @classmethod
    def of(cls, model: PlanModel, dataset: Dataset) -> BatchContext:
        from kpidsl.data.batch import PlanRules

        return cls({p.id: p for p in dataset.payees}, PlanRules.of(model))
