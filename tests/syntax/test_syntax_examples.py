"""The design sketches parse; spans point at the right line and column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from kpidsl import ast
from kpidsl.syntax import parse, parse_source

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["example.kpi", "example-advanced.kpi"])
def test_sketch_parses_without_diagnostics(name: str) -> None:
    module, diags = parse_source((FIXTURES / name).read_text(encoding="utf-8"), name)
    assert diags == []
    assert module is not None and module.header is not None and module.file == name


def test_example_contents() -> None:
    module = parse((FIXTURES / "example.kpi").read_text(encoding="utf-8"))
    assert module.header == ast.PlanHeader(
        "East China Sales 2026", "CNY", "quarter", "half_up", Decimal("0.01"),
        effective=dt.date(2026, 1, 1),
    )
    kinds = [type(i).__name__ for i in module.items]
    assert kinds.count("Metric") == 4 and kinds.count("Payout") == 3
    assert kinds.count("Override") == 3 and kinds[-2:] == ["Invariant", "Invariant"]
    test = next(i for i in module.items if isinstance(i, ast.TestBlock))
    sections = [t.section for t in test.items if isinstance(t, ast.TestTable)]
    assert sections == ["payees", "targets", "inputs", "deals", "collections"]
    assert any(c.text == " 50_000 * 2% + 50_000 * 5% + 20_000 * 8%" for c in module.comments)


def test_advanced_contents() -> None:
    module = parse((FIXTURES / "example-advanced.kpi").read_text(encoding="utf-8"))
    assert module.header is not None
    assert module.header.fiscal_year_start == 2 and module.header.precision == 34
    assert module.items[0] == ast.Import("shared/rates.kpi")
    overrides = [i for i in module.items if isinstance(i, ast.Override)]
    assert overrides[1].selector[0] == ast.SelectorItem("team", "华南大区")
    assert overrides[1].until == dt.date(2027, 1, 31)


def test_spans_point_at_line_and_column() -> None:
    text = 'plan "P" {}\n\nmetric bookings: money =\n  sum deal.amount where deal.stage == "won"\n'
    module = parse(text, "plans/p.kpi")
    metric = module.items[0]
    assert isinstance(metric, ast.Metric) and isinstance(metric.expr, ast.Aggregate)
    span = metric.span
    assert (span.file, span.line, span.col) == ("plans/p.kpi", 3, 1)
    assert (span.end_line, span.end_col) == (4, 44)
    assert text[span.start : span.end].startswith("metric bookings")
    assert text[span.start : span.end].endswith('"won"')
    agg = metric.expr
    assert (agg.span.line, agg.span.col) == (4, 3)
    assert agg.expr is not None and (agg.expr.span.line, agg.expr.span.col) == (4, 7)
    where = agg.where
    assert isinstance(where, ast.Binary)
    assert (where.right.span.line, where.right.span.col, where.right.span.end_col) == (4, 39, 44)
    assert module.header is not None and module.header.span.line == 1


def test_cell_spans() -> None:
    module = parse('test "t" {\n  deals {\n    id   amount\n    D1   5\n  }\n}')
    block = module.items[0]
    assert isinstance(block, ast.TestBlock)
    table = block.items[0]
    assert isinstance(table, ast.TestTable)
    cell = table.rows[0][1]
    assert (cell.span.line, cell.span.col, cell.span.end_col) == (4, 10, 11)
