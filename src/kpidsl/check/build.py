"""Build the plan model from parsed modules: header, fact kinds, definitions, scopes."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from kpidsl import ast
from kpidsl.check.context import KEYWORDS_TUPLE, Ctx, Scope, head_span, suggest
from kpidsl.diagnostics import Label
from kpidsl.model import (
    BUILTIN_KINDS,
    PAYEE_TYPE,
    SHARE_FIELD,
    VALUE_TYPES,
    KindSchema,
    PlanModel,
    def_key,
    plural,
)
from kpidsl.source import NO_SPAN

RESERVED_NAMES = ("total",)


def build(modules: Sequence[ast.Module]) -> Ctx:
    """Gather definitions into a :class:`PlanModel` and the check context around it."""
    main = modules[0] if modules else ast.Module(None, ())
    header = main.header or ast.PlanHeader(name=main.file)
    model = PlanModel(
        header=header,
        kinds={},
        base={},
        overrides=tuple(i for m in modules for i in m.items if isinstance(i, ast.Override)),
        # an imported file's tests and invariants are the plan's too (they were silently not run)
        tests=tuple(i for m in modules for i in m.items if isinstance(i, ast.TestBlock)),
        invariants=tuple(i for m in modules for i in m.items if isinstance(i, ast.Invariant)),
        modules=tuple(modules),
    )
    ctx = Ctx(model)
    if main.header is None:
        ctx.err("KPI0131", "the main plan file has no `plan` header", main.span,
                help='start the file with `plan "Name" { currency USD  period quarter }`')
    for m in modules[1:]:  # an imported file's own header decides nothing: say so
        if m.header is not None:
            ctx.warn("KPI0133", f"the `plan` header of imported file `{m.file}` is ignored", m.header.span,
                     "ignored", notes=(f"the plan's currency, period, rounding and precision are those of "
                                       f"`{main.file}`'s header",),
                     help="remove the header from the imported file")
    build_kinds(ctx, [i for m in modules for i in m.items if isinstance(i, ast.FactKind)])
    base_defs: list[ast.Definition] = [
        i for m in modules for i in m.items if isinstance(i, KEYWORDS_TUPLE)  # type: ignore[misc]
    ]
    base = collect(ctx, base_defs)
    model.base.update(base)
    ctx.scopes.append(Scope(None, base, dict(base)))
    index: BlockIndex = {}
    for block in model.overrides:
        add_block_scope(ctx, block, index)
    record_override_only(ctx)
    declared_types(ctx)
    return ctx


def collect(ctx: Ctx, defs: Sequence[ast.Definition]) -> dict[str, ast.Definition]:
    """Definitions by key; a second definition of a key in one scope is KPI0110."""
    out: dict[str, ast.Definition] = {}
    for d in defs:
        key = def_key(d)
        if key in out:
            first = out[key]
            what = f"target for `{d.metric}`" if isinstance(d, ast.Target) else f"`{key}`"
            ctx.err("KPI0110", f"{what} is defined more than once", head_span(d),
                    "defined again here",
                    secondary=(Label(head_span(first), "first defined here"),),
                    help="rename one of them, or put the variant in a `for` block")
            continue
        if key in RESERVED_NAMES:
            ctx.err("KPI0124", f"`{key}` is reserved for the sum of all payouts",
                    head_span(d), "reserved name", help="choose another name")
        out[key] = d
    return out


# Earlier override scopes by selector items: items -> [(scope position, block)].
BlockIndex = dict[frozenset[tuple[str, str]], list[tuple[int, ast.Override]]]


def add_block_scope(ctx: Ctx, block: ast.Override, index: BlockIndex | None = None) -> None:
    """Add the scope of ``block``; ``index`` (kept across calls) avoids comparing all pairs."""
    own = collect(ctx, [d for d in block.body if isinstance(d, KEYWORDS_TUPLE)])
    visible = dict(ctx.base_scope().own)
    for other in general_scopes(ctx, block, index):
        visible.update(other.own)
    visible.update(own)
    ctx.scopes.append(Scope(block, own, visible))
    if index is not None:
        index.setdefault(items_of(block), []).append((len(ctx.scopes) - 1, block))


def general_scopes(ctx: Ctx, block: ast.Override, index: BlockIndex | None) -> list[Scope]:
    """The earlier block scopes that always apply with ``block``, in source order."""
    items = items_of(block)
    if index is None or 2 ** len(items) > len(index):
        return [o for o in ctx.scopes[1:]
                if o.block is not None and always_applies_with(o.block, block)]
    found: list[int] = []
    ordered = sorted(items)
    for size in range(len(ordered) + 1):
        for subset in itertools.combinations(ordered, size):
            found += [i for i, other in index.get(frozenset(subset), ())
                      if always_applies_with(other, block)]
    return [ctx.scopes[i] for i in sorted(found)]


def items_of(block: ast.Override) -> frozenset[tuple[str, str]]:
    return frozenset((i.attr, i.value) for i in block.selector)


def window(block: ast.Override) -> tuple[dt.date, dt.date]:
    return (block.start or dt.date.min, block.until or dt.date.max)


def always_applies_with(general: ast.Override, specific: ast.Override) -> bool:
    """True when ``general`` applies to every payee and date that ``specific`` does."""
    gs, ge = window(general)
    ss, se = window(specific)
    return items_of(general) <= items_of(specific) and gs <= ss and se <= ge


def record_override_only(ctx: Ctx) -> None:
    base = ctx.base_scope().own
    for scope in ctx.scopes[1:]:
        for key, d in scope.own.items():
            if key in base:
                continue
            ctx.override_only.setdefault(key, d)
            if isinstance(d, ast.InputDecl):
                ctx.err("KPI0129", f"input `{d.name}` is declared only in an override block",
                        head_span(d), "not declared in the base plan",
                        help="declare every input in the base plan: data is typed by it")


def declared_types(ctx: Ctx) -> None:
    """Types known from declarations; tables and tiers are typed by the types pass."""
    types = ctx.model.types
    for scope in ctx.scopes:
        for key, d in scope.own.items():
            if key in types and scope.block is not None:
                continue
            if isinstance(d, (ast.InputDecl, ast.Metric, ast.Const, ast.Payout)):
                types[key] = d.type
            elif isinstance(d, ast.Score):
                types[key] = "percent"


# --------------------------------------------------------------------------
# Fact kinds
# --------------------------------------------------------------------------


def build_kinds(ctx: Ctx, decls: Sequence[ast.FactKind]) -> None:
    kinds = dict(BUILTIN_KINDS)
    declared: dict[str, ast.FactKind] = {}
    for decl in decls:
        if decl.name in declared:
            ctx.err("KPI0110", f"fact kind `{decl.name}` is declared more than once",
                    head_span(decl), "declared again here",
                    secondary=(Label(head_span(declared[decl.name]), "first declared here"),),
                    help="put all of a kind's fields in one `fact` declaration")
            continue
        declared[decl.name] = decl
        kinds[decl.name] = merge_kind(ctx, decl, kinds.get(decl.name))
    names = set(kinds)
    for decl in declared.values():
        check_field_types(ctx, decl, names)
    ctx.model.kinds.update(kinds)


def merge_kind(ctx: Ctx, decl: ast.FactKind, builtin: KindSchema | None) -> KindSchema:
    fields = dict(builtin.fields) if builtin else {}
    seen: dict[str, ast.FieldDecl] = {}
    for f in decl.fields:
        if f.name in seen or f.name == SHARE_FIELD:
            why = "is the built-in credit share" if f.name == SHARE_FIELD else "is declared twice"
            ctx.err("KPI0128", f"field `{decl.name}.{f.name}` {why}", f.span, "conflicting field",
                    help="remove or rename this field")
            continue
        seen[f.name] = f
        if builtin and f.name in builtin.fields and builtin.fields[f.name] != f.type:
            ctx.err("KPI0128",
                    f"field `{decl.name}.{f.name}` is built in as {builtin.fields[f.name]}",
                    f.span, f"declared as {f.type}",
                    help=f"a built-in field keeps its type; drop `{f.name}` or rename it")
            continue
        fields[f.name] = f.type
    if builtin is not None:
        check_builtin_key_date(ctx, decl, builtin)
        return KindSchema(builtin.name, builtin.key, builtin.date, fields, True, builtin.file_stem)
    return new_kind(ctx, decl, fields)


def check_builtin_key_date(ctx: Ctx, decl: ast.FactKind, builtin: KindSchema) -> None:
    for what, given, fixed in (("key", decl.key, builtin.key), ("date", decl.date, builtin.date)):
        if given is not None and given != fixed:
            ctx.err("KPI0126", f"built-in kind `{decl.name}` has {what} `{fixed}`", decl.span,
                    f"{what} `{given}` declared here", help=f"remove `{what} {given}`")


def new_kind(ctx: Ctx, decl: ast.FactKind, fields: dict[str, str]) -> KindSchema:
    missing = [w for w, v in (("key", decl.key), ("date", decl.date)) if v is None]
    if missing:
        ctx.err("KPI0125", f"fact kind `{decl.name}` needs a {' and a '.join(missing)}",
                head_span(decl), f"no {' or '.join(missing)}",
                help="a new kind names its key and the date that places it in time: "
                     "`key id  date happened_on`")
    key, date = decl.key or "id", decl.date or ""
    for what, name, typ in (("key", key, "text"), ("date", date, "date")):
        if not name:
            continue
        if name in fields and fields[name] != typ:
            ctx.err("KPI0126", f"the {what} field `{decl.name}.{name}` must be {typ}", decl.span,
                    f"declared as {fields[name]}", help=f"declare `{name}: {typ}` or drop it")
        fields.setdefault(name, typ)
    return KindSchema(decl.name, key, date, fields, False, plural(decl.name))


def check_field_types(ctx: Ctx, decl: ast.FactKind, kinds: set[str]) -> None:
    allowed = set(VALUE_TYPES) | {PAYEE_TYPE} | kinds
    for f in decl.fields:
        if f.type not in allowed:
            ctx.err("KPI0127", f"unknown field type `{f.type}`", f.span or NO_SPAN,
                    "not a type or fact kind", help=suggest(f.type, allowed)
                    or f"use one of: {', '.join(VALUE_TYPES)}, payee, or a fact kind")
        elif f.type == decl.name:
            ctx.err("KPI0127", f"field `{decl.name}.{f.name}` references its own kind",
                    f.span, "self reference", help="references go to another kind, one hop")
