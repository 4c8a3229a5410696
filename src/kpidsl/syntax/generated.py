"""The generated parse tables shipped in the package (written by :mod:`.tablegen`).

* ``kpi_fast_tables.json`` — the lean driver's tables (:func:`.fastparse.decode_tables`);
* ``kpi_lark_tables.json`` — Lark's serialised parser (``Lark._load_from_dict``), with
  tuples and non-text dict keys tagged, as JSON has neither.

Each records the SHA-256 of the grammar it was generated from. JSON, not Python
source: it loads as fast whether or not the interpreter may cache bytecode.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

FAST_FILE = "kpi_fast_tables.json"
LARK_FILE = "kpi_lark_tables.json"
_TUPLE, _PAIRS = "__tuple__", "__pairs__"


def grammar_sha256(text: str) -> str:
    """The grammar's fingerprint (line ends normalised, so any checkout agrees)."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def tag(value: Any) -> Any:
    """``value`` as JSON data: tuples and dicts with non-text keys tagged."""
    if isinstance(value, tuple):
        return {_TUPLE: [tag(v) for v in value]}
    if isinstance(value, list):
        return [tag(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and not {_TUPLE, _PAIRS} & value.keys():
            return {k: tag(v) for k, v in value.items()}
        return {_PAIRS: [[tag(k), tag(v)] for k, v in value.items()]}
    return value


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if _TUPLE in obj:
            return tuple(obj[_TUPLE])
        if _PAIRS in obj:
            return {k: v for k, v in obj[_PAIRS]}
    return obj


def read(name: str, tagged: bool = False) -> dict[str, Any] | None:
    """A generated file's data, or None when it is missing or unreadable."""
    path = Path(__file__).with_name(name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        try:  # a package not on the file system (a zip)
            import importlib.resources

            text = (importlib.resources.files(__package__) / name).read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
    try:
        data = json.loads(text, object_hook=_untag if tagged else None)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
