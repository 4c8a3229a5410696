"""Helpers: a plan from text (parse + check) and a data set from whitespace-aligned tables."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

from kpidsl.check import check
from kpidsl.data.bind import bind
from kpidsl.data.csvread import parse_text
from kpidsl.data.model import Dataset, RawTable
from kpidsl.eval import EvalResult, evaluate
from kpidsl.model import PlanModel
from kpidsl.syntax import parse

DESIGN = Path(__file__).resolve().parents[1] / "syntax" / "fixtures"  # copies of the design sketches

HEADER = """plan "Test" {
  currency CNY
  period quarter
  rounding half_up 0.01
}
"""


def make_plan(body: str, header: str = HEADER) -> PlanModel:
    text = header + textwrap.dedent(body)
    module = parse(text, "plan.kpi")
    model, diags = check([module])
    errors = [d for d in diags if d.severity == "error"]
    assert model is not None and not errors, [f"{d.code} {d.message} {d.span}" for d in errors]
    return model


def table(name: str, text: str) -> RawTable:
    lines = [ln.split() for ln in textwrap.dedent(text).strip().splitlines() if ln.strip()]
    csv = "\n".join(",".join("" if c == "-" else c for c in ln) for ln in lines) + "\n"
    raw, diags = parse_text(csv, name, f"{name}.csv")
    assert raw is not None, diags
    return raw


def make_data(model: PlanModel, **tables: str) -> Dataset:
    raw = {name: table(name, text) for name, text in tables.items()}
    data, diags = bind(model, raw)
    errors = [d for d in diags if d.severity == "error"]
    assert not errors, [f"{d.code} {d.message} {d.span}" for d in errors]
    return data


def run(body: str, period: str = "2026-Q3", header: str = HEADER, **tables: str) -> EvalResult:
    model = make_plan(body, header)
    return evaluate(model, make_data(model, **tables), period)


def D(text: str) -> Decimal:
    return Decimal(text)


def example_model() -> PlanModel:
    module = parse((DESIGN / "example.kpi").read_text(encoding="utf-8"), "example.kpi")
    model, diags = check([module])
    assert model is not None, diags
    return model
