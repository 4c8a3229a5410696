"""The data seam: raw tables as read from files, and the typed data set the engine uses.

Reading (CSV files, inline test tables, Python objects, later Excel/Parquet via
mappings) produces :class:`RawTable` values: text cells with their locations.
Binding raw tables to a plan (:func:`kpidsl.data.bind.bind`) types every cell
by the plan's fact kinds and validates the rows, producing a :class:`Dataset`
and a diagnostic for every rejected row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

import attrs

# A typed cell value; None is an empty optional cell.
Value = Decimal | str | dt.date | bool | None


@attrs.frozen
class RowRef:
    """Where a row came from: file (or test/sheet name) and physical line (header = 1)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@attrs.frozen
class RawRow:
    """One data row as text: cells aligned with the table's header; cols are 1-based."""

    ref: RowRef
    cells: tuple[str, ...]
    cols: tuple[int, ...] = ()  # column (1-based character position) of each cell, if known


@attrs.frozen
class RawTable:
    """A table as read: ``name`` is the file stem (deals, payees, targets, ...)."""

    name: str
    file: str
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]
    header_line: int = 1
    # rows the reader rejected (more or fewer cells than the header, KPI0705), as read:
    # not data, but a reference to one of their keys is to a rejected fact
    dropped: tuple[RawRow, ...] = attrs.field(default=(), eq=False, repr=False)
    # the last line read when a malformed record (KPI0713) stopped the read: the keys of
    # the rows after it are unknown, so a reference to a key not found cannot be checked
    read_to: int | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Fact:
    """One typed fact. ``values`` holds every declared field of its kind."""

    kind: str
    key: str
    values: Mapping[str, Value]
    ref: RowRef

    def date(self, field: str) -> dt.date:
        v = self.values[field]
        assert isinstance(v, dt.date)
        return v


@attrs.frozen
class Payee:
    """A person paid by the plan; ``attrs`` holds role, region, manager, team and custom columns."""

    id: str
    name: str
    attrs: Mapping[str, str]
    ref: RowRef


@attrs.frozen
class HistoryRow:
    """``payee_history.csv``: from ``effective_from`` on, ``attribute`` has ``value``."""

    payee: str
    attribute: str
    value: str
    effective_from: dt.date
    ref: RowRef


@attrs.frozen
class TargetRow:
    """``targets.csv``: a payee's quota for a metric in a period (``2026-Q3``)."""

    payee: str
    metric: str
    period: str
    value: Decimal
    ref: RowRef


@attrs.frozen
class InputRow:
    """``inputs.csv``: a value entered for a payee, typed by the plan's input declaration."""

    payee: str
    name: str
    period: str
    value: Value
    ref: RowRef


@attrs.frozen
class CreditRow:
    """``credits.csv``: a share of a fact credited to a payee, of a credit type."""

    kind: str
    fact: str
    payee: str
    share: Decimal
    type: str
    ref: RowRef


@attrs.frozen
class PaymentRow:
    """``payments.csv``: what was actually paid for a component in an earlier period."""

    payee: str
    component: str
    period: str
    amount: Decimal
    ref: RowRef


@attrs.frozen
class Dataset:
    """Typed, validated data for one plan. Tuples are sorted by key, never by file order."""

    payees: tuple[Payee, ...]
    facts: Mapping[str, tuple[Fact, ...]]
    history: tuple[HistoryRow, ...] = ()
    targets: tuple[TargetRow, ...] = ()
    inputs: tuple[InputRow, ...] = ()
    credits: tuple[CreditRow, ...] = ()
    payments: tuple[PaymentRow, ...] = ()
    digest: str = ""
