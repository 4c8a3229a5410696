"""JSON text of results: ``json.dumps(obj, ensure_ascii=False, indent=n)``, written faster.

With an indent, the standard library encodes in pure Python, through a generator
per nesting level: 0.45 s for the 3.8 MB result of 10,000 payees (a million
lines), as long as `kpidsl eval` takes to compute it from a cache. Here each
container is written by one loop appending to a list, and a mapping or list of
texts (most of a result: components, values) by one ``join``; strings go through
the C encoder of :mod:`json`. The text is the same, byte for byte
(tests/test_jsonout.py checks it against ``json.dumps`` on generated data).

JSON-native data only, as a result's: dicts with text keys, lists and tuples,
texts, integers, booleans and None (a float or any other type is a TypeError,
never written another way).
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C implementation when there is one
from typing import Any

_SCALARS = {type(None): lambda _: "null", bool: lambda b: "true" if b else "false", int: int.__repr__}


def dumps(obj: Any, indent: int = 2) -> str:
    """``json.dumps(obj, ensure_ascii=False, indent=indent)``."""
    parts: list[str] = []
    _write(obj, "\n", " " * indent, parts)
    return "".join(parts)


def _write(obj: Any, newline: str, step: str, parts: list[str]) -> None:
    """Append the text of ``obj``, whose own lines start with ``newline`` (a line break and
    the current indentation), to ``parts``."""
    kind = type(obj)
    if kind is str:
        parts.append(encode_basestring(obj))
        return
    inner = newline + step
    if kind is dict:
        if not obj:
            parts.append("{}")
            return
        for key in obj:
            if type(key) is not str:
                raise TypeError(f"a JSON object's keys are texts here, not {type(key).__name__}")
        if all(type(v) is str for v in obj.values()):  # components, values: one join
            sep = "," + inner
            parts.append("{" + inner + sep.join(f"{encode_basestring(k)}: {encode_basestring(v)}"
                                                 for k, v in obj.items()) + newline + "}")
            return
        parts.append("{")
        first = True
        for key, value in obj.items():
            parts.append(("" if first else ",") + inner + encode_basestring(key) + ": ")
            first = False
            _write(value, inner, step, parts)
        parts.append(newline + "}")
        return
    if kind is list or kind is tuple:
        if not obj:
            parts.append("[]")
            return
        parts.append("[")
        first = True
        for value in obj:
            parts.append(("" if first else ",") + inner)
            first = False
            _write(value, inner, step, parts)
        parts.append(newline + "]")
        return
    scalar = _SCALARS.get(kind)
    if scalar is None:
        raise TypeError(f"Object of type {kind.__name__} is not written to a result's JSON")
    parts.append(scalar(obj))
