"""Lark parse tree -> :mod:`kpidsl.ast`, with spans and literal diagnostics.

The transformer is non-recursive (deep expressions cannot overflow the Python
stack) and collects diagnostics (KPI0006-KPI0010) instead of raising. One
instance serves one parse.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import attrs

from kpidsl import ast
from kpidsl.diagnostics import Diagnostic, error
from kpidsl.source import Span
from kpidsl.syntax import literals as lit
from kpidsl.syntax.header import build_header
from kpidsl.syntax.tables import test_table

if TYPE_CHECKING:  # Lark is imported only by the standard parse (kpidsl.syntax.parser)
    from lark import Token, Tree
    from lark.tree import Meta

_PLACEHOLDER_DATE = dt.date(1, 1, 1)


@attrs.frozen
class Opt:
    """An optional clause's value, tagged so positional children stay unambiguous."""

    tag: str
    value: Any
    span: Span


def first_field(*exprs: ast.Expr | None) -> ast.Field | None:
    """The first fact field, left to right, in the given expressions (iteratively)."""
    stack: list[Any] = [e for e in reversed(exprs) if e is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Field):
            return node
        if isinstance(node, tuple):
            stack.extend(reversed(node))
        elif attrs.has(type(node)):
            kids = [getattr(node, f.name) for f in attrs.fields(type(node)) if f.name != "span"]
            stack.extend(reversed(kids))
    return None


class ToAst:
    """Builds AST nodes; ``diagnostics`` holds what was wrong with literals and names.

    Each grammar rule (or alias) has a method ``rule(meta, children)``.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.deepest: tuple[int, Meta | None] = (0, None)
        # the height past which a tree is too deep; the first node to cross it locates the error
        self.depth_limit: int | None = None

    def transform(self, tree: Tree[Token]) -> list[Any]:
        """The transformed children of the root, bottom-up without recursion.

        Rules are called in the order of Lark's ``iter_subtrees`` (reversed
        breadth-first, children right to left), so diagnostics keep their order.
        Also records the deepest nesting (``deepest``: depth and where) so the
        parser can refuse trees too deep for the recursive passes after it.
        """
        from lark import Tree

        queue: list[Tree[Token]] = [tree]
        first: list[int] = []
        for node in queue:  # a parse tree shares no subtree, so no dedupe is needed
            first.append(len(queue))
            queue.extend([c for c in reversed(node.children) if isinstance(c, Tree)])
        first.append(len(queue))
        results: list[Any] = [None] * len(queue)
        heights = [0] * len(queue)
        crossing: Meta | None = None
        limit = self.depth_limit
        for i in range(len(queue) - 1, -1, -1):
            sub, nxt, height = queue[i], first[i + 1], 0
            children: list[Any] = []
            for child in sub.children:
                if isinstance(child, Tree):
                    nxt -= 1
                    children.append(results[nxt])
                    results[nxt] = None
                    height = max(height, heights[nxt])
                else:
                    children.append(child)
            heights[i] = height + 1
            if crossing is None and limit is not None and height + 1 > limit:
                crossing = sub.meta  # inside the offending expression, not the file's first line
            if i == 0:
                # the root is strictly the highest node
                self.deepest = (height + 1, crossing or sub.meta)
                return children
            results[i] = getattr(self, sub.data)(sub.meta, children)
        return []

    # ------------------------------------------------------------ helpers

    def span(self, meta: Meta | Span) -> Span:
        if meta.__class__ is Span:  # the lean driver (fastparse) passes the span itself
            return meta
        meta = cast("Meta", meta)
        if meta.empty:
            return Span(self.file, 0, 0, 0, 0)
        return Span(
            self.file, meta.line, meta.column, meta.end_line, meta.end_column,
            meta.start_pos, meta.end_pos,
        )

    def tspan(self, tok: Token) -> Span:
        return Span(
            self.file, tok.line or 0, tok.column or 0, tok.end_line or 0, tok.end_column or 0,
            tok.start_pos or 0, tok.end_pos or 0,
        )

    def report(self, code: str, message: str, span: Span, label: str = "", **kw: Any) -> None:
        self.diagnostics.append(error(code, message, span, label, **kw))

    def def_name(self, tok: Token) -> str:
        name = str(tok)
        if name in lit.RESERVED:
            self.report(
                "KPI0006", f"`{name}` is a keyword and cannot name a definition",
                self.tspan(tok), "keyword used as a name",
                help=f"choose another name, e.g. `{name}_value`",
            )
        return name

    def _date(self, tok: Token) -> dt.date:
        value = lit.date_of(str(tok))
        if isinstance(value, str):
            self.report("KPI0007", value, self.tspan(tok), "invalid date")
            return _PLACEHOLDER_DATE
        return value

    # ------------------------------------------------------------ module items

    def plan_header(self, meta: Meta, ch: list[Any]) -> ast.PlanHeader:
        return build_header(self, lit.unquote(ch[0]), ch[1:], self.span(meta))

    def _setting(self, name: str, meta: Meta, ch: list[Any]) -> Opt:
        return Opt(name, ch, self.span(meta))

    def set_currency(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("currency", meta, ch)

    def set_period(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("period", meta, ch)

    def set_rounding(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("rounding", meta, ch)

    def set_precision(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("precision", meta, ch)

    def set_fiscal_year_start(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("fiscal_year_start", meta, ch)

    def set_effective(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("effective", meta, ch)

    def set_changes(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("changes", meta, ch)

    def set_version(self, meta: Meta, ch: list[Any]) -> Opt:
        return self._setting("version", meta, ch)

    def import_stmt(self, meta: Meta, ch: list[Any]) -> ast.Import:
        return ast.Import(lit.unquote(ch[0]), span=self.span(meta))

    def fact(self, meta: Meta, ch: list[Any]) -> ast.FactKind:
        key = date = None
        fields: list[ast.FieldDecl] = []
        for member in ch[1:]:
            if isinstance(member, ast.FieldDecl):
                fields.append(member)
            elif member.tag == "key":
                key = member.value
            else:
                date = member.value
        return ast.FactKind(self.def_name(ch[0]), key, date, tuple(fields), span=self.span(meta))

    def fact_key(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("key", str(ch[0]), self.span(meta))

    def fact_date(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("date", str(ch[0]), self.span(meta))

    def field_decl(self, meta: Meta, ch: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(str(ch[0]), str(ch[1]), span=self.span(meta))

    # ------------------------------------------------------------ definitions

    def input_decl(self, meta: Meta, ch: list[Any]) -> ast.InputDecl:
        default = ch[2] if len(ch) > 2 else None
        return ast.InputDecl(self.def_name(ch[0]), str(ch[1]), default, span=self.span(meta))

    def input_default(self, meta: Meta, ch: list[Any]) -> Any:
        return ch[0]

    def metric(self, meta: Meta, ch: list[Any]) -> ast.Metric:
        return ast.Metric(self.def_name(ch[0]), str(ch[1]), ch[2], span=self.span(meta))

    def target(self, meta: Meta, ch: list[Any]) -> ast.Target:
        return ast.Target(str(ch[0]), ch[1], span=self.span(meta))

    def const(self, meta: Meta, ch: list[Any]) -> ast.Const:
        per = len(ch) > 3
        return ast.Const(self.def_name(ch[0]), str(ch[1]), ch[2], per, span=self.span(meta))

    def per_period(self, meta: Meta, ch: list[Any]) -> bool:
        return True

    def table(self, meta: Meta, ch: list[Any]) -> ast.Table:
        entries = tuple(c for c in ch[2:] if isinstance(c, ast.TableEntry))
        default = next((c.value for c in ch[2:] if isinstance(c, Opt)), None)
        return ast.Table(self.def_name(ch[0]), ch[1], entries, default, span=self.span(meta))

    def table_entry(self, meta: Meta, ch: list[Any]) -> ast.TableEntry:
        return ast.TableEntry(lit.unquote(ch[0]), ch[1], span=self.span(meta))

    def table_default(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("else", ch[0], self.span(meta))

    def tiers(self, meta: Meta, ch: list[Any]) -> ast.Tiers:
        name, mode, rest = self.def_name(ch[0]), ch[1], ch[2:]
        opts = {c.tag: c.value for c in rest if isinstance(c, Opt)}
        on = next(c for c in rest if not isinstance(c, Opt | ast.Band | ast.Point))
        bands = tuple(c for c in rest if isinstance(c, ast.Band | ast.Point))
        return ast.Tiers(
            name, mode, opts.get("per"), on, bands,
            extend_flat="flat" in opts, above=opts.get("above"), span=self.span(meta),
        )

    def tier_mode(self, meta: Meta, ch: list[Any]) -> str:
        return str(ch[0])

    def tiers_per(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("per", str(ch[0]), self.span(meta))

    def extend_flat(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("flat", True, self.span(meta))

    def band(self, meta: Meta, ch: list[Any]) -> ast.Band:
        return ast.Band(ch[0], ch[1], ch[2], span=self.span(meta))

    def open_band(self, meta: Meta, ch: list[Any]) -> ast.Band:
        return ast.Band(ch[0], None, ch[1], span=self.span(meta))

    def point(self, meta: Meta, ch: list[Any]) -> ast.Point:
        return ast.Point(ch[0], ch[1], span=self.span(meta))

    def above(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("above", ch[0], self.span(meta))

    def bound(self, meta: Meta, ch: list[Any]) -> ast.Number:
        tok = ch[0]
        return self.number(meta, ch) if tok.type == "NUMBER" else self.percent(meta, ch)

    def score(self, meta: Meta, ch: list[Any]) -> ast.Score:
        return ast.Score(self.def_name(ch[0]), tuple(ch[1:]), span=self.span(meta))

    def score_line(self, meta: Meta, ch: list[Any]) -> ast.ScoreLine:
        opts = {c.tag: c.value for c in ch[2:]}
        return ast.ScoreLine(
            str(ch[0]), ch[1], opts.get("cap"), opts.get("threshold"), span=self.span(meta)
        )

    def score_cap(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("cap", ch[0], self.span(meta))

    def score_threshold(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("threshold", ch[0], self.span(meta))

    def payout(self, meta: Meta, ch: list[Any]) -> ast.Payout:
        name = self.def_name(ch[0])
        return ast.Payout(name, str(ch[1]), ch[2], tuple(ch[3:]), span=self.span(meta))

    def when_clause(self, meta: Meta, ch: list[Any]) -> ast.When:
        return ast.When(ch[0], ch[1], ch[2], span=self.span(meta))

    def then_op(self, meta: Meta, ch: list[Any]) -> str:
        return str(ch[0]) if ch else "="

    def requires_clause(self, meta: Meta, ch: list[Any]) -> ast.Requires:
        return ast.Requires(ch[0], span=self.span(meta))

    def floor_clause(self, meta: Meta, ch: list[Any]) -> ast.Floor:
        return ast.Floor(ch[0], span=self.span(meta))

    def cap_clause(self, meta: Meta, ch: list[Any]) -> ast.Cap:
        return ast.Cap(ch[0], span=self.span(meta))

    # ------------------------------------------------------------ overrides

    def override(self, meta: Meta, ch: list[Any]) -> ast.Override:
        opts = {c.tag: c.value for c in ch[1:] if isinstance(c, Opt)}
        body = tuple(c for c in ch[1:] if not isinstance(c, Opt))
        return ast.Override(
            ch[0], opts.get("from"), opts.get("until"), body, span=self.span(meta)
        )

    def selector(self, meta: Meta, ch: list[Any]) -> tuple[ast.SelectorItem, ...]:
        return tuple(ch)

    def selector_item(self, meta: Meta, ch: list[Any]) -> ast.SelectorItem:
        value = ch[1]
        text = lit.unquote(value) if value.type == "STRING" else str(value)
        return ast.SelectorItem(str(ch[0]), text, span=self.span(meta))

    def override_from(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("from", self._date(ch[0]), self.span(meta))

    def override_until(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("until", self._date(ch[0]), self.span(meta))

    # ------------------------------------------------------------ tests

    def test_block(self, meta: Meta, ch: list[Any]) -> ast.TestBlock:
        return ast.TestBlock(lit.unquote(ch[0]), tuple(ch[1:]), span=self.span(meta))

    def test_period(self, meta: Meta, ch: list[Any]) -> ast.TestPeriod:
        problem = lit.period_label_error(str(ch[0]))
        if problem:
            self.report("KPI0007", problem, self.tspan(ch[0]), "invalid period")
        return ast.TestPeriod(str(ch[0]), span=self.span(meta))

    def test_table(self, meta: Meta, ch: list[Any]) -> ast.TestTable:
        return test_table(self, ch[0], ch[1:], self.span(meta))

    def expect(self, meta: Meta, ch: list[Any]) -> ast.Expect:
        return ast.Expect(ch[0], str(ch[1]), str(ch[2]), ch[3], span=self.span(meta))

    def expect_error(self, meta: Meta, ch: list[Any]) -> ast.ExpectError:
        opts = {c.tag: c.value for c in ch[1:]}
        payee, name = opts.get("for", (None, None))
        return ast.ExpectError(str(ch[0]), payee, name, opts.get("in"), span=self.span(meta))

    def expect_for(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("for", (ch[0], str(ch[1]) if len(ch) > 1 else None), self.span(meta))

    def expect_in(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("in", lit.unquote(ch[0]), self.span(meta))

    def payee_ref(self, meta: Meta, ch: list[Any]) -> str:
        tok = ch[0]
        return lit.unquote(tok) if tok.type == "STRING" else str(tok)

    def invariant_monotonic(self, meta: Meta, ch: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(ch[0]), "monotonic", ch[1], span=self.span(meta))

    def invariant_compare(self, meta: Meta, ch: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(ch[0]), str(ch[1]), ch[2], span=self.span(meta))

    def ref(self, meta: Meta, ch: list[Any]) -> ast.Name | ast.Field:
        if len(ch) == 1:
            return ast.Name(str(ch[0]), span=self.span(meta))
        return self.field(meta, ch)

    # ------------------------------------------------------------ expressions

    def fallback(self, meta: Meta, ch: list[Any]) -> ast.Fallback:
        return ast.Fallback(ch[0], ch[1], span=self.span(meta))

    def or_op(self, meta: Meta, ch: list[Any]) -> ast.Binary:
        return ast.Binary("or", ch[0], ch[1], span=self.span(meta))

    def and_op(self, meta: Meta, ch: list[Any]) -> ast.Binary:
        return ast.Binary("and", ch[0], ch[1], span=self.span(meta))

    def not_op(self, meta: Meta, ch: list[Any]) -> ast.Unary:
        return ast.Unary("not", ch[0], span=self.span(meta))

    def compare(self, meta: Meta, ch: list[Any]) -> ast.Binary:
        return ast.Binary(str(ch[1]), ch[0], ch[2], span=self.span(meta))

    binop = compare

    def neg(self, meta: Meta, ch: list[Any]) -> ast.Unary:
        return ast.Unary("-", ch[1], span=self.span(meta))

    def in_window(self, meta: Meta, ch: list[Any]) -> ast.InWindow:
        return ast.InWindow(ch[0], ch[1], span=self.span(meta))

    def in_list(self, meta: Meta, ch: list[Any]) -> ast.InList:
        return ast.InList(ch[0], tuple(ch[1:]), span=self.span(meta))

    def period_window(self, meta: Meta, ch: list[Any]) -> ast.PeriodWindow:
        return ast.PeriodWindow(span=self.span(meta))

    def ytd_window(self, meta: Meta, ch: list[Any]) -> ast.YtdWindow:
        return ast.YtdWindow(span=self.span(meta))

    def previous_window(self, meta: Meta, ch: list[Any]) -> ast.PreviousPeriodWindow:
        return ast.PreviousPeriodWindow(span=self.span(meta))

    def range_window(self, meta: Meta, ch: list[Any]) -> ast.DateRangeWindow:
        return ast.DateRangeWindow(self._date(ch[0]), self._date(ch[1]), span=self.span(meta))

    def number(self, meta: Meta, ch: list[Any]) -> ast.Number:
        text = self._digits(ch[0])
        return ast.Number(lit.decimal_of(text), False, text, span=self.tspan(ch[0]))

    def percent(self, meta: Meta, ch: list[Any]) -> ast.Number:
        text = self._digits(ch[0])
        return ast.Number(lit.percent_of(text), True, text, span=self.tspan(ch[0]))

    def _digits(self, tok: Token) -> str:
        """A number's text; a digit other than 0-9 (a full-width ``１``...) is KPI0002."""
        text = str(tok)
        at = lit.non_ascii_digit(text)
        if at is not None:
            char, span = text[at], self.tspan(tok)
            col, pos = span.col + at, span.start + at
            self.report(
                "KPI0002", f"unexpected character `{char}` in the number `{text}`",
                Span(self.file, span.line, col, span.line, col + 1, pos, pos + 1),
                "not an ASCII digit",
                help=lit.full_width_help(char) or "write numbers with the ASCII digits 0-9",
            )
        return text

    def string(self, meta: Meta, ch: list[Any]) -> ast.String:
        return ast.String(lit.unquote(ch[0]), span=self.tspan(ch[0]))

    def date(self, meta: Meta, ch: list[Any]) -> ast.DateLit:
        return ast.DateLit(self._date(ch[0]), span=self.tspan(ch[0]))

    def true(self, meta: Meta, ch: list[Any]) -> ast.Bool:
        return ast.Bool(True, span=self.span(meta))

    def false(self, meta: Meta, ch: list[Any]) -> ast.Bool:
        return ast.Bool(False, span=self.span(meta))

    def name(self, meta: Meta, ch: list[Any]) -> ast.Name:
        return ast.Name(str(ch[0]), span=self.tspan(ch[0]))

    def field(self, meta: Meta, ch: list[Any]) -> ast.Field:
        return ast.Field(str(ch[0]), tuple(str(c) for c in ch[1:]), span=self.span(meta))

    def call(self, meta: Meta, ch: list[Any]) -> ast.Call:
        args = tuple(c for c in ch[1:] if c is not None)
        return ast.Call(str(ch[0]), args, span=self.span(meta))

    # ------------------------------------------------------------ aggregates

    def _aggregate(self, func: str, kind: str | None, expr: Any, opts: list[Opt], meta: Meta) -> ast.Aggregate:
        found = {o.tag: o.value for o in opts}
        where = found.get("where")
        if kind is None:
            field = first_field(expr, where)
            kind = field.kind if field else ""
        return ast.Aggregate(
            func, kind, expr, found.get("over", "self"), found.get("credited", ("split",)),
            where, span=self.span(meta),
        )

    def agg(self, meta: Meta, ch: list[Any]) -> ast.Aggregate:
        return self._aggregate(ch[0], None, ch[1], ch[2:], meta)

    def agg_count_distinct(self, meta: Meta, ch: list[Any]) -> ast.Aggregate:
        return self._aggregate("count_distinct", None, ch[0], ch[1:], meta)

    def agg_count(self, meta: Meta, ch: list[Any]) -> ast.Aggregate:
        return self._aggregate("count", str(ch[0]), None, ch[1:], meta)

    def agg_func(self, meta: Meta, ch: list[Any]) -> str:
        return str(ch[0])

    def agg_over(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("over", ch[0], self.span(meta))

    def scope(self, meta: Meta, ch: list[Any]) -> str:
        return "self+team" if len(ch) > 1 else str(ch[0])

    def agg_credited(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("credited", tuple(ch), self.span(meta))

    def credit_type(self, meta: Meta, ch: list[Any]) -> str:
        return str(ch[0])

    def agg_where(self, meta: Meta, ch: list[Any]) -> Opt:
        return Opt("where", ch[0], self.span(meta))

