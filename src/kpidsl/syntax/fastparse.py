"""A lean LALR driver on Lark's own tables: text -> top-level AST items, no parse tree.

Lark's LALR loop, its tree builder with ``propagate_positions`` and its contextual
lexer cost about 2 s of CPU for a 10,000-line plan. This driver runs the same parse
table with the same per-state lexer regexes, but builds AST nodes directly with
the :class:`~kpidsl.syntax.transform.ToAst` methods (given the same ``meta`` Lark
would compute) instead of a tree that is walked afterwards.

It is an accelerator only: it answers None for anything but a clean parse (a
lexing or syntax error, a diagnostic from the builder, an unexpected grammar
shape), and the caller then runs the standard Lark parse, which produces the
diagnostics exactly as before. The tables are generated from the grammar ahead of
time (:mod:`kpidsl.syntax.tablegen` writes them, :func:`decode_tables` reads them), so a clean parse imports no Lark at all; :func:`build_tables`
derives them from a Lark parser. They are only read afterwards (but for a memo of
pass-through reduction chains and the per-state lexers, compiled on first use; both
deterministic), so one instance serves every thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from kpidsl import ast
from kpidsl.source import Span
from kpidsl.syntax.literals import ASCII_SPACE
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
    """Everything the driver reads; decoded (or built from a Lark parser) once per process."""

    actions: dict[int, dict[str, int | RulePlan]]  # a shift's next state, or a reduction
    start_state: int
    end_state: int
    lexers: dict[int, StateLexer]
    comment: str
    kept: frozenset[str]  # terminals some rule keeps as a child: the others need no Token
    # (state below, state on top, lookahead) -> the top state after the chain of
    # pass-through reductions (`?rule: child`) the lookahead causes; filled as met
    passes: dict[tuple[int, int, str], int]


class Tok(str):
    """A token as the driver hands it to the builder: Lark's ``Token`` attributes, no Lark."""

    __slots__ = ("column", "end_column", "end_line", "end_pos", "line", "start_pos", "type")

    type: str
    start_pos: int
    line: int
    column: int
    end_line: int
    end_column: int
    end_pos: int

    @property
    def value(self) -> str:
        return str(self)

    def __repr__(self) -> str:  # as Lark's, should a token ever reach a printed value
        return f"Token({self.type!r}, {str(self)!r})"


def _new_token(
    type_: str, value: str, start: int, line: int, column: int,
    end_line: int, end_column: int, end_pos: int,
) -> Tok:
    tok = str.__new__(Tok, value)
    tok.type, tok.start_pos, tok.line, tok.column = type_, start, line, column
    tok.end_line, tok.end_column, tok.end_pos = end_line, end_column, end_pos
    return tok


# The generated form of the tables (see kpidsl.syntax.tablegen): plain literals only.
# A lexer: ((regex pattern, flags), ...), keywords, ignored terminals, newline terminals.
LexerSpec = tuple[tuple[tuple[str, int], ...], dict[str, dict[str, str]], tuple[str, ...], tuple[str, ...]]
# A rule: the RulePlan fields in order, ``include`` as tuples.
RuleSpec = tuple[Any, ...]
# A state: its lexer's index, and per lookahead a shift (>= 0) or a reduction (-1 - rule index).
StateSpec = tuple[int, dict[str, int]]


class _Lexers(dict[int, StateLexer]):
    """State -> lexer, each lexer's regexes compiled when a parse first needs it."""

    def __init__(self, specs: Sequence[LexerSpec], of_state: Mapping[int, int]) -> None:
        super().__init__()
        self._specs = specs
        self._of_state = of_state
        self._built: dict[int, StateLexer] = {}

    def __missing__(self, state: int) -> StateLexer:
        index = self._of_state[state]
        lexer = self._built.get(index)
        if lexer is None:  # two threads may both build it: the same value, harmless
            patterns, keywords, ignore, newline_types = self._specs[index]
            regexes = tuple(re.compile(pattern, flags) for pattern, flags in patterns)
            lexer = self._built[index] = StateLexer(
                regexes, keywords, frozenset(ignore), frozenset(newline_types)
            )
        self[state] = lexer
        return lexer


def decode_tables(
    start_state: int, end_state: int, comment: str, kept: Sequence[str],
    rules: Sequence[RuleSpec], lexers: Sequence[LexerSpec], states: Mapping[int, StateSpec],
) -> Tables:
    """The driver's tables from their generated form (see :mod:`kpidsl.syntax.generated`)."""
    plans = [
        RulePlan(size, origin, name, tuple(tuple(i) for i in include), trailing, e1, sp, root, kind)
        for size, origin, name, include, trailing, e1, sp, root, kind in rules
    ]
    actions: dict[int, dict[str, int | RulePlan]] = {}
    of_state: dict[int, int] = {}
    for state, (lexer, row) in states.items():
        actions[state] = {sym: code if code >= 0 else plans[-1 - code] for sym, code in row.items()}
        if lexer >= 0:
            of_state[state] = lexer
    return Tables(
        actions, start_state, end_state, _Lexers(lexers, of_state), comment, frozenset(kept), {}
    )

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
    first = raw[0] if raw and raw[0][1] else _positioned(raw, False)
    last = raw[-1] if raw[-1][1] else _positioned(raw, True)
    if plan.expand1 and len(values) == 1:
        if len(plan.include) != 1 or plan.include[0][1] or plan.include[0][2]:
            raise _Bail  # the single child is spliced or a placeholder: not reproduced
        child = raw[plan.include[0][0]]
        if child[8] == _NODE:  # the same node, its container widened to this rule's text
            return (child[0], first[1], first[2], first[3], last[4], last[5], last[6], child[7], _NODE)
        return child
    if plan.splice:
        return (values, first[1], first[2], first[3], last[4], last[5], last[6], height, _SPLICE)
    # ToAst.span takes a Span as the meta Lark would compute: the same positions
    meta = Span(builder.file, first[1], first[2], last[4], last[5], first[3], last[6])
    value = getattr(builder, plan.name)(meta, values)
    return (value, first[1], first[2], first[3], last[4], last[5], last[6], height + 1, _NODE)


def _positioned(raw: list[Entry], from_end: bool) -> Entry:
    """The first (or last) entry with positions; a node without any needs Lark."""
    for entry in reversed(raw) if from_end else raw:
        if entry[1]:
            return entry
    raise _Bail  # a node without positions: Lark would fill them in later


def _match_rest(regexes: tuple[Any, ...], text: str, pos: int) -> Any:
    """The match of Lark's further regexes (a lexer with many terminals has several)."""
    for regex in regexes[1:]:
        match = regex.match(text, pos)
        if match:
            return match
    raise _Bail


def _pass_chain(
    actions: dict[int, dict[str, int | RulePlan]], key: tuple[int, int, str], end_state: int
) -> int:
    """The top state after the pass-through reductions ``key``'s lookahead causes."""
    below, top, lookahead = key
    action = actions[top].get(lookahead)
    while isinstance(action, RulePlan) and action.kind == _PASS:
        top = actions[below][action.origin]  # type: ignore[assignment]
        if lookahead == "$END" and top == end_state:
            break
        action = actions[top].get(lookahead)
    return top


def _run(tables: Tables, builder: ToAst, text: str) -> FastResult:
    actions, lexers, comment, end_state = tables.actions, tables.lexers, tables.comment, tables.end_state
    kept, passes = tables.kept, tables.passes
    new_token = _new_token
    states: list[int] = [tables.start_state]
    values: list[Entry] = []
    comments: list[ast.Comment] = []
    pos, line, line_start, size = 0, 1, 0, len(text)
    regexes, keywords, ignore, newline_types = lexers[states[-1]][:4]
    while True:
        if pos < size:
            match = regexes[0].match(text, pos)
            if match is None:
                match = _match_rest(regexes, text, pos)
            value: str = match.group()
            type_: str = match.lastgroup
            start, start_line, column = pos, line, pos - line_start + 1
            pos += len(value)
            if type_ in newline_types:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
            if type_ in ignore:
                if type_ == comment:
                    comments.append(ast.Comment(value[2:].rstrip(ASCII_SPACE), start_line))
                continue
            words = keywords.get(type_)
            if words is not None:
                type_ = words.get(value, type_)
        else:
            type_ = "$END"
        row = actions[states[-1]]
        while True:  # reduce as the lookahead asks
            action = row.get(type_)
            if action is None:
                raise _Bail
            if action.__class__ is int:
                break
            plan: RulePlan = action  # type: ignore[assignment]
            kind = plan.kind
            if kind == _PASS:  # the entry stays: only the state changes, the chain at once
                key = (states[-2], states[-1], type_)
                state = passes.get(key, -1)
                if state < 0:
                    state = passes[key] = _pass_chain(actions, key, end_state)
                states[-1] = state
                if type_ == "$END" and state == end_state:
                    root = values[-1]
                    return FastResult(root[0], root[7], tuple(comments))
                row = actions[state]
                continue
            if kind == _LIST1:
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
            goto: int = actions[states[-1]][plan.origin]  # type: ignore[assignment]
            states.append(goto)
            if type_ == "$END" and goto == end_state:
                root = values[-1]
                return FastResult(root[0], root[7], tuple(comments))
            row = actions[goto]
        if type_ == "$END":
            raise _Bail  # Lark never shifts the end marker
        shift: int = action
        states.append(shift)
        regexes, keywords, ignore, newline_types = lexers[shift][:4]
        end_column = pos - line_start + 1
        token = (
            new_token(type_, value, start, start_line, column, line, end_column, pos)
            if type_ in kept else None
        )
        values.append((token, start_line, column, start, line, end_column, pos, 0, _TOKEN))
