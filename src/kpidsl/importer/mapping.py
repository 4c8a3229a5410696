"""The import mapping file (TOML): every source described once, validated with pydantic.

Errors in the mapping itself are reported with their key path
(``source[1].numbers.amount.thousands``); see docs/migration.md for the schema.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import codes
from .problems import Problem, error, warning
from .schema import TABLES

_NAME = re.compile(r"^[^\W\d]\w*$")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")
DATE_KEYWORDS = ("iso", "excel_serial")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumberFormat(_Strict):
    """How a number column is written in the source."""

    thousands: str = ","
    currency: list[str] = Field(default_factory=list)
    percent: bool = False
    negative_parens: bool = False

    @field_validator("thousands")
    @classmethod
    def _one_separator(cls, v: str) -> str:
        if len(v) > 1 or v in "0123456789.-+":
            raise ValueError("a single separator character such as ',' or ' ' (or '' for none)")
        return v


_DIRECTIVES = re.compile(r"%(.)")


def _check_date_format(column: str, f: str) -> None:
    """A strptime pattern that reads, and names a whole day: without a year, strptime makes
    it 1900 (``%m/%d``: 7/1 read as 1900-07-01), without a day the 1st (``%Y-%m``)."""
    try:
        dt.datetime.strptime(dt.datetime(2026, 7, 1).strftime(f), f)
    except ValueError as exc:
        raise ValueError(f"{column}: date format {f!r}: {exc}") from None
    used = set(_DIRECTIVES.findall(f))
    if not (used & {"Y", "y"} and ("j" in used or (used & {"d"} and used & {"m", "b", "B"}))):
        raise ValueError(f"{column}: date format {f!r} does not name a whole date (a year: %Y, "
                         "a month: %m, a day: %d); a missing part would be made up (1900, the 1st)")


class Source(_Strict):
    """One source file (or sheet) and how its columns become a table of the data folder."""

    file: str
    table: str
    format: Literal["csv", "tsv", "xlsx", "json", "jsonl", "parquet"] | None = None
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    encoding: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    strict_values: list[str] = Field(default_factory=list)
    dates: dict[str, str | list[str]] = Field(default_factory=dict)
    numbers: dict[str, NumberFormat] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    key: list[str] | None = None
    floats: Literal["reject", "convert"] = "reject"
    float_decimals: int = Field(default=2, ge=0, le=28)

    @field_validator("file")
    @classmethod
    def _no_nul(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("a file name cannot hold a NUL character")
        return v

    @field_validator("table")
    @classmethod
    def _table_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("a table name such as deals, payees, targets or a fact kind's file stem")
        return v

    @field_validator("columns")
    @classmethod
    def _named_targets(cls, v: dict[str, str]) -> dict[str, str]:
        for src, dst in v.items():
            if not dst.strip() or dst != dst.strip():
                # a data-folder column without a name makes the written file unreadable
                raise ValueError(f"{src!r} = {dst!r}: a target column needs a name without "
                                 "surrounding spaces")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"unknown encoding {v!r}") from None
        return v

    @field_validator("dates")
    @classmethod
    def _date_formats(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for column, formats in v.items():
            for f in [formats] if isinstance(formats, str) else formats:
                if f not in DATE_KEYWORDS and "%" not in f:
                    raise ValueError(f"{column}: date format {f!r} is not a strftime pattern "
                                     "(%Y/%m/%d), 'iso' or 'excel_serial'")
        return v

    @model_validator(mode="after")
    def _known_targets(self) -> Source:
        known = TABLES.get(self.table)
        if self.key is not None and known is not None and tuple(self.key) != known.key:
            # the data folder keys its own tables: another key here would let through rows
            # that binding rejects as duplicates (or reject rows it accepts)
            raise ValueError(f"key: {self.table} is keyed by {', '.join(known.key)} (docs/data.md); "
                             "`key` is for a plan's own fact kind")
        targets = set(self.columns.values())
        if not targets:
            return self._whole_dates()
        for section in ("values", "dates", "numbers", "defaults"):
            for column in getattr(self, section):
                if column not in targets and not (section == "defaults"):
                    raise ValueError(f"{section}.{column}: not a target column of `columns`")
        for column in self.strict_values:
            if column not in self.values:
                raise ValueError(f"strict_values: {column} has no value map")
        seen: dict[str, str] = {}
        for src, dst in self.columns.items():
            if dst in seen:
                raise ValueError(f"columns: {seen[dst]!r} and {src!r} both map to {dst!r}")
            seen[dst] = src
        return self._whole_dates()

    def _whole_dates(self) -> Source:
        for column in self.dates:
            for f in self.date_formats(column):
                if f not in DATE_KEYWORDS:
                    _check_date_format(f"dates.{column}", f)
        return self

    def date_formats(self, column: str) -> list[str]:
        formats = self.dates.get(column, [])
        return [formats] if isinstance(formats, str) else list(formats)

    def label(self) -> str:
        """The source as reports name it: ``file[sheet]`` for a workbook's sheet (a ``sheet``
        on another format has no effect, KPI0756, and is not shown)."""
        from .readers import detect_format

        fmt = self.format or detect_format(Path(self.file))
        return f"{self.file}[{self.sheet}]" if self.sheet and fmt in ("xlsx", None) else self.file


class Mapping(_Strict):
    """A mapping file: ``version = 1`` and one ``[[source]]`` table per source."""

    version: Literal[1] = 1
    source: list[Source] = Field(min_length=1)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model whose key ``loc`` names (for "unknown key" messages)."""
    if len(loc) >= 5 and loc[0] == "source" and loc[2] == "numbers":
        return NumberFormat
    return Source if len(loc) >= 3 and loc[0] == "source" else Mapping


def _message(e: Any, loc: tuple[int | str, ...]) -> str:
    if e["type"] == "extra_forbidden" and loc:
        known = list(_model_at(loc).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key ({hint})"
    return str(e["msg"]).removeprefix("Value error, ")


_SECTION = re.compile(r"^[ \t]*\[\[\s*source\s*\]\]", re.M)


def _line_of(text: str, loc: tuple[int | str, ...]) -> int:
    """The line of the TOML text where the key ``loc`` is written, or 0 when not found
    (a best effort: TOML parsers give no positions of valid keys)."""
    start, end, section = 0, len(text), 0
    keys = [k for k in loc if isinstance(k, str)]
    if len(loc) >= 2 and loc[0] == "source" and isinstance(loc[1], int):
        sections = [m.start() for m in _SECTION.finditer(text)]
        if loc[1] >= len(sections):
            return 0
        start = sections[loc[1]]
        end = sections[loc[1] + 1] if loc[1] + 1 < len(sections) else len(text)
        keys, section = keys[1:], text.count("\n", 0, start) + 1
    pos, found = start, 0
    for key in keys:  # each key from the line of the one before: [source.numbers.amount], thousands
        k = re.escape(key)
        m = re.compile(rf'^[ \t]*\[*\s*(?:[\w.]+\.)?("{k}"|{k}|\'{k}\')\s*[=.\]]',
                       re.M).search(text, pos, end)
        if m is None:
            break
        pos, found = m.start(), text.count("\n", 0, m.start(1)) + 1
    return found or section  # else the line of its [[source]]


def _pydantic_problems(exc: ValidationError, shown: str, text: str = "") -> list[Problem]:
    out = []
    for e in exc.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = _path(loc) or "(top level)"
        line = _line_of(text, loc) if text else 0
        place = f"{shown}:{line}" if line else shown
        out.append(error(codes.BAD_MAPPING, f"{place}: {key}: {_message(e, loc)}", shown,
                         column=key, line=line))
    return out


# Keys that apply to some formats only: (formats, why not for others). Such a key on another
# format would be ignored silently (`sheet` on a CSV file, `encoding` on a workbook).
FORMAT_KEYS: dict[str, tuple[frozenset[str], str]] = {
    "sheet": (frozenset({"xlsx"}), "only a workbook (xlsx) has sheets"),
    "header_row": (frozenset({"csv", "tsv", "xlsx"}),
                   "only csv, tsv and xlsx sources have a header row; the columns of json, "
                   "jsonl and parquet sources are named in the data itself"),
    "encoding": (frozenset({"csv", "tsv"}),
                 "only csv and tsv text is decoded with `encoding`; xlsx and parquet files "
                 "store their text encoding themselves, json and jsonl are read as UTF-8"),
    "floats": (frozenset({"parquet"}), "only parquet columns are refused or converted as floats"),
    "float_decimals": (frozenset({"xlsx", "parquet"}),
                       "only xlsx and parquet sources hold binary floats"),
}


def unused_keys(mapping: Mapping, text: str, shown: str) -> list[Problem]:
    """A warning (KPI0756) for each key written for a source whose format it does not apply
    to, at the key's line: it has no effect, and the user should know it."""
    from .readers import detect_format

    out: list[Problem] = []
    for n, src in enumerate(mapping.source):
        fmt = src.format or detect_format(Path(src.file))
        if fmt is None:
            continue  # an unknown format refuses the source anyway (KPI0751)
        for key in sorted(src.model_fields_set & set(FORMAT_KEYS), key=list(FORMAT_KEYS).index):
            formats, why = FORMAT_KEYS[key]
            if fmt in formats:
                continue
            loc: tuple[int | str, ...] = ("source", n, key)
            line = _line_of(text, loc) if text else 0
            place = f"{shown}:{line}" if line else shown
            out.append(warning(codes.MAPPING_KEY_UNUSED, f"{place}: {_path(loc)}: has no effect "
                               f"for a {fmt} source ({why}); remove it", shown,
                               column=_path(loc), line=line))
    return out


def parse_mapping(text: str, shown: str) -> tuple[Mapping | None, list[Problem]]:
    """A mapping from TOML text, or the problems (TOML syntax with its line; schema by key path).
    With a mapping come its warnings: keys that have no effect for their source's format."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        place = f"{shown}:{line}:{col}" if m else shown
        return None, [error(codes.BAD_MAPPING, f"{place}: invalid TOML: {exc}", shown,
                            line=line, col=col)]
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        return None, _pydantic_problems(exc, shown, text)
    return mapping, unused_keys(mapping, text, shown)


def load_mapping(path: Path) -> tuple[Mapping | None, list[Problem]]:
    """Read and validate a mapping file (a mapping comes with its warnings, if any)."""
    shown = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(codes.BAD_MAPPING, f"cannot read mapping {shown}: {exc}", shown)]
    return parse_mapping(text, shown)
