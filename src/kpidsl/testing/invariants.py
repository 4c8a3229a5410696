"""Invariants: declared properties of a plan, checked on hypothesis-generated data.

* ``invariant NAME OP EXPR`` (``spiff <= 5_000``, ``variable <= target_incentive * 2``):
  for every payee of every generated data set, NAME OP EXPR, where EXPR may use
  the payee's named values (numbers, ``+ - * /``, ``min``/``max``/``abs``).
* ``invariant NAME is monotonic in X``: X a metric (adding one fact that
  increases that metric for a payee never decreases the payee's NAME), an
  input (raising one payee's input never decreases NAME) or a fact field
  (``deal.amount``: raising that field of one fact never decreases any payee's NAME).
  Amounts are never negative for monotonic invariants.

Data sets whose evaluation has errors are discarded. The search is
deterministic (``derandomize``, no example database), ``max_examples``
bounded. A violation is shrunk and reported as a ready-to-paste ``test``
block whose ``expect`` line fails the same way.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from kpidsl import api, ast
from kpidsl.eval.result import PayeeResult, ResultValue

from .build import Record, Scenario, payee_ref, test_block
from .expect import OPS

DEFAULT_EXAMPLES = 50
CTX = decimal.Context(prec=28)


class Unsupported(ValueError):
    """An invariant this runner cannot check (an expression it cannot evaluate)."""


@attrs.define
class Violation(Exception):
    """A generated data set on which the invariant does not hold, and the test that shows it."""

    scenario: Scenario
    payee: str
    message: str
    expect: str
    comments: tuple[str, ...] = ()
    actual: str = ""  # just the value found (``0.00 (was 500.00)``), for the failure's actual line

    def block(self, name: str) -> str:
        return test_block(name, self.scenario, [self.expect], self.comments)


def invariant_text(inv: ast.Invariant) -> str:
    """``spiff <= 5_000`` / ``commission is monotonic in bookings`` (from the AST)."""
    from kpidsl.eval.unparse import unparse

    if inv.op == "monotonic":
        return f"{inv.name} is monotonic in {unparse(inv.arg)}"
    return f"{inv.name} {inv.op} {unparse(inv.arg)}"


def value_of(pr: PayeeResult, name: str) -> ResultValue | None:
    """The payee's value ``name`` (a component, a named value or ``total``), None if failed."""
    if name == "total":
        return pr.total
    if name in pr.failures:
        return None
    if name in pr.components:
        return pr.components[name]
    return pr.values.get(name)


def rhs(expr: ast.Expr, pr: PayeeResult) -> Decimal:
    """The bound of ``NAME OP EXPR`` for one payee: numbers, the payee's values, + - * /, min/max/abs."""
    if isinstance(expr, ast.Number):
        return expr.value
    if isinstance(expr, ast.Name):
        v = value_of(pr, expr.name)
        if not isinstance(v, Decimal) or isinstance(v, bool):
            raise Unsupported(f"`{expr.name}` has no number for payee {pr.id}")
        return v
    if isinstance(expr, ast.Unary) and expr.op == "-":
        return -rhs(expr.operand, pr)
    if isinstance(expr, ast.Binary) and expr.op in ("+", "-", "*", "/"):
        a, b = rhs(expr.left, pr), rhs(expr.right, pr)
        ops: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
            "+": CTX.add, "-": CTX.subtract, "*": CTX.multiply, "/": CTX.divide}
        if expr.op == "/" and b.is_zero():
            raise Unsupported("division by zero in the invariant's bound")
        return ops[expr.op](a, b)
    if isinstance(expr, ast.Call) and expr.func in ("min", "max", "abs") and expr.args:
        args = [rhs(a, pr) for a in expr.args]
        return abs(args[0]) if expr.func == "abs" else (min(args) if expr.func == "min" else max(args))
    raise Unsupported("the bound must be numbers and named values with + - * / min max abs")


def literal(d: Decimal) -> str:
    """A decimal as a kpidsl number literal (``-`` first when negative)."""
    text = format(d, "f")
    return text


class Rejected(Exception):
    """The generated data set is not usable (data errors or evaluation errors)."""


def evaluate(plan: api.Plan, s: Scenario) -> dict[str, PayeeResult]:
    """Every payee's result; :class:`Rejected` when the data or an evaluation fails."""
    result = plan.evaluate(s.raw(), s.period)
    if result.evaluation is None:
        codes = sorted({d.code for d in result.data_diagnostics if d.severity == "error"})
        raise Rejected("data errors: " + ", ".join(codes))
    payees = dict(result.evaluation.payees)
    if any(p.errors for p in payees.values()):
        raise Rejected("evaluation errors")
    return payees


# ---------------------------------------------------------------- the properties


def check_bound(plan: api.Plan, inv: ast.Invariant, s: Scenario) -> int:
    """Raise :class:`Violation` if some payee breaks ``NAME OP EXPR``; the payees checked."""
    checked = 0
    for pid, pr in sorted(evaluate(plan, s).items()):
        got = value_of(pr, inv.name)
        if not isinstance(got, Decimal):
            continue
        bound = rhs(inv.arg, pr)
        checked += 1
        if not OPS[inv.op](got, bound):
            comments = [] if isinstance(inv.arg, ast.Number) else [f"{invariant_text(inv)}: the bound is {bound}"]
            expect = f"expect {payee_ref(pid)}.{inv.name} {inv.op} {literal(bound)}"
            raise Violation(s, pid, f"{pid}.{inv.name} is {got}, not {inv.op} {bound}", expect,
                            (f"invariant {invariant_text(inv)} is violated: {pid}.{inv.name} = {got}",
                             *comments), f"{pid}.{inv.name} = {got}")
    return checked


@attrs.frozen
class Change:
    """A change of a scenario that should not decrease NAME: its result and what it was."""

    after: Scenario
    describe: str
    payees: tuple[str, ...] | None = None  # payees to compare (None: all)


def check_monotonic(plan: api.Plan, inv: ast.Invariant, before: Scenario, change: Change) -> int:
    """Raise :class:`Violation` if NAME decreases for a payee after ``change``."""
    old, new = evaluate(plan, before), evaluate(plan, change.after)
    checked = 0
    for pid in sorted(change.payees if change.payees is not None else old):
        a, b = value_of(old[pid], inv.name), value_of(new[pid], inv.name)
        if not isinstance(a, Decimal) or not isinstance(b, Decimal):
            continue
        checked += 1
        if b < a:
            expect = f"expect {payee_ref(pid)}.{inv.name} >= {literal(a)}"
            raise Violation(change.after, pid, f"{pid}.{inv.name} went down from {a} to {b}", expect,
                            (f"invariant {invariant_text(inv)} is violated:",
                             f"{change.describe}; before it, {pid}.{inv.name} was {a}, now {b}"),
                            f"{pid}.{inv.name} = {b} (was {a})")
    return checked


def metric_increased(plan: api.Plan, metric: str, before: Scenario, after: Scenario) -> tuple[str, ...]:
    """The payees whose ``metric`` is higher in ``after`` than in ``before``."""
    old, new = evaluate(plan, before), evaluate(plan, after)
    out = []
    for pid in sorted(old):
        a, b = value_of(old[pid], metric), value_of(new[pid], metric)
        if isinstance(a, Decimal) and isinstance(b, Decimal) and b > a:
            out.append(pid)
    return tuple(out)


def replace_row(s: Scenario, table: str, index: int, row: Record) -> Scenario:
    rows = list(s.tables[table])
    rows[index] = row
    return s.with_table(table, rows)


def with_field(row: Record, field: str, value: Any) -> Record:
    return {**row, field: value}
