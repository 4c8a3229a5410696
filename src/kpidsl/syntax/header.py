"""The ``plan "Name" { ... }`` header: settings validated into a PlanHeader (KPI0008)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kpidsl import ast
from kpidsl.source import Span
from kpidsl.syntax import literals as lit

if TYPE_CHECKING:
    from lark import Token


def _currency(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    problem = lit.currency_error(str(toks[0]))
    return problem or {"currency": str(toks[0])}


def _period(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    problem = lit.choice_error("period granularity", str(toks[0]), lit.PERIODS)
    return problem or {"period": str(toks[0])}


def _rounding(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    mode, quantum = str(toks[0]), str(toks[1])
    problem = lit.choice_error("rounding mode", mode, lit.ROUNDING_MODES)
    problem = problem or lit.quantum_error(quantum)
    return problem or {"rounding_mode": mode, "quantum": lit.decimal_of(quantum)}


# Money up to 10^13 (14 integer digits) with cents needs 16 significant digits.
MIN_PRECISION = 16


def _precision(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    value = lit.precision_of(str(toks[0]))
    if isinstance(value, str):
        return value
    if value < MIN_PRECISION:
        r.report("KPI0008", f"precision {value} is too small to pay money exactly: it must be at least "
                 f"{MIN_PRECISION} significant digits", r.tspan(toks[0]), "too few digits",
                 help="28 is the default; money up to 10^13 with cents needs at least 16 significant digits")
        return {}
    return {"precision": value}


def _fiscal(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    value = lit.fiscal_month_of(str(toks[0]))
    return value if isinstance(value, str) else {"fiscal_year_start": value}


def _effective(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    value = lit.date_of(str(toks[0]))
    if isinstance(value, str):
        r.report("KPI0007", value, r.tspan(toks[0]), "invalid date")
        return {}
    return {"effective": value}


def _changes(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    problem = lit.choice_error("`changes` setting", str(toks[0]), lit.CHANGES)
    return problem or {"changes": str(toks[0])}


def _version(r: lit.Reporter, toks: list[Token]) -> dict[str, Any] | str:
    return {"version": lit.unquote(toks[0])}


_SETTINGS: dict[str, Callable[[lit.Reporter, list[Token]], dict[str, Any] | str]] = {
    "currency": _currency,
    "period": _period,
    "rounding": _rounding,
    "precision": _precision,
    "fiscal_year_start": _fiscal,
    "effective": _effective,
    "changes": _changes,
    "version": _version,
}


def build_header(r: lit.Reporter, name: str, settings: list[Any], span: Span) -> ast.PlanHeader:
    """Validate each written setting; invalid or repeated ones are KPI0008."""
    values: dict[str, Any] = {}
    written: list[str] = []
    for setting in settings:
        if setting.tag in written:
            r.report(
                "KPI0008", f"`{setting.tag}` is set twice in the plan header",
                setting.span, "set again here", help="keep one of the two settings",
            )
            continue
        written.append(setting.tag)
        outcome = _SETTINGS[setting.tag](r, setting.value)
        if isinstance(outcome, str):
            quantum = setting.tag == "rounding" and "quantum" in outcome
            bad = setting.value[1] if quantum else setting.value[0]
            r.report("KPI0008", outcome, r.tspan(bad), "invalid setting")
        else:
            values.update(outcome)
    return ast.PlanHeader(name, settings=tuple(written), span=span, **values)
