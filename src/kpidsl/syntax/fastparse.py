"""A lean LALR driver on Lark's own tables: text -> top-level AST items, no parse tree.

Lark's LALR loop, its tree builder with ``propagate_positions`` and its contextual
lexer cost about 2 s of CPU for a 10,000-line plan. This driver runs the same parse
table with the same per-state lexer regexes, but builds AST nodes directly with
the :class:`~kpidsl.syntax.transform.ToAst` methods (given the same ``meta`` Lark
would compute) instead of a tree that is walked afterwards.

It is an accelerator only: it answers None for anything but a clean parse (a
lexing or syntax error, a diagnostic from the builder, an unexpected grammar
shape), and the caller then runs the standard Lark parse, which produces the
diagnostics exactly as before. Tables are built once (:func:`build_tables`) and
only read afterwards, so one instance serves every thread.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from lark import Lark, Token
from lark.grammar import Rule, Terminal
from lark.lexer import BasicLexer, PatternStr, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.tree import Meta

from kpidsl import ast
from kpidsl.syntax.transform import ToAst

# A value-stack entry: (value, line, column, start_pos, end_line, end_column, end_pos,
# height, kind). Positions are the entry's *container* (what Lark's PropagatePositions
# calls container_*; line is 0 when the entry has none). Kinds below.
_TOKEN, _NODE, _SPLICE, _NONE = 0, 1, 2, 3
Entry = tuple[Any, int, int, int, int, int, int, int, int]
_NO_ENTRY: Entry = (None, 0, 0, 0, 0, 0, 0, 0, _NONE)


class Unsupported(Exception):
    """The grammar uses a Lark feature this driver does not reproduce."""


class _Bail(Exception):
    """The input needs the standard parse (an error, or an unusual tree)."""


# How a reduction is carried out (RulePlan.kind).
_PASS = 0  # `?rule: child` -> the child's entry, unchanged
_LIST1 = 1  # `_rule: child` -> a one-element splice, positions of the child
_GENERAL = 2


class RulePlan(NamedTuple):
    """How one grammar rule's reduction shapes its children (Lark's tree-builder rules)."""

    size: int
    origin: str
    name: str
    include: tuple[tuple[int, bool, int], ...]  # (child index, splice it, Nones before)
    trailing_nones: int
    expand1: bool
    splice: bool
    root: bool
    kind: int


class StateLexer(NamedTuple):
    """One parser state's lexer: Lark's regexes, keyword map and ignored terminals."""

    regexes: tuple[Any, ...]
    keywords: dict[str, dict[str, str]]  # terminal -> {text: keyword terminal}
    ignore: frozenset[str]
    newline_types: frozenset[str]


class Tables(NamedTuple):
    """Everything the driver reads; built once per process from the Lark parser."""

    actions: dict[int, dict[str, int | RulePlan]]  # a shift's next state, or a reduction
    start_state: int
    end_state: int
    lexers: dict[int, StateLexer]
    comment: str


def _plan(rule: Rule, start: str, placeholders: bool) -> RulePlan:
    """Mirror of lark.parse_tree_builder.maybe_create_child_filter for one rule."""
    opts = rule.options
    expansion = rule.expansion
    empty = opts.empty_indices if placeholders else ()
    if empty:
        bits = "".join(str(int(b)) for b in empty)
        nones = [len(ones) for ones in bits.split("0")]
    else:
        nones = [0] * (len(expansion) + 1)
    include: list[tuple[int, bool, int]] = []
    pending = 0
    for i, sym in enumerate(expansion):
        pending += nones[i]
        if opts.keep_all_tokens or not (isinstance(sym, Terminal) and sym.filter_out):
            include.append((i, not sym.is_term and sym.name.startswith("_"), pending))
            pending = 0
    pending += nones[len(expansion)]
    origin = rule.origin.name
    if opts.template_source is not None or (origin.startswith("_") and opts.expand1):
        raise Unsupported(f"rule {origin}")
    name = str(rule.alias or origin)
    expand1 = bool(opts.expand1 and not rule.alias)
    single = len(expansion) == 1 and include == [(0, False, 0)] and not pending
    splice = origin.startswith("_")
    kind = _PASS if single and expand1 else _LIST1 if single and splice else _GENERAL
    return RulePlan(
        len(expansion), str(origin), name, tuple(include), pending, expand1, splice,
        origin == start, kind,
    )


def _state_lexer(lexer: BasicLexer, comment: str) -> StateLexer:
    scanner = lexer.scanner  # built lazily by Lark: build it here, under the caller's lock
    keywords: dict[str, dict[str, str]] = {}
    for type_, callback in lexer.callback.items():
        if type_ == comment and callback is lexer.user_callbacks.get(comment):
            continue
        if not isinstance(callback, UnlessCallback):
            raise Unsupported(f"lexer callback on {type_}")
        words: dict[str, str] = {}
        for term in callback.scanner.terminals:
            if not isinstance(term.pattern, PatternStr) or term.pattern.flags:
                raise Unsupported(f"keyword {term.name}")
            words[term.pattern.value] = term.name
        keywords[type_] = words
    return StateLexer(
        tuple(scanner._mres), keywords, frozenset(lexer.ignore_types),
        frozenset(lexer.newline_types),
    )


def build_tables(parser: Lark, comment: str = "COMMENT") -> Tables | None:
    """The driver's tables for ``parser`` (LALR, contextual lexer), or None if unsupported."""
    try:
        frontend = parser.parser
        table = frontend.parser.parser.parse_table
        start = parser.options.start[0]
        placeholders = bool(parser.options.maybe_placeholders)
        plans: dict[Rule, RulePlan] = {}
        actions: dict[int, dict[str, int | RulePlan]] = {}
        for state, row in table.states.items():
            out: dict[str, int | RulePlan] = {}
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    out[str(symbol)] = int(arg)
                else:
                    if arg not in plans:
                        plans[arg] = _plan(arg, start, placeholders)
                    out[str(symbol)] = plans[arg]
            actions[state] = out
        lexers: dict[int, StateLexer] = {}
        by_lexer: dict[int, StateLexer] = {}
        for state, lexer in frontend.lexer.lexers.items():
            if id(lexer) not in by_lexer:
                by_lexer[id(lexer)] = _state_lexer(lexer, comment)
            lexers[state] = by_lexer[id(lexer)]
        return Tables(actions, table.start_states[start], table.end_states[start], lexers, comment)
    except (Unsupported, AttributeError, KeyError, TypeError):
        return None


class FastResult(NamedTuple):
    """A clean parse: the root's children, the tree height Lark's tree would have, comments."""

    items: list[Any]
    depth: int
    comments: tuple[ast.Comment, ...]


def fast_parse(tables: Tables, builder: ToAst, text: str) -> FastResult | None:
    """Parse ``text``; None when the standard parse must run instead (see module doc)."""
    try:
        return _run(tables, builder, text)
    except _Bail:
        return None


def _meta(first: Entry, last: Entry) -> Meta:
    meta = Meta.__new__(Meta)  # what Meta() makes, set at once
    meta.empty = False
    meta.line, meta.column, meta.start_pos = first[1], first[2], first[3]
    meta.end_line, meta.end_column, meta.end_pos = last[4], last[5], last[6]
    return meta


def _reduce(plan: RulePlan, raw: list[Entry], builder: ToAst) -> Entry:
    """One reduction: Lark's child filter, expand-single-child and position rules."""
    values: list[Any] = []
    height = 0
    for index, splice, nones in plan.include:
        if nones:
            values.extend([None] * nones)
        entry = raw[index]
        if splice:
            values.extend(entry[0])
        else:
            values.append(entry[0])
        if entry[7] > height:
            height = entry[7]
    if plan.trailing_nones:
        values.extend([None] * plan.trailing_nones)
    if plan.root:  # the root's meta is only read for a too-deep diagnostic: not needed
        return (values, 0, 0, 0, 0, 0, 0, height + 1, _NODE)
    first = next((e for e in raw if e[1]), None)
    last = next((e for e in reversed(raw) if e[1]), None)
    if first is None or last is None:
        raise _Bail  # a node without positions: Lark would fill them in later
    if plan.expand1 and len(values) == 1:
        if len(plan.include) != 1 or plan.include[0][1] or plan.include[0][2]:
            raise _Bail  # the single child is spliced or a placeholder: not reproduced
        child = raw[plan.include[0][0]]
        if child[8] == _NODE:  # the same node, its container widened to this rule's text
            return (child[0], first[1], first[2], first[3], last[4], last[5], last[6], child[7], _NODE)
        return child
    if plan.splice:
        return (values, first[1], first[2], first[3], last[4], last[5], last[6], height, _SPLICE)
    value = getattr(builder, plan.name)(_meta(first, last), values)
    return (value, first[1], first[2], first[3], last[4], last[5], last[6], height + 1, _NODE)


def _run(tables: Tables, builder: ToAst, text: str) -> FastResult:
    actions, lexers, comment, end_state = tables.actions, tables.lexers, tables.comment, tables.end_state
    states: list[int] = [tables.start_state]
    values: list[Entry] = []
    comments: list[ast.Comment] = []
    pos, line, line_start, size = 0, 1, 0, len(text)
    while True:
        if pos < size:
            lexer = lexers[states[-1]]
            for regex in lexer.regexes:
                match = regex.match(text, pos)
                if match:
                    break
            else:
                raise _Bail
            value: str = match.group(0)
            type_: str = match.lastgroup
            start, start_line, column = pos, line, pos - line_start + 1
            pos += len(value)
            if type_ in lexer.newline_types:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if type_ in lexer.ignore:
                if type_ == comment:
                    comments.append(ast.Comment(value[2:].rstrip(), start_line))
                continue
            words = lexer.keywords.get(type_)
            if words is not None:
                type_ = words.get(value, type_)
        else:
            type_ = "$END"
        while True:  # reduce as the lookahead asks
            action = actions[states[-1]].get(type_)
            if action is None:
                raise _Bail
            if action.__class__ is int:
                break
            plan: RulePlan = action  # type: ignore[assignment]
            kind = plan.kind
            if kind == _PASS:
                states.pop()
            elif kind == _LIST1:
                states.pop()
                child = values[-1]
                values[-1] = ([child[0]], *child[1:7], child[7], _SPLICE)
            else:
                n = plan.size
                if n:
                    raw = values[-n:]
                    del states[-n:]
                    del values[-n:]
                else:
                    raw = []
                values.append(_reduce(plan, raw, builder))
            states.append(actions[states[-1]][plan.origin])  # type: ignore[arg-type]
            if type_ == "$END" and states[-1] == end_state:
                root = values[-1]
                return FastResult(root[0], root[7], tuple(comments))
        if type_ == "$END":
            raise _Bail  # Lark never shifts the end marker
        states.append(action)
        end_column = pos - line_start + 1
        token = Token(type_, value, start, start_line, column, line, end_column, pos)
        values.append((token, start_line, column, start, line, end_column, pos, 0, _TOKEN))
