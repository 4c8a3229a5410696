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


def visible_char(ch: str) -> str:
    """A control character as its picture (ESC as ␛, U+241B; a line break as ␊), so that text
    from a plan or the data never sends the terminal an escape sequence nor breaks a row; one
    cell wide, as :func:`char_width` counts it."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return "\ufffd"
    return ch


def visible(text: str) -> str:
    """``text`` with every control character shown as its picture (:func:`visible_char`)."""
    return "".join(visible_char(ch) for ch in text)


format_grouped = grouped  # the one definition is kpidsl.numbers.grouped
