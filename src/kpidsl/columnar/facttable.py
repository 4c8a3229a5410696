"""Typing and checking a fact table inside DuckDB, without a Python object per row.

Each declared field is typed in SQL with the reference binder's rules (the
same number pattern, ISO dates, the six boolean words); a row whose cell would
be rejected (bad number, bad date, empty required cell, surrounding
whitespace, a line break) is marked ``_bad``. Duplicate keys, unknown payees
and dangling references are SQL checks. Any problem sends the data to the
reference binder, which reports every bad row with file, line, column, value
and reason exactly as without DuckDB.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from kpidsl.model import PAYEE_TYPE, KindSchema

from .cache import Cache, Memo
from .cells import COLUMNAR_TYPES, SCALE, WIDE, Helpers, _scale_expr, _typed
from .sources import (
    SourceFile,
    column_types,
    file_stamp,
    float_columns,
    literal,
    out_of_memory,
    quote,
    relation_sql,
)


def used_fields(model: Any) -> dict[str, set[str]]:
    """Fields the plan reads, by kind (``collection.deal.product`` reads deal.product too)."""
    from kpidsl import ast

    out: dict[str, set[str]] = {}
    defs: list[object] = list(model.base.values())
    for block in model.overrides:
        defs.extend(block.body)
    stack = list(defs)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Field):
            kind = model.kinds.get(node.kind)
            out.setdefault(node.kind, set()).add(node.path[0])
            if kind is not None and len(node.path) > 1:
                out.setdefault(kind.fields.get(node.path[0], ""), set()).add(node.path[1])
        elif isinstance(node, (tuple, list)):
            stack.extend(node)
        else:
            stack.extend(getattr(node, a.name) for a in getattr(type(node), "__attrs_attrs__", ()))
    return out



@attrs.frozen
class FactTable:
    """A typed fact table in DuckDB: its SQL name, kind, source and decimal scale per field.

    ``fold`` is the order-independent sum of the rows' hashes over ``columns`` (the data
    digest's part for this table, computed in the checking pass). A Parquet file whose
    kept columns are natively typed is not copied: ``table`` is then a view over the file
    (``view``: column and SQL, ``_row`` its row number), read again on each use, and
    ``stamp`` (:func:`~.sources.file_stamp`) is the file's when it was checked."""

    table: str
    kind: KindSchema
    source: SourceFile
    scales: dict[str, int]
    rows: int
    columns: frozenset[str] = frozenset()
    fold: int = 0
    view: tuple[tuple[str, str], ...] = ()
    relation: str = ""
    stamp: tuple[int, ...] = (0, 0)
    row_scales: frozenset[str] = frozenset()  # fields with a ``_sc_<field>`` column: each row's scale
    content: str = ""  # what the table holds, as a cache key part ("" when not known)
    file: Path | None = None  # the file a view reads when it is not the source: its typed copy
    # the fields ``fold`` hashes (the plan's, with key, payee and references); ``columns``
    # may hold more (every field, for a report that shows facts in full)
    digested: frozenset[str] | None = None
    # what the checks found about some rows (bad cells, duplicate keys, unknown payees,
    # references to missing facts), worded by the reference binder from those rows alone
    # (:mod:`.worded`); their positions are in the table :func:`flag_table` names
    flagged: tuple[str, ...] = ()
    bad: int = 0  # rows with a cell that does not type (the columnar values of those rows are not the reference's)

    @property
    def digest_columns(self) -> frozenset[str]:
        """The fields the data digest's fold covers."""
        return self.columns if self.digested is None else self.digested

    @property
    def read_path(self) -> Path:
        """The file a view reads (the source, or its typed copy in the cache)."""
        return self.file or self.source.path

    @property
    def line(self) -> str:
        """The SQL of a row's 0-based position in its file (line minus 2)."""
        return "_row" if self.view else "rowid"


def unsupported_fields(kind: KindSchema) -> list[str]:
    """Fields the columnar typing does not handle (percent and count cells, custom types)."""
    ok = (*COLUMNAR_TYPES, PAYEE_TYPE)
    return [f for f, t in kind.fields.items() if t not in ok and t not in _kind_names(kind)]


def _kind_names(kind: KindSchema) -> tuple[str, ...]:
    return tuple(kind.references().values())


def load_fact_table(con: Any, kind: KindSchema, src: SourceFile, optional: tuple[str, ...],
                    used: set[str] | None = None, types: dict[str, str] | None = None,
                    memo: Memo | None = None, every_field: bool = False) -> tuple[FactTable | None, list[str]]:
    """Create ``f_<kind>`` typed from ``src``; problems (as text) mean: use the reference binder.

    Only ``used`` fields (with the key, payee and reference fields) are kept, or with
    ``every_field`` every field (the digest's fold still covers only those); every
    field is still checked, text fields that are kept also for surrounding space.
    ``types`` are the source's column types when already known (:func:`column_types`).
    With a ``memo`` that knows the file's content, the typed table and the checks' results
    are kept in (and found again in) its cache.
    """
    digested = set(kind.fields) if used is None else {*used, kind.key, *kind.references(),
                                                       *(f for f, t in kind.fields.items() if t == PAYEE_TYPE)}
    keep = set(kind.fields) if every_field else digested
    types = column_types(con, src) if types is None else types
    floats = float_columns(types)
    if floats:
        return None, [f"{src.display}: floating-point column(s) {', '.join(floats)} cannot hold "
                      "exact decimals"]
    missing = [f for f in kind.fields if f not in types and f not in optional]
    if missing:
        return None, [f"{src.display}: missing column(s) {', '.join(missing)}"]
    selects: list[tuple[str, str]] = []
    bads, scale_cols, fixed, helpers = [], [], {}, []
    for n, (field, ftype) in enumerate(kind.fields.items()):
        native = types.get(field, "VARCHAR").upper()
        cell = quote(field) if field in types else "CAST(NULL AS VARCHAR)"
        typed, bad, helper = _typed(cell, _value_type(kind, ftype), native, field not in optional,
                                    field in keep, src.format == "csv", f"__kpi_{n}")
        helpers.extend(helper)
        if field in keep:
            selects.append((field, typed))
        bads.append(bad)
        if _value_type(kind, ftype) in ("money", "number") and field in keep:
            if native == "VARCHAR":  # the scale as written, per row (dropped after the checks)
                scale_cols.append(field)
                selects.append(("_sc_" + field, f"CAST(least({_scale_expr(cell, native)}, 255) AS UTINYINT)"))
            else:  # the column type's own scale
                fixed[field] = int(_scale_expr(cell, native))
    kept = [f for f in kind.fields if f in keep]
    c = Checking(f"f_{kind.name}", kind, src, scale_cols, kept, None, columns=tuple(types),
                 digested=tuple(f for f in kept if f in digested))
    return _create(con, c, selects, ("_bad", f"({' OR '.join(bads)})"), helpers, fixed, memo or Memo())


def _create(con: Any, c: Checking, selects: list[tuple[str, str]], bad: tuple[str, str], helpers: Helpers,
            fixed: dict[str, int], memo: Memo) -> tuple[FactTable | None, list[str]]:
    """Natively typed Parquet: a view over the file (no copy); otherwise a typed table, or
    with a cache a typed copy in Parquet, read as a view like a natively typed file."""
    src = c.source
    if src.format == "parquet" and not helpers and not c.scale_cols and "file_row_number" not in c.columns:
        src = attrs.evolve(src, path=src.path.resolve())  # read again later, whatever the directory
        return _as_view(con, c, src, src.path, (("_row", "file_row_number"), *selects), bad, fixed, memo,
                        memo.content(c.source))
    cols = ", ".join(f"{e} AS {quote(n)}" for n, e in (*selects, bad))

    def typed_by(parses: Helpers) -> str:
        rel = relation_sql(src)
        if parses:  # each parse once: the typed value and the row check both read it
            rel = f"(SELECT *, {', '.join(f'{e} AS {a}' for a, e in parses)} FROM {rel})"
        return f"SELECT {cols} FROM {rel}"

    typing = typed_by(helpers)
    if memo.content(src) and memo.cache is not None and "file_row_number" not in dict(selects):
        # the key: the file's bytes and the typing SQL, whatever the file's name or folder.
        # Bytes seen for the first time are typed in memory (writing the copy costs more);
        # a re-run writes the copy, and later runs read it in place. The checks' results are
        # kept from the first run: the table in memory and the copy hold the same rows.
        nameless = typing.replace(relation_sql(src), relation_sql(attrs.evolve(src, path=Path("<file>"))))
        key = memo.cache.key("typed", memo.content(src), nameless)
        columns = (("_row", "file_row_number"), *((n, quote(n)) for n, _ in selects))
        bad_column = ("_bad", quote("_bad"))
        c = attrs.evolve(c, content=_view_content(memo.cache, "typed:" + key, columns, bad_column[1]))
        # the copy stores each number column as narrowly as the first run's checks allow (the
        # same values; 64-bit decimals read and sum faster than DECIMAL(38, 12)): its own key.
        # The cells are parsed to that type (a cast of the wide value costs more than the parse)
        narrow = _narrowed(c, memo)
        stored = typed_by(_narrow_parses(helpers, c.kind, dict(narrow))) if narrow else typing
        got = memo.cache.typed(memo.cache.key("copy", key, repr(narrow)), lambda out: con.execute(
            f"COPY ({stored}) TO {literal(str(out))} (FORMAT parquet, COMPRESSION zstd)"), make=memo.cache.seen(key))
        if got is not None:
            copy = got[0]
            return _as_view(con, c, SourceFile(src.name, copy, "parquet", src.display), copy, columns,
                            bad_column, fixed, memo, "typed:" + key)
    total = con.execute(f"CREATE OR REPLACE TABLE {quote(c.table)} AS {typing}").fetchone()[0]
    return _check(con, attrs.evolve(c, total=int(total)), fixed, memo)


NARROW = 18  # digits of a DECIMAL DuckDB stores in 64 bits


def _narrowed(c: Checking, memo: Memo) -> tuple[tuple[str, str], ...]:
    """The number columns parsed from text (``c.scale_cols``, typed ``DECIMAL(38, 12)``) that
    fit ``DECIMAL(18, s)``, ``s`` their most decimal places, with that type: from the checking
    pass's results for these rows, kept by an earlier run (none when there are none yet).
    Every value then has at most ``s`` places and fewer than ``18 - s`` digits before the
    point: stored so, it is the same value."""
    row = memo.peek(("check", c.content, memo.payees, _check_query(c)))
    if row is None:
        return ()
    n = len(c.scale_cols)
    out = []
    for i, field in enumerate(c.scale_cols):
        places, largest = row[1 + i], row[1 + 2 * n + i]
        if not isinstance(places, int) or not isinstance(largest, str) or not 0 <= places <= SCALE:
            continue
        whole = max(Decimal(largest).adjusted() + 1, 1)
        if whole + places <= NARROW:
            out.append((field, f"DECIMAL({NARROW},{places})"))
    return tuple(out)


def _narrow_parses(helpers: Helpers, kind: KindSchema, narrow: dict[str, str]) -> Helpers:
    """``helpers`` with the parse of each field of ``narrow`` (``__kpi_<n>_v``, the field's
    position: :func:`load_fact_table`) to that type instead of ``DECIMAL(38, 12)``: the same
    value, as the first run's checks of these bytes found (:func:`_narrowed`)."""
    wide = f"AS {WIDE})"  # the parse :func:`.cells._typed` writes
    by_alias = {quote(f"__kpi_{n}_v"): field for n, field in enumerate(kind.fields)}
    out = []
    for alias, expr in helpers:
        field = by_alias.get(alias)
        if field in narrow and expr.count(wide) == 1:
            expr = expr.replace(wide, f"AS {narrow[field]})")
        out.append((alias, expr))
    return out


def _view_content(cache: Cache, content: str, view: tuple[tuple[str, str], ...], bad: str) -> str:
    """The cache key part naming what a view with these columns over ``content`` holds."""
    return cache.key("view", content, repr(view), bad)


def _as_view(con: Any, c: Checking, read: SourceFile, path: Path, view: tuple[tuple[str, str], ...],
             bad: tuple[str, str], fixed: dict[str, int], memo: Memo, content: str) -> tuple[FactTable | None,
                                                                                             list[str]]:
    """``c.table`` as a view over the Parquet file ``read`` (the source, or its typed copy at
    ``path``), checked; ``content`` names what the view holds (a cache key part, or "")."""
    stamp, rel = file_stamp(path, source=path == c.source.path.resolve()), relation_sql(read, rows=True)
    define_view(con, c.table, rel, (*view, bad))
    if content:
        content = _view_content(memo.cache, content, view, bad[1]) if memo.cache is not None else ""
    file = path if path != c.source.path.resolve() else None
    return _check(con, attrs.evolve(c, view=view, relation=rel, stamp=stamp, content=content, file=file,
                                    source=c.source if file else read), fixed, memo)


def define_view(con: Any, name: str, relation: str, columns: tuple[tuple[str, str], ...]) -> None:
    """``name`` as a view over ``relation`` with ``columns`` (name, SQL)."""
    cols = ", ".join(f"{e} AS {quote(n)}" for n, e in columns)
    con.execute(f"CREATE OR REPLACE VIEW {quote(name)} AS SELECT {cols} FROM {relation}")


@attrs.frozen
class Checking:
    """A freshly created fact table and what its checking pass needs to know."""

    table: str
    kind: KindSchema
    source: SourceFile
    scale_cols: list[str]
    kept: list[str]
    total: int | None  # None: a view, counted in the checking pass
    columns: tuple[str, ...] = ()  # the file's columns
    view: tuple[tuple[str, str], ...] = ()
    relation: str = ""
    stamp: tuple[int, ...] = (0, 0)
    content: str = ""  # what the table holds, as a cache key part ("" when not known)
    file: Path | None = None  # the file the view reads, when not the source (its typed copy)
    digested: tuple[str, ...] | None = None  # the fields the fold covers (None: every kept one)


PART_ROWS = 1_000_000  # when keys are counted themselves, in parts of about this size
KEY_HASH = "hash({key})"  # the 64-bit hash of a key (SQL; tests fake hash collisions with it)


def _check_query(c: Checking) -> str:
    """The checking pass's query: bad rows; per number column parsed from text its most and
    fewest decimal places and its largest magnitude (as text); unknown payees; the digest's
    fold; the rows."""
    kind = c.kind
    items = ["count(*) FILTER (WHERE _bad)", *(f"max({quote('_sc_' + f)})" for f in c.scale_cols),
             *(f"min({quote('_sc_' + f)}) FILTER (WHERE {quote(f)} IS NOT NULL)" for f in c.scale_cols),
             *(f"CAST(max(abs({quote(f)})) AS VARCHAR)" for f in c.scale_cols),
             *(f"count(*) FILTER (WHERE {_unknown_payee(f)})" for f in _payee_fields(kind)),
             fold_sql(list(c.kept if c.digested is None else c.digested),
                      frozenset(f for f, ftype in kind.fields.items() if _value_type(kind, ftype) in NUMBERS)),
             "count(*)"]
    return f"SELECT {', '.join(items)} FROM {quote(c.table)}"


def _payee_fields(kind: KindSchema) -> list[str]:
    return [f for f, ftype in kind.fields.items() if ftype == PAYEE_TYPE]


def _check(con: Any, c: Checking, fixed: dict[str, int], memo: Memo) -> tuple[FactTable | None, list[str]]:
    """One aggregate pass (bad rows, scales, unknown payees, the digest fold), then the keys
    (their results kept in ``memo``'s cache when what the table holds is known)."""
    t, key, src, kind = quote(c.table), quote(c.kind.key), c.source, c.kind
    payee_fields = _payee_fields(kind)
    query = _check_query(c)
    row = memo(("check", c.content, memo.payees, query), functools.partial(_row, con, query))
    bad, total = int(row[0]), int(row[-1]) if c.total is None else c.total
    n_sc = len(c.scale_cols)
    got_varchar, fewest = row[1:1 + n_sc], row[1 + n_sc:1 + 2 * n_sc]
    unknown = row[1 + 3 * n_sc:1 + 3 * n_sc + len(payee_fields)]
    distinct = int(memo(("distinct", c.content, t, key, str(total)),
                        lambda: [_distinct(con, t, key, total)])[0])
    flagged = []
    line = "_row" if c.view else "rowid"
    if bad:
        first = con.execute(f"SELECT min({line}) FROM {t} WHERE _bad").fetchone()[0]
        flagged.append(f"{src.display}: {bad} row(s) fail typed parsing (first on line {int(first) + 2})")
    if distinct != total:
        flagged.append(f"{src.display}: {total - distinct} duplicate {kind.name} key(s)")
    for field, n in zip(payee_fields, unknown, strict=True):
        if n:
            flagged.append(f"{src.display}: {n} row(s) name an unknown payee in {field}")
    written = {f: int(v or 0) for f, v in zip(c.scale_cols, got_varchar, strict=True)}
    got = {f: written[f] if f in written else (fixed[f] if total else 0)
           for f in c.kept if f in written or f in fixed}
    if any(v > SCALE for v in got.values()):
        return None, [*flagged, f"{src.display}: more than {SCALE} decimal places"]
    if flagged:  # the rows to word: bad ones, unknown payees, every row of a repeated key
        conditions = ["_bad" if bad else "false",
                      *(_unknown_payee(f) for f, n in zip(payee_fields, unknown, strict=True) if n)]
        if distinct != total:
            conditions.append(f"{key} IN (SELECT {key} FROM {t} WHERE {key} IS NOT NULL "
                              f"GROUP BY {key} HAVING count(*) > 1)")
        con.execute(f"CREATE OR REPLACE TABLE {quote(flag_table(kind.name))} AS "
                    f"SELECT {line} AS r FROM {t} WHERE {' OR '.join(conditions)}")
    # a column whose cells were written with different numbers of decimals keeps each row's
    # (the reference keeps each cell's own: ``50000`` and ``49999.5``)
    mixed = frozenset(f for f, lo, hi in zip(c.scale_cols, fewest, got_varchar, strict=True)
                      if lo is not None and lo != hi)
    if c.view:
        c = attrs.evolve(c, view=tuple(v for v in c.view if not v[0].startswith("_sc_") or v[0][4:] in mixed))
        define_view(con, c.table, c.relation, c.view)
    for name in () if c.view else ("_bad", *(f"_sc_{f}" for f in c.scale_cols if f not in mixed)):
        con.execute(f"ALTER TABLE {t} DROP COLUMN {quote(name)}")
    return FactTable(c.table, kind, src, got, total, frozenset(c.kept), int(row[-2] or 0),
                     c.view, c.relation, c.stamp, mixed, c.content, c.file,
                     None if c.digested is None else frozenset(c.digested), tuple(flagged), bad), []


def _unknown_payee(field: str) -> str:
    """SQL: the row's payee field names no payee of ``_payees``."""
    return f"({quote(field)} IS NOT NULL AND {quote(field)} NOT IN (SELECT id FROM _payees))"


def flag_table(kind: str) -> str:
    """The table of the rows of ``kind`` whose problems are worded by the reference (``r``: the
    row's 0-based position in its file)."""
    return f"_flag_{kind}"


def _row(con: Any, query: str) -> list[Any]:
    """A query's one result row."""
    return list(con.execute(query).fetchone())


NUMBERS = ("money", "number")  # fact fields typed as decimals (cells.py)


def fold_sql(columns: list[str], numbers: frozenset[str] = frozenset()) -> str:
    """The digest's fold of a table: the sum of DuckDB's ``hash()`` (an unsigned 64-bit
    integer) of each row's values over ``columns`` in name order; DuckDB sums 64-bit
    integers into a HUGEINT, so the sum is exact (no overflow, no cast per row). Independent
    of row order; unlike XOR, a row given twice does not cancel out.

    DuckDB hashes a decimal by its stored integer, which depends on the column's type: the
    ``numbers`` are hashed as the DECIMAL(38, 12) that a CSV cell is typed to, so the same
    amounts give the same digest from a CSV file and from a Parquet DECIMAL(18, 2) column."""
    cols = (f"CAST({quote(f)} AS DECIMAL(38,{SCALE}))" if f in numbers else quote(f) for f in sorted(columns))
    return f"sum(hash({', '.join(cols)}))"


def _distinct(con: Any, t: str, key: str, total: int) -> int:
    """``count(DISTINCT key)``, exact. First the 64-bit hashes of the non-empty keys are
    checked for repeats (:func:`_distinct_hashes`): as many distinct hashes as rows means
    every key is present and distinct. Otherwise (an empty key, a duplicate, or a hash
    collision) the keys themselves are counted."""
    if _distinct_hashes(con, t, key) == total:
        return total
    parts = max(1, -(-total // PART_ROWS))
    if parts == 1:
        return int(con.execute(f"SELECT count(DISTINCT {key}) FROM {t}").fetchone()[0])
    return sum(int(con.execute(f"SELECT count(DISTINCT {key}) FROM {t} WHERE hash({key}) % {parts} = {i}")
                   .fetchone()[0]) for i in range(parts))


def _distinct_hashes(con: Any, t: str, key: str) -> int:
    """The number of distinct 64-bit hashes of the non-empty keys: the hashes are sorted
    and each one equal to the one before it is a repeat (one statement; a sort of 8-byte
    integers is cheaper than a hash table of them, in time and in memory)."""
    h = KEY_HASH.format(key=key)
    return int(con.execute(f"SELECT count(*) - count(*) FILTER (WHERE h = p) FROM (SELECT h, lag(h) OVER "
                           f"(ORDER BY h) AS p FROM (SELECT {h} AS h FROM {t} WHERE {key} IS NOT NULL))")
               .fetchone()[0])


def dangling(con: Any, tables: dict[str, FactTable], memo: Memo | None = None) -> list[str]:
    """References to facts that are not in the data: the referring rows are flagged (their
    warning or error is worded by the binder, :mod:`.worded`) and ``tables`` updated. The
    problems returned (as text) mean: use the reference binder. That is a reference to a kind
    that has no file at all, which the binder words with a count of every referring row."""
    problems = []
    memo = memo or Memo()
    for name, ft in list(tables.items()):
        for field, target in sorted(ft.kind.references().items()):
            other = tables.get(target)
            if other is None:
                problems.append(f"{ft.source.display}: {field} refers to {target} facts, and the data "
                                f"has no {target} table")
                continue
            anti = (f"FROM {quote(ft.table)} f ANTI JOIN {quote(other.table)} o "
                    f"ON f.{quote(field)} = o.{quote(other.kind.key)} WHERE f.{quote(field)} IS NOT NULL")
            query = f"SELECT count(*) {anti}"
            n = memo(("dangling", ft.content, other.content, query), functools.partial(_row, con, query))[0]
            if n:
                flags = quote(flag_table(name))
                rows = f"SELECT f.{ft.line} AS r {anti}"
                if ft.flagged:
                    con.execute(f"INSERT INTO {flags} {rows} EXCEPT SELECT r FROM {flags}")
                else:
                    con.execute(f"CREATE OR REPLACE TABLE {flags} AS {rows}")
                ft = tables[name] = attrs.evolve(ft, flagged=(
                    *ft.flagged, f"{ft.source.display}: {n} reference(s) in {field} to a missing {target}"))
    return problems


def load_facts(con: Any, model: Any, facts: dict[str, SourceFile], types: dict[str, dict[str, str]],
               payee_ids: Collection[str], memo: Memo | None = None,
               every_field: bool = False) -> tuple[dict[str, FactTable], list[str]]:
    """Every fact table of ``facts`` (kind -> file) typed and checked against ``payee_ids``,
    then the references between them; problems (as text) mean: use the reference binder.
    ``types`` are each file's column types (:func:`column_types`); ``memo`` keeps the work
    in a cache (see :func:`file_memo`)."""
    import hashlib

    from kpidsl.data.facts import optional_fields

    ids = sorted(payee_ids)
    memo = attrs.evolve(memo or Memo(), payees=hashlib.sha256("\0".join(ids).encode()).hexdigest())

    con.execute("CREATE OR REPLACE TABLE _payees AS SELECT unnest(CAST(? AS VARCHAR[])) AS id",
                [ids])
    loaded: dict[str, FactTable] = {}
    problems: list[str] = []
    used = used_fields(model)
    for kind_name, src in facts.items():
        kind = model.kinds[kind_name]
        odd = unsupported_fields(kind)
        if odd:
            problems.append(f"{src.display}: field(s) {', '.join(odd)} are typed by the reference")
            continue
        try:
            ft, why = load_fact_table(con, kind, src, optional_fields(kind), used.get(kind_name, set()),
                                      types[kind_name], memo, every_field)
        except Exception as exc:  # a DuckDB read error (ragged row, encoding...): the reference words it
            if out_of_memory(exc):
                raise
            ft, why = None, [f"{src.display}: {type(exc).__name__}: {str(exc).splitlines()[0]}"]
        problems.extend(why)
        if ft is not None:
            loaded[kind_name] = ft
    return loaded, problems or dangling(con, loaded, memo)


def _value_type(kind: KindSchema, ftype: str) -> str:
    if ftype == PAYEE_TYPE or ftype in _kind_names(kind):
        return "text"
    return ftype
