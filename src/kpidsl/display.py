"""Display helpers shared by renderers: terminal width of CJK text, grouped decimals."""

from __future__ import annotations

import unicodedata
from decimal import Decimal


def width(text: str) -> int:
    """Columns a string takes on a terminal: wide (CJK) characters take two."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


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
