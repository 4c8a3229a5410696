"""Checking a test's expectations against one evaluation's result.

``expect payee.name OP value`` compares numbers as :class:`~decimal.Decimal`
(exactly; ``5_100`` equals ``5100.00``) and booleans, text and dates exactly.
``expect error CODE [for payee[.name]]`` holds when that error occurred: an
evaluation error of that payee (and value, or a value it depends on) or, when
the data was rejected, a data error with that code. Every evaluation or data
error that no ``expect error`` asks for fails the test.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic
from kpidsl.eval.result import EvalError, PayeeResult, ResultValue, value_text
from kpidsl.source import SourceFile, Span

from .outcome import Failure

Literal = Decimal | bool | str | dt.date

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class NotALiteral(ValueError):
    """An expected value that is not a literal (``expect a.b == c * 2``)."""


@attrs.frozen
class Checked:
    """What the expectations are checked against: the evaluation (or its absence) and the data."""

    payees: dict[str, PayeeResult] | None  # None when the data was rejected
    data_errors: tuple[Diagnostic, ...]
    sources: dict[str, SourceFile]
    locate: Callable[[Span], str]
    explain: Callable[[PayeeResult, str], str | None]

    def source_text(self, span: Span) -> str:
        src = self.sources.get(span.file)
        if src is None or span.end <= span.start:
            return ""
        return " ".join(src.text[span.start : span.end].split())


def literal(expr: ast.Expr) -> Literal:
    """The value of an expected literal: a number (``-5``, ``80%``), text, bool or date."""
    if isinstance(expr, ast.Number):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-":
        inner = literal(expr.operand)
        if isinstance(inner, Decimal):
            return -inner
    if isinstance(expr, ast.String | ast.Bool | ast.DateLit):
        return expr.value
    raise NotALiteral("the expected value must be a literal: a number, text, true/false or a date")


def show(value: ResultValue | Literal) -> str:
    """A value as text: decimals plain, booleans lower-case, dates ISO, text quoted."""
    if isinstance(value, str):
        return f'"{value}"'
    return value_text(value)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "text"


def _error_text(e: EvalError) -> str:
    where = f" ({e.span})" if e.span is not None else ""
    return f"error {e.code} in {e.name}: {e.message}{where}"


def check_expect(ctx: Checked, item: ast.Expect, reported: set[EvalError]) -> Failure | None:
    """None when ``expect payee.name OP value`` holds, else why not."""
    loc = ctx.locate(item.span)
    head = ctx.source_text(item.span) or f"expect {item.payee}.{item.name} {item.op} ..."
    try:
        want = literal(item.value)
    except NotALiteral as exc:
        return Failure(loc, f"{head}: {exc}")
    expected = f"{item.payee}.{item.name} {item.op} {show(want)}"
    if ctx.payees is None:
        return Failure(loc, f"{head}: the data was rejected, nothing was evaluated", expected,
                       "not evaluated")
    pr = ctx.payees.get(item.payee)
    if pr is None:
        known = ", ".join(sorted(ctx.payees)) or "none"
        return Failure(loc, f"{head}: no payee `{item.payee}` in this test (payees: {known})",
                       expected, "no such payee")
    return _compare(ctx, item, pr, want, (loc, head, expected), reported)


def _compare(
    ctx: Checked, item: ast.Expect, pr: PayeeResult, want: Literal,
    where: tuple[str, str, str], reported: set[EvalError],
) -> Failure | None:
    loc, head, expected = where
    got = _actual(pr, item.name)
    if isinstance(got, EvalError) or got is None:
        err = got if isinstance(got, EvalError) else pr.failures.get(item.name)
        if err is not None:
            reported.add(err)
            return Failure(loc, f"{head}: {item.payee}.{item.name} could not be evaluated",
                           expected, _error_text(err), ctx.explain(pr, item.name))
        return Failure(loc, f"{head}: payee `{item.payee}` has no value `{item.name}`",
                       expected, "no such value")
    if item.op not in OPS:
        return Failure(loc, f"{head}: unknown comparison `{item.op}`", expected, show(got))
    if _kind(got) != _kind(want):
        return Failure(loc, f"{head}: cannot compare {_kind(got)} with {_kind(want)}",
                       expected, show(got), ctx.explain(pr, item.name))
    if _kind(got) in ("bool", "text") and item.op not in ("==", "!="):
        return Failure(loc, f"{head}: `{item.op}` does not apply to {_kind(got)}",
                       expected, show(got), ctx.explain(pr, item.name))
    if OPS[item.op](got, want):
        return None
    return Failure(loc, f"{head}: {item.payee}.{item.name} is {show(got)}", expected, show(got),
                   ctx.explain(pr, item.name))


def _actual(pr: PayeeResult, name: str) -> ResultValue | EvalError | None:
    if name == "total":
        if pr.total is not None:
            return pr.total
        return pr.errors[0] if pr.errors else None
    if name in pr.components and name not in pr.failures:
        return pr.components[name]
    if name in pr.values and name not in pr.failures:
        return pr.values[name]
    return pr.failures.get(name)


# ---------------------------------------------------------------- errors


def error_matches(item: ast.ExpectError, e: EvalError, pr: PayeeResult | None) -> bool:
    """Whether evaluation error ``e`` is the one ``expect error CODE for payee[.name]`` asks for."""
    if item.code != e.code or (item.payee is not None and item.payee != e.payee):
        return False
    if item.name is None or item.name == e.name:
        return True
    # the value failed because a value it depends on did: its failure is the root error
    # under its own name (same code, message, place and period), not an equal object
    failed = pr.failures.get(item.name) if pr is not None else None
    return failed is not None and (failed.code, failed.message, failed.span, failed.period) == \
        (e.code, e.message, e.span, e.period)


def check_expect_error(ctx: Checked, item: ast.ExpectError) -> Failure | None:
    """None when the error ``expect error CODE [for payee[.name]]`` names occurred."""
    loc = ctx.locate(item.span)
    head = ctx.source_text(item.span) or f"expect error {item.code}"
    target = _target(item)
    expected = f"error {item.code}" + (f" for {target}" if target else "")
    if any(d.code == item.code for d in ctx.data_errors):
        return None
    if ctx.payees is None:
        found = ", ".join(sorted({d.code for d in ctx.data_errors})) or "none"
        return Failure(loc, f"{head}: the data was rejected with other errors", expected,
                       f"data errors: {found}")
    for pr in ctx.payees.values():
        if any(error_matches(item, e, pr) for e in pr.errors):
            return None
    return _missing_error(ctx, item, (loc, head, expected))


def _target(item: ast.ExpectError) -> str:
    if item.payee is None:
        return ""
    return item.payee + (f".{item.name}" if item.name is not None else "")


def _missing_error(ctx: Checked, item: ast.ExpectError, where: tuple[str, str, str]) -> Failure:
    loc, head, expected = where
    assert ctx.payees is not None
    pr = ctx.payees.get(item.payee) if item.payee is not None else None
    if item.payee is not None and pr is None:
        known = ", ".join(sorted(ctx.payees)) or "none"
        return Failure(loc, f"{head}: no payee `{item.payee}` in this test (payees: {known})",
                       expected, "no such payee")
    errors = [e for p in ctx.payees.values() for e in p.errors
              if item.payee is None or e.payee == item.payee]
    if pr is not None and item.name is not None:
        got = _actual(pr, item.name)
        if got is None:
            return Failure(loc, f"{head}: payee `{item.payee}` has no value `{item.name}`",
                           expected, "no such value")
        actual = _error_text(got) if isinstance(got, EvalError) else show(got)
        return Failure(loc, f"{head}: the error did not occur", expected, actual,
                       ctx.explain(pr, item.name))
    actual = "; ".join(f"{e.payee}: {_error_text(e)}" for e in errors) or "no errors"
    return Failure(loc, f"{head}: the error did not occur", expected, actual)


def unexpected_errors(
    ctx: Checked, asked: Sequence[ast.ExpectError], reported: set[EvalError],
    render: Callable[[Sequence[Diagnostic]], str],
) -> list[Failure]:
    """A failure for every data or evaluation error that no ``expect error`` asks for."""
    failures: list[Failure] = []
    codes = {a.code for a in asked}
    data = [d for d in ctx.data_errors if d.code not in codes]
    if data:
        first = data[0]
        failures.append(Failure(ctx.locate(first.span), f"the test's data has {len(data)} "
                                f"error{'s' if len(data) != 1 else ''}", "valid data",
                                ", ".join(d.code for d in data), render(data)))
    for pr in (ctx.payees or {}).values():
        for e in pr.errors:
            if e in reported or any(error_matches(a, e, pr) for a in asked):
                continue
            where = ctx.locate(e.span) if e.span is not None else "?"
            failures.append(Failure(where, f"unexpected evaluation error for {e.payee}",
                                    "no evaluation error", _error_text(e), ctx.explain(pr, e.name)))
    return failures
