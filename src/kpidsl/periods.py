"""Evaluation periods: months, fiscal quarters and halves, fiscal years.

A fiscal year is named by the calendar year in which it starts: with
``fiscal_year_start 02-01``, ``2026`` runs 2026-02-01..2027-01-31 and
``2026-Q1`` is February to April 2026. Months keep their calendar names.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

import attrs

GRANULARITIES: dict[str, int] = {"month": 1, "quarter": 3, "half": 6, "year": 12}

_PATTERNS: dict[str, re.Pattern[str]] = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}


class PeriodError(ValueError):
    """A period text that does not name a period of the plan's granularity."""


class PeriodOutOfRange(PeriodError):
    """A period written right whose dates fall outside the calendar (``0000-Q1``)."""


def add_months(d: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``d``'s month."""
    index = d.year * 12 + (d.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def same_day_months_later(d: dt.date, months: int) -> dt.date:
    """``d`` moved by ``months`` (negative: earlier), its day kept, or the month's last day
    when that month is shorter (08-31 three months earlier is 05-31, 05-31 three months
    earlier is 02-28). Monotonic: a later ``d`` never moves to an earlier day."""
    first = add_months(d, months)
    last = add_months(first, 1) - dt.timedelta(days=1)
    return first.replace(day=min(d.day, last.day))


@attrs.frozen(order=True)
class Period:
    """One evaluation period: its granularity, first day and the fiscal year's start month."""

    start: dt.date
    granularity: str
    fy_start_month: int = 1

    @property
    def months(self) -> int:
        return GRANULARITIES[self.granularity]

    @functools.cached_property
    def end(self) -> dt.date:
        """The last day of the period (inclusive)."""
        return add_months(self.start, self.months) - dt.timedelta(days=1)

    @functools.cached_property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @functools.cached_property
    def fy_start(self) -> dt.date:
        """The first day of the fiscal year containing this period."""
        year = self.start.year if self.start.month >= self.fy_start_month else self.start.year - 1
        return dt.date(year, self.fy_start_month, 1)

    @functools.cached_property
    def label(self) -> str:
        if self.granularity == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        fy = self.fy_start
        if self.granularity == "year":
            return f"{fy.year:04d}"
        offset = (self.start.year - fy.year) * 12 + self.start.month - fy.month
        letter = "Q" if self.granularity == "quarter" else "H"
        return f"{fy.year:04d}-{letter}{offset // self.months + 1}"

    def __str__(self) -> str:
        return self.label

    def previous(self) -> Period:
        return Period(add_months(self.start, -self.months), self.granularity, self.fy_start_month)

    def next(self) -> Period:
        return Period(add_months(self.start, self.months), self.granularity, self.fy_start_month)

    def earlier_in_fiscal_year(self) -> tuple[Period, ...]:
        """The periods of the same fiscal year before this one, oldest first."""
        out: list[Period] = []
        p = Period(self.fy_start, self.granularity, self.fy_start_month)
        while p.start < self.start:
            out.append(p)
            p = p.next()
        return tuple(out)

    def contains(self, d: dt.date) -> bool:
        return self.start <= d <= self.end

    def previous_of(self, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
        """The days of the previous period that correspond to the part ``start..end`` of this
        one: the same dates one period earlier. The whole period gives the whole previous
        period, and the segments of a split period give consecutive parts of it that
        together cover it once."""
        prev = self.previous()
        first = prev.start if start <= self.start else same_day_months_later(start, -self.months)
        last = prev.end if end >= self.end else \
            same_day_months_later(end + dt.timedelta(days=1), -self.months) - dt.timedelta(days=1)
        return first, last


def parse_period(text: str, granularity: str, fy_start_month: int = 1) -> Period:
    """Parse ``2026-03``/``2026-Q3``/``2026-H2``/``2026`` for a plan of ``granularity``.

    A period whose dates, or its previous period's or its fiscal year's, fall outside the
    calendar's years 0001 to 9999 (``0000-Q1``, ``9999-Q4`` of an April fiscal year) is a
    :class:`PeriodError`: windows (``previous period``, ``ytd``) read those dates."""
    try:
        p = _parse_period(text, granularity, fy_start_month)
        _ = (p.end, p.fy_start, p.previous().start)
    except (ValueError, OverflowError) as e:
        if isinstance(e, PeriodError):
            raise
        raise PeriodOutOfRange(f"{text!r} is not a period of the calendar: its dates, or those of the "
                               "period before it, fall outside the years 0001 to 9999") from None
    return p


def _parse_period(text: str, granularity: str, fy_start_month: int) -> Period:
    if granularity not in GRANULARITIES:
        raise PeriodError(f"unknown period granularity {granularity!r}")
    m = _PATTERNS[granularity].match(text.strip())
    if m is None:
        raise PeriodError(f"{text!r} is not a {granularity} period ({_hint(text, granularity, fy_start_month)})")
    year = int(m.group(1))
    if granularity == "month":
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"{text!r} is not a month")
        return Period(dt.date(year, month, 1), granularity, fy_start_month)
    fy = dt.date(year, fy_start_month, 1)
    index = int(m.group(2)) - 1 if granularity != "year" else 0
    return Period(add_months(fy, index * GRANULARITIES[granularity]), granularity, fy_start_month)


def period_of(d: dt.date, granularity: str, fy_start_month: int = 1) -> Period:
    """The period of ``granularity`` containing date ``d``."""
    anchor = Period(d.replace(day=1), "month", fy_start_month).fy_start
    months = (d.year - anchor.year) * 12 + d.month - anchor.month
    size = GRANULARITIES[granularity]
    return Period(add_months(anchor, months // size * size), granularity, fy_start_month)


def _hint(text: str, granularity: str, fy_start_month: int) -> str:
    """What to write instead: the period holding a month given to a coarser plan (``2026-03``
    for a quarterly plan: ``2026-Q1``, by the plan's fiscal year), else the form."""
    month = _PATTERNS["month"].match(text.strip())
    if month is not None and granularity != "month" and 1 <= int(month.group(2)) <= 12:
        held = period_of(dt.date(int(month.group(1)), int(month.group(2)), 1), granularity, fy_start_month)
        return f"a month; the {granularity} holding it is {held.label}"
    return f"write it like {_example(granularity)}"


def _example(granularity: str) -> str:
    return {"month": "2026-03", "quarter": "2026-Q3", "half": "2026-H2", "year": "2026"}[granularity]
