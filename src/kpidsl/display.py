"""Display helpers shared by renderers: terminal width of CJK text, grouped decimals."""

from __future__ import annotations

import unicodedata

from kpidsl.numbers import grouped


def char_width(ch: str) -> int:
    """Terminal cells taken by one character: 2 for wide/fullwidth (CJK), 0 for combining
    marks and for format characters (category Cf: U+200B-U+200F, U+2060, U+FEFF...; not
    the soft hyphen U+00AD, which terminals show as a hyphen)."""
    if unicodedata.combining(ch) or (unicodedata.category(ch) == "Cf" and ch != "\u00ad"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns a string (without tabs) takes on a terminal: wide (CJK) characters take two."""
    return sum(char_width(ch) for ch in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


format_grouped = grouped  # the one definition is kpidsl.numbers.grouped
