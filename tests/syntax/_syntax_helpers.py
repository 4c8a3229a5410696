"""Shared helpers for the syntax tests: short constructors for expected nodes."""

from __future__ import annotations

from decimal import Decimal

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic
from kpidsl.syntax import parse, parse_source


def num(text: str) -> ast.Number:
    if text.endswith("%"):
        return ast.Number(Decimal(text[:-1].replace("_", "")) / 100, True, text)
    return ast.Number(Decimal(text.replace("_", "")), False, text)


def name(n: str) -> ast.Name:
    return ast.Name(n)


def field(dotted: str) -> ast.Field:
    kind, *path = dotted.split(".")
    return ast.Field(kind, tuple(path))


def item(text: str) -> ast.Item:
    """The only item of a one-item plan."""
    module = parse(text)
    assert len(module.items) == 1, module.items
    return module.items[0]


def expr(text: str) -> ast.Expr:
    """The expression of ``metric x: money = <text>``."""
    metric = item(f"metric x: money = {text}")
    assert isinstance(metric, ast.Metric)
    return metric.expr


def codes(text: str) -> list[str]:
    """The diagnostic codes for a plan text (the module must then be None)."""
    module, diags = parse_source(text)
    assert module is None
    return [d.code for d in diags]


def only(text: str, code: str) -> Diagnostic:
    """The single diagnostic a text produces, checked to have ``code``."""
    module, diags = parse_source(text)
    assert module is None
    assert [d.code for d in diags] == [code], [(d.code, d.message) for d in diags]
    return diags[0]
