"""Property tests: generated CSV sources round-trip; a damaged cell is rejected or kept, never lost."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.data.values import ValueProblem, parse_date, parse_decimal
from kpidsl.importer import import_mapping

PAYEES = ["alice", "bob", "张伟"]
MAPPING = ('[[source]]\nfile = "payees.csv"\ntable = "payees"\n'
           '[[source]]\nfile = "deals.csv"\ntable = "deals"\n')
TEXT = st.text(alphabet=st.sampled_from('abcXYZ 华东,"客户'), min_size=1, max_size=8).filter(
    lambda s: s == s.strip())
AMOUNT = st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False)
DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
DEAL = st.tuples(st.sampled_from(PAYEES), AMOUNT, TEXT, DATE, TEXT)
DEALS = st.lists(DEAL, min_size=1, max_size=12)
COLUMNS = ["id", "payee", "amount", "stage", "signed_on", "customer"]


def _records(deals: list[tuple[str, Decimal, str, dt.date, str]]) -> list[list[str]]:
    return [[f"D{i:03d}", p, f"{a:f}", s, d.isoformat(), c]
            for i, (p, a, s, d, c) in enumerate(deals)]


def _import(rows: list[list[str]]) -> tuple[list[list[str]], list[tuple[int, str, bool]]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "payees.csv").write_text("id\n" + "\n".join(PAYEES) + "\n", encoding="utf-8")
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([COLUMNS, *rows])
        (folder / "deals.csv").write_text(buf.getvalue(), encoding="utf-8")
        (folder / "m.toml").write_text(MAPPING, encoding="utf-8")
        result, problems = import_mapping(folder / "m.toml")
    assert problems == [] and result is not None
    deals = next(s for s in result.sources if s.table == "deals")
    assert deals.rows_read == deals.rows_accepted + deals.rows_rejected == len(rows)
    out = list(csv.reader(io.StringIO(result.files["deals.csv"].decode("utf-8"))))
    found = [(p.line, p.column, p.rejects) for p in result.problems if p.file == "deals.csv"]
    return out[1:], found


@settings(max_examples=40, deadline=None)
@given(DEALS)
def test_generated_records_round_trip(deals: list[tuple[str, Decimal, str, dt.date, str]]) -> None:
    rows = _records(deals)
    out, problems = _import(rows)
    assert problems == []
    assert out == sorted(rows)


DAMAGE = st.text(alphabet=st.sampled_from("0123456789,.-O ¥１２%/年e"), max_size=10)


def _canonical(column: str, text: str) -> bool:
    try:
        if column == "amount":
            parse_decimal(text)
        elif column == "signed_on":
            parse_date(text)
    except ValueProblem:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(DEALS, st.data())
def test_damaged_cell_is_rejected_with_location_or_kept(
    deals: list[tuple[str, Decimal, str, dt.date, str]], data: st.DataObject
) -> None:
    rows = _records(deals)
    victim = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(["amount", "signed_on", "payee"]))
    damage = data.draw(DAMAGE)
    rows[victim][COLUMNS.index(column)] = damage
    out, problems = _import(rows)
    line = victim + 2
    by_id = {r[0]: r for r in out}
    for i, row in enumerate(rows):
        if i != victim:
            assert by_id[row[0]] == row  # untouched rows are never dropped or changed
    rejected = [p for p in problems if p[0] == line and p[2]]
    if rows[victim][0] in by_id:
        assert rejected == []
        kept = by_id[rows[victim][0]][COLUMNS.index(column)]
        assert column == "payee" or _canonical(column, kept)
        if column == "amount":
            assert Decimal(kept) == parse_decimal(damage.replace("１", "1").replace("２", "2")
                                                  .replace("¥", "").strip())
    else:
        assert len(out) == len(rows) - 1
        assert rejected and rejected[0][1] == column
