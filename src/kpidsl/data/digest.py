"""The data digest: sha256 over a canonical serialization of the typed content.

Rows are serialized without their locations and sorted, so the digest does not
depend on row order, line numbers, file encoding or how a number was written
(``1,234.50`` and ``1234.50`` are the same value). Decimals keep their scale
(``1.5`` and ``1.50`` differ), as the typed values do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal

import attrs

from .model import Dataset, Value

_Json = str | bool | None | list["_Json"]


def _value(value: Value) -> str | bool | None:
    if isinstance(value, Decimal):
        return f"d:{value:f}"
    if isinstance(value, dt.date):
        return f"t:{value.isoformat()}"
    if isinstance(value, bool) or value is None:
        return value
    return f"s:{value}"


def _mapping(values: Mapping[str, Value]) -> list[_Json]:
    return [[k, _value(values[k])] for k in sorted(values)]


def _rows(data: Dataset) -> Iterator[list[_Json]]:
    """Every row as a JSON list, tagged with its table; tuples are already sorted by key."""
    for p in data.payees:
        yield ["payee", p.id, p.name, _mapping(p.attrs)]
    for kind in sorted(data.facts):
        for f in data.facts[kind]:
            yield ["fact", kind, f.key, _mapping(f.values)]
    for h in data.history:
        yield ["history", h.payee, h.attribute, h.value, _value(h.effective_from)]
    for t in data.targets:
        yield ["target", t.payee, t.metric, t.period, _value(t.value)]
    for i in data.inputs:
        yield ["input", i.payee, i.name, i.period, _value(i.value)]
    for c in data.credits:
        yield ["credit", c.kind, c.fact, c.payee, c.type, _value(c.share)]
    for pay in data.payments:
        yield ["payment", pay.payee, pay.component, pay.period, _value(pay.amount)]


def canonical(data: Dataset) -> Iterator[str]:
    """The canonical serialization: one JSON line per row, rows sorted within each table.

    Sorting is by unique key, which :func:`kpidsl.data.bind.bind` guarantees;
    a data set built by hand is sorted here first.
    """
    for row in _rows(_sorted_dataset(data)):
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _sorted_dataset(data: Dataset) -> Dataset:
    return attrs.evolve(
        data,
        payees=tuple(sorted(data.payees, key=lambda p: p.id)),
        facts={k: tuple(sorted(v, key=lambda f: f.key)) for k, v in data.facts.items()},
        history=tuple(sorted(data.history, key=lambda h: (h.payee, h.attribute, h.effective_from))),
        targets=tuple(sorted(data.targets, key=lambda t: (t.payee, t.metric, t.period))),
        inputs=tuple(sorted(data.inputs, key=lambda i: (i.payee, i.name, i.period))),
        credits=tuple(sorted(data.credits, key=lambda c: (c.kind, c.fact, c.payee, c.type))),
        payments=tuple(sorted(data.payments, key=lambda r: (r.payee, r.component, r.period))),
    )


def digest(data: Dataset) -> str:
    """``sha256:<hex>`` of :func:`canonical`."""
    h = hashlib.sha256()
    for line in canonical(data):
        h.update(line.encode("utf-8"))
    return "sha256:" + h.hexdigest()
