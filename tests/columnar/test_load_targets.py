"""The targets binder's quick path (a row with nothing to report) accepts exactly what the
full per-cell path accepts, and leaves every diagnostic to it, word for word."""

from __future__ import annotations

import pytest

import kpidsl
from kpidsl.data import plandata
from kpidsl.data.bind import bind
from kpidsl.data.model import RawRow, RawTable, RowRef
from kpidsl.data.values import parse_period_text

PLAN = kpidsl.loads("""plan "t" {
  currency USD
  period quarter
  rounding half_up 0.01
}
metric bookings: money = 1
metric logos: count = 1
metric share: percent = 50%
payout p: money = bookings * share
payout q: money = logos * 500
""").model

ROWS = [
    ("a", "bookings", "2026-Q3", "1,000.50"),
    ("a", "bookings", "2026-q3", "7"),          # duplicate of the first (same label)
    ("b", "bookings", "2026-07", "5"),          # a month: wrong granularity
    ("b", "logos", "2026-Q3", "2.5"),           # not a whole count
    ("b", "logos", "2026-Q4", "3"),
    ("b", "share", "2026-Q3", "65"),            # ambiguous percent: full path
    ("b", "share", "2026-Q4", "65%"),
    ("zz", "bookings", "2026-Q3", "1"),         # unknown payee
    ("a", "nope", "2026-Q3", "1"),              # unknown metric
    ("a", "bookings", "2026-Q9", "1"),          # not a period
    ("a", "bookings", "2026-Q4", ""),           # empty value
    ("", "bookings", "2026-Q4", "1"),           # empty payee
    ("b", "bookings", "2026-Q3", "1e5"),        # exponent
]


def _tables() -> dict[str, RawTable]:
    payees = RawTable("payees", "payees.csv", ("id", "name"),
                      tuple(RawRow(RowRef("payees.csv", i + 2), (p, p.upper())) for i, p in enumerate("ab")))
    targets = RawTable("targets", "targets.csv", ("payee", "metric", "period", "value"),
                       tuple(RawRow(RowRef("targets.csv", i + 2), r) for i, r in enumerate(ROWS)))
    return {"payees": payees, "targets": targets}


def test_quick_path_gives_the_full_paths_data_and_diagnostics(monkeypatch: pytest.MonkeyPatch) -> None:
    quick, quick_diags = bind(PLAN, _tables())
    monkeypatch.setattr(plandata, "_plain_target", lambda *a: None)
    full, full_diags = bind(PLAN, _tables())
    assert quick.targets == full.targets
    assert [(t.payee, t.metric, t.period) for t in quick.targets] == [
        ("a", "bookings", "2026-Q3"), ("b", "logos", "2026-Q4"), ("b", "share", "2026-Q4")]
    assert quick_diags == full_diags
    assert len(full_diags) == 10
    assert quick.digest == full.digest


def test_period_texts_are_parsed_once_per_distinct_text() -> None:
    parse_period_text.cache_clear()
    for _ in range(100):
        assert parse_period_text("2026-Q3", 1) == ("2026-Q3", "quarter")
    info = parse_period_text.cache_info()
    assert info.misses == 1 and info.hits == 99
    with pytest.raises(ValueError):
        parse_period_text("2026-Q9", 1)
