"""Properties: records written with the csv module read back as the same typed records,
and every row read is either accepted or rejected."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from datahelp import PAYEES, make_model, table
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.data.bind import bind_result, summarize
from kpidsl.data.csvread import decode, parse_text

FIELDS = ("id", "payee", "amount", "stage", "signed_on", "customer", "product", "new_customer")

words = (
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
        | st.sampled_from([",", '"', "\n", "华", "东"]),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)

# -1,000,000 to 1,000,000 with 0 to 6 decimals, built without a filter (filtering arbitrary
# decimals by their exponent discarded so many that Hypothesis' health check failed at times)
amounts = st.integers(0, 6).flatmap(
    lambda places: st.integers(-(10**6) * 10**places, 10**6 * 10**places).map(
        lambda n: Decimal(n).scaleb(-places)
    )
)

deal = st.fixed_dictionaries(
    {
        "payee": st.sampled_from(["alice", "bob", "mia"]),
        "amount": amounts,
        "stage": words,
        "signed_on": st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
        "customer": st.none() | words,
        "product": st.none() | words,
        "new_customer": st.booleans(),
    }
)


def amount_text(value: Decimal, style: int) -> str:
    plain = format(value, "f")
    if style == 1 and abs(value) >= 1000:
        return f"{value:,f}"
    if style == 2 and abs(value) >= 1000:
        return f"{value:,f}".replace(",", "_")
    return plain


def bool_text(value: bool, style: int) -> str:
    return [("false", "true"), ("no", "yes"), ("0", "1")][style][int(value)]


@settings(max_examples=40, deadline=None)
@given(
    records=st.lists(deal, max_size=8),
    ids=st.lists(words, min_size=8, max_size=8, unique=True),
    styles=st.lists(st.integers(0, 2), min_size=8, max_size=8),
    bom=st.booleans(),
    crlf=st.booleans(),
)
def test_written_records_read_back_as_the_same_typed_records(
    records: list[dict[str, object]],
    ids: list[str],
    styles: list[int],
    bom: bool,
    crlf: bool,
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(FIELDS)
    expected = {}
    for (key, rec), style in zip(zip(ids, records, strict=False), styles, strict=False):
        values = {"id": key, **rec}
        expected[key] = values
        writer.writerow(
            [
                key,
                rec["payee"],
                amount_text(rec["amount"], style),  # type: ignore[arg-type]
                rec["stage"],
                rec["signed_on"].isoformat(),  # type: ignore[attr-defined]
                rec["customer"] or "",
                rec["product"] or "",
                bool_text(rec["new_customer"], style),  # type: ignore[arg-type]
            ]
        )
    data = (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")
    text, diags = decode(data, "data/deals.csv")
    assert text is not None and diags == []
    deals, diags = parse_text(text, "deals", "data/deals.csv")
    assert deals is not None and diags == []
    result = bind_result(make_model(), {"payees": table("payees", PAYEES), "deals": deals})
    assert result.diagnostics == ()
    got = {f.key: dict(f.values) for f in result.dataset.facts["deal"]}
    assert got == expected
    assert [f.key for f in result.dataset.facts["deal"]] == sorted(expected)


cell = st.sampled_from(["10", "1,000.50", "12,3O0.00", "", "NaN", "-5", "1e3"])
date = st.sampled_from(["2026-07-01", "2026-02-30", "", "2026/07/01"])
payee = st.sampled_from(["alice", "zed", ""])
key = st.sampled_from(["D1", "D2", "D3", ""])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(key, payee, cell, date), max_size=10))
def test_every_row_read_is_accepted_or_rejected(rows: list[tuple[str, str, str, str]]) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for k, p, a, d in rows:
        writer.writerow([k or " ", p, a, "won", d, "", "", "no"])
    deals, diags = parse_text(out.getvalue(), "deals", "data/deals.csv")
    assert deals is not None and diags == []
    tables = {"payees": table("payees", PAYEES), "deals": deals}
    result = bind_result(make_model(), tables)
    summary = {s.file: s for s in summarize(make_model(), tables, result)}["data/deals.csv"]
    assert summary.rows_read == len(rows)
    assert summary.rows_read == summary.rows_accepted + summary.rows_rejected
    assert summary.rows_accepted == len(result.dataset.facts["deal"])
    rejected_lines = {d.span.line for d in result.diagnostics if d.severity == "error"}
    assert summary.rows_rejected == len(rejected_lines)
