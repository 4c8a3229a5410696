"""Expressions compiled once into Python closures.

A closure takes the payee-stage scope (names, targets, tiers, tables and
aggregates of one payee in one segment) and, inside an aggregate, the fact
being visited. Filters and per-fact expressions therefore never walk the AST
per fact.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

import attrs

from kpidsl import ast
from kpidsl.data.model import Fact
from kpidsl.eval.errors import DIVISION_BY_ZERO, INVALID_OPERATION, EvalFailure
from kpidsl.eval.unparse import unparse
from kpidsl.source import Span

Value = Decimal | bool | str | dt.date | None


@attrs.frozen
class FactCtx:
    """The fact an aggregate is visiting and its credit share for the payees in scope."""

    fact: Fact
    share: Decimal


class Scope(Protocol):
    """What compiled closures need from the payee stage."""

    ctx: decimal.Context

    def named(self, name: str, span: Span) -> Value: ...
    def target(self, metric: str, span: Span) -> Decimal: ...
    def attainment(self, metric: str, span: Span) -> Decimal: ...
    def prior(self, component: str, span: Span) -> Decimal: ...
    def call(self, name: str, args: tuple[Value, ...], f: FactCtx | None, span: Span) -> Value: ...
    def aggregate(self, agg: ast.Aggregate) -> Value: ...
    def window(self, w: ast.Window) -> tuple[dt.date, dt.date]: ...
    def field(self, f: FactCtx | None, node: ast.Field) -> Value: ...
    def fallback(self, e: ast.Fallback, main: Fn, alt: Fn, f: FactCtx | None) -> Value: ...


Fn = Callable[[Scope, FactCtx | None], Value]


def num(v: Value, span: Span | None = None) -> Decimal:
    """The value as a Decimal, or an evaluation error (an empty cell, a text...)."""
    if isinstance(v, Decimal):
        return v
    raise EvalFailure(INVALID_OPERATION, f"expected a number, got {v!r}", span)


class Compiler:
    """Compiles expressions to closures, once per node (cached by node identity)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[ast.Expr, Fn]] = {}

    def compile(self, e: ast.Expr) -> Fn:
        hit = self._cache.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        fn = self._build(e)
        self._cache[id(e)] = (e, fn)
        return fn

    def _build(self, e: ast.Expr) -> Fn:
        if isinstance(e, (ast.Number, ast.String, ast.DateLit, ast.Bool)):
            const: Value = e.value
            return lambda s, f: const
        if isinstance(e, ast.Name):
            name, span = e.name, e.span
            return lambda s, f: s.named(name, span)
        if isinstance(e, ast.Field):
            return _field(e)
        if isinstance(e, ast.Unary):
            return self._unary(e)
        if isinstance(e, ast.Binary):
            return self._binary(e)
        if isinstance(e, ast.Call):
            return self._call(e)
        if isinstance(e, ast.InWindow):
            return self._in_window(e)
        if isinstance(e, ast.InList):
            inner, items = self.compile(e.expr), tuple(self.compile(i) for i in e.items)
            return lambda s, f: inner(s, f) in tuple(i(s, f) for i in items)
        if isinstance(e, ast.Fallback):
            return self._fallback(e)
        agg = e
        return lambda s, f: s.aggregate(agg)

    def _unary(self, e: ast.Unary) -> Fn:
        inner, span = self.compile(e.operand), e.span
        if e.op == "not":
            return lambda s, f: not inner(s, f)
        return lambda s, f: s.ctx.minus(num(inner(s, f), span))

    def _binary(self, e: ast.Binary) -> Fn:
        left, right, op = self.compile(e.left), self.compile(e.right), e.op
        if op == "and":
            return lambda s, f: bool(left(s, f)) and bool(right(s, f))
        if op == "or":
            return lambda s, f: bool(left(s, f)) or bool(right(s, f))
        if op in ("+", "-", "*", "/"):
            return _arith(op, left, right, e)
        return _compare(op, left, right, e.span)

    def _call(self, e: ast.Call) -> Fn:
        args = tuple(self.compile(a) for a in e.args)
        func, span = e.func, e.span
        if func in ("attainment", "target", "prior") and e.args and isinstance(e.args[0], ast.Name):
            ref = e.args[0].name
            if func == "attainment":
                return lambda s, f: s.attainment(ref, span)
            if func == "target":
                return lambda s, f: s.target(ref, span)
            return lambda s, f: s.prior(ref, span)
        if func in ("min", "max"):
            pick = min if func == "min" else max
            return lambda s, f: pick(num(a(s, f), span) for a in args)
        if func == "abs":
            one = args[0]
            return lambda s, f: s.ctx.abs(num(one(s, f), span))
        return lambda s, f: s.call(func, tuple(a(s, f) for a in args), f, span)

    def _in_window(self, e: ast.InWindow) -> Fn:
        inner, window, span = self.compile(e.expr), e.window, e.span

        def fn(s: Scope, f: FactCtx | None) -> Value:
            v = inner(s, f)
            if v is None:
                return False
            if not isinstance(v, dt.date):
                raise EvalFailure(INVALID_OPERATION, f"expected a date, got {v!r}", span)
            lo, hi = s.window(window)
            return lo <= v <= hi

        return fn

    def _fallback(self, e: ast.Fallback) -> Fn:
        main, alt, node = self.compile(e.expr), self.compile(e.fallback), e
        return lambda s, f: s.fallback(node, main, alt, f)


def _field(node: ast.Field) -> Fn:
    """A field read; a fact's own field (not ``share``, no reference) is read directly."""
    if len(node.path) != 1 or node.path == ("share",):
        return lambda s, f: s.field(f, node)
    name = node.path[0]

    def fn(s: Scope, f: FactCtx | None) -> Value:
        if f is None:
            return s.field(f, node)  # the scope says why a field is read outside an aggregate
        return f.fact.values.get(name)

    return fn


def _arith(op: str, left: Fn, right: Fn, e: ast.Binary) -> Fn:
    def fn(s: Scope, f: FactCtx | None) -> Value:
        a, b = num(left(s, f), e.left.span), num(right(s, f), e.right.span)
        return arith(op, a, b, s.ctx, e)

    return fn


OPERATIONS: dict[str, Callable[[decimal.Context, Decimal, Decimal], Decimal]] = {
    "+": decimal.Context.add, "-": decimal.Context.subtract,
    "*": decimal.Context.multiply, "/": decimal.Context.divide,
}


def arith(op: str, a: Decimal, b: Decimal, ctx: decimal.Context, e: ast.Binary) -> Decimal:
    """``a op b`` in the plan's context; division by zero is an evaluation error."""
    if op == "/" and b.is_zero():
        raise EvalFailure(DIVISION_BY_ZERO, f"division by zero in `{unparse(e)}` "
                          f"(`{unparse(e.right)}` is 0)", e.span)
    return OPERATIONS[op](ctx, a, b)


def _compare(op: str, left: Fn, right: Fn, span: Span) -> Fn:
    def fn(s: Scope, f: FactCtx | None) -> Value:
        return compare(op, left(s, f), right(s, f), span)

    return fn


def compare(op: str, a: Value, b: Value, span: Span) -> bool:
    """``a op b``: ``==``/``!=`` on any values; an order comparison with an empty value is false."""
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if a is None or b is None:
        return False
    try:
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]
    except TypeError:
        raise EvalFailure(INVALID_OPERATION, f"cannot compare {a!r} with {b!r}", span) from None


def mentions_share(e: ast.Expr | None) -> bool:
    """Whether an expression reads the ``share`` field (then ``sum`` does not weight again)."""
    if e is None:
        return False
    if isinstance(e, ast.Field):
        return e.path[-1:] == ("share",)
    # a nested aggregate has facts of its own: its share is not this fact's
    inner = () if isinstance(e, ast.Aggregate) else ast.children(e)
    return any(mentions_share(c) for c in inner)
