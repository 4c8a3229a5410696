"""What the importer knows of the data folder's tables without a plan (docs/data.md).

Column order in the output, required columns, the key that rows are sorted
and de-duplicated by, and the built-in typed columns checked at import.
A table the importer does not know (a plan's own fact kind) is keyed by
``id`` unless the mapping says ``key = [...]``; its columns are untyped here
(``kpidsl validate --plan`` types them).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class TableSchema:
    """Known columns, required columns, key and typed columns of one table."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    key: tuple[str, ...]
    types: tuple[tuple[str, str], ...] = ()

    def type_of(self, column: str) -> str | None:
        return dict(self.types).get(column)


def _s(columns: str, required: str, key: str, **types: str) -> TableSchema:
    return TableSchema(tuple(columns.split()), tuple(required.split()), tuple(key.split()),
                       tuple(types.items()))


TABLES: dict[str, TableSchema] = {
    "payees": _s("id name role region manager", "id", "id"),
    "payee_history": _s("payee attribute value effective_from",
                        "payee attribute value effective_from", "payee attribute effective_from",
                        effective_from="date"),
    "deals": _s("id payee amount stage signed_on customer product",
                "id payee amount stage signed_on", "id", amount="money", signed_on="date"),
    "collections": _s("id deal payee amount received_on", "id deal payee amount received_on",
                      "id", amount="money", received_on="date"),
    "targets": _s("payee metric period value", "payee metric period value",
                  "payee metric period", period="period"),
    "inputs": _s("payee name period value", "payee name period value", "payee name period",
                 period="period"),
    "credits": _s("kind fact payee share credit_type", "kind fact payee share",
                  "kind fact payee credit_type", share="percent"),
    "payments": _s("payee component period amount", "payee component period amount",
                   "payee component period", amount="money", period="period"),
}

FACT_KINDS = {"deals": "deal", "collections": "collection"}


def schema_for(table: str, key: list[str] | None = None) -> TableSchema:
    """The schema of a table; unknown tables (plan kinds) are keyed by ``id`` or ``key``."""
    known = TABLES.get(table)
    if known is not None:
        return known if key is None else attrs.evolve(known, key=tuple(key))
    k = tuple(key) if key else ("id",)
    return TableSchema(k, k, k)


def column_order(schema: TableSchema, present: list[str]) -> list[str]:
    """Known columns first (in their documented order), then the others in first-seen order."""
    known = [c for c in schema.columns if c in present]
    return known + [c for c in present if c not in schema.columns]
