"""Display helpers shared by renderers: terminal width of CJK text, grouped decimals."""

from __future__ import annotations

import unicodedata
from decimal import Decimal


def char_width(ch: str) -> int:
    """Terminal cells taken by one character: 2 for wide/fullwidth (CJK), 0 for combining."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns a string (without tabs) takes on a terminal: wide (CJK) characters take two."""
    return sum(char_width(ch) for ch in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


def format_grouped(value: Decimal) -> str:
    """``1234567.50`` -> ``1,234,567.50``: thousands separators, the exact digits kept."""
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    digits = text.lstrip("-")
    whole, _, frac = digits.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ",".join(groups) + ("." + frac if frac else "")
