"""The data digest: sha256 over a canonical serialization of the typed content.

Rows are serialized without their locations and sorted, so the digest does not
depend on row order, line numbers, file encoding or how a number was written
(``1,234.50`` and ``1234.50`` are the same value). Decimals keep their scale
(``1.5`` and ``1.50`` differ), as the typed values do.

Each row is one line of compact JSON (``json.dumps(row, ensure_ascii=False,
separators=(",", ":"))``); the text is built here directly, string by string,
because a ``json.dumps`` call per row dominated binding a large data set.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from json.encoder import encode_basestring

import attrs

from .model import Dataset, Fact, Value


def _value(value: Value) -> str:
    """The JSON text of one tagged value: ``"d:1.50"``, ``"t:2026-07-01"``, ``"s:..."``."""
    kind = type(value)
    if kind is str:
        return encode_basestring(f"s:{value}")
    if kind is Decimal:
        return encode_basestring(f"d:{value:f}")
    if kind is bool or value is None:
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, Decimal):
        return encode_basestring(f"d:{value:f}")
    if isinstance(value, dt.date):
        return encode_basestring(f"t:{value.isoformat()}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return encode_basestring(f"s:{value}")


def _text(value: str) -> str:
    return encode_basestring(value)


@functools.cache
def _key(name: str) -> str:
    """The opening of a ``[name,value]`` pair; field names repeat on every row."""
    return "[" + encode_basestring(name) + ","


def _mapping(values: Mapping[str, Value]) -> str:
    return "[" + ",".join([_key(k) + _value(values[k]) + "]" for k in sorted(values)]) + "]"


def _line(*parts: str) -> str:
    return "[" + ",".join(parts) + "]\n"


def fact_line(fact: Fact) -> str:
    """One fact's line of the canonical serialization."""
    return _line('"fact"', _text(fact.kind), _text(fact.key), _mapping(fact.values))


def _rows(data: Dataset) -> Iterator[str]:
    """Every row as a JSON line, tagged with its table; tuples are already sorted by key."""
    for p in data.payees:
        yield _line('"payee"', _text(p.id), _text(p.name), _mapping(p.attrs))
    for kind in sorted(data.facts):
        tag = _text(kind)
        for f in data.facts[kind]:
            yield _line('"fact"', tag, _text(f.key), _mapping(f.values))
    for h in data.history:
        yield _line('"history"', _text(h.payee), _text(h.attribute), _text(h.value),
                    _value(h.effective_from))
    for t in data.targets:
        yield _line('"target"', _text(t.payee), _text(t.metric), _text(t.period), _value(t.value))
    for i in data.inputs:
        yield _line('"input"', _text(i.payee), _text(i.name), _text(i.period), _value(i.value))
    for c in data.credits:
        yield _line('"credit"', _text(c.kind), _text(c.fact), _text(c.payee), _text(c.type),
                    _value(c.share))
    for pay in data.payments:
        yield _line('"payment"', _text(pay.payee), _text(pay.component), _text(pay.period),
                    _value(pay.amount))


def canonical(data: Dataset) -> Iterator[str]:
    """The canonical serialization: one JSON line per row, rows sorted within each table.

    Sorting is by unique key, which :func:`kpidsl.data.bind.bind` guarantees;
    a data set built by hand is sorted here first.
    """
    yield from _rows(_sorted_dataset(data))


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
    h.update("".join(canonical(data)).encode("utf-8"))
    return "sha256:" + h.hexdigest()
