"""Safe names and text: file names from ids, HTML escaping, spreadsheet cells.

Ids come from data and can be anything (Chinese, ``../x``, ``<b>``): a file
name is an ASCII slug of the id plus a short hash of the whole id, so two ids
never share a file and no id can leave the output folder.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata

_SLUG_DROP = re.compile(r"[^a-z0-9_]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def slug(text: str, limit: int = 40) -> str:
    """``Zhang San/../x`` -> ``zhang-san-x``: lower-case ASCII letters, digits, ``_`` and ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    out = _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")
    return out[:limit].strip("-")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def file_stem(ident: str) -> str:
    """A file name stem unique to ``ident``: ``<slug>-<hash>``, ``p-<hash>`` for an empty slug."""
    return f"{slug(ident) or 'p'}-{short_hash(ident)}"


def anchor(prefix: str, value: str) -> str:
    """An HTML id safe in a URL fragment and a CSS selector."""
    return f"{prefix}-{slug(value, 24) or 'x'}-{short_hash(value)[:6]}"


def esc(text: object) -> str:
    """HTML-escaped text (quotes too, so it is safe inside attribute values)."""
    return html.escape(str(text), quote=True)


def is_formula_like(text: str) -> bool:
    """True for text a spreadsheet would read as a formula (``=1+1``, ``+x``, ``-x``, ``@x``)."""
    return text.startswith(_FORMULA_START)
