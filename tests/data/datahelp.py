"""Shared helpers for the data-layer tests: a hand-built plan model and CSV text tables."""

from __future__ import annotations

from collections.abc import Mapping

from kpidsl import ast
from kpidsl.data.bind import BindResult, bind_result
from kpidsl.data.csvread import parse_text
from kpidsl.data.model import RawTable
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import BUILTIN_KINDS, PAYEE_TYPE, KindSchema, PlanModel

PAYEES = "id,name,role,region,manager,team\nalice,Alice,AE,east,mia,华东\nbob,Bob,AE,west,mia,\nmia,Mia,manager,east,,\n"


def make_model(period: str = "quarter") -> PlanModel:
    """A minimal plan: deal extended with new_customer, an activity kind, an input, a metric."""
    deal = BUILTIN_KINDS["deal"]
    deal = KindSchema(
        deal.name, deal.key, deal.date, {**deal.fields, "new_customer": "bool"}, True, "deals"
    )
    activity = KindSchema(
        "activity",
        "id",
        "happened_on",
        {
            "id": "text",
            "payee": PAYEE_TYPE,
            "minutes": "count",
            "happened_on": "date",
            "deal": "deal",
        },
        False,
        "activities",
    )
    amount = ast.Field("deal", ("amount",))
    base: dict[str, ast.Definition] = {
        "collaboration": ast.InputDecl("collaboration", "percent"),
        "bookings": ast.Metric("bookings", "money", ast.Aggregate("sum", "deal", amount)),
        "meetings": ast.Metric("meetings", "count", ast.Aggregate("count", "activity", None)),
        "commission": ast.Payout("commission", "money", ast.Name("bookings")),
    }
    return PlanModel(
        header=ast.PlanHeader(name="t", period=period),
        kinds={"deal": deal, "collection": BUILTIN_KINDS["collection"], "activity": activity},
        base=base,
        overrides=(),
        tests=(),
        invariants=(),
        modules=(),
    )


def table(name: str, text: str) -> RawTable:
    """A raw table from CSV text, shown as ``data/<name>.csv``; the text must parse cleanly."""
    t, diags = parse_text(text, name, f"data/{name}.csv")
    assert t is not None and not diags, diags
    return t


def bind_texts(files: Mapping[str, str], model: PlanModel | None = None) -> BindResult:
    """Bind CSV texts (payees default to PAYEES) to the test plan."""
    files = {"payees": PAYEES, **files}
    tables = {name: table(name, text) for name, text in files.items()}
    return bind_result(model or make_model(), tables)


def codes_of(diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


def only(diags: tuple[Diagnostic, ...] | list[Diagnostic], code: str) -> Diagnostic:
    found = [d for d in diags if d.code == code]
    assert len(found) == 1, [(d.code, d.message) for d in diags]
    return found[0]
