"""Binding ``credits``: shares of facts credited to payees, by credit type.

Rows are unique by (kind, fact, payee, type). A fact that has credit rows must
have ``split`` rows summing to exactly 100% (its credit rows replace its own
payee field); otherwise every credit row of that fact is rejected.
"""

from __future__ import annotations

from decimal import Context, Decimal

from kpidsl.diagnostics import Diagnostic, error, warning
from kpidsl.model import PlanModel

from . import codes
from .facts import FactsBound, rejected_why
from .literals import fold
from .model import CreditRow, Payee, RawRow, RawTable
from .navigation import credit_types
from .tableview import (
    KeyIndex,
    Sink,
    View,
    check_columns,
    check_shape,
    empty_required,
    invalid,
    located,
    typed,
)
from .values import parse_percent, shift

COLUMNS = ("kind", "fact", "payee", "share", "credit_type", "type")
REQUIRED = ("kind", "fact", "payee", "share")
SPLIT = "split"
# Exact sums of shares: shares have few digits, so this precision never rounds.
_EXACT = Context(prec=200)

_Row = tuple[View, RawRow, CreditRow]


def bind_credits(
    model: PlanModel,
    tables: list[RawTable],
    payees: dict[str, Payee],
    facts: FactsBound,
    sink: Sink,
) -> list[CreditRow]:
    accepted: list[_Row] = []
    keys = KeyIndex()
    named = {fold(t): t for t in sorted(credit_types(model), reverse=True)}
    for table in tables:
        view = View(table)
        if not check_columns(view, REQUIRED, COLUMNS, sink, "credits"):
            continue
        for row in check_shape(view, sink):
            item = _credit(model, view, row, payees, facts)
            if isinstance(item, CreditRow):
                key = (item.kind, item.fact, item.payee, item.type)
                dup = keys.duplicate(view, row, key, "payee", "credit (kind / fact / payee / type)")
                item = [dup] if dup is not None else item
            if isinstance(item, CreditRow):
                accepted.append((view, row, item))
                _check_type(view, row, item.type, named, sink)
            else:
                sink.reject_all(row, item)
    return _check_splits(accepted, sink)


def _type_column(view: View) -> str:
    return "credit_type" if view.has("credit_type") else "type"


def _check_type(view: View, row: RawRow, type_: str, named: dict[str, str], sink: Sink) -> None:
    """A credit type that is a type the plan names (``named``: by :func:`fold`) but for
    letter case or spaces is counted by none of its metrics: a warning (KPI0717)."""
    literal = named.get(fold(type_))
    if literal is None or literal == type_:
        return
    column = _type_column(view)
    msg = (
        f"credit type '{type_}' is not '{literal}': credit types are compared exactly "
        f"({view.where(row, column)})"
    )
    hint = f"write '{literal}' in the data if this credit should count as {literal}"
    sink.add(warning(codes.CASE_MISMATCH, msg, view.span(row, column), help=hint,
                     cell=view.cell(row, column)))


def _credit(
    model: PlanModel, view: View, row: RawRow, payees: dict[str, Payee], facts: FactsBound
) -> CreditRow | list[Diagnostic]:
    problems: list[Diagnostic] = []
    kind_text = view.text(row, "kind")
    schema = model.kind_by_stem(kind_text) if kind_text else None
    if not kind_text:
        problems.append(empty_required(view, row, "kind"))
    elif schema is None:
        reason = f"not a fact kind of the plan (it has: {', '.join(sorted(model.kinds))})"
        problems.append(invalid(view, row, "kind", reason, codes.UNKNOWN_CREDIT_KIND))
    fact = view.text(row, "fact")
    if not fact:
        problems.append(empty_required(view, row, "fact"))
    elif schema is not None and fact not in facts.facts.get(schema.name, {}):
        reason = rejected_why(facts, schema.name, fact)
        problems.append(invalid(view, row, "fact", reason, codes.UNKNOWN_CREDIT_FACT))
    payee = view.text(row, "payee")
    if not payee:
        problems.append(empty_required(view, row, "payee"))
    elif payee not in payees:
        problems.append(invalid(view, row, "payee", "no payee has this id", codes.UNKNOWN_PAYEE))
    share = typed(view, row, "share", parse_percent, problems)
    if isinstance(share, Decimal) and not Decimal(0) < share <= Decimal(1):
        reason = "a share is more than 0% and at most 100% (write 50% or 0.5)"
        problems.append(invalid(view, row, "share", reason, codes.SHARE_OUT_OF_RANGE))
    type_ = view.text(row, _type_column(view)) or SPLIT
    if problems or schema is None or not isinstance(share, Decimal):
        return problems
    return CreditRow(schema.name, fact, payee, share, type_, row.ref)


def _percent(value: Decimal) -> str:
    return f"{shift(value, 2).normalize(_EXACT):f}%"


def _check_splits(rows: list[_Row], sink: Sink) -> list[CreditRow]:
    """Reject every credit row of a fact whose split shares do not sum to exactly 100%."""
    by_fact: dict[tuple[str, str], list[_Row]] = {}
    for item in rows:
        by_fact.setdefault((item[2].kind, item[2].fact), []).append(item)
    out: list[CreditRow] = []
    for (kind, fact), group in sorted(by_fact.items()):
        total = Decimal(0)
        for _, _, credit in group:
            if credit.type == SPLIT:
                total = _EXACT.add(total, credit.share)
        if total == 1:
            out.extend(credit for _, _, credit in group)
            continue
        for view, row, _ in group:
            sink.reject(row, _split_error(kind, fact, total, view, row, group))
    return out


def _split_error(
    kind: str, fact: str, total: Decimal, view: View, row: RawRow, group: list[_Row]
) -> Diagnostic:
    msg = (
        f"split shares of {kind} '{fact}' sum to {_percent(total)}, not 100%: "
        f"every credit row of {kind} '{fact}' was rejected ({view.where(row, 'share')})"
    )
    others = tuple(
        located(v.span(r, "share"), f"{c.type} {_percent(c.share)} for {c.payee}")
        for v, r, c in group
        if r is not row
    )
    only_overlays = all(c.type != SPLIT for _, _, c in group)
    note = (
        f"{kind} '{fact}' has only overlay rows; credit rows replace the fact's own payee "
        "field, so it needs split rows summing to 100% too"
    )
    return error(
        codes.SPLIT_NOT_100,
        msg,
        view.span(row, "share"),
        secondary=others,
        notes=(note,) if only_overlays else (),
        cell=view.cell(row, "share"),
    )
