"""Typing one text cell: the accepted formats of numbers, dates, booleans and periods.

Every parser takes stripped, non-empty text and returns a typed value or raises
:class:`ValueProblem` whose message is the human reason (``not a decimal
number``). Nothing here uses the process's decimal context: decimals are built
from text, which is exact, and percent scaling shifts the exponent.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

from kpidsl.numbers import plain as numbers_plain
from kpidsl.periods import GRANULARITIES, PeriodError, PeriodOutOfRange, parse_period

from .model import Value

# Digits grouped by underscores anywhere (1_000_000, 1_0000) or by commas in groups of three.
# re.ASCII: \d is 0-9 only (a data folder is the exact format; see foreign_digits).
# the number pattern of a cell; also matched in SQL by the columnar checks (RE2: \d is 0-9)
NUMBER_PATTERN = r"^[+-]?(?:\d+(?:_\d+)*|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$"
_NUMBER = re.compile(NUMBER_PATTERN, re.ASCII)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_FULL_WIDTH_DIGITS = frozenset("０１２３４５６７８９")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
NUMBER_TYPES = ("money", "number", "percent", "count")


class ValueProblem(ValueError):
    """A cell's text is not a value of the wanted type; the message says why."""


def _ascii_spelling(text: str) -> str:
    """``text`` with full-width forms (NFKC) and every decimal digit of any script made ASCII."""
    out = []
    for c in unicodedata.normalize("NFKC", text):
        digit = unicodedata.decimal(c, None) if not c.isascii() else None
        out.append(str(digit) if digit is not None else c)
    return "".join(out)


def foreign_digits(text: str, parse: Callable[[str], object] | None = None) -> str | None:
    """The reason a cell written with digits other than ASCII 0-9 is refused, or None.

    ``\\d`` in Python's ``re``, ``int()`` and ``Decimal()`` all accept any Unicode decimal
    digit (``１２３``, ``١٢٣``); a data folder holds ASCII digits only (full-width text
    from spreadsheets is normalized by ``kpidsl import``). The reason spells the cell
    with ASCII digits when that spelling is accepted by ``parse``."""
    found = [c for c in text if c.isdecimal() and not c.isascii()]
    if not found:
        return None
    fix = _ascii_spelling(text)
    try:
        if parse is not None:
            parse(fix)
        write = f"write {fix}"
    except ValueProblem:
        write = "write it with ASCII digits"
    if all(c in _FULL_WIDTH_DIGITS for c in found):
        return (
            "full-width digits: a data folder takes ASCII digits 0-9 only "
            f"({write}, or convert the spreadsheet with `kpidsl import`)"
        )
    return f"digits other than ASCII 0-9 ({write})"


def _check_digits(text: str, parse: Callable[[str], object]) -> None:
    reason = foreign_digits(text, parse)
    if reason is not None:
        raise ValueProblem(reason)


def _number_reason(text: str) -> str:
    low = text.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity", "snan"):
        return "not a finite number"
    if re.fullmatch(r"[\d.,_]*\d[\d.,_]*e[+-]?\d+", low):
        return "exponents are not accepted; write the number out in full"
    if re.fullmatch(r"[\d,]+(\.\d+)?", low) and "," in low:
        return "malformed thousands separators (write 1,234,567.89 or 1234567.89)"
    if low.startswith(".") or low.endswith("."):
        return "write a digit on both sides of the decimal point (0.5, 12.0)"
    return "not a decimal number"


def parse_decimal(text: str) -> Decimal:
    """A plain decimal number: ``-1234.50``, ``1,234.50``, ``1_000``; exact, any scale."""
    if text.isdigit() and text.isascii():  # the common case, digits 0-9 only: no regex needed
        return Decimal(text)
    if not _NUMBER.match(text):
        _check_digits(text, parse_decimal)
        raise ValueProblem(_number_reason(text))
    return Decimal(text.replace(",", "").replace("_", ""))


def shift(value: Decimal, places: int) -> Decimal:
    """``value × 10**places`` exactly, whatever the context precision."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return Decimal((sign, digits, exponent + places))


def parse_percent(text: str) -> Decimal:
    """A ratio: ``90%`` is 0.90, a plain decimal ``0.9`` is taken as the ratio itself."""
    try:
        if text.endswith("%"):
            return shift(parse_decimal(text[:-1].rstrip()), -2)
        return parse_decimal(text)
    except ValueProblem:
        _check_digits(text, parse_percent)  # suggest the whole cell, its % included
        raise


def ambiguous_percent(text: str, value: Decimal) -> bool:
    """``65`` for a percent could mean 65% or 6500%: a bare number beyond ±1 is refused."""
    return not text.endswith("%") and abs(value) > 1


plain = numbers_plain  # the one definition is kpidsl.numbers.plain


def parse_count(text: str) -> Decimal:
    """A whole number (``3``, ``1_200``; ``3.0`` is accepted as 3)."""
    value = parse_decimal(text)
    if value != value.to_integral_value():
        raise ValueProblem("a count must be a whole number")
    return Decimal(int(value))


def parse_date(text: str) -> dt.date:
    """An ISO calendar date ``YYYY-MM-DD``."""
    m = _DATE.match(text)
    if m is None:
        _check_digits(text, parse_date)
        raise ValueProblem("dates are written YYYY-MM-DD (e.g. 2026-07-10)")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueProblem("no such calendar date") from None


def parse_bool(text: str) -> bool:
    """``true``/``false``, ``yes``/``no``, ``1``/``0``, in any letter case."""
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    _check_digits(text, parse_bool)
    raise ValueProblem("not a boolean (write true/false, yes/no or 1/0)")


_NO_SUCH_PERIOD = "no such period (its dates are outside the years 0001 to 9999)"


def period_granularity(text: str) -> str:
    """The granularity a period text names (``2026-Q3`` → quarter), or a problem."""
    _check_digits(text, period_granularity)  # kpidsl.periods' \d and int() take any digits
    for granularity in GRANULARITIES:
        try:
            parse_period(text.upper(), granularity)
        except PeriodOutOfRange:  # a year out of the calendar (0000)
            raise ValueProblem(_NO_SUCH_PERIOD) from None
        except PeriodError:
            continue
        return granularity
    raise ValueProblem("not a period (write 2026-03, 2026-Q3, 2026-H2 or 2026)")


@functools.lru_cache(maxsize=4096)
def parse_period_text(text: str, fy_start_month: int = 1) -> tuple[str, str]:
    """(canonical label, granularity) of a period text: ``2026-q3`` → (``2026-Q3``, quarter).

    Cached per distinct text: a targets table repeats the same few periods on every
    row (a text that is not a period raises each time; exceptions are not cached)."""
    granularity = period_granularity(text)
    try:
        return parse_period(text.upper(), granularity, fy_start_month).label, granularity
    except ValueError:  # by the fiscal year, the period runs past year 9999
        raise ValueProblem(_NO_SUCH_PERIOD) from None


def _period_label(text: str) -> str:
    return parse_period_text(text)[0]


def _text(text: str) -> str:
    return text


PARSERS: dict[str, Callable[[str], Value]] = {
    "money": parse_decimal,
    "number": parse_decimal,
    "percent": parse_percent,
    "count": parse_count,
    "date": parse_date,
    "bool": parse_bool,
    "period": _period_label,
    "text": _text,
}


def parse_value(type_: str, text: str) -> Value:
    """Type a non-empty cell by a value type; payee ids and references stay text."""
    return PARSERS.get(type_, _text)(text)
