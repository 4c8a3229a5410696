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
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from json.encoder import ESCAPE, encode_basestring
from typing import cast

import attrs

from .model import Dataset, Fact, Value


def decimal_text(value: Decimal) -> str:
    """``f"{value:f}"`` (fixed point, the scale kept: ``1.50``), by the faster ``str(value)``
    when that is the same text: a finite value whose ``str`` has no exponent."""
    text = str(value)
    if "E" in text or not value.is_finite():
        return f"{value:f}"
    return text


def _value(value: Value) -> str:
    """The JSON text of one tagged value: ``"d:1.50"``, ``"t:2026-07-01"``, ``"s:..."``."""
    kind = type(value)
    if kind is str:
        return encode_basestring(f"s:{value}")
    if kind is Decimal:
        return encode_basestring("d:" + decimal_text(cast(Decimal, value)))
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


@functools.lru_cache(maxsize=256)
def _layout(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, opening of its pair) of a mapping's keys in sorted order; the rows of one table
    share their keys, so this is worked out once per table."""
    return tuple((name, _key(name)) for name in sorted(names))


def _mapping(values: Mapping[str, Value]) -> str:
    """``[["name","s:value"],...]`` in name order; text values (most of them) are written
    here rather than through :func:`_value`, with the same result."""
    pairs = []
    for name, opening in _layout(tuple(values)):
        v = values[name]
        text = encode_basestring("s:" + v) if type(v) is str else _value(v)
        pairs.append(opening + text + "]")
    return "[" + ",".join(pairs) + "]"


def _line(*parts: str) -> str:
    return "[" + ",".join(parts) + "]\n"


def fact_line(fact: Fact) -> str:
    """One fact's line of the canonical serialization."""
    return _line('"fact"', _text(fact.kind), _text(fact.key), _mapping(fact.values))


_REPEATING = frozenset({str, dt.date, bool, type(None)})


def _fact_lines(kind: str, facts: Sequence[Fact]) -> Iterator[str]:
    """The lines of one kind's facts: ``["fact",kind,key,<_mapping(values)>]``.

    When the facts share their field names (they do when bound), the text is built
    column by column: a column of texts, dates, flags and blanks is encoded once per
    distinct value (values of these types are equal only when their texts are), a
    column of decimals by ``str`` when that is the fixed-point text (a decimal's text
    needs no JSON escaping). Otherwise each fact goes through :func:`_mapping`.
    """
    enc = encode_basestring
    tag = enc(kind)
    rows = [f.values for f in facts]
    names = tuple(rows[0]) if rows else ()
    if any(tuple(values) != names for values in rows):
        for f in facts:
            yield f'["fact",{tag},{enc(f.key)},{_mapping(f.values)}]\n'
        return
    # one %-template per kind: the openings (and a decimal column's quotes) are in it
    template = ['["fact",', tag.replace("%", "%%"), ",%s,["]
    columns: list[Iterable[str]] = [[enc(f.key) for f in facts]]
    for n, (name, opening) in enumerate(_layout(names)):
        template.append(("," if n else "") + opening.replace("%", "%%"))
        column = [values[name] for values in rows]
        types = set(map(type, column))
        if types == {str} and not ESCAPE.search("".join(cast(list[str], column))):
            columns.append(cast(list[str], column))  # encode_basestring adds just the quotes
            template.append('"s:%s"]')
            continue
        if types == {dt.date}:
            columns.append(map(dt.date.isoformat, cast(list[dt.date], column)))
            template.append('"t:%s"]')
            continue
        if types <= _REPEATING:
            texts = {v: _value(v) for v in set(column)}
            columns.append(map(texts.__getitem__, column))
            template.append("%s]")
            continue
        if types == {Decimal}:
            decimals = cast(list[Decimal], column)
            strs = list(map(str, decimals))
            if all(map(Decimal.is_finite, decimals)) and not any("E" in t for t in strs):
                columns.append(strs)
                template.append('"d:%s"]')
                continue
        columns.append(map(_value, column))
        template.append("%s]")
    template.append("]]\n")
    fmt = "".join(template)
    yield "".join([fmt % parts for parts in zip(*columns, strict=True)])


def _rows(data: Dataset) -> Iterator[str]:
    """Every row as a JSON line, tagged with its table; tuples are already sorted by key.

    Each line is written with one f-string: ``["target","alice","bookings","2026-Q3","d:1.5"]``
    (the same text as :func:`_line` of the JSON parts)."""
    enc, value = encode_basestring, _value
    for p in data.payees:
        yield f'["payee",{enc(p.id)},{enc(p.name)},{_mapping(p.attrs)}]\n'
    for kind in sorted(data.facts):
        yield from _fact_lines(kind, data.facts[kind])
    for h in data.history:
        yield (
            f'["history",{enc(h.payee)},{enc(h.attribute)},{enc(h.value)},'
            f"{value(h.effective_from)}]\n"
        )
    for t in data.targets:
        yield f'["target",{enc(t.payee)},{enc(t.metric)},{enc(t.period)},{value(t.value)}]\n'
    for i in data.inputs:
        yield f'["input",{enc(i.payee)},{enc(i.name)},{enc(i.period)},{value(i.value)}]\n'
    for c in data.credits:
        yield (
            f'["credit",{enc(c.kind)},{enc(c.fact)},{enc(c.payee)},{enc(c.type)},'
            f"{value(c.share)}]\n"
        )
    for pay in data.payments:
        yield (
            f'["payment",{enc(pay.payee)},{enc(pay.component)},{enc(pay.period)},'
            f"{value(pay.amount)}]\n"
        )


def canonical(data: Dataset) -> Iterator[str]:
    """The canonical serialization: one JSON line per row, rows sorted within each table.

    Sorting is by unique key, which :func:`kpidsl.data.bind.bind` guarantees;
    a data set built by hand is sorted here first.
    """
    yield from _rows(_sorted_dataset(data))


# The sort key of each table's rows: the tuple of its key fields (bind sorts by them too).
PAYEE_KEY = operator.attrgetter("id")
FACT_KEY = operator.attrgetter("key")
HISTORY_KEY = operator.attrgetter("payee", "attribute", "effective_from")
TARGET_KEY = operator.attrgetter("payee", "metric", "period")
INPUT_KEY = operator.attrgetter("payee", "name", "period")
CREDIT_KEY = operator.attrgetter("kind", "fact", "payee", "type")
PAYMENT_KEY = operator.attrgetter("payee", "component", "period")


def _sorted_dataset(data: Dataset) -> Dataset:
    return attrs.evolve(
        data,
        payees=tuple(sorted(data.payees, key=PAYEE_KEY)),
        facts={k: tuple(sorted(v, key=FACT_KEY)) for k, v in data.facts.items()},
        history=tuple(sorted(data.history, key=HISTORY_KEY)),
        targets=tuple(sorted(data.targets, key=TARGET_KEY)),
        inputs=tuple(sorted(data.inputs, key=INPUT_KEY)),
        credits=tuple(sorted(data.credits, key=CREDIT_KEY)),
        payments=tuple(sorted(data.payments, key=PAYMENT_KEY)),
    )


def digest(data: Dataset, *, presorted: bool = False) -> str:
    """``sha256:<hex>`` of :func:`canonical`.

    ``presorted``: every table of ``data`` is already sorted by its key, as
    :func:`kpidsl.data.bind.bind` leaves it, so it is not sorted again (same digest).
    """
    rows = _rows(data if presorted else _sorted_dataset(data))
    return "sha256:" + hashlib.sha256("".join(rows).encode("utf-8")).hexdigest()
