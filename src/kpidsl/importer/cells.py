"""Cell conversions: spreadsheet floats to exact decimal text, numbers and dates as declared.

Floats appear only here, at the edge where a workbook or a data frame hands
over binary floating-point numbers: each is turned into the shortest decimal
text that round-trips (``repr``) and from then on only text and ``Decimal``
are used. Nothing here touches the decimal context.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from kpidsl.data.values import ValueProblem, parse_decimal, shift
from kpidsl.numbers import fmt as fmt_decimal

EXCEL_EPOCH = dt.date(1899, 12, 30)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SERIAL = re.compile(r"^\d+(?:\.0+)?$")
_RUN = re.compile(r"%[YmdyHMSj]%[YmdyHMSj]")  # two numeric directives with nothing between


# plain notation with the scale kept (``1E+3`` -> ``1000``): the one definition in numbers
plain = fmt_decimal


def float_text(value: float, decimals: int = 2) -> tuple[str, bool]:  # float-ok
    """(exact decimal text, noisy) of a float from a workbook or frame.

    The text is the shortest decimal that round-trips to the same float; it is
    ``noisy`` when it has more than ``decimals`` places (``1234.5600000000002``),
    the usual trace of a formula computed in binary floating point.
    """
    if not math.isfinite(value):  # float-ok
        raise ValueProblem("not a finite number")
    exact = Decimal(repr(value))  # float-ok: shortest round-trip text, then exact Decimal
    text = plain(exact)
    places = -exact.as_tuple().exponent  # type: ignore[operator]
    if text.endswith(".0"):
        text = text[:-2]
        places = 0
    return text, places > decimals


def normalize(text: str) -> str:
    """Full-width digits, signs and separators to ASCII (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number(
    text: str,
    *,
    thousands: str = ",",
    currency: Sequence[str] = (),
    percent: bool = False,
    negative_parens: bool = False,
) -> Decimal:
    """A number cell as declared in the mapping; the result is exact."""
    t = normalize(text)
    negative = False
    if negative_parens and t.startswith("(") and t.endswith(")"):
        t, negative = t[1:-1].strip(), True
    sign = ""
    if t[:1] in ("+", "-"):
        sign, t = t[0], t[1:].strip()
    for sym in sorted((normalize(c) for c in currency), key=len, reverse=True):
        if sym and t.startswith(sym):
            t = t[len(sym) :].strip()
        elif sym and t.endswith(sym):
            t = t[: -len(sym)].strip()
    t = sign + t
    is_percent = percent and t.endswith("%")
    if is_percent:
        t = t[:-1].rstrip()
    if thousands not in ("", ","):
        t = t.replace(thousands, ",") if thousands.strip() else _regroup(t, thousands)
    elif not thousands and "," in t:  # declared without: 1,234 is not silently 1234
        raise ValueProblem("a comma, but the column has no thousands separator (thousands = \"\")")
    value = parse_decimal(t)
    if negative:
        if value < 0:
            raise ValueProblem("a negative number inside parentheses")
        value = -value
    return shift(value, -2) if is_percent else value


class AmbiguousPercent(ValueProblem):
    """``65`` for a share: 65% or 6500%? (KPI0712, as in a data folder)."""

    def __init__(self, value: Decimal) -> None:
        super().__init__(f"a bare number beyond ±1 is ambiguous for a percent ({plain(value)}% "
                         f"or {plain(shift(value, 2))}%?): write {plain(value)}% or the ratio "
                         f"{plain(shift(value, -2))}")


class StoredRatio(str):
    """The text of a workbook number formatted as a percentage (``60%`` in Excel, ``0.6`` in
    the file): the ratio as stored, never a bare number typed into a percent column."""

    __slots__ = ()


class BarePercent(ValueProblem):
    """``60`` in a column declared ``percent = true``: 60% or 6000%? (KPI0759). A column
    declared as written with % signs has no bare numbers but 0; its ``0.6`` is as ambiguous
    (0.6% or 60%?) as its ``60``."""

    def __init__(self, value: Decimal, column: str) -> None:
        v, h = plain(value), plain(shift(value, 2))
        super().__init__(f"a number without a % sign in a percent column (numbers.{column}: "
                         f"percent = true) is ambiguous: {v}% or {h}%? Write it with its sign "
                         f"({v}% or {h}%); a workbook number formatted as a percentage is read "
                         "as stored. If the column holds only ratios (0.6 for 60%), remove "
                         "percent = true")


def _regroup(text: str, sep: str) -> str:
    """Thousands written with spaces (``1 234 567``) regrouped with commas for checking."""
    return re.sub(re.escape(sep) + r"+", ",", text) if sep else text


def excel_serial(text: str) -> dt.date:
    """An Excel (1900 system) serial day number as a date: ``46204`` → 2026-07-01."""
    if not _SERIAL.match(text):
        raise ValueProblem("not an Excel serial day number")
    n = int(text.split(".")[0])
    if n == 60:
        raise ValueProblem("serial 60 is Excel's 1900-02-29, a day that does not exist")
    if n < 1 or n > 2958465:
        raise ValueProblem("Excel serial day number out of range")
    return EXCEL_EPOCH + dt.timedelta(days=n if n > 60 else n + 1)


def parse_date(text: str, formats: Sequence[str]) -> dt.date:
    """A date cell by the declared formats (strptime patterns, ``iso``, ``excel_serial``).

    ISO ``YYYY-MM-DD`` is always accepted (workbook date cells arrive as ISO).
    """
    t = normalize(text)
    ambiguous = ""
    if _ISO.match(t):
        try:
            return dt.date.fromisoformat(t)
        except ValueError:
            raise ValueProblem("no such calendar date") from None
    for fmt in formats:
        if fmt == "iso":
            continue
        if fmt == "excel_serial":
            if _SERIAL.match(t):
                return excel_serial(t)
            continue
        try:
            parsed = dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
        if _RUN.search(fmt) and parsed.strftime(fmt) != t:
            # digits run together (%Y%m%d) must be zero-padded: 2026111 is Jan 11 or Nov 1
            example = dt.datetime(2026, 7, 1).strftime(fmt)
            ambiguous = (f"; {t} is ambiguous as {fmt}: digits run together must be zero-padded "
                         f"({example} for 1 July 2026)")
            continue
        return parsed.date()
    shown = ", ".join(["iso", *(f for f in formats if f != "iso")])
    raise ValueProblem(f"not a date in the declared formats ({shown}){ambiguous}")


def decimal_text(value: Decimal) -> str:
    """Exact text of a finite Decimal (from JSON or a decimal128 column)."""
    try:
        if not value.is_finite():
            raise ValueProblem("not a finite number")
    except InvalidOperation:
        raise ValueProblem("not a number") from None
    return plain(value)
