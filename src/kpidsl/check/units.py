"""The unit algebra of the language: what + - * / and comparisons give for two types."""

from __future__ import annotations

from kpidsl.model import NUMERIC_TYPES

NUMERIC = frozenset(NUMERIC_TYPES)

# (left, right) -> result for multiplication; symmetric, money x money is absent (an error).
_MUL: dict[frozenset[str], str] = {
    frozenset({"money", "percent"}): "money",
    frozenset({"money", "number"}): "money",
    frozenset({"money", "count"}): "money",
    frozenset({"count"}): "count",
    frozenset({"count", "percent"}): "count",
    frozenset({"count", "number"}): "number",  # new_logos * 500 is an amount per logo
    frozenset({"percent"}): "percent",
    frozenset({"percent", "number"}): "number",  # 30_000 * performance is an amount
    frozenset({"number"}): "number",
}

_DIV: dict[tuple[str, str], str] = {
    ("money", "money"): "percent",
    ("money", "count"): "money",
    ("money", "percent"): "money",
    ("money", "number"): "money",
    ("count", "count"): "percent",
    ("count", "percent"): "count",
    ("count", "number"): "count",
    ("percent", "percent"): "percent",
    ("percent", "number"): "percent",
    ("percent", "count"): "percent",
    ("number", "number"): "number",
    ("number", "percent"): "number",
    ("number", "count"): "number",
}


def multiply(left: str, right: str) -> str | None:
    """The type of ``left * right``, or None when the units do not multiply."""
    return _MUL.get(frozenset({left, right}))


def divide(left: str, right: str) -> str | None:
    """The type of ``left / right``, or None when the units do not divide."""
    return _DIV.get((left, right))


def add(left: str, right: str, left_lit: bool, right_lit: bool) -> str | None:
    """The type of ``left + right``; a plain numeric literal adapts to the other unit."""
    if left not in NUMERIC or right not in NUMERIC:
        return None
    if left == right:
        return left
    if left_lit:
        return right
    if right_lit:
        return left
    return None


def comparable(left: str, right: str, left_lit: bool, right_lit: bool, op: str) -> bool:
    """Whether ``left op right`` compares like with like."""
    if left in NUMERIC and right in NUMERIC:
        return add(left, right, left_lit, right_lit) is not None
    if left != right:
        return False
    return op in ("==", "!=") or left == "date"


def assignable(expected: str, got: str) -> bool:
    """Whether a value of type ``got`` may be declared as ``expected``."""
    if expected == got:
        return True
    if got == "number" and expected in NUMERIC:
        return True
    return got == "count" and expected == "number"
