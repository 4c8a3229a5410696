"""Small data sets built in code, and their text as a plan ``test`` block.

``dataset(payees=[...], deals=[...], targets=[...])`` gives the
:class:`kpidsl.api.RawData` that ``Plan.evaluate`` takes; :class:`DataBuilder`
builds one row by row. A :class:`Scenario` (period + records) can also be
written out as a ready-to-paste ``test`` block (:func:`test_block`), which is
how invariant counterexamples are shown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import api
from kpidsl.fmt.expr import format_string
from kpidsl.numbers import plain

Record = dict[str, Any]

# Sections written first in a test block, in this order; fact tables follow, sorted.
LEADING = ("payees", "payee_history", "targets", "inputs")
WORD = re.compile(r'^[^\s{}"]+$')


@attrs.frozen
class Scenario:
    """A period and the records of each table (``payees``, ``deals``, ``targets``...)."""

    period: str
    tables: Mapping[str, Sequence[Record]]
    # input name -> its type, so percents are written ``90%`` in test blocks
    percent_inputs: frozenset[str] = frozenset()

    def raw(self) -> api.RawData:
        """The records as data for ``Plan.evaluate``."""
        return api.load_data({k: list(v) for k, v in self.tables.items() if v})

    def with_table(self, name: str, rows: Sequence[Record]) -> Scenario:
        return attrs.evolve(self, tables={**self.tables, name: tuple(rows)})


def dataset(**tables: Iterable[Mapping[str, Any]]) -> api.RawData:
    """Data from keyword tables of dicts: ``dataset(payees=[{"id": "alice"}], deals=[...])``.

    ``targets`` rows are ``{"payee", "metric", "period", "value"}`` and
    ``inputs`` rows ``{"payee", "name", "period", "value"}``. Amounts are
    ``Decimal``, ``int`` or ``str`` (a ``float`` is a data error).
    """
    return api.load_data({name: [dict(r) for r in rows] for name, rows in tables.items()})


class DataBuilder:
    """Builds a data set row by row: ``DataBuilder("2026-Q3").payee("alice", role="AE")``."""

    def __init__(self, period: str) -> None:
        self.period = period
        self.tables: dict[str, list[Record]] = {}

    def row(self, table: str, **values: Any) -> DataBuilder:
        """Append a row to ``table`` (a fact file stem like ``deals``, or ``payees``...)."""
        self.tables.setdefault(table, []).append(dict(values))
        return self

    def payee(self, id: str, **attributes: Any) -> DataBuilder:
        return self.row("payees", id=id, **attributes)

    def fact(self, table: str, **fields: Any) -> DataBuilder:
        return self.row(table, **fields)

    def target(self, payee: str, metric: str, value: Any, period: str | None = None) -> DataBuilder:
        return self.row("targets", payee=payee, metric=metric, period=period or self.period, value=value)

    def input(self, payee: str, name: str, value: Any, period: str | None = None) -> DataBuilder:
        return self.row("inputs", payee=payee, name=name, period=period or self.period, value=value)

    def scenario(self) -> Scenario:
        return Scenario(self.period, {k: tuple(v) for k, v in self.tables.items()})

    def build(self) -> api.RawData:
        """The data set, for ``Plan.evaluate(builder.build(), builder.period)``."""
        return self.scenario().raw()


# ---------------------------------------------------------------- as a test block


def cell(value: Any, percent: bool = False) -> str:
    """A value as a test-table cell: ``-`` for none, quoted when not a plain word."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if percent:
            return f"{plain(value * 100)}%"
        return plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if WORD.match(text) and text != "-":
        return text
    return format_string(text)


def payee_ref(pid: str) -> str:
    """A payee id as written in ``expect``: plain when it is a name, else quoted."""
    return pid if pid.isidentifier() else format_string(pid)


def _grid(rows: list[list[str]], indent: str) -> list[str]:
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return [indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def _table_lines(name: str, records: Sequence[Record], scenario: Scenario) -> list[str]:
    if name in ("targets", "inputs"):
        key = "metric" if name == "targets" else "name"
        rows = [[cell(r["payee"]), cell(r[key]),
                 cell(r["value"], percent=name == "inputs" and r[key] in scenario.percent_inputs)]
                + ([cell(r["period"])] if r.get("period") not in (None, scenario.period) else [])
                for r in records]
        return [f"  {name} {{", *_grid(rows, "    "), "  }"]
    header: list[str] = []
    for r in records:
        header.extend(k for k in r if k not in header)
    rows = [header] + [[cell(r.get(k)) for k in header] for r in records]
    return [f"  {name} {{", *_grid(rows, "    "), "  }"]


def test_block(name: str, scenario: Scenario, expects: Sequence[str],
               comments: Sequence[str] = ()) -> str:
    """A ``test "name" { ... }`` block holding the scenario's data and ``expects`` lines."""
    lines = [f'test "{name}" {{', f"  period {scenario.period}"]
    order = [t for t in LEADING if t in scenario.tables]
    order += sorted(t for t in scenario.tables if t not in LEADING)
    for table in order:
        records = scenario.tables[table]
        if records:
            lines.extend(_table_lines(table, records, scenario))
    lines.extend(f"  // {c}" for c in comments)
    lines.extend(f"  {e}" for e in expects)
    lines.append("}")
    return "\n".join(lines) + "\n"
