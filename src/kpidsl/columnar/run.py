"""Evaluating a plan on a data folder with the columnar fact stage, or the reference when needed.

``load_folder`` reads the small tables through the reference binder and the
fact tables into DuckDB (typed and checked in SQL). When something would be
reported about some fact rows, those rows alone are bound by the reference
binder, which words their diagnostics (:mod:`.worded`). When the data has
something the columnar stage does not handle (credit rows, percent/count fact
fields, a layout DuckDB reads otherwise), or a row the columnar typing refused
is accepted by the reference, the whole folder goes through the reference
reader and binder instead. ``reasons`` says which and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.data.bind import BindResult, SourceSummary
from kpidsl.data.model import Dataset, Fact, RawTable, RowRef
from kpidsl.diagnostics import Diagnostic, has_errors
from kpidsl.eval.context import FactStage
from kpidsl.eval.engine import Engine
from kpidsl.eval.facts import AggResult, FactIndex
from kpidsl.eval.resolve import Segment
from kpidsl.eval.result import EvalResult
from kpidsl.explain.tree import Explanation
from kpidsl.model import PlanModel
from kpidsl.numbers import plan_context
from kpidsl.periods import Period

from .facttable import FactTable, load_facts
from .sources import (
    SourceFile,
    column_cells,
    column_types,
    connect,
    csv_header,
    csv_lines,
    find_sources,
    float_problems,
    folder_tables,
    layout_problem,
    out_of_memory,
    quote,
    raw_table,
    session,
    unread,
)
from .stage import ColumnarStage, Shared

LARGE_BYTES = 1_000_000  # fact files at least this big use the columnar stage under engine="auto"


@attrs.define
class Loaded:
    """A data folder as loaded: a dataset (facts in DuckDB, or in memory) and diagnostics."""

    dataset: Dataset
    diagnostics: tuple[Diagnostic, ...]
    engine: str  # "columnar" or "reference"
    reasons: tuple[str, ...] = ()
    con: Any = None
    tables: dict[str, FactTable] = attrs.field(factory=dict)
    credits: bool = False
    # the fact rows the reference binder read to word their problems (:mod:`.worded`)
    worded: frozenset[RowRef] = frozenset()
    rejected: frozenset[RowRef] = frozenset()  # every row rejected, of any table
    # per source file the plan uses: rows read = accepted + rejected (``kpidsl validate``)
    summaries: tuple[SourceSummary, ...] = ()
    read: tuple[Diagnostic, ...] = ()  # those of ``diagnostics`` that come from reading the files
    # the period's grouped aggregates computed while loading (``load_folder``'s ``period``):
    # taken by the first stage made on this data (:meth:`ColumnarRun._stage`), once
    prefetched: list[Prefetch] = attrs.field(factory=list, eq=False, repr=False)
    # per fact kind, the files there that could not be read (``BindResult.unread``): a batch's
    # reference to them cannot be checked (KPI0722)
    unread: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    # per fact kind, its files whose read a malformed record stopped (``BindResult.partly``)
    partly: Mapping[str, Mapping[str, int]] = attrs.field(factory=dict)
    # the fact tables' copies and indexes every run on this loading shares, across threads
    shared: Shared = attrs.field(factory=Shared, eq=False, repr=False)


@attrs.frozen(eq=False)
class Prefetch:
    """A period's grouped aggregates, computed on the fact tables as loaded."""

    period: str
    as_of: dt.date | None
    tables: dict[str, FactTable]
    stage: ColumnarStage


def wants_columnar(model: PlanModel, folder: Path, fmt: str = "auto") -> bool:
    """``engine="auto"``: columnar when DuckDB is installed and the fact files are large."""
    try:
        import importlib.util

        if importlib.util.find_spec("duckdb") is None:
            return False
    except ImportError:  # pragma: no cover
        return False
    sources = find_sources(folder, fmt)
    stems = {k.file_stem or k.name for k in model.kinds.values()}
    return sum(s.path.stat().st_size for n, s in sources.items() if n in stems) >= LARGE_BYTES


def load_folder(model: PlanModel, folder: Path, *, fmt: str = "auto", engine: str = "columnar",
                threads: int | None = None, cache: bool | str | Path | None = None,
                every_field: bool = False, memory: int | None = None, period: str | None = None,
                as_of: dt.date | None = None) -> Loaded:
    """Load ``folder`` for ``model``; ``engine`` is columnar, reference or auto (large data only).

    ``every_field``: keep every field of the fact files in DuckDB, not only those the plan
    reads (with keys, payees and references): for showing facts in full (``kpidsl
    report``); the figures and the data digest are the same either way.

    ``cache``: where the columnar stage keeps typed fact files and check results between
    runs, found again by the files' content (:mod:`kpidsl.columnar.cache`): None or True for
    the environment's default, False or ``"off"`` for none, or a folder.

    ``memory``: DuckDB's memory limit in MB (:func:`~kpidsl.columnar.sources.memory_mb`:
    None for ``KPIDSL_MEMORY_MB`` or the default, 0 for DuckDB's own). A statement that needs
    more than the limit allows runs again without it (:class:`~kpidsl.columnar.sources.Limited`):
    the limit costs memory, never a result.

    ``period`` (and ``as_of``): the period about to be evaluated, by a :class:`ColumnarRun`
    made next with the same ``as_of``. Its grouped aggregates are then computed in DuckDB
    while the small tables are bound in Python, instead of after loading; the figures are
    the same either way."""
    sources = find_sources(folder, fmt)
    if engine == "auto":
        engine = "columnar" if wants_columnar(model, folder, fmt) else "reference"
    if engine == "reference":
        return _reference(model, folder, sources, ())
    from kpidsl.gcpause import gc_paused

    with gc_paused():  # the small tables' rows, bound in Python: acyclic objects by the thousand
        return _load(model, folder, sources, connect(threads, memory), cache, every_field,
                     None if period is None else (period, as_of))


def _load(model: PlanModel, folder: Path, sources: dict[str, SourceFile], con: Any,
          cache: bool | str | Path | None, every_field: bool,
          period: tuple[str, dt.date | None] | None = None) -> Loaded:
    """:func:`load_folder` on the columnar engine, on the connection ``con``."""
    aux, facts, twice = _split(model, sources)
    if twice:  # deals.csv and deal.csv: the reference binds both as deal facts
        return _reference(model, folder, sources, tuple(f"files {', '.join(n)} are all {k} facts"
                                                        for k, n in twice.items()), con)
    if any(s.name == "credits" for s in aux.values()):
        return _reference(model, folder, sources, ("credit rows (splits) are bound by the reference",), con)
    if float_problems(con, model, sources):  # the reference reports each such column
        return _reference(model, folder, sources, ("floating-point columns",), con)
    read_diags = unread(folder, sources)
    read = {n: raw_table(con, s) if s.format == "parquet" else _csv(s, read_diags) for n, s in aux.items()}
    tables = folder_tables(folder, sources, {n: t for n, t in read.items() if t is not None},
                           [n for n, t in read.items() if t is None])
    try:
        types = {name: column_types(con, src) for name, src in facts.items()}
    except Exception as exc:  # DuckDB cannot read a fact file (not UTF-8, say): the reference words it
        if out_of_memory(exc):
            raise
        return _reference(model, folder, sources, (f"{type(exc).__name__}: {str(exc).splitlines()[0]}",), con)
    odd_header = [src.display for name, src in facts.items()
                  if src.format == "csv" and csv_header(src.path) != tuple(types[name])]
    if odd_header:
        return _reference(model, folder, sources, tuple(f"{d}: a header the CSV reader words (empty, "
                                                        "quoted or repeated names)" for d in odd_header), con)
    for name, src in facts.items():
        tables[src.name] = RawTable(src.name, src.display, tuple(types[name]), (), 1)
    from concurrent.futures import ThreadPoolExecutor

    from kpidsl.data.bind import bind_result, route

    # the fact tables are checked in DuckDB (on a cursor of its own) while the small tables
    # are bound in Python, against the payee ids as read; if the bound ids differ, again.
    # Meanwhile each CSV fact file's lines are counted: DuckDB's row n must be on line n + 2
    guess = column_cells([t for n, t in tables.items() if route(model, n) == "payees"], "id")
    # With a cache, the fact files are hashed first: what is known of their content is reused
    cursor = session(con)
    from .cache import file_memo, open_cache

    prefetched: list[Prefetch] = []

    def check_facts() -> tuple[dict[str, FactTable], list[str]]:
        got = load_facts(cursor, model, facts, types, guess, memo_at.result(), every_field)
        # DuckDB would be idle while the small tables bind: the period's aggregates meanwhile
        # (not for data with rows to word: those may be errors, and nothing is then paid)
        if period is not None and not got[1] and not any(ft.flagged for ft in got[0].values()):
            prefetched.extend(_prefetch(cursor, model, got[0], *period))
        return got

    with ThreadPoolExecutor(4) as pool:
        memo_at = pool.submit(file_memo, open_cache(cache), facts)
        work = pool.submit(check_facts)
        lines = {n: pool.submit(lambda s: memo_at.result().lines(s, csv_lines), s)
                 for n, s in facts.items() if s.format == "csv"}
        small = bind_result(model, tables)
    dataset, diags = small.dataset, list(small.diagnostics)
    cursor.close()
    memo = memo_at.result()
    loaded, problems = work.result()
    ids = {p.id for p in dataset.payees}
    if ids != guess:
        loaded, problems = load_facts(con, model, facts, types, ids, memo, every_field)
    problems = [*problems, *(why for n, f in lines.items() if n in loaded
                             and (why := layout_problem(facts[n].display, f.result(), loaded[n].rows)))]
    if problems:
        return _reference(model, folder, sources, tuple(problems), con)
    from .warnings import case_mismatch_warnings

    headers = {k: tuple(t) for k, t in types.items()}
    flagged = tuple(why for ft in loaded.values() for why in ft.flagged)
    worded = None
    if flagged or has_errors(diags) or has_errors(read_diags):
        # the rows with something to say, bound by the reference binder with the small tables
        from .worded import word_rows

        worded = word_rows(con, model, tables, facts, headers, loaded)
        if worded is None:
            return _reference(model, folder, sources, (*flagged, "a row reads otherwise than by the reference "
                                                       "reader (a lone CR line end, an empty row)"), con)
        diags, small = list(worded.diagnostics), worded.result
        if not has_errors(diags) and (worded.rejected or any(ft.bad for ft in loaded.values())):
            # a row the columnar typing refused and the reference accepts (its values differ)
            return _reference(model, folder, sources, flagged, con)
    kept: frozenset[RowRef] = worded.rows if worded is not None else frozenset()
    diags = sorted([*read_diags, *diags,
                    *(d for d in case_mismatch_warnings(con, model, loaded, headers)
                      if RowRef(d.span.file, d.span.line) not in kept)],
                   key=Diagnostic.sort_key)
    dataset = attrs.evolve(dataset, digest=_digest(dataset.digest, loaded))
    reasons = () if worded is None else (*flagged, f"{len(kept)} fact row(s) bound by the reference binder "
                                         "to word their problems")
    return Loaded(dataset, tuple(diags), "columnar", reasons, con, loaded, worded=kept, rejected=small.rejected,
                  summaries=_summaries(model, tables, small, read_diags, loaded), read=tuple(read_diags),
                  prefetched=[p for p in prefetched if p.tables is loaded], unread=small.unread, partly=small.partly)


def _prefetch(con: Any, model: PlanModel, tables: dict[str, FactTable], label: str,
              as_of: dt.date | None) -> list[Prefetch]:
    """``label``'s grouped aggregates on ``tables``, on the cursor ``con``; none when anything
    goes wrong (a bad period, say): the evaluation then computes them, and words what it meets."""
    from kpidsl.periods import parse_period

    h = model.header
    try:
        stage = ColumnarStage(con, tables, model, plan_context(h.precision), as_of)
        stage.compute_all(parse_period(label, h.period, h.fiscal_year_start))
    except Exception:  # computed again, and reported, by the evaluation
        return []
    return [Prefetch(label, as_of, tables, stage)]


def _summaries(model: PlanModel, tables: Mapping[str, RawTable], result: BindResult,
               read_diags: list[Diagnostic], loaded: Mapping[str, FactTable]) -> tuple[SourceSummary, ...]:
    """Rows read, accepted and rejected per source file: the small tables' from their binding,
    a fact file's from its rows in DuckDB (those rejected are among the rows bound in
    ``result``: the fact tables in ``tables`` are their headers)."""
    from kpidsl.data.bind import summarize

    rows = {ft.source.display: ft.rows for ft in loaded.values()}
    out = []
    for s in summarize(model, tables, result, read_diags):
        if s.file in rows:
            rejected = sum(1 for r in result.rejected if r.file == s.file)
            s = SourceSummary(s.file, rows[s.file], rows[s.file] - rejected, rejected)
        out.append(s)
    return tuple(out)


def _digest(small_tables: str, loaded: dict[str, FactTable]) -> str:
    """The data digest on the columnar path: the small tables' digest and, per fact table,
    the row count and an order-independent fold of the rows over the fields the plan reads
    (the sum, as a 128-bit integer, of DuckDB's ``hash()`` of each row's typed values:
    computed in the checking pass). Stable for the same data in any row order; a row
    given twice counts twice. It is a different fingerprint from the reference engine's
    (docs/performance.md)."""
    h = hashlib.sha256(small_tables.encode("utf-8"))
    for name in sorted(loaded):
        ft = loaded[name]
        h.update(f"{name}\0{ft.rows}\0{ft.fold}\0{','.join(sorted(ft.digest_columns))}\n".encode())
    return "sha256:" + h.hexdigest()


def _split(model: PlanModel, sources: dict[str, SourceFile]) -> tuple[
        dict[str, SourceFile], dict[str, SourceFile], dict[str, list[str]]]:
    """The small tables, the fact file of each kind, and the kinds with more than one file
    (``deals.csv`` and ``deal.csv``: the columnar stage reads one file per kind)."""
    from kpidsl.data.bind import route

    aux: dict[str, SourceFile] = {}
    facts: dict[str, SourceFile] = {}
    files: dict[str, list[str]] = {}
    for name, src in sources.items():
        role = route(model, name)
        if role is not None and role.startswith("fact:"):
            facts[role[5:]] = src
            files.setdefault(role[5:], []).append(src.display)
        else:
            aux[name] = src
    return aux, facts, {k: n for k, n in files.items() if len(n) > 1}


def _csv(src: SourceFile, diags: list[Diagnostic]) -> RawTable | None:
    """A small CSV table, read by the reference reader; its diagnostics go to ``diags``.
    None for a file it could not read (its error is in ``diags``): left out of the tables,
    as the reference reader leaves it out."""
    from kpidsl.data.csvread import read_csv

    table, found = read_csv(src.path, src.name, src.display)
    diags.extend(found)
    return table


def _reference(model: PlanModel, folder: Path, sources: dict[str, SourceFile],
               reasons: tuple[str, ...], con: Any = None) -> Loaded:
    """The reference reader and binder on the whole folder: every diagnostic as usual."""
    from kpidsl.data.bind import bind_result, summarize

    diags: list[Diagnostic] = []
    tables: dict[str, RawTable] = {}
    if sources and next(iter(sources.values())).format == "parquet":
        con = con or connect()
        tables = folder_tables(folder, sources, {n: raw_table(con, s) for n, s in sources.items()})
        diags.extend(unread(folder, sources))
        diags.extend(float_problems(con, model, sources))
    else:
        from kpidsl.data.csvread import read_folder

        tables, read_diags = read_folder(folder)
        diags.extend(read_diags)
    result = bind_result(model, tables)
    all_diags = tuple(sorted([*diags, *result.diagnostics], key=Diagnostic.sort_key))
    return Loaded(result.dataset, all_diags, "reference", reasons, rejected=result.rejected,
                  summaries=tuple(summarize(model, tables, result, diags)), read=tuple(diags),
                  unread=result.unread, partly=result.partly)


@attrs.define
class ColumnarRun:
    """Evaluations on loaded data; one payee's explanation is computed on demand.

    Small requests (a service asking for one payee) reuse one engine, and the
    grouped aggregate queries run once per period for everyone.
    """

    model: PlanModel
    loaded: Loaded
    period: str
    as_of: dt.date | None = None
    evaluation: EvalResult | None = None
    stage: ColumnarStage | None = None
    _engines: dict[str, Engine] = attrs.field(factory=dict)
    _batches: Any = None  # kpidsl.columnar.changes.BatchContext, from the first change

    def _stage(self) -> ColumnarStage | None:
        if self.loaded.engine == "columnar" and self.stage is None:
            ctx = plan_context(self.model.header.precision)
            # a cursor of its own: runs on one loading, each in its thread, never share a statement
            self.stage = ColumnarStage(session(self.loaded.con), self.loaded.tables, self.model, ctx, self.as_of,
                                       shared=self.loaded.shared)
            pre = self.loaded.prefetched
            if pre:  # computed while loading; only the first stage on these tables may take them
                got = pre.pop()
                if (got.period, got.as_of) == (self.period, self.as_of) and got.tables is self.loaded.tables:
                    self.stage.adopt(got.stage)
            from kpidsl.eval.facts import Hierarchy

            self.stage.hierarchy = Hierarchy(self.loaded.dataset.payees, self.loaded.dataset.history)
        return self.stage

    def _engine(self, purpose: str) -> Engine:
        """``values``: quick payee stage, trees on demand; ``explain``: trees listing the facts."""
        if purpose not in self._engines:
            stage = self._stage()
            chosen: FactStage | None = stage if purpose == "values" or stage is None else _FactsOnly(stage)
            engine = Engine(self.model, self.loaded.dataset, self.as_of, chosen, explain=purpose != "values")
            if purpose == "values":
                # made when a tree is first asked for: a run that only reads figures never
                # builds the second engine's indexes (targets, history... of every payee)
                engine.make_explainer = lambda: self._engine("explain")
            self._engines[purpose] = engine
        return self._engines[purpose]

    def evaluate(self, payees: Iterable[str] | None = None, explain: bool = False) -> EvalResult | None:
        """Evaluate (all payees, or some); None when the data has errors (nothing is paid).

        Payees' explanation trees are computed when first asked for (with the facts behind
        each aggregate), or for everyone now with ``explain=True``."""
        if isinstance(payees, str):  # its letters would be taken for payee ids
            raise TypeError(f"payees must be a list of payee ids, not a str: evaluate([{payees!r}])")
        if has_errors(self.loaded.diagnostics):
            return None
        engine = self._engine("explain" if explain else "values")
        if payees is not None:  # service use: one engine, reused across requests
            return _run(engine, self.period, sorted(set(payees)))
        self.evaluation = _run(engine, self.period, sorted(p.id for p in self.loaded.dataset.payees))
        return self.evaluation

    def explain(self, payee: str, name: str = "total") -> Explanation | None:
        """One payee's explanation with its contributing facts (fetched from DuckDB)."""
        result = _run(self._engine("explain"), self.period, [payee])
        pr = result.payees.get(payee)
        return pr.explanations.get(name) if pr is not None else None

    @property
    def fact_index(self) -> Any:
        """The facts by payee and key, fetched from DuckDB when asked for
        (``kpidsl.columnar.stage.LazyIndex``); None when the data was read by the reference."""
        stage = self._stage()
        return stage.index if stage is not None else None

    def in_chunks(self, payees: Sequence[str], size: int = 500) -> Iterator[list[str]]:
        """``payees`` a chunk at a time, for explaining everyone (a report): before a chunk is
        yielded, its facts are fetched in one query per fact table; after it, they and the
        chunk's explanation results are dropped, so that memory holds one chunk's facts,
        not every fact of the data."""
        stage = self._stage()
        ids = list(payees)
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            if stage is not None:
                stage.index.prefetch(chunk)
            yield chunk
            if stage is not None:
                stage.index.forget()
            if "explain" in self._engines:
                self._engines["explain"].forget()

    def index_facts(self) -> None:
        """Make per-payee fetches fast before the first request (a service): each Parquet file
        read in place is copied once, sorted by payee, and the facts' keys are indexed. Without
        it, the first few explanations read the files (~0.1 s each at 5M deals) and the next
        one makes the copy. Evaluations need neither: they use the grouped aggregates."""
        stage = self._stage()
        if stage is not None:
            stage.index.prepare()

    def add_facts(self, table: str, records: Sequence[Mapping[str, object]], *,
                  source: str | None = None) -> tuple[Diagnostic, ...]:
        """A service's new facts (``table``: ``deals`` or ``deal``; cells as for
        :func:`kpidsl.load_data`); the next evaluation counts them. All or nothing: any
        rejected record (bad cell, unknown payee, a key already in the data, a reference
        the plan reads through to a missing fact) raises
        :class:`~kpidsl.data.batch.FactsRejected` listing every problem, and nothing
        changes. Returns the warnings. ``source`` names the batch in diagnostics and
        explanations (default ``<deals batch N>``; record ``n`` is line ``n``)."""
        return self._change(table, records, False, source)

    def replace_facts(self, table: str, records: Sequence[Mapping[str, object]], *,
                      source: str | None = None) -> tuple[Diagnostic, ...]:
        """As :meth:`add_facts`, for corrections: each record replaces the fact with its key
        (a deal that was won, a corrected amount); a key not in the data is rejected."""
        return self._change(table, records, True, source)

    def remove_facts(self, table: str, keys: Sequence[str], *,
                     source: str | None = None) -> tuple[Diagnostic, ...]:
        """Remove the facts of ``table`` with ``keys`` (a deal created by mistake), loaded or
        changed since; the next evaluation and explanation no longer count them. All or
        nothing: a key not in the data (KPI0727) or given twice (KPI0720), or a fact left
        referring to a removed one through a reference the plan reads (KPI0722) raises
        :class:`~kpidsl.data.batch.FactsRejected` and nothing changes. Returns the warnings
        (a fact left referring to a removed one the plan does not read through)."""
        from .changes import BatchContext, remove_facts

        listed = _listed("keys", keys)  # a generator was read twice: the removal saw no key
        stage = self._stage()
        if self._batches is None:
            self._batches = BatchContext.of(self.model, self.loaded.dataset, self.loaded.unread,
                                          self.loaded.partly)
        dataset, warnings = remove_facts(self.model, self.loaded, stage, table, listed,
                                         source=source, context=self._batches)
        self.loaded = attrs.evolve(self.loaded, dataset=dataset)
        self._forget()
        if stage is None:  # the reference engine indexes the facts in memory: index again
            self._engines.clear()
        return warnings

    def _change(self, table: str, records: Sequence[Mapping[str, object]], replace: bool,
                source: str | None) -> tuple[Diagnostic, ...]:
        from .changes import BatchContext, change_facts

        # a generator was read once for the header, leaving no record: nothing was added
        listed = _listed("records", records)
        for n, record in enumerate(listed, start=1):
            if not isinstance(record, Mapping):
                raise TypeError(f"record {n} is a {type(record).__name__}, not a mapping of field "
                                "to value (a dict); nothing was changed")
        stage = self._stage()
        if self._batches is None:
            self._batches = BatchContext.of(self.model, self.loaded.dataset, self.loaded.unread,
                                          self.loaded.partly)
        dataset, warnings = change_facts(self.model, self.loaded, stage, table, listed,
                                         replace=replace, source=source, context=self._batches)
        self.loaded = attrs.evolve(self.loaded, dataset=dataset)
        self._forget()
        if stage is None:  # the reference engine indexes the facts in memory: index again
            self._engines.clear()
        return warnings

    def swap_trial_facts(self, old: Sequence[Fact], new: Sequence[Fact], payee: str) -> None:
        """what-it-takes: take back the trial facts ``old`` and add ``new``, credited to
        ``payee``. Trial facts are not checked and do not count in the data digest."""
        stage = self._stage()
        if stage is None:
            raise ValueError("trial facts need the columnar stage")
        for f in old:
            stage.overlay.discard(f.kind, f.key)
        stage.overlay.accept(list(new), {payee}, digested=False)
        # what-it-takes reads a trial's trees after putting its facts back (kpidsl.whatif)
        self._forget(stale=False)

    def keys_starting(self, kind: str, prefix: str) -> set[str]:
        """The keys of ``kind`` in the data now that start with ``prefix``: those loaded, less the
        ones removed since, and those added since (``add_facts``; what-it-takes keys its trial
        facts apart from them: a trial fact taking an added fact's key replaced it, and taking
        the trial back removed the service's fact)."""
        stage = self._stage()
        ft = stage.tables.get(kind) if stage is not None else None
        if stage is None or ft is None:
            return {f.key for f in self.loaded.dataset.facts.get(kind, ()) if f.key.startswith(prefix)}
        key = quote(ft.kind.key)
        rows = stage.con.execute(f"SELECT {key} FROM {quote(ft.table)} WHERE starts_with({key}, ?)", [prefix])
        overlay = stage.overlay
        loaded = {k for r in rows.fetchall() if not overlay.is_removed(kind, k := str(r[0]))}
        return loaded | {k for k in overlay.facts.get(kind, {}) if k.startswith(prefix)}

    def _forget(self, stale: bool = True) -> None:
        """The data changed: no cached result is current any more. ``stale``: a result handed
        out before whose trees were left for later can no longer build them (they would
        count the changed facts, not those of its figures): reading them raises
        :class:`ChangedSince`."""
        self.evaluation = None
        for engine in self._engines.values():
            if stale:
                _unexplained(engine)
            engine.forget()

    @property
    def unsupported(self) -> dict[str, str]:
        """Aggregates the columnar stage left to the reference fact stage, with the reason."""
        return dict(self.stage.unsupported) if self.stage is not None else {}


class ChangedSince(RuntimeError):
    """A payee's explanation trees, left to be built when first read, were read after the
    run's facts changed (``add_facts``, ``replace_facts``, ``remove_facts``): built now they
    would count the changed facts, not those of the result's figures. Evaluate again, or
    read the trees (or evaluate with ``explain=True``) before changing the facts."""


def _unexplained(engine: Engine) -> None:
    """Every result ``engine`` handed out whose trees are not built yet: reading them raises
    :class:`ChangedSince` (the engine keeps every result it computed until it forgets)."""
    for result in engine._cache.values():
        if result._explanations is None and result._explain is not None:
            object.__setattr__(result, "_explain", _ChangedSince(result.id))


class _ChangedSince:
    """A stale result's trees: raise :class:`ChangedSince` when read."""

    def __init__(self, payee: str) -> None:
        self.payee = payee

    def __call__(self) -> dict[str, Explanation]:
        raise ChangedSince(f"the explanations of {self.payee} were to be built when first read, and "
                           "the run's facts changed since this result was computed: evaluate again "
                           "(or read the explanations, or evaluate with explain=True, before "
                           "changing the facts)")


def _listed(what: str, items: object) -> list[Any]:
    """``records`` or ``keys`` as a list (a generator is read once); a text, a mapping or
    anything else not a collection of them is refused."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise TypeError(f"{what} must be a list of {what} (a sequence), not {type(items).__name__}; "
                        "nothing was changed")
    return list(items)


def _run(engine: Engine, period: str, ids: list[str]) -> EvalResult:
    from kpidsl.eval.errors import BAD_PERIOD
    from kpidsl.eval.result import EvalError
    from kpidsl.periods import PeriodError

    try:
        p = engine.period(period)
    except PeriodError as e:
        return EvalResult(period, {}, (EvalError("", "", BAD_PERIOD, str(e), period, None),))
    return engine.evaluate(p, ids)


class _FactsOnly:
    """A columnar stage that never answers an aggregate: the reference computes it from the facts."""

    def __init__(self, stage: ColumnarStage) -> None:
        self._index = stage.index

    @property
    def index(self) -> FactIndex:
        return self._index

    def aggregate(self, agg: ast.Aggregate, payee: str, period: Period,
                  seg: Segment) -> tuple[AggResult, Explanation] | None:
        return None

    def aggregate_value(self, agg: ast.Aggregate, payee: str, period: Period,
                        seg: Segment) -> AggResult | None:
        return None

    def aggregate_values(self, agg: ast.Aggregate, payees: list[str], period: Period,
                         seg: Segment) -> list[Decimal | None] | None:
        return None
