"""Text values that differ from a literal the plan compares them to only in case or spaces.

``deal.stage == "won"`` never matches a deal whose stage is ``Won``: values are
compared exactly, so such a fact silently drops out of a metric. Each one gets
a warning (the data may be right, and the plan may mean it). So do payee
attributes that differ so from an override selector's value (``for role SE``
and a payee of role ``se``), history attributes and payees.csv columns named
like a payee attribute but for case (``Manager``: nobody would have a manager).
"""

from __future__ import annotations

from collections.abc import Mapping

from kpidsl.diagnostics import Cell, warning
from kpidsl.model import PlanModel

from . import codes
from .model import Fact, HistoryRow, RawRow, RawTable
from .navigation import compared_literals
from .tableview import Sink, View

# payees.csv columns the engine reads whatever the plan says
PAYEE_COLUMNS = ("id", "name", "role", "region", "manager")


def fold(text: str) -> str:
    """A text as compared for KPI0717: without surrounding space, case-folded."""
    return text.strip().casefold()


def case_mismatches(
    model: PlanModel,
    facts: Mapping[str, Mapping[str, Fact]],
    rows: Mapping[tuple[str, str], tuple[View, RawRow]],
    sink: Sink,
    compared: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> None:
    """Warn for every fact text value that equals a compared literal but for case or spaces
    (``compared``: :func:`compared_literals` of the model, when already known)."""
    compared = compared_literals(model) if compared is None else compared
    for (kind, field), literals in sorted(compared.items()):
        by_fold = {fold(lit): lit for lit in sorted(literals, reverse=True)}
        for key in sorted(facts.get(kind, {})):
            value = facts[kind][key].values.get(field)
            if not isinstance(value, str) or value in literals:
                continue
            literal = by_fold.get(fold(value))
            if literal is None or (kind, key) not in rows:
                continue
            view, row = rows[kind, key]
            msg = (
                f"{kind} {key} {field} '{value}' is not '{literal}': values are compared exactly "
                f"({view.where(row, field)})"
            )
            hint = f"write '{literal}' in the data if this {kind} should count"
            sink.add(warning(codes.CASE_MISMATCH, msg, view.span(row, field), help=hint,
                             cell=view.cell(row, field)))


def _folded(names: set[str] | frozenset[str]) -> dict[str, str]:
    """Each name by its :func:`fold` (the smallest name of those that fold alike)."""
    return {fold(n): n for n in sorted(names, reverse=True)}


def attribute_mismatches(
    model: PlanModel,
    payee_tables: list[RawTable],
    payee_rows: Mapping[str, tuple[View, RawRow]],
    history: list[tuple[HistoryRow, View, RawRow]],
    sink: Sink,
) -> None:
    """Warn for payee attributes that the plan or the engine would read but for letter case
    or spaces: a payees.csv column (KPI0707), a history attribute or a value compared by an
    override selector (KPI0717). ``payee_rows``: where each accepted payee's row is."""
    selectors: dict[str, set[str]] = {}
    for block in model.overrides:
        for selected in block.selector:
            selectors.setdefault(selected.attr, set()).add(selected.value)
    names = {*PAYEE_COLUMNS, *selectors} - {"payee"}
    for table in payee_tables:
        _column_names(View(table), names, sink)
    columns = {c for t in payee_tables for c in t.header} | names
    attributes = _folded(columns - {"id", "name"})
    for item, view, row in history:
        known = attributes.get(fold(item.attribute))
        if known is not None and item.attribute not in columns:
            msg = (
                f"history attribute '{item.attribute}' is not '{known}': attribute names are "
                f"compared exactly ({view.where(row, 'attribute')})"
            )
            hint = f"write '{known}' if this row changes the payee's {known}"
            sink.add(warning(codes.CASE_MISMATCH, msg, view.span(row, "attribute"), help=hint,
                             cell=view.cell(row, "attribute")))
    for attr, values in sorted(selectors.items()):
        by_fold = _folded(values)
        for pid in sorted(payee_rows):
            view, row = payee_rows[pid]
            column = "id" if attr == "payee" else attr
            _selector_value(view, row, pid, attr, column, values, by_fold, sink)
        if attr == "payee":
            continue
        for item, view, row in history:
            if item.attribute == attr:
                _selector_value(view, row, item.payee, attr, "value", values, by_fold, sink)


def _column_names(view: View, names: set[str], sink: Sink) -> None:
    """One warning for the payees.csv columns named like ``names`` but for case or spaces."""
    header = view.table.header
    by_fold = _folded(names)
    odd = [
        (c, by_fold[fold(c)]) for c in header if c not in names and fold(c) in by_fold
    ]
    odd = [(c, known) for c, known in odd if known not in header]
    if not odd:
        return
    pairs = ", ".join(f"'{c}' is not '{known}'" for c, known in odd)
    msg = (
        f"{view.table.file}: column names are matched exactly: {pairs}; "
        "read as custom attributes, not as the payee's own"
    )
    hint = "rename the column(s): " + ", ".join(f"{c} → {known}" for c, known in odd)
    sink.add(warning(codes.EXTRA_COLUMNS, msg, view.header_span(odd[0][0]), help=hint,
                     cell=Cell(odd[0][0], odd[0][0])))


def _selector_value(
    view: View,
    row: RawRow,
    pid: str,
    attr: str,
    column: str,
    values: set[str],
    by_fold: dict[str, str],
    sink: Sink,
) -> None:
    text = view.text(row, column)
    literal = by_fold.get(fold(text))
    if not text or text in values or literal is None:
        return
    msg = (
        f"payee {pid} {attr} '{text}' is not '{literal}': override selectors compare values "
        f"exactly ({view.where(row, column)})"
    )
    hint = f"write '{literal}' in the data if `for {attr} {literal}` should apply to {pid}"
    sink.add(warning(codes.CASE_MISMATCH, msg, view.span(row, column), help=hint,
                     cell=view.cell(row, column)))
