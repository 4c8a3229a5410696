"""Literal decoding and header-setting validation shared by the transformer.

Every function returns a value or an error message (never raises), so the
transformer can turn a bad literal into a diagnostic and keep going.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from kpidsl.source import Span

if TYPE_CHECKING:
    from lark import Token

# Words reserved as definition names (KPI0006): writing them as a name would
# make expressions or the item that follows ambiguous to a reader.
RESERVED = frozenset(
    """
    plan import fact input metric target const table tiers score payout for test
    invariant expect sum count avg min max distinct where over credited and or not
    in else true false period ytd previous to when then requires floor cap
    """.split()
)

PERIODS = ("month", "quarter", "half", "year")
ROUNDING_MODES = ("half_up", "half_even", "down", "up", "half_down")
CHANGES = ("any_day", "at_period_boundaries")

_CURRENCY = re.compile(r"[A-Z]{3}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_PERIOD_LABEL = re.compile(r"\d{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?")


# The whitespace a comment's text is right-trimmed of: ASCII only (not ``str.rstrip()``'s,
# which would also remove a U+3000 ideographic space the author wrote in the comment).
ASCII_SPACE = " \t\n\r\f\v"

# full-width punctuation and smart quotes an input method types, and their ASCII
_FULL_WIDTH = {"：": ":", "，": ",", "（": "(", "）": ")", "％": "%", "；": ";", "＝": "=",
               "＋": "+", "－": "-", "＊": "*", "／": "/", "＜": "<", "＞": ">", "｛": "{", "｝": "}",
               "．": ".", "＿": "_", "。": ".", "、": ",",
               "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
               **{chr(0xFF10 + i): str(i) for i in range(10)}}


def full_width_help(char: str) -> str | None:
    """``this is a full-width '：' (U+FF1A)...; use the ASCII ':'`` for IME punctuation, else None."""
    ascii_char = _FULL_WIDTH.get(char)
    if ascii_char is None:
        return None
    what = "a curly quote" if char in "\u201c\u201d\u2018\u2019" else "a full-width"
    return (f"this is {what} '{char}' (U+{ord(char):04X}), usually typed by a Chinese input method; "
            f"use the ASCII '{ascii_char}'")


def shown_char(char: str) -> str:
    """A character for a message: `` `@` ``, or ``U+0301`` for one that would not show as
    itself between backticks (a combining mark would sit on the backtick; a format character,
    a control or a space other than the ASCII one shows as nothing, or as a space)."""
    if len(char) != 1:
        return f"`{char}`"
    if unicodedata.category(char)[0] in "MCZ" or not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"`{char}`"


def invisible_help(char: str) -> str | None:
    """A help line for a character that does not show, or shows as a space, in an editor
    (U+FEFF, U+200B, U+00A0, U+3000, controls...) or a lone combining mark; else None."""
    if len(char) != 1 or char in " \t\n\r":
        return None
    category = unicodedata.category(char)
    code = f"U+{ord(char):04X}"
    what = f"{code} {unicodedata.name(char, '')}".rstrip()
    if char == "\ufeff":
        what += " (a byte order mark, left inside the file when two files are joined into one)"
    if category == "Cc":
        return f"this is {code}, an invisible control character; delete it (or replace it with a space)"
    if category in ("Cf", "Zl", "Zp"):
        return f"this is {what}, an invisible character; delete it (or replace it with a space)"
    if category == "Zs":
        return (f"this is {what}, which looks like a space but is not the ASCII one; "
                "replace it with a space")
    if category[0] == "M":
        return (f"this is {what}, a combining mark (drawn on the character before it, which "
                "makes it hard to see); delete it")
    if category in ("Co", "Cn", "Cs"):
        return f"this is {code}, a character with no meaning in Unicode (private use or unassigned); delete it"
    return None


def non_ascii_digit(text: str) -> int | None:
    """Where a NUMBER token holds a digit other than 0-9 (``\\d`` matches ``１``, ``٣``...)."""
    if text.isascii():
        return None
    return next(i for i, ch in enumerate(text) if not ch.isascii())


def decimal_of(text: str) -> Decimal:
    """The exact Decimal of a NUMBER token (digit separators removed)."""
    return Decimal(text.replace("_", ""))


def percent_of(text: str) -> Decimal:
    """The exact value of ``80%`` (0.80): the digits with the exponent moved by two."""
    sign, digits, exponent = decimal_of(text.rstrip("%")).as_tuple()
    assert isinstance(exponent, int)
    return Decimal((sign, digits, exponent - 2))


def date_of(text: str) -> dt.date | str:
    """A real calendar date, or the reason the text is not one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return f"`{text}` is not a valid date (expected YYYY-MM-DD of a real day)"


def period_label_error(text: str) -> str | None:
    """Why a test's ``period`` label is invalid, or None."""
    if _PERIOD_LABEL.fullmatch(text):
        return None
    return f"`{text}` is not a period (expected 2026, 2026-H1, 2026-Q3 or 2026-03)"


def currency_error(code: str) -> str | None:
    if _CURRENCY.fullmatch(code):
        return None
    return f"`{code}` is not a currency code (expected three capital letters, e.g. CNY)"


def choice_error(what: str, value: str, choices: tuple[str, ...]) -> str | None:
    if value in choices:
        return None
    return f"unknown {what} `{value}` (expected one of: {', '.join(choices)})"


def quantum_error(text: str) -> str | None:
    if non_ascii_digit(text) is not None:
        return f"`{text}` is not a number (write it with the ASCII digits 0-9)"
    try:
        value = decimal_of(text)
    except InvalidOperation:
        return f"`{text}` is not a number"
    if value <= 0:
        return f"rounding quantum must be positive, got `{text}`"
    return None


def precision_of(text: str) -> int | str:
    """The decimal context precision (1..100 significant digits) or an error."""
    clean = text.replace("_", "").lstrip("0")
    # ASCII digits only, and few enough that int() takes them (it refuses >4300 digits)
    if not (clean.isascii() and clean.isdigit()) or len(clean) > 3 or not 1 <= int(clean) <= 100:
        shown = f"`{text}`" if len(text) <= 20 else f"`{text[:12]}...` ({len(text)} characters)"
        return f"precision must be a whole number from 1 to 100, got {shown}"
    return int(clean)


def fiscal_month_of(text: str) -> int | str:
    """The month a fiscal year starts (from ``MM-01``) or an error."""
    match = _MONTH_DAY.fullmatch(text)
    if match is None or match.group(2) != "01" or not 1 <= int(match.group(1)) <= 12:
        return f"fiscal_year_start must be MM-01 (the 1st of a month), got `{text}`"
    return int(match.group(1))


def unquote(text: str) -> str:
    """The value of a STRING token: quotes removed, ``\\"`` and ``\\\\`` unescaped."""
    body = text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "\\\"":
                out.append(nxt)
                i += 2
                continue
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class Reporter(Protocol):
    """What header and table builders need from the transformer."""

    file: str

    def tspan(self, tok: Token) -> Span: ...

    def report(self, code: str, message: str, span: Span, label: str = "", **kw: Any) -> None: ...
