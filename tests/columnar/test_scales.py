"""A column whose cells were written with different numbers of decimals (``500`` and
``500.00``): every value keeps the scale the reference gives it, on the columnar stage too."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytest.importorskip("duckdb")

from .test_differential import WIDE_PLAN, assert_same, both, write
from .test_stage import DATA

JULY = dt.date(2026, 7, 2)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sums_min_max_and_ties_keep_the_cells_scales(tmp_path: Path, fmt: str) -> None:
    deals = [("a", "500.00", "won", JULY, "x", "P1", True),   # D000
             ("a", "500", "won", JULY, "y", "P2", False),     # D001: ties D000 for min and max
             ("b", "7", "won", JULY, "x", "P1", False),       # b's only deals: no decimals
             ("b", "3", "lost", JULY, "x", "P1", False),
             ("c", "1.125", "won", JULY, "x", "P1", False)]   # the column's widest: 3
    d = {**DATA, "deals": deals, "collections": [(2, "10", JULY), (0, "0.5", JULY)]}
    write(tmp_path, d, fmt)
    ref, col, loaded = both(WIDE_PLAN, tmp_path, fmt)
    assert loaded.engine == "columnar" and loaded.tables["deal"].row_scales == {"amount"}
    assert_same(ref, col)
    b = col.payees["b"].values
    assert str(b["bookings"]) == "7" and str(b["biggest"]) == "7" and str(b["not_lost"]) == "7"
    a = col.payees["a"].values
    assert str(a["biggest"]) == "500.00" and str(a["bookings"]) == "1000.00"  # D000 first in key order
