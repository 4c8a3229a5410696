"""Display helpers shared by renderers: terminal width of CJK text, grouped decimals."""

from __future__ import annotations

import functools
import unicodedata

from kpidsl.numbers import grouped


@functools.lru_cache(maxsize=8192)
def char_width(ch: str) -> int:
    """Terminal cells taken by one character: 2 for wide/fullwidth (CJK), 0 for combining
    marks (categories Mn and Me: U+0301, the emoji variation selector U+FE0F, Thai vowel
    signs...; not only those with a nonzero combining class) and for format characters
    (category Cf: U+200B-U+200F, U+2060, U+FEFF...; not the soft hyphen U+00AD, which
    terminals show as a hyphen)."""
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me") or (cat == "Cf" and ch != "\u00ad"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    """Columns a string (without tabs) takes on a terminal: wide (CJK) characters take two."""
    if text.isascii():  # no wide, combining or format character among them: a cell each
        return len(text)
    return sum(map(char_width, text))


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def rjust(text: str, columns: int) -> str:
    return " " * max(0, columns - width(text)) + text


def visible_char(ch: str) -> str:
    """A control character as its picture (ESC as ␛, U+241B; a line break as ␊), so that text
    from a plan or the data never sends the terminal an escape sequence nor breaks a row; one
    cell wide, as :func:`char_width` counts it. A C1 control, a lone surrogate (a file name
    that is not UTF-8, which no UTF-8 output can hold) and a bidirectional override or
    isolate (which would reorder what follows it) show as U+FFFD; the line and paragraph
    separators U+2028 and U+2029 as ␤."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0 or 0xD800 <= code < 0xE000 or ch in _BIDI_CONTROLS:
        return "\ufffd"
    if ch in "\u2028\u2029":  # line and paragraph separators: a log viewer breaks the row there
        return "\u2424"
    return ch


# Explicit bidirectional embeddings, overrides and isolates: they reorder the text shown after
# them (a CI log in a browser honours them), so a plan's excerpt would not read as the file does.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible(text: str) -> str:
    """``text`` with every control character shown as its picture (:func:`visible_char`)."""
    if text.isascii() and text.isprintable():  # U+0020-U+007E: nothing to show otherwise
        return text
    return "".join(map(visible_char, text))


format_grouped = grouped  # the one definition is kpidsl.numbers.grouped
