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


def bind_payees(tables: list[RawTable], sink: Sink) -> dict[str, Payee]:
    """Payees by id; duplicates are rejected citing the first, managers and cycles checked."""
    payees: dict[str, Payee] = {}
    views: dict[str, tuple[View, RawRow]] = {}
    keys = KeyIndex()
    for table in tables:
        view = View(table)
        # Any other column is a custom attribute, so nothing is "extra" here.
        if not check_columns(view, ("id",), table.header, sink, "payees"):
            continue
        for row in check_shape(view, sink):
            payee = _payee(view, row, keys, sink)
            if payee is not None:
                payees[payee.id] = payee
                views[payee.id] = (view, row)
    _check_managers(payees, views, sink)
    _check_cycles(payees, views, sink)
    return payees


def _payee(view: View, row: RawRow, keys: KeyIndex, sink: Sink) -> Payee | None:
    pid = view.text(row, "id")
    if not pid:
        sink.reject(row, empty_required(view, row, "id"))
        return None
    dup = keys.duplicate(view, row, (pid,), "id", "payee id")
    if dup is not None:
        sink.reject(row, dup)
        return None
    attributes = {c: view.text(row, c) for c in view.table.header if c not in ("id", "name")}
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


def _check_cycles(
    payees: dict[str, Payee], views: dict[str, tuple[View, RawRow]], sink: Sink
) -> None:
    """Report each manager cycle once, at its smallest id, naming every member."""
    done: set[str] = set()
    for start in sorted(payees):
        path: list[str] = []
        node: str | None = start
        while node is not None and node in payees and node not in done and node not in path:
            path.append(node)
            node = payees[node].attrs.get("manager") or None
        if node is not None and node in path:
            sink.add(_cycle(path[path.index(node) :], views))
        done.update(path)


def _cycle(members: list[str], views: dict[str, tuple[View, RawRow]]) -> Diagnostic:
    first = members.index(min(members))
    members = members[first:] + members[:first]
    chain = " → ".join([*members, members[0]])
    view, row = views[members[0]]
    others = tuple(
        Label(views[m][0].span(views[m][1], "manager"), f"{m}'s manager") for m in members[1:]
    )
    msg = f"cycle in the manager hierarchy: {chain} (each id manages itself through the others)"
    return error(codes.MANAGER_CYCLE, msg, view.span(row, "manager"), "cycle", secondary=others)


def bind_history(tables: list[RawTable], payees: dict[str, Payee], sink: Sink) -> list[HistoryRow]:
    """History rows, unique by (payee, attribute, effective_from)."""
    out: list[HistoryRow] = []
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
            else:
                sink.reject_all(row, item)
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
    if problems:
        return problems
    assert isinstance(day, dt.date)
    return HistoryRow(payee, attribute, value, day, row.ref)
