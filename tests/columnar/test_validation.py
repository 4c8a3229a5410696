"""Data validation is not lost on the columnar path: a bad fact row is bound by the reference
binder (that row alone, with what its diagnostics depend on: ``worded``) or sends the folder to
it, and its diagnostics (file, line, column, value, reason) are reported unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, load_folder
from kpidsl.data.model import RowRef

PLAN = kpidsl.loads("""plan "v" {
  currency USD
  period quarter
  rounding half_up 0.01
}
fact deal {
  is_new_customer: bool
}
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
payout commission: money = bookings * 1% + collected * 0.5%
""")

DEALS_HEADER = "id,payee,amount,stage,signed_on,customer,product,is_new_customer"
GOOD = ["D1,a,100.05,won,2026-07-01,c,P,true", "D2,b,\"1,234.50\",won,2026-09-30,c,P,no"]


def folder(tmp: Path, deals: list[str], colls: list[str] | None = None,
           header: str = DEALS_HEADER) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,west,\nb,B,SE,east,\n")
    (tmp / "deals.csv").write_text("\n".join([header, *deals]) + "\n")
    rows = colls if colls is not None else ["C1,D1,a,10.01,2026-08-01"]
    (tmp / "collections.csv").write_text("\n".join(["id,deal,payee,amount,received_on", *rows]) + "\n")
    return tmp


def diag_keys(diags: tuple[object, ...]) -> list[tuple[object, ...]]:
    return [(d.code, d.severity, d.message, d.span) for d in diags]  # type: ignore[attr-defined]


def same_diagnostics(path: Path) -> tuple[str, list[tuple[object, ...]]]:
    """How the columnar loader took the folder ("columnar", "worded": some rows bound by the
    reference binder to word them, or "reference"), and its diagnostics, the reference's."""
    columnar = load_folder(PLAN.model, path)
    reference = load_folder(PLAN.model, path, engine="reference")
    assert diag_keys(columnar.diagnostics) == diag_keys(reference.diagnostics)
    how = "worded" if columnar.worded else columnar.engine
    return how, diag_keys(columnar.diagnostics)


def test_clean_data_stays_columnar_and_accepts_the_reference_number_formats(tmp_path: Path) -> None:
    path = folder(tmp_path, GOOD)
    engine, diags = same_diagnostics(path)
    assert engine == "columnar" and diags == []
    loaded = load_folder(PLAN.model, path)
    result = ColumnarRun(PLAN.model, loaded, "2026-Q3").evaluate()
    assert result is not None
    assert str(result.payees["b"].values["bookings"]) == "1234.50"
    assert str(result.payees["a"].components["commission"]) == "1.05"  # 1.0005 + 0.05005 half-up


@pytest.mark.parametrize("row, code_part", [
    ("D3,a,12.3.4,won,2026-07-02,c,P,true", "amount"),
    ("D3,a,abc,won,2026-07-02,c,P,true", "amount"),
    ("D3,a,1e5,won,2026-07-02,c,P,true", "amount"),
    ("D3,a,10.00,won,2026-02-30,c,P,true", "signed_on"),
    ("D3,a,10.00,won,07/02/2026,c,P,true", "signed_on"),
    ("D3,a,10.00,won,0000-01-01,c,P,true", "signed_on"),  # DuckDB's year 0 (1 BC): no Python date
    ("D3,a,10.00,won,2026-07-02,c,P,maybe", "is_new_customer"),
    ("D3,a,,won,2026-07-02,c,P,true", "amount"),
    ("D3,zz,10.00,won,2026-07-02,c,P,true", "payee"),
    ("D1,a,10.00,won,2026-07-02,c,P,true", "id"),
    ("D3,a,10.00,\" won\",2026-07-02,c,P,true", "stage"),
    ("D3,a,10.00,won\u3000,2026-07-02,c,P,true", "stage"),
    ("D3 ,a,10.00,won,2026-07-02,c,P,true", "stage"),
])
def test_a_bad_fact_row_is_reported_exactly_as_by_the_reference(tmp_path: Path, row: str,
                                                                 code_part: str) -> None:
    how, diags = same_diagnostics(folder(tmp_path, [*GOOD, row]))
    if code_part != "stage":  # " won" is a valid text after stripping: reference accepts it
        assert any(d[1] == "error" for d in diags)
        assert any(getattr(d[3], "line", None) == 4 for d in diags), diags
    # a refused cell the reference accepts: the columnar values differ, the folder is the reference's
    assert how == ("reference" if code_part == "stage" else "worded")


def test_a_dangling_reference_is_worded_and_a_missing_column_falls_back(tmp_path: Path) -> None:
    path = folder(tmp_path / "a", GOOD, ["C1,D9,a,10.01,2026-08-01"])
    how, diags = same_diagnostics(path)
    assert how == "worded" and [d[1] for d in diags] == ["warning"]  # the plan does not read through it
    ref = ColumnarRun(PLAN.model, load_folder(PLAN.model, path, engine="reference"), "2026-Q3").evaluate()
    assert ref is not None and ref.payees == ColumnarRun(PLAN.model, load_folder(PLAN.model, path),
                                                          "2026-Q3").evaluate().payees  # type: ignore[union-attr]
    how, diags = same_diagnostics(folder(tmp_path / "b", ["D1,a,100.05,won,2026-07-01,c,P"],
                                         header="id,payee,amount,stage,signed_on,customer,product"))
    assert how == "reference" and any(d[1] == "error" for d in diags)


def test_extra_column_warning_is_kept_on_the_columnar_path(tmp_path: Path) -> None:
    rows = [r + ",x" for r in GOOD]
    engine, diags = same_diagnostics(folder(tmp_path, rows, header=DEALS_HEADER + ",note"))
    assert engine == "columnar" and [d[1] for d in diags] == ["warning"]


def test_split_credits_are_left_to_the_reference(tmp_path: Path) -> None:
    path = folder(tmp_path, GOOD)
    (path / "credits.csv").write_text("kind,fact,payee,share,type\ndeal,D1,a,50%,split\ndeal,D1,b,50%,split\n")
    loaded = load_folder(PLAN.model, path)
    assert loaded.engine == "reference" and "credit" in loaded.reasons[0]


def test_importing_kpidsl_and_the_columnar_package_does_not_import_duckdb() -> None:
    code = "import kpidsl, kpidsl.columnar, kpidsl.cli, sys; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_parquet_date_outside_years_1_to_9999_is_the_reference_s_to_report(tmp_path: Path) -> None:
    """A native DATE the reference cannot hold (1 BC, year 10000) is the reference's to word."""
    import duckdb

    src = folder(tmp_path / "csv", GOOD)
    out = tmp_path / "pq"
    out.mkdir()
    con = duckdb.connect()
    for name in ("payees", "collections"):
        con.execute(f"COPY (SELECT * FROM read_csv('{src / name}.csv', all_varchar = true)) "
                    f"TO '{out / name}.parquet' (FORMAT parquet)")
    con.execute(f"COPY (SELECT id, payee, CAST(replace(amount, ',', '') AS DECIMAL(18,2)) AS amount, stage, "
                f"CASE WHEN id = 'D2' THEN DATE '10000-01-01' ELSE CAST(signed_on AS DATE) END AS signed_on, "
                f"customer, product, CAST(is_new_customer AS BOOLEAN) AS is_new_customer "
                f"FROM read_csv('{src / 'deals'}.csv', all_varchar = true)) "
                f"TO '{out / 'deals'}.parquet' (FORMAT parquet)")
    loaded = load_folder(PLAN.model, out, fmt="parquet")
    assert loaded.worded == {RowRef(f"{out.name}/deals.parquet", 3)}  # that row alone, worded by the reference
    assert diag_keys(loaded.diagnostics) == diag_keys(load_folder(PLAN.model, out, engine="reference").diagnostics)
    assert any(d.severity == "error" and "signed_on" in d.message for d in loaded.diagnostics), \
        loaded.diagnostics
