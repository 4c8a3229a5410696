"""Lark's parse errors as diagnostics in the user's words (KPI0001-KPI0003).

Terminal names never reach a message: every terminal has a human word here or
is shown as its quoted text (``'{'``, ``'metric'``). Common mistakes get a
``help`` line from :func:`_help`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Mapping

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from kpidsl.diagnostics import Diagnostic, error
from kpidsl.source import SourceFile, Span
from kpidsl.syntax.literals import full_width_help, invisible_help, shown_char

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "PERCENT_LIT": "a percentage",
    "DATE_LIT": "a date",
    "STRING": "a string",
    "MONTH_DAY": "a month and day like 02-01",
    "PERIOD_LABEL": "a period like 2026-Q3",
    "ERROR_CODE": "a diagnostic code like KPI0301",
    "MINMAX_CALL": "`min(` or `max(`",
    "CELL": "a table cell",
    "COMP_OP": "a comparison (==, !=, <, <=, >, >=)",
    "$END": "the end of the file",
}
_TIER_MODES = {"STEP", "MARGINAL", "INTERPOLATED", "LOOKUP"}
_MAX_LISTED = 12
_ITEM_WORDS = frozenset(
    "plan import fact input metric target const table tiers score payout for test invariant".split()
)
_DEFINITION_BEFORE = re.compile(r"(?:^|\n)\s*(metric|const|input|payout)\s+[^\W\d]\w*\s*$")
# the word right before the unexpected token, when it is the first word of its line
# (where an item starts; `deal.plan` or `x + plan` is no item keyword)
_WORD_BEFORE = re.compile(r"(?:^|\n)[ \t]*([^\W\d]\w*)\s*$")


def word(name: str, literals: Mapping[str, str]) -> str:
    """A terminal in the user's words: `a name`, `'{'`, `'metric'`."""
    if name in _WORDS:
        return _WORDS[name]
    if name in literals:
        return f"'{literals[name]}'"
    return name.lower().strip("_")


def expected_words(names: Collection[str], literals: Mapping[str, str]) -> str:
    """``'}', a name, 'metric'``: sorted, deduplicated, shortened when long."""
    words = sorted({word(n, literals) for n in names})
    if len(words) > _MAX_LISTED:
        rest = len(words) - _MAX_LISTED
        return ", ".join(words[:_MAX_LISTED]) + f" and {rest} more"
    return ", ".join(words)


def _describe(tok: Token, literals: Mapping[str, str]) -> str:
    if tok.type in literals:
        return f"'{tok}'"
    if tok.type in _WORDS:
        return f"{_WORDS[tok.type].removeprefix('a ').removeprefix('an ')} `{tok}`"
    return f"`{tok}`"


def _keyword_guess(tok: Token, expected: Collection[str], literals: Mapping[str, str]) -> str | None:
    words = [literals[n] for n in expected if n in literals and literals[n].isidentifier()]
    close = difflib.get_close_matches(str(tok), words, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


# a field declaration whose name is the `key` or `date` keyword of a fact block: `date: date`
_FIELD_KEYWORD_BEFORE = re.compile(r"(?:^|\n)[ \t]*(key|date)[ \t]*\Z")


# the spaces between a word and this token, on the same line
_SPACES_BEFORE = re.compile(r"(?<=\w)[^\S\n]+\Z")


def _odd_space_before(tok: Token, before: str) -> str | None:
    """A hint when a word follows a word across a space that is not the ASCII one (U+00A0,
    U+3000): the lexer reads it as a space, which splits a name (`销售　额`) or a number."""
    if not str(tok)[:1].isalnum():
        return None
    found = _SPACES_BEFORE.search(before)
    odd = next((c for c in found.group() if not c.isascii()), None) if found else None
    if odd is None:
        return None
    name = unicodedata.name(odd, "")
    return (f"the space before this is U+{ord(odd):04X}{' ' + name if name else ''}, which reads "
            "as a space and splits the text in two: if this and the word before it are one name "
            "or number, delete it (write a thousand as 1_000)")


def _help(tok: Token, expected: Collection[str], literals: Mapping[str, str], before: str = "") -> str | None:
    """A hint for the common mistakes, or None (``before``: the source text before the token)."""
    odd_space = _odd_space_before(tok, before)
    if odd_space is not None:
        return odd_space
    kind = tok.type
    field_word = _FIELD_KEYWORD_BEFORE.search(before)
    if field_word is not None and kind == "_COLON":
        word = field_word.group(1)
        return (f"`{word}` names the kind's {word} field here (`{word} FIELD`), so it cannot be a field's "
                f"name: call the field something else (`{word}_value`, `visit_{word}`)")
    definition = _DEFINITION_BEFORE.search(before)
    if definition is not None and "_COLON" in expected:
        item = definition.group(1)
        return f"a definition needs `:` and a type after its name: write `{item} NAME: TYPE = ...`"
    if kind == "_EQUAL" and "COMP_OP" in expected:
        return "use `==` to compare values; a single `=` only defines a name"
    if kind == "_EQUAL" and "_COLON" in expected:
        return "a definition needs a type: write `metric NAME: money = ...`"
    if _TIER_MODES & set(expected):
        return "write the mode after the name: `tiers NAME step|marginal|interpolated|lookup on ...`"
    if kind == "MINUS" and "TO" in expected:
        return "write a band as `0% to 50% : 2%` (with `to`, not `-`)"
    if set(expected) == {"_COLON"}:
        return "a `:` is missing before this (e.g. `0% to 50% : 2%`, `\"key\" : value`)"

    if kind == "NAME":
        return _keyword_guess(tok, expected, literals)
    return None


def _end_span(source: SourceFile) -> Span:
    end = len(source.text.rstrip())
    return source.span(end, end)


def from_unexpected(
    exc: UnexpectedInput, source: SourceFile, literals: Mapping[str, str]
) -> Diagnostic:
    """The diagnostic for one Lark parse error."""
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(source, exc.pos_in_stream or 0)
    if isinstance(exc, UnexpectedEOF):
        return _eof(source, exc.expected, literals)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = exc.accepts or exc.expected
    if tok.type == "$END":
        return _eof(source, expected, literals)
    if tok.type == "CELL":
        return _bad_character(source, tok.start_pos or 0)
    start = tok.start_pos or 0
    unfinished = _unfinished_before(source, start)
    if unfinished is not None:
        return unfinished
    what = _describe(tok, literals)
    return error(
        "KPI0001",
        f"unexpected {what}; expected {expected_words(expected, literals)}",
        source.span(start, tok.end_pos or start + len(tok)),
        f"unexpected {what}",
        help=_help(tok, expected, literals, source.text[max(0, start - 200) : start]),
    )


def _unfinished_before(source: SourceFile, start: int) -> Diagnostic | None:
    """A keyword the lexer took for a name because the item before it is unfinished."""
    match = _WORD_BEFORE.search(source.text, max(0, start - 200), start)
    if match is None or match.group(1) not in _ITEM_WORDS:
        return None
    keyword = match.group(1)
    return error(
        "KPI0001",
        f"unexpected `{keyword}`: the item before it is unfinished",
        source.span(match.start(1), match.end(1)),
        f"`{keyword}` starts a new item here",
        help="complete the expression or clause before this line",
    )


def _eof(source: SourceFile, expected: Collection[str], literals: Mapping[str, str]) -> Diagnostic:
    hint = "a `}` is probably missing" if "_RBRACE" in expected else None
    return error(
        "KPI0003",
        f"unexpected end of input; expected {expected_words(expected, literals)}",
        _end_span(source),
        "the plan ends here",
        help=hint,
    )


def _bad_character(source: SourceFile, pos: int) -> Diagnostic:
    char = source.text[pos : pos + 1]
    if char == '"':
        line_end = source.text.find("\n", pos)
        end = len(source.text) if line_end < 0 else line_end
        return error(
            "KPI0002",
            "unterminated string",
            source.span(pos, end),
            "this string has no closing `\"`",
            help='close the string on the same line; write \\" for a quote inside it',
        )
    return error(
        "KPI0002",
        f"unexpected character {shown_char(char)}",
        source.span(pos, pos + 1),
        "not allowed here",
        help=full_width_help(char) or invisible_help(char),
    )
