"""Loading and running the language-level conformance cases (``tests/conformance/*.yaml``).

A case is plan text, data as CSV text per table, a period, and one expectation
kind (values, a per-payee evaluation error, a check error or a data error).
Expected figures are worked out by hand from the semantics, never taken from
the engine. See README.md in this folder for the case format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import attrs
import yaml

from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.diagnostics import Diagnostic, KpiError

HERE = Path(__file__).parent
DEFAULT_HEADER = 'plan "conformance" { currency CNY  period quarter }'
DEFAULT_PAYEES = "id,name,role,region,manager\nalice,Alice,AE,east,\n"
DEFAULT_PERIOD = "2026-Q3"
EXPECT_KEYS = ("expect", "expect_error", "expect_check_error", "expect_data_error", "expect_fail")


@attrs.frozen
class Case:
    """One conformance case as read from YAML (defaults of its file applied)."""

    file: str
    name: str
    plan: str
    data: Mapping[str, str]
    period: str
    spec: Mapping[str, Any]
    xfail: str | None = None
    as_of: str | None = None  # optional `as_of: 2026-09-15` cut-off of the run

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def _with_header(plan: str, header: str) -> str:
    return plan if 'plan "' in plan else header + "\n" + plan


def _cases_of(path: Path) -> Iterator[Case]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults: Mapping[str, Any] = {}
    if isinstance(doc, Mapping):
        defaults, doc = doc.get("defaults", {}), doc["cases"]
    for raw in doc:
        data = {"payees": defaults.get("payees", DEFAULT_PAYEES), **(raw.get("data") or {})}
        yield Case(
            file=path.name,
            name=str(raw["name"]),
            plan=_with_header(str(raw["plan"]), str(defaults.get("header", DEFAULT_HEADER))),
            data={k: str(v) for k, v in data.items()},
            period=str(raw.get("period", defaults.get("period", DEFAULT_PERIOD))),
            spec={k: raw[k] for k in EXPECT_KEYS if k in raw},
            xfail=raw.get("xfail"),
            as_of=None if raw.get("as_of") is None else str(raw["as_of"]),
        )


def load_cases(folder: Path = HERE) -> list[Case]:
    """Every case of every YAML file in the folder, in file then written order."""
    cases: list[Case] = []
    for path in sorted(folder.glob("*.yaml")):
        cases.extend(_cases_of(path))
    return cases


def raw_table(name: str, text: str) -> RawTable:
    """A CSV text as a RawTable; line numbers as an editor shows them (header = 1)."""
    rows = list(csv.reader(io.StringIO(text.strip("\n") + "\n")))
    header = tuple(h.strip() for h in rows[0])
    body = tuple(
        RawRow(RowRef(f"{name}.csv", n), tuple(c.strip() for c in cells))
        for n, cells in enumerate(rows[1:], start=2)
        if cells
    )
    return RawTable(name=name, file=f"{name}.csv", header=header, rows=body)


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------


@attrs.define
class Outcome:
    """What the pipeline produced for a case: the stage it stopped at and its output."""

    stage: str  # "check", "data" or "eval"
    diagnostics: list[Diagnostic] = attrs.field(factory=list)
    result: Any = None


def _errors(diags: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity == "error"]


def run(case: Case, explain: bool = True) -> Outcome:
    """Parse, check, bind and evaluate a case, stopping at the first stage with errors.

    ``explain=False``: payees on the plain road go through the quick payee stage."""
    from kpidsl.check import check
    from kpidsl.data.bind import bind
    from kpidsl.eval import evaluate
    from kpidsl.syntax.parser import parse

    try:
        module = parse(case.plan, "plan.kpi")
    except KpiError as exc:
        return Outcome("check", list(exc.diagnostics))
    model, diags = check([module])
    if model is None or _errors(diags):
        return Outcome("check", _errors(diags))
    tables = {name: raw_table(name, text) for name, text in case.data.items()}
    dataset, data_diags = bind(model, tables)
    if _errors(data_diags):
        return Outcome("data", _errors(data_diags))
    import datetime as dt

    as_of = dt.date.fromisoformat(case.as_of) if case.as_of else None
    return Outcome("eval", result=evaluate(model, dataset, case.period, as_of=as_of, explain=explain))


def _codes(diags: Sequence[Diagnostic]) -> list[str]:
    return sorted({d.code for d in diags})


def code_matches(code: str, expected: str | Sequence[str]) -> bool:
    """``KPI06`` matches any KPI06xx; a full code must match exactly; a list is any-of."""
    options = [expected] if isinstance(expected, str) else list(expected)
    return any(code.startswith(str(o)) for o in options)


def _describe(outcome: Outcome) -> str:
    if outcome.stage != "eval":
        return f"stopped at {outcome.stage}: " + "; ".join(
            f"{d.code} {d.message} ({d.span})" for d in outcome.diagnostics
        )
    lines = []
    for pid, pr in sorted(outcome.result.payees.items()):
        errs = ", ".join(f"{e.code} {e.name}: {e.message}" for e in pr.errors)
        lines.append(f"{pid}: total={pr.total} components={pr.components} errors=[{errs}]")
    return "evaluated: " + " | ".join(lines)


def check_outcome(case: Case, outcome: Outcome) -> None:
    """Assert the case's expectations against the outcome (AssertionError when unmet)."""
    spec = case.spec
    assert spec, f"{case.id}: no expectation"
    if "expect_fail" in spec:
        codes = _codes(outcome.diagnostics)
        if outcome.stage == "eval":
            codes = sorted({e.code for e in outcome.result.errors})
        assert any(code_matches(c, spec["expect_fail"]) for c in codes), _describe(outcome)
        return
    for key, stage in (("expect_check_error", "check"), ("expect_data_error", "data")):
        if key in spec:
            assert outcome.stage == stage, f"expected {stage} error, {_describe(outcome)}"
            codes = _codes(outcome.diagnostics)
            assert any(code_matches(c, spec[key]) for c in codes), f"codes {codes}"
            return
    assert outcome.stage == "eval", _describe(outcome)
    for pid, expected in (spec.get("expect_error") or {}).items():
        _check_error(outcome.result, str(pid), expected)
    for pid, values in (spec.get("expect") or {}).items():
        _check_values(outcome.result, str(pid), values)


def _check_error(result: Any, pid: str, expected: Any) -> None:
    pr = result.payees.get(pid)
    assert pr is not None, f"payee {pid} missing from the result"
    if isinstance(expected, Mapping):
        for name, code in expected.items():
            failure = pr.failures.get(name)
            assert failure is not None, f"{pid}.{name} did not fail: {_describe_payee(pr)}"
            assert code_matches(failure.code, code), f"{pid}.{name}: {failure.code}"
        return
    codes = [e.code for e in pr.errors]
    assert any(code_matches(c, expected) for c in codes), f"{pid}: codes {codes}"
    assert pr.total is None, f"{pid} has an error but a total {pr.total}"
    assert not result.ok, "a run with a payee error must be marked failed"


def _describe_payee(pr: Any) -> str:
    return f"total={pr.total} components={pr.components} values={pr.values}"


def _as_decimal(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def _check_values(result: Any, pid: str, values: Mapping[str, Any]) -> None:
    pr = result.payees.get(pid)
    assert pr is not None, f"payee {pid} missing from the result"
    for name, want in values.items():
        got = _actual(pr, str(name))
        if want is None:
            assert got is None, f"{pid}.{name} should be absent, is {got!r}"
            continue
        assert got is not None, f"{pid}.{name} absent; {_describe_payee(pr)}; errors {pr.errors}"
        if name == "total" or name in pr.components:
            assert str(got) == str(want), f"{pid}.{name}: expected {want}, got {got}"
        else:
            _check_value(pid, str(name), got, want)


def _actual(pr: Any, name: str) -> Any:
    if name == "total":
        return pr.total
    if name in pr.components:
        return pr.components[name]
    return pr.values.get(name)


def _check_value(pid: str, name: str, got: Any, want: Any) -> None:
    if isinstance(want, bool) or isinstance(got, bool):
        assert str(got).lower() == str(want).lower(), f"{pid}.{name}: expected {want}, got {got}"
        return
    g, w = _as_decimal(got), _as_decimal(want)
    if g is not None and w is not None:
        assert g == w, f"{pid}.{name}: expected {want}, got {got}"
    else:
        assert str(got) == str(want), f"{pid}.{name}: expected {want!r}, got {got!r}"
