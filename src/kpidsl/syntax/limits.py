"""Limits that keep any input from exhausting the parser or the stack (KPI0004/5)."""

from __future__ import annotations

import re

MAX_PLAN_BYTES = 5_000_000
MAX_DEPTH = 200

# Strings and comments hide parentheses; parentheses are what we count.
_PAREN_OR_SKIP = re.compile(r'"(?:\\.|[^"\\\n])*"?|//[^\n]*|[()]')


def paren_overflow(text: str, limit: int = MAX_DEPTH) -> int | None:
    """The offset of the first parenthesis nested deeper than ``limit``, or None."""
    depth = 0
    for match in _PAREN_OR_SKIP.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
            if depth > limit:
                return match.start()
        elif token == ")":
            depth = max(0, depth - 1)
    return None
