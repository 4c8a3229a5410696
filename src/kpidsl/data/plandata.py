"""Binding the per-payee tables: ``targets``, ``inputs`` and ``payments``.

Each is keyed by (payee, name, period); the period must be of the plan's
granularity, the name must be declared by the plan, and the value is typed by
the declaration (a metric's type for targets, the input's type for inputs).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import PlanModel

from . import codes
from .model import InputRow, Payee, PaymentRow, RawRow, RawTable, TargetRow, Value
from .tableview import (
    KeyIndex,
    Sink,
    View,
    check_columns,
    check_percent,
    check_shape,
    empty_required,
    invalid,
    typed,
)
from .values import (
    ValueProblem,
    parse_count,
    parse_decimal,
    parse_percent,
    parse_period_text,
    parse_value,
)


def declared(model: PlanModel, cls: type) -> dict[str, str]:
    """Name -> type of every metric or input declared in the base plan or an override."""
    out: dict[str, str] = {}
    for d in [*model.base.values(), *(d for block in model.overrides for d in block.body)]:
        if isinstance(d, cls) and isinstance(d, ast.Metric | ast.InputDecl):
            out.setdefault(d.name, d.type)
    return out


def number_parser(type_: str) -> Callable[[str], Decimal]:
    if type_ == "percent":
        return parse_percent
    if type_ == "count":
        return parse_count
    return parse_decimal


class _Common:
    """What every per-payee row checks: payee, declared name, period; then its value."""

    def __init__(self, model: PlanModel, payees: dict[str, Payee], sink: Sink) -> None:
        self.model = model
        self.payees = payees
        self.sink = sink

    def payee(self, view: View, row: RawRow, problems: list[Diagnostic]) -> str:
        pid = view.text(row, "payee")
        if not pid:
            problems.append(empty_required(view, row, "payee"))
        elif pid not in self.payees:
            problems.append(
                invalid(view, row, "payee", "no payee has this id", codes.UNKNOWN_PAYEE)
            )
        return pid

    def name(
        self,
        view: View,
        row: RawRow,
        column: str,
        known: dict[str, str] | tuple[str, ...],
        code: str,
        what: str,
        problems: list[Diagnostic],
    ) -> str:
        name = view.text(row, column)
        if not name:
            problems.append(empty_required(view, row, column))
        elif name not in known:
            choices = ", ".join(sorted(known))
            reason = (
                f"the plan has no {what} of this name (it has: {choices})"
                if choices
                else f"the plan declares no {what}s"
            )
            problems.append(invalid(view, row, column, reason, code))
        return name

    def period(self, view: View, row: RawRow, problems: list[Diagnostic]) -> str:
        header = self.model.header
        text = view.text(row, "period")
        if not text:
            problems.append(empty_required(view, row, "period"))
            return ""
        try:
            label, granularity = parse_period_text(text, header.fiscal_year_start)
        except ValueProblem as exc:
            problems.append(invalid(view, row, "period", str(exc)))
            return ""
        if granularity != header.period:
            reason = f"a {granularity} period, but the plan's periods are {header.period}s"
            problems.append(invalid(view, row, "period", reason, codes.WRONG_GRANULARITY))
        return label

    def rows(
        self, tables: list[RawTable], columns: tuple[str, ...], what: str
    ) -> list[tuple[View, RawRow]]:
        return [(view, row) for view, rows in self.tables(tables, columns, what) for row in rows]

    def tables(
        self, tables: list[RawTable], columns: tuple[str, ...], what: str
    ) -> list[tuple[View, list[RawRow]]]:
        """Each usable table's rows with a cell per column; the others are reported."""
        out: list[tuple[View, list[RawRow]]] = []
        for table in tables:
            view = View(table)
            if check_columns(view, columns, columns, self.sink, what):
                out.append((view, check_shape(view, self.sink)))
        return out

    def finish(
        self,
        view: View,
        row: RawRow,
        keys: KeyIndex,
        key: tuple[str, ...],
        column: str,
        what: str,
        problems: list[Diagnostic],
    ) -> bool:
        """Check uniqueness; reject the row if anything is wrong. True when accepted."""
        if not problems:
            dup = keys.duplicate(view, row, key, column, what)
            if dup is not None:
                problems.append(dup)
        self.sink.reject_all(row, problems)
        return not problems


TARGET_COLUMNS = ("payee", "metric", "period", "value")


def bind_targets(
    model: PlanModel, tables: list[RawTable], payees: dict[str, Payee], sink: Sink
) -> list[TargetRow]:
    common = _Common(model, payees, sink)
    targets = _Targets(common, declared(model, ast.Metric))
    out: list[TargetRow] = []
    for view, rows in common.tables(tables, TARGET_COLUMNS, "targets"):
        out.extend(targets.bind(view, rows))
    return out


class _Targets:
    """Binding targets rows, in order. A row with nothing to report is taken directly,
    without the per-cell bookkeeping of :func:`_target`; any other row goes through
    :func:`_target`, which checks it and words every problem (see :func:`_plain_target`).

    What repeats from row to row is worked out once: the columns of a table, the parser
    of each metric, the label of each period text (a targets table repeats a few periods).
    """

    def __init__(self, common: _Common, metrics: dict[str, str]) -> None:
        self.common = common
        self.header = common.model.header
        self.metrics = metrics
        self.keys = KeyIndex()
        # percent targets are left to _target: a bare number beyond ±1 is ambiguous there
        self.parsers = {m: number_parser(t) for m, t in metrics.items() if t != "percent"}
        self.labels: dict[str, str | None] = {}

    def bind(self, view: View, rows: list[RawRow]) -> list[TargetRow]:
        """The accepted targets of one table's rows (each row has a cell per column)."""
        pick = operator.itemgetter(*(view.index[c] for c in TARGET_COLUMNS))
        out: list[TargetRow] = []
        for row in rows:
            target = _plain_target(self, view, row, pick(row.cells))
            if target is None:
                target = _target(self.common, view, row, self.metrics, self.keys)
            if target is not None:
                out.append(target)
        return out

    def label(self, text: str) -> str | None:
        """The canonical label of a period text of the plan's granularity; None for an empty
        text, one that is not a period, or a period of another granularity."""
        if text in self.labels:
            return self.labels[text]
        label: str | None = None
        if text:
            try:
                label, granularity = parse_period_text(text, self.header.fiscal_year_start)
            except ValueProblem:
                granularity = ""
            if granularity != self.header.period:
                label = None
        self.labels[text] = label
        return label


def _plain_target(
    targets: _Targets, view: View, row: RawRow, cells: tuple[str, str, str, str]
) -> TargetRow | None:
    """The target of a row with nothing to report (its key then recorded); None for any
    other row. ``cells``: the row's payee, metric, period and value."""
    payee, metric, text, value_text = cells
    parse = targets.parsers.get(metric)
    if parse is None or not value_text or payee not in targets.common.payees:
        return None
    period = targets.label(text)
    if period is None:
        return None
    key = (payee, metric, period)
    if key in targets.keys.first:
        return None
    try:
        value = parse(value_text)
    except ValueProblem:
        return None
    if value < 0:  # a negative target: _target words it
        return None
    targets.keys.first[key] = (view, row)
    return TargetRow(payee, metric, period, value, row.ref)


def _target(
    common: _Common, view: View, row: RawRow, metrics: dict[str, str], keys: KeyIndex
) -> TargetRow | None:
    problems: list[Diagnostic] = []
    payee = common.payee(view, row, problems)
    metric = common.name(view, row, "metric", metrics, codes.UNKNOWN_METRIC, "metric", problems)
    period = common.period(view, row, problems)
    parse = number_parser(metrics.get(metric, "number"))
    value = typed(view, row, "value", parse, problems)
    if metrics.get(metric) == "percent":
        check_percent(view, row, "value", value, problems)
    if isinstance(value, Decimal) and value < 0:
        problems.append(_negative_target(view, row))
    if common.finish(view, row, keys, (payee, metric, period), "metric", "target", problems):
        assert isinstance(value, Decimal)
        return TargetRow(payee, metric, period, value, row.ref)
    return None


def _negative_target(view: View, row: RawRow) -> Diagnostic:
    """A negative target (decision s10d): a quota is never negative and attainment against
    one would flip its sign, so the row is rejected (a zero target stays allowed)."""
    diagnostic = invalid(view, row, "value", "a target cannot be negative: attainment against it is undefined")
    return attrs.evolve(
        diagnostic,
        help="write the target as a positive amount (or 0 if there is none); "
        "a refund-heavy period is a value of the metric, not of its target",
    )


def bind_inputs(
    model: PlanModel, tables: list[RawTable], payees: dict[str, Payee], sink: Sink
) -> list[InputRow]:
    common, keys, out = _Common(model, payees, sink), KeyIndex(), []
    inputs = declared(model, ast.InputDecl)
    for view, row in common.rows(tables, ("payee", "name", "period", "value"), "inputs"):
        problems: list[Diagnostic] = []
        payee = common.payee(view, row, problems)
        name = common.name(view, row, "name", inputs, codes.UNKNOWN_INPUT, "input", problems)
        period = common.period(view, row, problems)
        type_ = inputs.get(name, "text")
        value: Value = typed(view, row, "value", partial(parse_value, type_), problems)
        if type_ == "percent":
            check_percent(view, row, "value", value, problems)
        if common.finish(view, row, keys, (payee, name, period), "name", "input value", problems):
            out.append(InputRow(payee, name, period, value, row.ref))
    return out


def bind_payments(
    model: PlanModel, tables: list[RawTable], payees: dict[str, Payee], sink: Sink
) -> list[PaymentRow]:
    common, keys, out = _Common(model, payees, sink), KeyIndex(), []
    components = model.payouts
    for view, row in common.rows(tables, ("payee", "component", "period", "amount"), "payments"):
        problems: list[Diagnostic] = []
        payee = common.payee(view, row, problems)
        component = common.name(
            view,
            row,
            "component",
            components,
            codes.UNKNOWN_COMPONENT,
            "payout component",
            problems,
        )
        period = common.period(view, row, problems)
        amount = typed(view, row, "amount", parse_decimal, problems)
        if common.finish(
            view, row, keys, (payee, component, period), "component", "payment", problems
        ):
            assert isinstance(amount, Decimal)
            out.append(PaymentRow(payee, component, period, amount, row.ref))
    return out
