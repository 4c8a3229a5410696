"""Validation that needs no plan: duplicate keys, payee hierarchy, unknown payees, credit splits.

Works on rows as :class:`~.transform.Row` (text values with their source
locations), so the same checks serve ``kpidsl import`` (locations in the
original sources) and ``kpidsl validate`` without a plan (locations in the
data folder). Rejected rows are dropped from the result and reported; an
unknown manager or a manager cycle is reported but keeps its rows, as in
binding (docs/data.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Context, Decimal

from kpidsl.data.model import RowRef
from kpidsl.data.values import ValueProblem, parse_percent, shift

from . import codes
from .cells import normalize, plain
from .problems import Problem, error, warning
from .schema import FACT_KINDS, TABLES, schema_for
from .transform import Row

Tables = dict[str, list[Row]]
Seen = Mapping[str, Mapping[str, RowRef]]  # per table, the first row of each id read (kept or not)
# per table whose read a malformed record (KPI0713) stopped: its file and the last line read
Cut = Mapping[str, tuple[str, int]]
_KEY_COLUMNS = ("payee",)


def _at(row: Row, column: str, code: str, msg: str, *, rejects: bool,
        severity: str = "error") -> Problem:
    name, col = row.locate(column)
    make = error if severity == "error" else warning
    return make(code, msg, row.ref.file, line=row.ref.line, column=name, col=col,
                value=row.values.get(column, ""), sheet=row.sheet, rejects=rejects)


def _key(table: str, row: Row, key: tuple[str, ...]) -> tuple[str, ...]:
    values = [row.values.get(k, "") for k in key]
    if table == "credits" and "credit_type" in key:
        i = key.index("credit_type")
        values[i] = values[i] or row.values.get("type", "") or "split"
    return tuple(values)


def dedupe(table: str, rows: list[Row], key: tuple[str, ...]) -> tuple[list[Row], list[Problem]]:
    """Rows unique by key: the first (in source order) is kept, every later one rejected."""
    first: dict[tuple[str, ...], Row] = {}
    kept: list[Row] = []
    problems: list[Problem] = []
    for row in rows:
        k = _key(table, row, key)
        if k in first:
            f = first[k]
            msg = (f"duplicate {table} key {'/'.join(k)} (first at {f.ref.file} "
                   f"{'row' if f.sheet else 'line'} {f.ref.line}); the row was rejected")
            problems.append(_at(row, key[0], codes.DUPLICATE_KEY, msg, rejects=True))
            continue
        first[k] = row
        kept.append(row)
    return kept, problems


def _hierarchy(payees: list[Row]) -> list[Problem]:
    ids = {r.values["id"]: r for r in payees}
    problems: list[Problem] = []
    for row in payees:
        m = row.values.get("manager", "")
        if m and m not in ids:
            problems.append(_at(row, "manager", codes.UNKNOWN_MANAGER,
                                f"manager '{m}' of payee {row.values['id']} is not a payee; "
                                "the row is kept (so the payee's facts are not rejected too) "
                                "but the data cannot be paid until it is fixed",
                                rejects=False))
    reported: set[str] = set()
    for start in sorted(ids):
        path: list[str] = []
        node = start
        while node in ids and node not in path and node not in reported:
            path.append(node)
            node = ids[node].values.get("manager", "")
        if node in path:
            cycle = path[path.index(node):]
            reported |= set(cycle)
            first = min(cycle)
            i = cycle.index(first)
            ring = [*cycle[i:], *cycle[:i], first]
            problems.append(_at(ids[first], "manager", codes.MANAGER_CYCLE,
                                f"manager cycle: {' → '.join(ring)}", rejects=False))
    return problems


def _payee_refs(table: str, rows: list[Row], payees: set[str]) -> tuple[list[Row], list[Problem]]:
    kept: list[Row] = []
    problems: list[Problem] = []
    for row in rows:
        p = row.values.get("payee", "")
        if p and p not in payees:
            problems.append(_at(row, "payee", codes.UNKNOWN_PAYEE,
                                f"unknown payee '{p}' (not in payees); the row was rejected",
                                rejects=True))
            continue
        kept.append(row)
    return kept, problems


_CTX = Context(prec=60)


def _share(row: Row) -> Decimal:
    try:
        return parse_percent(normalize(row.values.get("share", "")))
    except ValueProblem:
        return Decimal(0)


def _credits(rows: list[Row], tables: Tables, seen: Seen) -> tuple[list[Row], list[Problem]]:
    splits: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        splits.setdefault((row.values.get("kind", ""), row.values.get("fact", "")), []).append(row)
    problems: list[Problem] = []
    kept: list[Row] = []
    for (kind, fact), group in splits.items():
        total = Decimal(0)
        for r in group:
            if (r.values.get("credit_type") or r.values.get("type") or "split") == "split":
                total = _CTX.add(total, _share(r))
        if total == 1:
            kept += group
            continue
        for r in group:
            problems.append(_at(r, "share", codes.SPLIT_NOT_100,
                                f"split shares of {kind} {fact} sum to {plain(shift(total, 2))}%, not 100%; "
                                "the row was rejected", rejects=True))
    problems += _unknown_facts(kept, tables, seen)
    return kept, problems


def _missing(what: str, key: str, table: str, seen: Seen, cut: Cut | None = None) -> str:
    """``deal 'D2' is not in deals``, and why when a row of that id was read but rejected;
    ``deal 'D3' could not be checked: data/deals.csv was read only up to line 3 (see its
    error)`` when a malformed record stopped the read of ``table`` before the key was met."""
    ref = seen.get(table, {}).get(key)
    if ref is None and cut is not None and table in cut:
        file, line = cut[table]
        return f"{what} '{key}' could not be checked: {file} was read only up to line {line} (see its error)"
    why = f": its row was rejected ({ref.file} line {ref.line})" if ref is not None else ""
    return f"{what} '{key}' is not in {table}{why}"


def _seen(tables: Tables) -> dict[str, dict[str, RowRef]]:
    out: dict[str, dict[str, RowRef]] = {}
    for name, rows in tables.items():
        ids = out.setdefault(name, {})
        for r in rows:
            if (key := r.values.get("id", "")):
                ids.setdefault(key, r.ref)
    return out


def _unknown_facts(rows: list[Row], tables: Tables, seen: Seen) -> list[Problem]:
    out = []
    stems = {v: k for k, v in FACT_KINDS.items()}
    ids: dict[str, set[str]] = {}  # each table's ids once (not once per credit row)
    for row in rows:
        kind = row.values.get("kind", "")
        stem = stems.get(kind, kind)
        if stem in tables and stem not in ids:
            ids[stem] = {r.values.get("id", "") for r in tables[stem]}
        if stem in tables and row.values.get("fact", "") not in ids[stem]:
            fact = row.values.get("fact", "")
            ref = seen.get(stem, {}).get(fact)
            why = f": its row was rejected ({ref.file} line {ref.line})" if ref is not None else ""
            out.append(_at(row, "fact", codes.UNKNOWN_CREDIT_FACT,
                           f"credit for unknown {kind} '{fact}'{why}", rejects=False))
    return out


def validate(tables: Tables, keys: Callable[[str], tuple[str, ...]] | None = None,
             rejected: Seen | None = None, cut: Cut | None = None) -> tuple[Tables, list[Problem]]:
    """The rows that pass the generic checks, and a problem for every one that does not.

    ``rejected``: per table, the ids of rows the caller rejected before (a bad cell, a
    ragged row) and where: a reference to one says that its row was rejected, as does a
    reference to a row these checks reject, rather than that no such row exists.
    ``cut``: per table, its file and the last line read when a malformed record stopped the
    read: a reference to a key not read may be to a row after it, so it could not be checked."""
    seen = _seen(tables)
    for table, refs in (rejected or {}).items():
        for read_id, ref in refs.items():
            seen.setdefault(table, {}).setdefault(read_id, ref)
    problems: list[Problem] = []
    out: Tables = {}
    for name in sorted(tables):
        key = keys(name) if keys else schema_for(name).key
        rows = tables[name]
        if name not in TABLES and rows and not all(k in rows[0].values for k in key):
            # a table of the plan's own kind without an `id` column: without the plan its key
            # is unknown, so no row is a repeat (every row after the first was, of "")
            out[name] = list(rows)
            continue
        out[name], found = dedupe(name, rows, key)
        problems += found
    if "payees" in out:
        problems += _hierarchy(out["payees"])
        ids = {r.values.get("id", "") for r in out["payees"]}
        for name in sorted(out):
            if name != "payees":
                out[name], found = _payee_refs(name, out[name], ids)
                problems += found
    if "credits" in out:
        out["credits"], found = _credits(out["credits"], out, seen)
        problems += found
    if "collections" in out and "deals" in out:
        deals = {r.values.get("id", "") for r in out["deals"]}
        problems += [_at(r, "deal", codes.DANGLING_REFERENCE,
                         _missing("deal", r.values.get("deal", ""), "deals", seen, cut), rejects=False,
                         severity="warning")
                     for r in out["collections"] if r.values.get("deal", "") not in deals]
    return out, problems
