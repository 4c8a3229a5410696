"""The columnar fact stage: per-payee aggregates from DuckDB, and one payee's facts on demand.

:class:`ColumnarStage` is what the engine's ``fact_stage`` hook takes. For an
aggregate it supports, in a segment covering the whole period, it returns the
payee's :class:`AggResult` (value and count; no per-fact rows) from one
grouped query per fact kind and period. Everything else — unsupported
constructs, segments, explanations — goes through :class:`LazyIndex`, which
stands in for the reference :class:`FactIndex` and fetches the facts of the
payees asked for from DuckDB (indexed on first use), as typed
:class:`Fact` values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.data.model import Fact, RowRef
from kpidsl.eval.env import scope_members, scope_note
from kpidsl.eval.facts import AggResult, FactIndex, Hierarchy, payee_field
from kpidsl.eval.resolve import Segment
from kpidsl.explain.tree import Explanation
from kpidsl.gcpause import gc_paused
from kpidsl.model import PlanModel
from kpidsl.numbers import exact_sum, fmt
from kpidsl.periods import Period

from .changes import Overlay
from .facttable import FactTable
from .sources import SourceChanged, file_stamp, quote
from .sqlgen import WIDE_FUNCS, AggregateSQL, Unsupported, Windows, aggregates_of

DIRECT_READS = 4  # fetches from a Parquet view before it is copied (see LazyIndex._rows_table)
COLUMNAR_NOTE = "computed by the columnar fact stage; explain this payee to list the facts"
# ``over team`` / ``over self + team`` aggregates computed from the members' own values: the
# facts credited to a team are those credited to each member (no credit rows on this stage),
# so a team's sum is the exact sum of its members' sums and its count the sum of their counts
TEAM_FUNCS = ("sum", "count")
Key = tuple[int, str]  # (id of the aggregate node, period label)


def plan_aggregates(model: PlanModel) -> list[ast.Aggregate]:
    """Every aggregate of the base plan and its overrides, each node once."""
    defs: list[ast.Definition] = list(model.base.values())
    for block in model.overrides:
        defs.extend(block.body)
    seen: dict[int, ast.Aggregate] = {}
    for d in defs:
        for attr in ("expr", "default"):
            for agg in aggregates_of(getattr(d, attr, None)):
                seen.setdefault(id(agg), agg)
    return list(seen.values())


class Shared:
    """What the stages on one loading share, whatever thread each runs in: the fact tables'
    copies sorted by payee and the indexes made on demand (:class:`LazyIndex`). They are the
    tables as loaded (changes live in each run's overlay), so one copy serves every run; the
    lock keeps two runs from making (or replacing) one while another reads it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.copies: dict[str, str] = {}  # fact table -> its copy sorted by payee
        self.indexed: set[tuple[str, str]] = set()  # (table, field) indexed


class ColumnarStage:
    """Per-payee aggregates computed in DuckDB for the aggregates it supports."""

    def __init__(self, con: Any, tables: dict[str, FactTable], model: PlanModel,
                 ctx: decimal.Context, as_of: dt.date | None = None, credits: bool = False,
                 shared: Shared | None = None) -> None:
        self.con, self.tables, self.model, self.ctx = con, tables, model, ctx
        self.as_of, self.credits = as_of, credits
        self.shared = shared if shared is not None else Shared()
        self.aggs = plan_aggregates(model)
        self.overlay = Overlay()  # facts added or replaced after loading (kpidsl.columnar.changes)
        self.index = LazyIndex(self)
        self.unsupported: dict[str, str] = {}
        self.hierarchy: Hierarchy | None = None  # the reporting tree, for ``over team`` (set by the run)
        self._results: dict[Key, dict[str, tuple[Decimal | None, int]] | None] = {}
        self._done: set[tuple[str, str]] = set()
        self._texts: dict[int, str] = {}

    def compute_all(self, period: Period) -> None:
        """Every grouped query of ``period`` now (one per fact kind), rather than when first asked for."""
        for kind in sorted({a.kind for a in self.aggs}):
            self._compute(kind, period)

    def adopt(self, other: ColumnarStage) -> None:
        """The grouped aggregates ``other`` computed on the same tables (on another cursor of
        the same database, while the data was still being loaded): as if computed here."""
        self._results.update(other._results)
        self._done.update(other._done)
        self.unsupported.update(other.unsupported)

    def aggregate(self, agg: ast.Aggregate, payee: str, period: Period,
                  seg: Segment) -> tuple[AggResult, Explanation] | None:
        """The payee's aggregate and its node, or None: use the reference fact stage."""
        result = self.aggregate_value(agg, payee, period, seg)
        if result is None:
            return None
        text = self._text(agg)
        notes: tuple[str, ...] = (COLUMNAR_NOTE,)
        if agg.scope != "self" and self.hierarchy is not None:
            notes = (COLUMNAR_NOTE, *scope_note(agg.scope, scope_members(self.hierarchy, payee, seg, agg.scope)))
        node = Explanation(text, "facts", fmt(result.value), formula=text, span=agg.span,
                           fact_count=result.count, notes=notes)
        return result, node

    def aggregate_value(self, agg: ast.Aggregate, payee: str, period: Period,
                        seg: Segment) -> AggResult | None:
        """The payee's aggregate (value and count, no rows), or None: use the reference fact stage."""
        if agg.scope != "self":
            return self._team(agg, payee, period, seg)
        by_payee = self._by_payee(agg, period, seg)
        if by_payee is None or payee in self.overlay.dirty:
            return None
        value, count = by_payee.get(payee, (None, 0))
        value = self._final(agg, value, count)
        return AggResult(value, count, ()) if value is not None else None

    def aggregate_values(self, agg: ast.Aggregate, payees: list[str], period: Period,
                         seg: Segment) -> list[Decimal | None] | None:
        """``aggregate_value``'s values for many payees (None for a payee: the reference computes
        it), or None when the aggregate is not columnar."""
        by_payee = self._by_payee(agg, period, seg)
        if by_payee is None:
            return None
        dirty, get, final, missing = self.overlay.dirty, by_payee.get, self._final, (None, 0)
        if agg.func in ("sum", "min", "max"):  # _final inlined: the value; a sum of no facts is 0
            empty = Decimal(0) if agg.func == "sum" else None
            return [None if payee in dirty else (v if (v := get(payee, missing)[0]) is not None else empty)
                    for payee in payees]
        return [None if payee in dirty else final(agg, *get(payee, missing)) for payee in payees]

    def _team(self, agg: ast.Aggregate, payee: str, period: Period, seg: Segment) -> AggResult | None:
        """An ``over team`` (or ``self + team``) sum or count from the members' own values
        (computed in SQL as for ``over self``), or None: the reference computes it."""
        if agg.func not in TEAM_FUNCS or self.hierarchy is None:
            return None
        if seg.start != period.start or seg.end != period.end:
            return None
        key = (id(agg), period.label)
        if key not in self._results:
            self._compute(agg.kind, period)
        own = self._results.get(key)
        if own is None:
            return None
        members = scope_members(self.hierarchy, payee, seg, agg.scope)
        dirty = self.overlay.dirty
        values: list[Decimal] = []
        count = 0
        for m in members:
            value, n = own.get(m, (None, 0))
            if m in dirty or (value is None and n):
                return None  # a changed member, or a sum of empty cells: the reference words it
            count += n
            if value is not None:
                values.append(value)
        if agg.func == "count":
            return AggResult(Decimal(count), count, ())
        total = exact_sum(values) if values else Decimal(0)
        if len(total.as_tuple().digits) > self.ctx.prec:  # the reference's additions would round
            return None
        return AggResult(total, count, ())

    def _by_payee(self, agg: ast.Aggregate, period: Period,
                  seg: Segment) -> dict[str, tuple[Decimal | None, int]] | None:
        if agg.scope != "self" or seg.start != period.start or seg.end != period.end:
            return None
        key = (id(agg), period.label)
        if key not in self._results:
            self._compute(agg.kind, period)
        return self._results.get(key)

    def _final(self, agg: ast.Aggregate, value: Decimal | None, count: int) -> Decimal | None:
        """The aggregate's value from the grouped sum/count/min/max (None: min/max/avg of no facts,
        which the reference reports)."""
        if agg.func in ("sum", "count", "count_distinct") and value is None:
            return Decimal(0) if agg.func == "sum" else Decimal(count)
        if value is not None and agg.func == "avg":
            return self.ctx.divide(value, Decimal(count))
        return value

    def _text(self, agg: ast.Aggregate) -> str:
        hit = self._texts.get(id(agg))
        if hit is None:
            hit = self._texts[id(agg)] = _text(agg)
        return hit

    def _compute(self, kind: str, period: Period) -> None:
        if (kind, period.label) in self._done:
            return
        self._done.add((kind, period.label))
        ft = self.tables.get(kind)
        windows: Windows = {"period": (period.start, period.end), "ytd": (period.fy_start, period.end),
                            "previous": (period.previous().start, period.previous().end)}
        items: list[str] = []
        built: list[tuple[ast.Aggregate, AggregateSQL, str]] = []
        for i, agg in enumerate(a for a in self.aggs if a.kind == kind):
            try:
                if ft is None:
                    raise Unsupported(f"no {kind} table")
                # a team's sum or count: each payee's own value here, summed over the team later
                own = attrs.evolve(agg, scope="self") if agg.scope != "self" and agg.func in TEAM_FUNCS else agg
                sql = AggregateSQL(own, ft.kind, windows, self.credits, ft.scales, ft.row_scales)
            except Unsupported as e:
                self.unsupported[_text(agg)] = str(e)
                self._results[(id(agg), period.label)] = None
                continue
            alias = f"a{i}"
            items.extend(sql.select(alias))
            built.append((agg, sql, alias))
        if ft is None or not built:
            return
        self._run(ft, period, items, built)

    def _run(self, ft: FactTable, period: Period, items: list[str],
             built: list[tuple[ast.Aggregate, AggregateSQL, str]]) -> None:
        pf = payee_field(ft.kind) or "payee"
        where = self._as_of_filter(ft)
        unchanged(ft)
        with gc_paused():  # a row of decimals per payee, then their columns: no cycles among them
            columns, places = fetch_columns(self.con, f"SELECT {quote(pf)}, {', '.join(items)} "
                                            f"FROM {quote(ft.table)} {where} GROUP BY {quote(pf)}")
            self._store(columns, places, built, period)

    def _store(self, columns: list[list[Any]], places: list[int | None],
               built: list[tuple[ast.Aggregate, AggregateSQL, str]], period: Period) -> None:
        """The grouped query's ``columns`` (payee, then each aggregate's columns; ``places``: a
        decimal column's decimal places) as each aggregate's values per payee."""
        payees = [str(p) for p in columns[0]]  # once for every aggregate
        n_rows = len(payees)
        at = 1
        for agg, sql, _ in built:
            per_row = sql.row_scale is not None
            values = columns[at]
            counts = [int(n) for n in columns[at + 1]]
            if per_row:  # the decimal places of each payee's value (None: no rows)
                scales = [int(s) if s is not None else sql.scale for s in columns[at + 2]]
                exact = [_exact(v, scale, agg.func) for v, scale in zip(values, scales, strict=True)]
            else:
                scales = [sql.scale] * n_rows
                exact = _exact_column(values, sql.scale, agg.func, places[at])
            at += 3 if per_row else 2
            key = (id(agg), period.label)
            if agg.func in WIDE_FUNCS:
                wide = beyond_precision(agg.func, columns[at], counts, scales, self.ctx.prec)
                at += 1
                if wide is not None:  # the reference rounds there: it computes this aggregate
                    self.unsupported[_text(agg)] = f"payee {payees[wide]}: {PRECISION_NOTE}"
                    self._results[key] = None
                    continue
            self._results[key] = dict(zip(payees, zip(exact, counts, strict=True), strict=True))

    def _as_of_filter(self, ft: FactTable) -> str:
        if self.as_of is None:
            return ""
        return f"WHERE {quote(ft.kind.date)} IS NULL OR {quote(ft.kind.date)} <= DATE '{self.as_of.isoformat()}'"


PRECISION_NOTE = "values or sums beyond the plan's precision (the reference's arithmetic rounds them)"


def beyond_precision(func: str, largest: list[Any], counts: list[int], scales: list[int | None],
                     prec: int) -> int | None:
    """The index of the first payee whose aggregate the reference computes with rounding, or None.

    The reference computes each fact's value and adds them up in the plan's context of
    ``prec`` significant digits (DuckDB, exactly): each value is at most ``largest`` in
    magnitude, so every partial sum is at most count × largest, at the value's decimal
    places; if that fits in ``prec`` digits, nothing the reference does rounds."""
    present = [m for m in largest if m is not None]
    if not present:
        return None
    # every payee's bound is at most the largest value times the most facts, at the most places
    top = Decimal(max(present)) * (max(counts) if func in ("sum", "avg") else 1)
    if not top or top.adjusted() + 1 + max((s for s in scales if s is not None), default=0) <= prec:
        return None
    for i, (m, n, scale) in enumerate(zip(largest, counts, scales, strict=True)):
        if m is None or not n:
            continue
        bound = Decimal(m) * (n if func in ("sum", "avg") else 1)
        if bound and bound.adjusted() + 1 + (scale or 0) > prec:
            return i
    return None


def unchanged(ft: FactTable) -> None:
    """A fact table read in place from its file: the file must be the one checked."""
    if not ft.view:
        return
    try:
        same = file_stamp(ft.read_path, source=ft.file is None) == ft.stamp
    except OSError:
        same = False
    if same:
        return
    if ft.file is not None:  # the cache's typed copy, read in place
        raise SourceChanged(f"the cache's typed copy of {ft.source.display} ({ft.file}) was removed or changed "
                            "after it was loaded; load the folder again")
    raise SourceChanged(f"{ft.source.display} changed after it was loaded; load the folder again")


_WIDE = decimal.Context(prec=60)  # quantizing a DuckDB decimal to its scale: exact (38 digits at most)


@functools.cache
def _quantum(scale: int) -> Decimal:
    return Decimal(1).scaleb(-scale)


def _exact(v: object, scale: int | None, func: str) -> Decimal | None:
    if v is None:
        return None
    d = v if isinstance(v, Decimal) else Decimal(int(v))  # type: ignore[call-overload]
    if func in ("count", "count_distinct") or scale is None:
        return d if func not in ("count", "count_distinct") else Decimal(int(d))
    return d.quantize(_quantum(scale), context=_WIDE)


def _exact_column(values: list[Any], scale: int | None, func: str,
                  places: int | None = None) -> list[Decimal | None]:
    """``[_exact(v, scale, func) for v in values]``, with the common case (a Decimal quantized to a
    fixed scale) inlined: ``_WIDE.quantize(d, q)`` is ``d.quantize(q, context=_WIDE)``.
    ``places``: the column's values are Decimals (or None) written with that many decimal
    places (:func:`fetch_columns`); at ``scale`` places they are already exact."""
    if func in ("count", "count_distinct") or scale is None:
        return [_exact(v, scale, func) for v in values]
    if places == scale:
        return values
    quantum, quantize = _quantum(scale), _WIDE.quantize
    return [quantize(v, quantum) if type(v) is Decimal else _exact(v, scale, func) for v in values]


def fetch_columns(con: Any, query: str) -> tuple[list[list[Any]], list[int | None]]:
    """The columns of ``query``'s result, and each DECIMAL column's decimal places (None for the
    others). DuckDB hands a DECIMAL to Python as a Decimal built from its parts, four times
    slower than reading its text (written with all of the type's places, never with an
    exponent) and parsing that here: the same value, at the same places."""
    names, kinds = zip(*[(str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE {query}").fetchall()],
                       strict=True)
    places = [int(k.rsplit(",", 1)[1].rstrip(")")) if k.startswith("DECIMAL(") else None for k in kinds]
    outer = ", ".join(f"CAST({quote(n)} AS VARCHAR)" if p is not None else quote(n)
                      for n, p in zip(names, places, strict=True))
    rows = con.execute(f"SELECT {outer} FROM ({query})").fetchall()
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    for i, p in enumerate(places):
        if p is not None:
            columns[i] = [None if t is None else Decimal(t) for t in columns[i]]
    return columns, places


def _text(agg: ast.Aggregate) -> str:
    from kpidsl.eval.unparse import unparse

    return unparse(agg)


class _KeyLookup(dict[str, Fact]):
    """``by_key[kind].get(key)``: one fact by key, fetched from DuckDB (and kept)."""

    def __init__(self, index: LazyIndex, kind: str) -> None:
        super().__init__()
        self.index, self.kind = index, kind

    def get(self, key: str, default: Fact | None = None) -> Fact | None:  # type: ignore[override]
        # as the reference's ``FactIndex.by_key``: a fact dated after ``as_of`` is left out of
        # aggregates, but a reference to it still reads it (docs/semantics-decisions.md)
        changed = self.index.stage.overlay.fact(self.kind, key)
        if changed is not None:
            return changed
        if self.index.stage.overlay.is_removed(self.kind, key):  # ColumnarRun.remove_facts
            return default
        if key not in self:
            ft = self.index.stage.tables.get(self.kind)
            facts = self.index.fetch(ft, ft.kind.key, [key], every_day=True) if ft is not None else []
            if not facts:
                return default
            self[key] = facts[0]
        return self[key]


class _ByKey(dict[str, dict[str, Fact]]):
    """Stands in for ``FactIndex.by_key`` (kind -> key -> fact) without loading every fact."""

    def __init__(self, index: LazyIndex) -> None:
        super().__init__()
        self.index = index

    def get(self, kind: str, default: object = None) -> dict[str, Fact]:
        if kind not in self:
            self[kind] = _KeyLookup(self.index, kind)
        return self[kind]


class LazyIndex(FactIndex):
    """The reference fact index over DuckDB: the facts of the payees asked for, when asked."""

    def __init__(self, stage: ColumnarStage) -> None:  # the reference index is not built
        self.model = stage.model
        self.stage = stage
        self.by_key = _ByKey(self)
        self._copies: dict[str, str] = {}
        self._direct: dict[str, int] = {}  # fetches that read a table as loaded, by table
        self._ready: set[str] = set()  # tables copied (views) or indexed on demand (see _rows_table)
        self._cache: dict[tuple[str, str], list[Fact]] = {}

    def credited(self, kind: str, payees: Iterable[str], types: tuple[str, ...]) -> list[tuple[Fact, Decimal]]:
        """Facts of ``kind`` credited to ``payees`` (each with share 1: no credit rows here)."""
        if "any" not in types and "split" not in types:
            return []
        ft = self.stage.tables.get(kind)
        schema = ft.kind if ft is not None else self.model.kinds.get(kind)
        if schema is None:
            return []
        field = payee_field(schema) or "payee"
        overlay = self.stage.overlay
        facts: dict[str, Fact] = {}
        wanted = sorted(set(payees))
        if ft is not None:  # a team's facts in one fetch
            self._fetch_payees(ft, field, wanted)
        for p in wanted:
            loaded = self._cache[(kind, p)] if ft is not None else []
            for f in loaded:
                if not overlay.hides(kind, f.key):
                    facts[f.key] = f
            for f in overlay.of_payee(schema, field, p, self.stage.as_of):
                facts[f.key] = f
        return [(facts[k], Decimal(1)) for k in sorted(facts)]

    def _fetch_payees(self, ft: FactTable, field: str, payees: list[str]) -> None:
        """The loaded facts of the payees not fetched yet, in one query, kept by payee."""
        missing = [p for p in payees if (ft.kind.name, p) not in self._cache]
        if not missing:
            return
        got: dict[str, list[Fact]] = {p: [] for p in missing}
        for f in self.fetch(ft, field, missing):
            got[str(f.values[field])].append(f)
        for p, facts in got.items():
            self._cache[(ft.kind.name, p)] = facts

    def prefetch(self, payees: list[str]) -> None:
        """Each fact table's facts of ``payees`` (not fetched yet) in one query per table:
        explaining many payees (a report) without a query per payee."""
        for ft in self.stage.tables.values():
            self._fetch_payees(ft, payee_field(ft.kind) or "payee", sorted(set(payees)))

    def forget(self) -> None:
        """Drop every fact fetched so far (they are fetched again when asked for)."""
        self._cache.clear()
        self.by_key.clear()  # each kind's lookup (and the facts it kept) is made again

    def prepare(self) -> None:
        """Make every later fetch fast now (a service, before its first request): each Parquet
        view copied sorted by payee, and the facts' keys and references indexed (see
        :meth:`_rows_table`): a change then finds the facts referring to a changed one at once."""
        for ft in self.stage.tables.values():
            if ft.table not in self._ready:
                unchanged(ft)
                self._make_ready(ft)
            self._rows_table(ft, ft.kind.key)
            for field in sorted(ft.kind.references()):
                if field in ft.columns:
                    self._rows_table(ft, field)

    def _rows_table(self, ft: FactTable, field: str) -> str:
        """The table to fetch ``ft``'s facts by ``field`` from.

        The first :data:`DIRECT_READS` fetches of a table read it as loaded (a scan: one
        explanation at 5M deals reads a Parquet file in ~0.1 s). After that, a view over a
        Parquet file is copied once, sorted by the payee, so that a payee's facts are a few
        neighbouring blocks (DuckDB skips the others by their min/max: a few ms), and the
        other fields (and a typed table's payee) get an index on first use."""
        if ft.table not in self._ready:
            unchanged(ft)
            self._direct[ft.table] = self._direct.get(ft.table, 0) + 1
            if self._direct[ft.table] <= DIRECT_READS:
                return ft.table
            self._make_ready(ft)
        table = self._copies.get(ft.table, ft.table)
        sorted_by = (payee_field(ft.kind) or "payee") if ft.view else ""
        shared = self.stage.shared
        if (table, field) not in shared.indexed and field != sorted_by:
            with shared.lock:
                if (table, field) not in shared.indexed:
                    self.stage.con.execute(f"CREATE INDEX IF NOT EXISTS {quote('ix_' + table + '_' + field)} "
                                           f"ON {quote(table)} ({quote(field)})")
                    shared.indexed.add((table, field))
        return table

    def _make_ready(self, ft: FactTable) -> None:
        if ft.view:  # copied once for every run on this loading (Shared), never replaced
            shared = self.stage.shared
            with shared.lock:
                copy = shared.copies.get(ft.table)
                if copy is None:
                    copy = ft.table + "__rows"
                    payee = payee_field(ft.kind) or "payee"
                    self.stage.con.execute(f"CREATE OR REPLACE TABLE {quote(copy)} AS SELECT * FROM "
                                           f"{quote(ft.table)} ORDER BY {quote(payee)}")
                    shared.copies[ft.table] = copy
            self._copies[ft.table] = copy
        self._ready.add(ft.table)

    def fetch(self, ft: FactTable, field: str, values: list[str], every_day: bool = False) -> list[Fact]:
        """Facts whose ``field`` is one of ``values`` (see :meth:`_rows_table`), as loaded
        (before any change); dated after ``as_of`` too when ``every_day``."""
        table = self._rows_table(ft, field)
        names = [n for n in ft.kind.fields if n in ft.columns]
        own = [n for n in names if n in ft.row_scales]  # cells keep their own decimal places
        cols = ", ".join([*(quote(n) for n in names), *(quote("_sc_" + n) for n in own)])
        marks = ", ".join("?" for _ in values)
        cond = f"{quote(field)} IN ({marks})" if len(values) > 1 else f"{quote(field)} = ?"
        rows = self.stage.con.execute(f"SELECT {ft.line}, {cols} FROM {quote(table)} WHERE {cond}",
                                      values).fetchall()
        out = []
        as_of = None if every_day else self.stage.as_of
        kind, key, date, display = ft.kind.name, ft.kind.key, ft.kind.date, ft.source.display
        blank = dict.fromkeys(ft.kind.fields)  # a field the file does not have is None
        # each column's quantum (a number's decimal places), or None; a column whose cells keep
        # their own places (``own``) takes each row's. A report fetches every payee's facts:
        # this loop runs for every fact of the data (1.5M at 1M deals)
        quanta = [None if ft.scales.get(n) is None else _quantum(ft.scales[n]) for n in names]
        at_own = [(names.index(n), 1 + len(names) + i) for i, n in enumerate(own)]
        wide = _WIDE.quantize
        for row in rows:
            q_row = quanta
            if at_own:
                q_row = list(quanta)
                for i, j in at_own:
                    if row[j] is not None:
                        q_row[i] = _quantum(int(row[j]))
            vals = blank.copy()
            for n, q, v in zip(names, q_row, row[1:1 + len(names)], strict=True):
                vals[n] = wide(v, q) if q is not None and isinstance(v, Decimal) else v
            day = vals.get(date)
            if as_of is not None and isinstance(day, dt.date) and day > as_of:
                continue
            out.append(Fact(kind, str(vals[key]), vals, RowRef(display, int(row[0]) + 2)))
        return sorted(out, key=lambda f: f.key)


def _later(fact: Fact, stage: ColumnarStage) -> bool:
    """A fact dated after the run's ``as_of`` (left out, as ``fetch`` leaves it out)."""
    schema = stage.model.kinds.get(fact.kind)
    day = fact.values.get(schema.date) if schema is not None else None
    return stage.as_of is not None and isinstance(day, dt.date) and day > stage.as_of
