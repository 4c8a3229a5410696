"""The import mapping file (TOML): every source described once, validated with pydantic.

Errors in the mapping itself are reported with their key path
(``source[1].numbers.amount.thousands``); see docs/migration.md for the schema.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import codes
from .problems import Problem, error

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


class Source(_Strict):
    """One source file (or sheet) and how its columns become a table of the data folder."""

    file: str
    table: str
    format: Literal["csv", "xlsx", "json", "jsonl", "parquet"] | None = None
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

    @field_validator("table")
    @classmethod
    def _table_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("a table name such as deals, payees, targets or a fact kind's file stem")
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
        targets = set(self.columns.values())
        if not targets:
            return self
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
        return self

    def date_formats(self, column: str) -> list[str]:
        formats = self.dates.get(column, [])
        return [formats] if isinstance(formats, str) else list(formats)

    def label(self) -> str:
        return f"{self.file}[{self.sheet}]" if self.sheet else self.file


class Mapping(_Strict):
    """A mapping file: ``version = 1`` and one ``[[source]]`` table per source."""

    version: Literal[1] = 1
    source: list[Source] = Field(min_length=1)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pydantic_problems(exc: ValidationError, shown: str) -> list[Problem]:
    out = []
    for e in exc.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = _path(loc) or "(top level)"
        msg = str(e["msg"]).removeprefix("Value error, ")
        out.append(error(codes.BAD_MAPPING, f"{shown}: {key}: {msg}", shown, column=key))
    return out


def parse_mapping(text: str, shown: str) -> tuple[Mapping | None, list[Problem]]:
    """A mapping from TOML text, or the problems (TOML syntax with its line; schema by key path)."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.search(str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        return None, [error(codes.BAD_MAPPING, f"{shown}: invalid TOML: {exc}", shown,
                            line=line, col=col)]
    try:
        return Mapping.model_validate(data), []
    except ValidationError as exc:
        return None, _pydantic_problems(exc, shown)


def load_mapping(path: Path) -> tuple[Mapping | None, list[Problem]]:
    """Read and validate a mapping file."""
    shown = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [error(codes.BAD_MAPPING, f"cannot read mapping {shown}: {exc}", shown)]
    return parse_mapping(text, shown)
