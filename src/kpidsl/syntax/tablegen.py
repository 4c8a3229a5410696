"""Generates the parse tables shipped in the package, so start-up builds no parser.

Regenerate after any change to ``grammars/kpi.lark`` (a test fails until then)::

    python -m kpidsl.syntax.tablegen

It writes two JSON files next to this module (see :mod:`.generated`), from a Lark
parser built from the grammar:

* ``kpi_fast_tables.json`` — the lean driver's tables (:mod:`.fastparse`): a clean
  parse imports no Lark;
* ``kpi_lark_tables.json`` — Lark's own serialised parser (what its standalone
  generator writes), loaded by the standard parse (error reports,
  ``KPIDSL_PARSER=lark``) instead of analysing the grammar again.

Both record the grammar's SHA-256; at run time a table whose hash (or, for Lark's,
Lark version) does not match is ignored and the parser is built from the grammar
as before: slower, never wrong. Nothing is written at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule, Terminal
from lark.lexer import BasicLexer, PatternStr, TerminalDef, UnlessCallback
from lark.parsers.lalr_analysis import Shift

from kpidsl.syntax.fastparse import (
    _GENERAL,
    _LIST1,
    _PASS,
    LexerSpec,
    RulePlan,
    RuleSpec,
    StateLexer,
    StateSpec,
    Tables,
    Unsupported,
)
from kpidsl.syntax.generated import FAST_FILE, LARK_FILE, _untag, grammar_sha256, read, tag
from kpidsl.syntax.parser import grammar_text

HERE = Path(__file__).resolve().parent
COMMENT = "COMMENT"


def _keep(token: Any) -> Any:
    return token


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


def _kept_terminals(rule: Rule, plan: RulePlan) -> set[str]:
    """The terminals ``rule`` passes on to its node (filtered ones are only positions)."""
    return {
        rule.expansion[index].name for index, _, _ in plan.include
        if rule.expansion[index].is_term
    }


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
        kept: set[str] = set()
        actions: dict[int, dict[str, int | RulePlan]] = {}
        for state, row in table.states.items():
            out: dict[str, int | RulePlan] = {}
            for symbol, (action, arg) in row.items():
                if action is Shift:
                    out[str(symbol)] = int(arg)
                else:
                    if arg not in plans:
                        plans[arg] = _plan(arg, start, placeholders)
                        kept.update(_kept_terminals(arg, plans[arg]))
                    out[str(symbol)] = plans[arg]
            actions[state] = out
        lexers: dict[int, StateLexer] = {}
        by_lexer: dict[int, StateLexer] = {}
        for state, lexer in frontend.lexer.lexers.items():
            if id(lexer) not in by_lexer:
                by_lexer[id(lexer)] = _state_lexer(lexer, comment)
            lexers[state] = by_lexer[id(lexer)]
        return Tables(
            actions, table.start_states[start], table.end_states[start], lexers, comment,
            frozenset(kept), {},
        )
    except (Unsupported, AttributeError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------- generated modules


def encode_tables(tables: Tables) -> dict[str, Any]:
    """The tables as plain literals (the inverse of :func:`fastparse.decode_tables`)."""
    rules: dict[RulePlan, int] = {}
    lexers: dict[int, int] = {}  # id(StateLexer) -> index
    lexer_specs: list[LexerSpec] = []
    states: dict[int, StateSpec] = {}
    for state in sorted(tables.actions):
        row: dict[str, int] = {}
        for symbol, action in tables.actions[state].items():
            if isinstance(action, int):
                row[symbol] = action
            else:
                row[symbol] = -1 - rules.setdefault(action, len(rules))
        lexer = tables.lexers.get(state)
        index = -1
        if lexer is not None:
            if id(lexer) not in lexers:
                lexers[id(lexer)] = len(lexer_specs)
                lexer_specs.append(_lexer_spec(lexer))
            index = lexers[id(lexer)]
        states[state] = (index, row)
    rule_specs: list[RuleSpec] = [tuple(plan) for plan in rules]
    return {
        "START_STATE": tables.start_state,
        "END_STATE": tables.end_state,
        "COMMENT": tables.comment,
        "KEPT": tuple(sorted(tables.kept)),
        "RULES": tuple(rule_specs),
        "LEXERS": tuple(lexer_specs),
        "STATES": states,
    }


def _lexer_spec(lexer: StateLexer) -> LexerSpec:
    return (
        tuple((r.pattern, r.flags) for r in lexer.regexes),
        {k: dict(sorted(v.items())) for k, v in sorted(lexer.keywords.items())},
        tuple(sorted(lexer.ignore)),
        tuple(sorted(lexer.newline_types)),
    )


def _json(value: Any, levels: int, depth: int = 0) -> str:
    """``value`` as JSON, one entry a line down ``levels`` levels (diffable)."""
    flat = json.dumps(value, ensure_ascii=False)
    if depth >= levels or len(flat) <= 96 or not isinstance(value, dict | list):
        return flat
    pad = "  " * (depth + 1)
    if isinstance(value, dict):
        inner = [f"{pad}{json.dumps(k)}: {_json(v, levels, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(inner) + "\n" + "  " * depth + "}"
    inner = [f"{pad}{_json(v, levels, depth + 1)}" for v in value]
    return "[\n" + ",\n".join(inner) + "\n" + "  " * depth + "]"


def _stamp(sha: str) -> dict[str, Any]:
    return {
        "generated_by": "python -m kpidsl.syntax.tablegen (from grammars/kpi.lark): do not edit",
        "grammar_sha256": sha,
        "lark_version": lark.__version__,
    }


def render_fast(tables: Tables, sha: str) -> str:
    """The text of the driver's tables file: plain JSON (states listed by number)."""
    encoded = encode_tables(tables)
    states = encoded.pop("STATES")
    if sorted(states) != list(range(len(states))):
        raise SystemExit("the parser's states are not numbered 0..n-1")
    data = {
        **_stamp(sha), **{k.lower(): v for k, v in encoded.items()},
        "states": [states[i] for i in range(len(states))],
    }
    return _json(json.loads(json.dumps(data)), 2) + "\n"


def render_lark(parser: Lark, sha: str) -> str:
    """The text of Lark's tables file: its serialised parser, tagged (see ``generated``)."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    out = {**_stamp(sha), "data": tag(data), "memo": tag(memo)}
    text = _json(out, 5) + "\n"
    if json.loads(text, object_hook=_untag) != {**_stamp(sha), "data": data, "memo": memo}:
        raise SystemExit("Lark's serialised parser does not survive JSON: not written")
    return text


def generate(grammar: str) -> tuple[str, str]:
    """The texts of both generated files for ``grammar``."""
    parser = Lark(
        grammar, parser="lalr", lexer="contextual", propagate_positions=True,
        lexer_callbacks={COMMENT: _keep},  # as kpidsl.syntax.parser's (the driver skips it)
    )
    tables = build_tables(parser, COMMENT)
    if tables is None:
        raise SystemExit("the grammar uses a Lark feature the lean driver does not support")
    sha = grammar_sha256(grammar)
    # Lark serialises its options, callbacks included: the standard parse passes its own
    plain = Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True)
    return render_fast(tables, sha), render_lark(plain, sha)


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) the generated files."""
    args = argparse.ArgumentParser(prog="python -m kpidsl.syntax.tablegen", description=__doc__)
    args.add_argument("--check", action="store_true", help="only verify the recorded grammar hash")
    opts = args.parse_args(argv)
    grammar = grammar_text()
    if opts.check:
        sha = grammar_sha256(grammar)
        stale = [
            name for name in (FAST_FILE, LARK_FILE)
            if (read(name, tagged=True) or {}).get("grammar_sha256") != sha
        ]
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    fast, lark_text = generate(grammar)
    (HERE / FAST_FILE).write_text(fast, encoding="utf-8")
    (HERE / LARK_FILE).write_text(lark_text, encoding="utf-8")
    print(f"wrote {FAST_FILE} and {LARK_FILE} in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
