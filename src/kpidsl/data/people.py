"""Binding ``payees`` and ``payee_history``: ids, the manager hierarchy, dated changes."""

from __future__ import annotations

import datetime as dt

from kpidsl.diagnostics import Diagnostic, Label, error

from . import codes
from .model import HistoryRow, Payee, RawRow, RawTable
from .tableview import (
    KeyIndex,
    Sink,
    View,
    check_columns,
    check_shape,
    empty_required,
    invalid,
    typed,
)
from .values import parse_date

PAYEE_COLUMNS = ("id", "name", "role", "region", "manager")
HISTORY_COLUMNS = ("payee", "attribute", "value", "effective_from")


def bind_payees(
    tables: list[RawTable], sink: Sink, views: dict[str, tuple[View, RawRow]] | None = None
) -> dict[str, Payee]:
    """Payees by id; duplicates are rejected citing the first, managers and cycles checked.

    ``views``, if given, is filled with where each accepted payee's row is.
    """
    payees: dict[str, Payee] = {}
    views = {} if views is None else views
    keys = KeyIndex()
    for table in tables:
        view = View(table)
        # Any other column is a custom attribute, so nothing is "extra" here.
        if not check_columns(view, ("id",), table.header, sink, "payees"):
            continue
        _payee_rows(view, check_shape(view, sink), keys, sink, payees, views)
    _check_managers(payees, views, sink)
    _check_cycles(payees, views, sink)
    return payees


def _payee_rows(
    view: View,
    rows: list[RawRow],
    keys: KeyIndex,
    sink: Sink,
    payees: dict[str, Payee],
    views: dict[str, tuple[View, RawRow]],
) -> None:
    """Bind one table's rows in order. A row with a new, non-empty id is taken here as
    :func:`_payee` would take it; any other row goes through :func:`_payee`, which reports it.
    The rows passed check_shape: each has a cell per column."""
    id_at, name_at = view.index["id"], view.index.get("name")
    # every other column is an attribute, in header order
    attributes = tuple((c, i) for i, c in enumerate(view.table.header) if c not in ("id", "name"))
    first = keys.first
    for row in rows:
        cells = row.cells
        pid = cells[id_at]
        if pid and (pid,) not in first:
            first[(pid,)] = where = (view, row)
            name = cells[name_at] if name_at is not None else ""
            payees[pid] = Payee(pid, name or pid, {c: cells[i] for c, i in attributes}, row.ref)
            views[pid] = where
            continue
        payee = _payee(view, row, keys, sink)
        if payee is not None:
            payees[payee.id] = payee
            views[payee.id] = (view, row)


def _payee(view: View, row: RawRow, keys: KeyIndex, sink: Sink) -> Payee | None:
    pid = view.text(row, "id")
    if not pid:
        sink.reject(row, empty_required(view, row, "id"))
        return None
    dup = keys.duplicate(view, row, (pid,), "id", "payee id")
    if dup is not None:
        sink.reject(row, dup)
        return None
    # check_shape passed the row: a cell per column, column names unique
    attributes = {c: v for c, v in zip(view.table.header, row.cells, strict=True) if c not in ("id", "name")}
    return Payee(pid, view.text(row, "name") or pid, attributes, row.ref)


def _check_managers(
    payees: dict[str, Payee], views: dict[str, tuple[View, RawRow]], sink: Sink
) -> None:
    """An unknown manager is an error; the row is kept so facts still find the payee."""
    for pid in sorted(payees):
        manager = payees[pid].attrs.get("manager", "")
        if manager and manager not in payees:
            view, row = views[pid]
            reason = "no payee has this id (leave it empty for the top of the hierarchy)"
            sink.add(invalid(view, row, "manager", reason, codes.UNKNOWN_MANAGER))


# Who manages whom, and the row that says so: payee -> (manager, view, row).
_Edges = dict[str, tuple[str, View, RawRow]]


def _payee_edges(payees: dict[str, Payee], views: dict[str, tuple[View, RawRow]]) -> _Edges:
    out: _Edges = {}
    for pid, payee in payees.items():
        manager = payee.attrs.get("manager", "")
        if manager:
            out[pid] = (manager, *views[pid])
    return out


def _cycles(edges: _Edges) -> list[list[str]]:
    """Every cycle of the manager relation once, starting at its smallest id."""
    done: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path.append(node)
            node = edges[node][0] if node in edges else None
        if node is not None and node in path:
            members = path[path.index(node) :]
            first = members.index(min(members))
            found.append(members[first:] + members[:first])
        done.update(path)
    return found


def _check_cycles(
    payees: dict[str, Payee], views: dict[str, tuple[View, RawRow]], sink: Sink
) -> None:
    """Report each manager cycle of payees.csv once, at its smallest id, naming every member."""
    edges = _payee_edges(payees, views)
    for members in _cycles(edges):
        sink.add(_cycle(members, edges, None))


def _cycle(members: list[str], edges: _Edges, since: dt.date | None) -> Diagnostic:
    """The cycle error: at the first member's manager cell, the other rows as labels."""
    _, view, row = edges[members[0]]
    when = f" from {since.isoformat()}" if since is not None else ""
    if len(members) == 1:
        msg = f"{members[0]} is their own manager{when} ({view.where(row, _manager_column(view))})"
    else:
        chain = " → ".join([*members, members[0]])
        msg = (
            f"cycle in the manager hierarchy{when}: {chain} "
            f"(each of them manages themselves through the others)"
        )
    others = tuple(_edge_label(m, edges) for m in members[1:])
    span = view.span(row, _manager_column(view))
    cell = view.cell(row, _manager_column(view))
    return error(codes.MANAGER_CYCLE, msg, span, secondary=others, cell=cell)


def _manager_column(view: View) -> str:
    return "manager" if view.has("manager") else "value"


def _edge_label(member: str, edges: _Edges) -> Label:
    manager, view, row = edges[member]
    span = view.span(row, _manager_column(view))
    return Label(span, f"{span.file}:{span.line}:{span.col}: {member}'s manager is {manager}")


def _check_history_cycles(
    payees: dict[str, Payee],
    views: dict[str, tuple[View, RawRow]],
    rows: list[tuple[HistoryRow, View, RawRow]],
    sink: Sink,
) -> None:
    """The hierarchy as it stands on each date a manager changes: no cycle may form.

    Cycles made of payees.csv rows alone are reported by :func:`_check_cycles`.
    """
    changes = sorted(
        (item for item in rows if item[0].attribute == "manager"),
        key=lambda item: (item[0].effective_from, item[0].payee),
    )
    if not changes:  # the hierarchy never changes: nothing beyond _check_cycles to check
        return
    base = _payee_edges(payees, views)
    reported: set[frozenset[str]] = {frozenset(c) for c in _cycles(base)}
    for day in sorted({h.effective_from for h, _, _ in changes}):
        edges = dict(base)
        for h, view, row in changes:
            if h.effective_from <= day:
                if h.value:
                    edges[h.payee] = (h.value, view, row)
                else:
                    edges.pop(h.payee, None)
        for members in _cycles(edges):
            if frozenset(members) not in reported:
                reported.add(frozenset(members))
                sink.add(_cycle(members, edges, day))


def bind_history(
    tables: list[RawTable],
    payees: dict[str, Payee],
    sink: Sink,
    views: dict[str, tuple[View, RawRow]] | None = None,
    located: list[tuple[HistoryRow, View, RawRow]] | None = None,
) -> list[HistoryRow]:
    """History rows, unique by (payee, attribute, effective_from); manager cycles checked.

    ``views`` locates each payee's payees.csv row (to cite it in a cycle); ``located``,
    if given, is filled with each accepted history row and where it is.
    """
    out: list[HistoryRow] = []
    located = [] if located is None else located
    keys = KeyIndex()
    for table in tables:
        view = View(table)
        if not check_columns(view, HISTORY_COLUMNS, HISTORY_COLUMNS, sink, "payee_history"):
            continue
        for row in check_shape(view, sink):
            item = _history_row(view, row, payees)
            if isinstance(item, HistoryRow):
                key = (item.payee, item.attribute, item.effective_from.isoformat())
                dup = keys.duplicate(view, row, key, "effective_from", "history entry")
                item = [dup] if dup is not None else item
            if isinstance(item, HistoryRow):
                out.append(item)
                located.append((item, view, row))
            else:
                sink.reject_all(row, item)
    _check_history_cycles(payees, views or {}, located, sink)
    return out


def _history_row(
    view: View, row: RawRow, payees: dict[str, Payee]
) -> HistoryRow | list[Diagnostic]:
    problems: list[Diagnostic] = []
    payee = view.text(row, "payee")
    attribute = view.text(row, "attribute")
    value = view.text(row, "value")
    day = typed(view, row, "effective_from", parse_date, problems)
    if not payee:
        problems.append(empty_required(view, row, "payee"))
    elif payee not in payees:
        problems.append(invalid(view, row, "payee", "no payee has this id", codes.UNKNOWN_PAYEE))
    if not attribute:
        problems.append(empty_required(view, row, "attribute"))
    elif attribute in ("id", "name"):
        reason = f"the payee's {attribute} has no history (only attributes such as role, region, manager)"
        problems.append(invalid(view, row, "attribute", reason, codes.BAD_HISTORY_ATTRIBUTE))
    if attribute == "manager" and value and value not in payees:
        problems.append(invalid(view, row, "value", "no payee has this id", codes.UNKNOWN_MANAGER))
    elif attribute == "manager" and value and value == payee:
        msg = (
            f"{payee} is their own manager from {view.text(row, 'effective_from')} "
            f"({view.where(row, 'value')})"
        )
        problems.append(error(codes.MANAGER_CYCLE, msg, view.span(row, "value"),
                              cell=view.cell(row, "value")))
    if problems:
        return problems
    assert isinstance(day, dt.date)
    return HistoryRow(payee, attribute, value, day, row.ref)
