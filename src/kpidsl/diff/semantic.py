"""Which definitions changed between two checked plans, compared as AST values.

Nodes compare without their spans (see :mod:`kpidsl.ast`), so a change of
layout or comments is not a change. The base plan and every override block
(matched by selector and window) are compared definition by definition; the
header, fact kinds, tests and invariants are compared too.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from typing import Any

import attrs

from kpidsl import ast
from kpidsl.model import KindSchema, PlanModel, def_key
from kpidsl.source import NO_SPAN, SourceFile, Span

# Header settings that matter for the result (``settings`` only records layout).
HEADER_FIELDS = (
    "name", "currency", "period", "rounding_mode", "quantum", "precision",
    "fiscal_year_start", "effective", "changes", "version",
)

BlockKey = tuple[tuple[tuple[str, str], ...], dt.date | None, dt.date | None]


@attrs.frozen
class DefChange:
    """One definition added, removed or changed, with its old and new source text."""

    key: str
    kind: str
    status: str  # "added" | "removed" | "changed"
    old_text: str | None = None
    new_text: str | None = None
    old_at: str | None = None
    new_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.key, "kind": self.kind, "status": self.status,
            "old": self.old_text, "new": self.new_text,
            "old_at": self.old_at, "new_at": self.new_at,
        }


@attrs.frozen
class BlockDiff:
    """The changes of the base plan or of one override block."""

    label: str
    status: str  # "changed" | "added" | "removed" | "window changed"
    changes: tuple[DefChange, ...]
    old_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"block": self.label, "status": self.status}
        if self.old_label is not None:
            out["old_block"] = self.old_label
        out["changes"] = [c.to_dict() for c in self.changes]
        return out


@attrs.frozen
class HeaderChange:
    """One plan header setting (rounding, currency...) with its old and new value."""

    setting: str
    old: str
    new: str

    def to_dict(self) -> dict[str, str]:
        return {"setting": self.setting, "old": self.old, "new": self.new}


@attrs.frozen
class PlanDiff:
    """Every semantic difference between two plans; empty when only layout differs."""

    header: tuple[HeaderChange, ...]
    blocks: tuple[BlockDiff, ...]
    kinds: tuple[DefChange, ...] = ()
    tests: tuple[DefChange, ...] = ()
    invariants: tuple[DefChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything that can change a payout differs (tests/invariants aside)."""
        return bool(self.header or self.blocks or self.kinds)

    def definitions(self) -> list[tuple[str, DefChange]]:
        """Every definition change as (block label, change)."""
        return [(b.label, c) for b in self.blocks for c in b.changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "header": [h.to_dict() for h in self.header],
            "fact_kinds": [k.to_dict() for k in self.kinds],
            "blocks": [b.to_dict() for b in self.blocks],
            "tests": [t.to_dict() for t in self.tests],
            "invariants": [i.to_dict() for i in self.invariants],
        }


class _Texts:
    """Source text of spans of one plan."""

    def __init__(self, sources: Mapping[str, SourceFile]) -> None:
        self.sources = sources

    def text(self, span: Span) -> str | None:
        src = self.sources.get(span.file)
        if src is None or span == NO_SPAN or span.end <= span.start:
            return None
        # indent the first line like the rest, then dedent the whole definition
        return textwrap.dedent(" " * (span.col - 1) + src.text[span.start:span.end])

    @staticmethod
    def at(span: Span) -> str | None:
        return None if span == NO_SPAN else str(span)


def block_key(block: ast.Override) -> BlockKey:
    """Selector (order-insensitive) and window: blocks with equal keys are matched."""
    items = tuple(sorted((i.attr, i.value) for i in block.selector))
    return (items, block.start, block.until)


def block_label(key: BlockKey) -> str:
    """``for role AE from 2026-07-01``."""
    items, start, until = key
    text = "for " + " and ".join(f"{a} {_quote(v)}" for a, v in items)
    if start is not None:
        text += f" from {start.isoformat()}"
    if until is not None:
        text += f" until {until.isoformat()}"
    return text


def _quote(v: str) -> str:
    return v if v.isidentifier() else f'"{v}"'


def _kind_name(d: object) -> str:
    names = {ast.InputDecl: "input", ast.Metric: "metric", ast.Target: "target", ast.Const: "const",
             ast.Table: "table", ast.Tiers: "tiers", ast.Score: "score", ast.Payout: "payout",
             ast.TestBlock: "test", ast.Invariant: "invariant"}
    return names.get(type(d), type(d).__name__.lower())


def _compare_defs(
    old: Mapping[str, Any], new: Mapping[str, Any], old_t: _Texts, new_t: _Texts
) -> tuple[DefChange, ...]:
    """Added, removed and changed entries of two name -> node mappings, sorted by name."""
    out: list[DefChange] = []
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o is not None and n is not None and o == n:
            continue
        status = "added" if o is None else "removed" if n is None else "changed"
        node = n if n is not None else o
        out.append(DefChange(
            key, _kind_name(node), status,
            old_t.text(o.span) if o is not None else None,
            new_t.text(n.span) if n is not None else None,
            old_t.at(o.span) if o is not None else None,
            new_t.at(n.span) if n is not None else None,
        ))
    return tuple(out)


def _blocks(model: PlanModel) -> dict[BlockKey, dict[str, ast.Definition]]:
    """Override bodies by block key; blocks with an equal key are merged."""
    out: dict[BlockKey, dict[str, ast.Definition]] = {}
    for block in model.overrides:
        body = out.setdefault(block_key(block), {})
        for d in block.body:
            body[def_key(d)] = d
    return out


def _override_diffs(old: PlanModel, new: PlanModel, ot: _Texts, nt: _Texts) -> list[BlockDiff]:
    ob, nb = _blocks(old), _blocks(new)
    out: list[BlockDiff] = []
    for key in [k for k in ob if k in nb]:
        changes = _compare_defs(ob[key], nb[key], ot, nt)
        if changes:
            out.append(BlockDiff(block_label(key), "changed", changes))
    gone = [k for k in ob if k not in nb]
    came = [k for k in nb if k not in ob]
    for key in list(gone):  # same selector, new window: a moved block, compared as one
        twin = next((k for k in came if k[0] == key[0]), None)
        if twin is None:
            continue
        gone.remove(key)
        came.remove(twin)
        changes = _compare_defs(ob[key], nb[twin], ot, nt)
        out.append(BlockDiff(block_label(twin), "window changed", changes, block_label(key)))
    for key in gone:
        out.append(BlockDiff(block_label(key), "removed", _compare_defs(ob[key], {}, ot, nt)))
    for key in came:
        out.append(BlockDiff(block_label(key), "added", _compare_defs({}, nb[key], ot, nt)))
    return out


def _header(old: ast.PlanHeader, new: ast.PlanHeader) -> tuple[HeaderChange, ...]:
    out = []
    for name in HEADER_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(HeaderChange(name, _setting_text(a), _setting_text(b)))
    return tuple(out)


def _setting_text(v: object) -> str:
    if v is None:
        return "(none)"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _kinds(old: Mapping[str, KindSchema], new: Mapping[str, KindSchema]) -> tuple[DefChange, ...]:
    out: list[DefChange] = []
    for name in sorted(set(old) | set(new)):
        o, n = old.get(name), new.get(name)
        if o == n:
            continue
        status = "added" if o is None else "removed" if n is None else "changed"
        out.append(DefChange(f"fact {name}", "fact", status, _kind_text(o), _kind_text(n)))
    return tuple(out)


def _kind_text(k: KindSchema | None) -> str | None:
    if k is None:
        return None
    fields = ", ".join(f"{n}: {t}" for n, t in sorted(k.fields.items()))
    return f"fact {k.name} (key {k.key}, date {k.date}) {{ {fields} }}"


def diff_models(
    old: PlanModel, new: PlanModel,
    old_sources: Mapping[str, SourceFile], new_sources: Mapping[str, SourceFile],
) -> PlanDiff:
    """The semantic diff of two checked plan models (source texts quote the changes)."""
    ot, nt = _Texts(old_sources), _Texts(new_sources)
    blocks: list[BlockDiff] = []
    base = _compare_defs(old.base, new.base, ot, nt)
    if base:
        blocks.append(BlockDiff("base plan", "changed", base))
    blocks.extend(_override_diffs(old, new, ot, nt))
    tests = _compare_defs({t.name: t for t in old.tests}, {t.name: t for t in new.tests}, ot, nt)
    invs = _compare_defs(
        {_invariant_key(i): i for i in old.invariants},
        {_invariant_key(i): i for i in new.invariants}, ot, nt,
    )
    return PlanDiff(_header(old.header, new.header), tuple(blocks), _kinds(old.kinds, new.kinds),
                    tests, invs)


def _invariant_key(i: ast.Invariant) -> str:
    from kpidsl.eval.unparse import unparse

    return f"{i.name} {i.op} {unparse(i.arg)}"
