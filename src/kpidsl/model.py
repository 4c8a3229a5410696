"""The plan model: the definitions of one or more parsed modules gathered by name.

This is the seam between the front end and everything after it. The checker
(:mod:`kpidsl.check`) builds and validates it; the engine (:mod:`kpidsl.eval`)
and the data loaders (:mod:`kpidsl.data`) read it.
"""

from __future__ import annotations

import functools

import attrs

from kpidsl import ast

# Value types of the language.
VALUE_TYPES = ("money", "count", "number", "percent", "bool", "text", "date", "period")
NUMERIC_TYPES = ("money", "count", "number", "percent")
# Field types a fact kind may declare besides value types: ``payee`` (a payee id)
# or the name of another kind (a one-hop reference by key).
PAYEE_TYPE = "payee"


@attrs.frozen
class KindSchema:
    """A fact kind after merging a built-in kind with the plan's extensions."""

    name: str
    key: str
    date: str
    fields: dict[str, str]  # field name -> value type, "payee", or a kind name
    builtin: bool = False
    file_stem: str = ""  # data file name without ".csv": deals, collections, activities

    def references(self) -> dict[str, str]:
        """Fields that reference another kind: field name -> kind name."""
        return {
            n: t for n, t in self.fields.items() if t not in VALUE_TYPES and t != PAYEE_TYPE
        }


def plural(kind: str) -> str:
    """The data file stem of a kind: deal -> deals, activity -> activities."""
    if kind.endswith("y") and kind[-2:-1] not in ("a", "e", "i", "o", "u"):
        return kind[:-1] + "ies"
    if kind.endswith(("s", "x", "ch", "sh")):
        return kind + "es"
    return kind + "s"


BUILTIN_KINDS: dict[str, KindSchema] = {
    "deal": KindSchema(
        name="deal",
        key="id",
        date="signed_on",
        fields={
            "id": "text",
            "payee": PAYEE_TYPE,
            "amount": "money",
            "stage": "text",
            "signed_on": "date",
            "customer": "text",
            "product": "text",
        },
        builtin=True,
        file_stem="deals",
    ),
    "collection": KindSchema(
        name="collection",
        key="id",
        date="received_on",
        fields={
            "id": "text",
            "deal": "deal",
            "payee": PAYEE_TYPE,
            "amount": "money",
            "received_on": "date",
        },
        builtin=True,
        file_stem="collections",
    ),
}

# Built-in fields every kind has without declaring them: the credit share of the
# fact for the payee being evaluated (1 without credit rows).
SHARE_FIELD = "share"

# Fields a kind may leave empty in data: the built-in kinds' optional columns.
OPTIONAL_BUILTIN_FIELDS = {"deal": ("customer", "product"), "collection": ()}


def def_key(d: ast.Definition) -> str:
    """The name a definition defines; targets live beside their metric as ``target:m``."""
    if isinstance(d, ast.Target):
        return f"target:{d.metric}"
    return d.name


@attrs.frozen
class PlanModel:
    """A plan's definitions gathered from its module and the modules it imports.

    ``base`` maps a definition key (see :func:`def_key`) to its base-plan
    definition. ``overrides`` keeps every override block in source order.
    ``types`` maps each named value to its value type (filled by the checker).
    """

    header: ast.PlanHeader
    kinds: dict[str, KindSchema]
    base: dict[str, ast.Definition]
    overrides: tuple[ast.Override, ...]
    tests: tuple[ast.TestBlock, ...]
    invariants: tuple[ast.Invariant, ...]
    modules: tuple[ast.Module, ...]
    types: dict[str, str] = attrs.field(factory=dict)

    @functools.cached_property
    def inputs(self) -> dict[str, ast.InputDecl]:
        return {k: d for k, d in self.base.items() if isinstance(d, ast.InputDecl)}

    @functools.cached_property
    def payouts(self) -> tuple[str, ...]:
        """Payout component names: the base plan's, then any only an override adds."""
        names = [k for k, d in self.base.items() if isinstance(d, ast.Payout)]
        for block in self.overrides:
            for d in block.body:
                if isinstance(d, ast.Payout) and d.name not in names:
                    names.append(d.name)
        return tuple(names)

    def kind_by_stem(self, stem: str) -> KindSchema | None:
        for kind in self.kinds.values():
            if stem in (kind.file_stem, kind.name):
                return kind
        return None
