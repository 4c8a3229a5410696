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


# as many digits as Decimal allows: quantizing in it never runs out of precision
_ROOMY = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                         traps=[decimal.InvalidOperation, decimal.FloatOperation])


def _as_int(value: Decimal, exponent: int) -> int:
    """``value`` as a whole number of units of ``10**exponent`` (``exponent`` at most value's own)."""
    # int() of a Decimal has no digit limit (unlike int() of a str, at 4300 digits)
    return int(_ROOMY.scaleb(value, -exponent))


def _exponent(value: Decimal) -> int:
    exp = value.as_tuple().exponent
    if not isinstance(exp, int):
        raise ValueError(f"not a finite decimal: {value!r}")
    return exp


def _round_ratio(n: int, d: int, mode: str) -> int:
    """``n / d`` (``d`` > 0) rounded to a whole number with the plan's mode, in Decimal's meaning."""
    q, r = divmod(abs(n), d)
    twice = 2 * r
    bump = {
        "down": False,
        "up": r > 0,
        "half_up": twice >= d,
        "half_down": twice > d,
        "half_even": twice > d or (twice == d and q % 2 == 1),
    }[mode]
    q += int(bump)
    return -q if n < 0 else q


def _from_int(n: int, exponent: int) -> Decimal:
    """``n * 10**exponent`` exactly (Decimal of an int has no digit limit, str() of one has)."""
    return _ROOMY.scaleb(Decimal(n), exponent)


def quantize(value: Decimal, quantum: Decimal, mode: str = "half_up") -> Decimal:
    """``value`` rounded to a multiple of ``quantum`` with the plan's mode, at the quantum's scale.

    Exact integer arithmetic, whatever the size of ``value``: ``(value / quantum)`` rounded
    to a whole number in Decimal's own meaning of the mode (``half_up`` takes -0.025 to
    -0.05 for a quantum of 0.05), times ``quantum``. A quantum of 0.05 gives two decimals,
    100 gives none.
    """
    constant = rounding_constant(mode)
    if _quantum_facts(quantum)[1] and value.is_finite():
        # to decimal places (0.01, 1, ...): Decimal's own quantize, with room for every digit
        out = value.quantize(quantum, rounding=constant, context=_ROOMY)
        return out.copy_abs() if out.is_zero() else out
    return quantize_exact(value, quantum, mode)


def quantize_all(values: list[Decimal], quantum: Decimal, mode: str = "half_up") -> list[tuple[Decimal, int]]:
    """:func:`quantize` of each value, with the digits it needs (:func:`digits_needed`): the
    same results, the mode and the quantum looked up once for a column of values."""
    constant = rounding_constant(mode)
    exp, places = _quantum_facts(quantum)
    out: list[tuple[Decimal, int]] = []
    for value in values:
        if places and value.is_finite():
            rounded = value.quantize(quantum, rounding=constant, context=_ROOMY)
            if rounded.is_zero():
                out.append((rounded.copy_abs(), 1))
                continue
        else:
            rounded = quantize_exact(value, quantum, mode)
            if rounded.is_zero():
                out.append((rounded, 1))
                continue
        out.append((rounded, max(1, rounded.adjusted() - exp + 1)))
    return out


# The facts of the last quantum seen, kept by identity: a plan's quantum is one constant object,
# rounded to for every payee. (Not by equality: Decimal("0.1") == Decimal("0.10"), and
# Decimal("1E+2") == Decimal("100"), differ in exponent and digits.) Holding the object keeps
# its id from being reused; replacing the tuple is atomic.
_last_quantum: tuple[Decimal, tuple[int, bool]] | None = None


def _quantum_facts(quantum: Decimal) -> tuple[int, bool]:
    """A valid rounding quantum's exponent, and whether it is a power of ten (a single digit 1)."""
    global _last_quantum
    last = _last_quantum
    if last is not None and last[0] is quantum:
        return last[1]
    if not quantum.is_finite() or quantum <= 0:
        raise ValueError(f"the rounding quantum must be positive, got {quantum!r}")
    _, digits, exp = quantum.as_tuple()
    assert isinstance(exp, int)
    facts = (exp, digits == (1,))
    _last_quantum = (quantum, facts)
    return facts


def quantize_exact(value: Decimal, quantum: Decimal, mode: str = "half_up") -> Decimal:
    """:func:`quantize` in integer arithmetic, for any quantum (0.05, 100...)."""
    e = min(_exponent(value), _exponent(quantum))
    unit = _as_int(quantum, _exponent(quantum))  # quantum = unit x 10**exp(quantum)
    k = _round_ratio(_as_int(value, e), _as_int(quantum, e), mode)
    # -0.004 rounds to zero, and a statement never shows "-0.00"
    return _from_int(abs(k * unit) if k == 0 else k * unit, _exponent(quantum))


def is_power_of_ten(quantum: Decimal) -> bool:
    """True for 1, 0.1, 0.01 ... (a single digit 1): rounding to it is rounding to decimal places.

    ``100`` (three digits) and ``0.05`` are not: the note says "to a multiple of".
    """
    return quantum.is_finite() and quantum > 0 and quantum.as_tuple().digits == (1,)


def digits_needed(value: Decimal, quantum: Decimal) -> int:
    """Significant digits needed to hold ``value`` exactly to ``quantum`` (``quantum``'s scale)."""
    if value.is_zero():
        return 1
    last = _last_quantum  # the quantum just rounded to, most often: its exponent is known
    exp = last[1][0] if last is not None and last[0] is quantum else _exponent(quantum)
    return max(1, value.adjusted() - exp + 1)


_UNBOUNDED = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                             traps=[decimal.InvalidOperation, decimal.Inexact, decimal.FloatOperation])


def exact_sum(values: list[Decimal]) -> Decimal:
    """The exact sum of ``values`` at their finest scale; never rounds, whatever the precision.

    Decimal addition in a context as wide as Decimal allows (and trapping ``Inexact``)
    cannot round; a zero sum is never negative."""
    if not values:
        return ZERO
    total = values[0]
    for v in values[1:]:
        total = _UNBOUNDED.add(total, v)
    return total.copy_abs() if total.is_zero() else total


def fmt(value: Decimal) -> str:
    """A decimal as a plain string, never in exponent notation; the scale is kept."""
    return _fixed(value, "f")


def _fixed(value: Decimal, spec: str) -> str:
    """``format(value, spec)`` of a fixed-point ``spec``, refusing NaN and infinities, and
    never ``-0`` (a negative zero is zero)."""
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    text = format(value, spec)
    if text.startswith("-") and value.is_zero():
        return text[1:]
    return text


def plain(value: Decimal) -> str:
    """No exponent and no trailing fraction zeros: ``0.650`` -> ``0.65``, ``1E+3`` -> ``1000``."""
    text = fmt(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def grouped(value: Decimal) -> str:
    """``118500.00`` as ``118,500.00``: the integer part's thousands grouped, every digit kept
    (:func:`fmt` with a thousands separator: no exponent, the scale kept, no ``-0``)."""
    return _fixed(value, ",f")


def percent_text(ratio: Decimal) -> str:
    """A ratio as a percent, exact, without trailing zeros: ``1.185`` -> ``118.5%``, ``0.50`` -> ``50%``."""
    ctx = decimal.Context(prec=max(DEFAULT_PRECISION, len(ratio.as_tuple().digits) + 4))
    return fmt(ratio.scaleb(2, context=ctx).normalize(context=ctx)) + "%"


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
