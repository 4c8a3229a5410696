"""The only place Decimal contexts, quanta and rounding modes live.

Nothing here touches the thread's global decimal context: callers get a
:class:`decimal.Context` object and use its methods (``ctx.add``,
``ctx.divide``...) or ``decimal.localcontext(ctx)``.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

DEFAULT_PRECISION = 28

ROUNDING_MODES: dict[str, str] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
}

ZERO = Decimal(0)
ONE = Decimal(1)


def plan_context(precision: int = DEFAULT_PRECISION) -> decimal.Context:
    """A fresh evaluation context: ``precision`` digits, trapping invalid ops, /0 and floats."""
    return decimal.Context(
        prec=precision,
        rounding=decimal.ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.FloatOperation,
               decimal.Overflow],
    )


def rounding_constant(mode: str) -> str:
    """Decimal's rounding constant for a plan rounding mode name (``half_up`` ...)."""
    try:
        return ROUNDING_MODES[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}") from None


def quantize(value: Decimal, quantum: Decimal, mode: str = "half_up") -> Decimal:
    """``value`` rounded to ``quantum`` with the plan's mode, in Decimal's own meaning."""
    ctx = decimal.Context(prec=max(DEFAULT_PRECISION, len(value.as_tuple().digits) + 2),
                          rounding=rounding_constant(mode),
                          traps=[decimal.InvalidOperation])
    rounded = value.quantize(quantum, context=ctx)
    # -0.004 rounds to zero, and a statement never shows "-0.00"
    return rounded.copy_abs() if rounded.is_zero() else rounded


def fmt(value: Decimal) -> str:
    """A decimal as a plain string, never in exponent notation; the scale is kept."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    text = format(value, "f")
    if text.startswith("-") and value.is_zero():
        return text[1:]
    return text


def parse_decimal(text: str) -> Decimal:
    """A Decimal from plan or data text: underscores allowed, ``80%`` is 0.80."""
    raw = text.strip().replace("_", "").replace(",", "")
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1]
    value = Decimal(raw)
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value.scaleb(-2) if percent else value
