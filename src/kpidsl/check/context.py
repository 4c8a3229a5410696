"""Shared state of one check run: the model being built, scopes and the diagnostics list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, Label, error, warning
from kpidsl.model import PlanModel, def_key
from kpidsl.source import Span

KEYWORDS: dict[type, str] = {
    ast.InputDecl: "input",
    ast.Metric: "metric",
    ast.Target: "target",
    ast.Const: "const",
    ast.Table: "table",
    ast.Tiers: "tiers",
    ast.Score: "score",
    ast.Payout: "payout",
}


@attrs.define
class Scope:
    """Where an expression is resolved: the base plan or one override block.

    ``own`` holds the definitions written in this scope; ``visible`` the names an
    expression in it may use (base plan, blocks that always apply with it, its own).
    """

    block: ast.Override | None
    own: dict[str, ast.Definition]
    visible: dict[str, ast.Definition]

    def describe(self) -> str:
        return "the base plan" if self.block is None else f"`for {selector_text(self.block)}`"


@attrs.define
class Ctx:
    """The model under check and the diagnostics collected so far."""

    model: PlanModel
    diags: list[Diagnostic] = attrs.field(factory=list)
    scopes: list[Scope] = attrs.field(factory=list)
    # names defined only inside override blocks: name -> first definition
    override_only: dict[str, ast.Definition] = attrs.field(factory=dict)

    def err(
        self,
        code: str,
        message: str,
        span: Span,
        label: str = "",
        *,
        secondary: tuple[Label, ...] = (),
        notes: tuple[str, ...] = (),
        help: str | None = None,
    ) -> None:
        self.diags.append(
            error(code, message, span, label, secondary=secondary, notes=notes, help=help)
        )

    def warn(
        self,
        code: str,
        message: str,
        span: Span,
        label: str = "",
        *,
        secondary: tuple[Label, ...] = (),
        notes: tuple[str, ...] = (),
        help: str | None = None,
    ) -> None:
        self.diags.append(
            warning(code, message, span, label, secondary=secondary, notes=notes, help=help)
        )

    def base_scope(self) -> Scope:
        return self.scopes[0]

    def all_definitions(self) -> Iterator[tuple[Scope, ast.Definition]]:
        for scope in self.scopes:
            for d in scope_definitions(scope):
                yield scope, d


def scope_definitions(scope: Scope) -> list[ast.Definition]:
    """The definitions written in a scope, in source order (duplicates included)."""
    if scope.block is None:
        return list(scope.own.values())
    return [d for d in scope.block.body if isinstance(d, KEYWORDS_TUPLE)]


KEYWORDS_TUPLE = tuple(KEYWORDS)


def selector_text(block: ast.Override) -> str:
    items = " and ".join(f"{i.attr} {quote(i.value)}" for i in block.selector)
    if block.start is not None:
        items += f" from {block.start.isoformat()}"
    if block.until is not None:
        items += f" until {block.until.isoformat()}"
    return items


def quote(value: str) -> str:
    if value.isidentifier():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A did-you-mean help line, or None when nothing is close."""
    import difflib  # only when a name is unknown: not at start-up

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def head_span(d: ast.Definition | ast.FactKind) -> Span:
    """The span of a definition's keyword and name (``metric bookings``), on its first line.

    The AST keeps only the whole definition's span; the name is assumed to follow
    its keyword after one space, which is how plans are written and formatted.
    """
    explicit = getattr(d, "name_span", None)
    if isinstance(explicit, Span):
        return explicit
    kw = "fact" if isinstance(d, ast.FactKind) else KEYWORDS[type(d)]
    name = d.metric if isinstance(d, ast.Target) else d.name
    width = len(kw) + 1 + len(name)
    s = d.span
    return Span(s.file, s.line, s.col, s.line, s.col + width, s.start, s.start + width)


def prefix_span(span: Span, width: int) -> Span:
    """The first ``width`` characters of a span (a call's function name, a line's ref)."""
    return Span(span.file, span.line, span.col, span.line, span.col + width, span.start, span.start + width)


def def_name(d: ast.Definition) -> str:
    return def_key(d)


# The AST walkers live beside the nodes; re-exported for the checker's passes.
walk = ast.walk
children = ast.children
definition_exprs = ast.definition_exprs
clause_exprs = ast.clause_exprs



def is_literal_number(expr: ast.Expr) -> bool:
    """A plain numeric literal (``5``, ``-3``, not ``5%``): it adapts to the other operand."""
    if isinstance(expr, ast.Unary) and expr.op == "-":
        return is_literal_number(expr.operand)
    return isinstance(expr, ast.Number) and not expr.percent
