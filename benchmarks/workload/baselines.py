"""Hand-written baselines for the benchmark plan: one DuckDB query, one pandas script.

Both are exact: DuckDB sums DECIMAL(18,2) and does the tier arithmetic on
DECIMAL(30,2) (headroom so that no operand is rounded to fit 38 digits), and
pandas sums integer cents and does the tiers in Python Decimal. Each returns
``{payee: (commission, spiff)}`` as Decimals rounded half-up to the cent.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path

Q_START, Q_END = "2026-07-01", "2026-09-30"
CENT = Decimal("0.01")
BANDS = ((Decimal("0"), Decimal("0.5")), (Decimal("0.5"), Decimal("1.0")),
         (Decimal("1.0"), Decimal("1.5")), (Decimal("1.5"), None))
BASE_RATES = (Decimal("0.02"), Decimal("0.05"), Decimal("0.08"), Decimal("0.10"))


def rates(role: str, region: str) -> tuple[Decimal, ...]:
    """The band rates of a payee: SE halved, AM × 0.8, west +1 point on the top band only."""
    factor = {"SE": Decimal("0.5"), "AM": Decimal("0.8")}.get(role, Decimal(1))
    out = [r * factor for r in BASE_RATES]
    if region == "west":
        out[3] = out[3] + Decimal("0.01")  # one full percentage point, whatever the role
    return tuple(out)


def commission(bookings: Decimal, collected: Decimal, target: Decimal, rr: tuple[Decimal, ...]) -> Decimal:
    """Marginal tiers on attainment, halved under 60% collected, rounded half-up to the cent."""
    ctx = decimal.Context(prec=60)
    total = Decimal(0)
    if bookings <= 0:
        total = bookings * rr[0]
    for (lo, hi), rate in zip(BANDS, rr, strict=True):
        lo_v = lo * target
        if bookings <= lo_v:
            break
        top = bookings if hi is None else min(bookings, hi * target)
        total += ctx.multiply(top - lo_v, rate)
    if collected < bookings * Decimal("0.6"):
        total = total * Decimal("0.5")
    return total.quantize(CENT, rounding=decimal.ROUND_HALF_UP)


def spiff(new_logos: int) -> Decimal:
    return min(Decimal(new_logos) * 500, Decimal(5000)).quantize(CENT)


def _src(folder: Path, name: str, fmt: str) -> str:
    path = folder / f"{name}.{fmt}"
    if fmt == "parquet":
        return f"read_parquet('{path}')"
    types = {"deals": "{'amount': 'DECIMAL(18,2)', 'signed_on': 'DATE', 'is_new_customer': 'BOOLEAN'}",
             "collections": "{'amount': 'DECIMAL(18,2)', 'received_on': 'DATE'}",
             "targets": "{'value': 'DECIMAL(18,2)'}", "payees": "{'manager': 'VARCHAR'}"}[name]
    return f"read_csv('{path}', header = true, types = {types})"


DUCKDB_SQL = """
WITH b AS (
  SELECT payee,
         CAST(sum(amount) FILTER (WHERE stage = 'won' AND signed_on BETWEEN DATE '{s}' AND DATE '{e}')
              AS DECIMAL(30,2)) AS bookings,
         count(*) FILTER (WHERE stage = 'won' AND is_new_customer
                          AND signed_on BETWEEN DATE '{s}' AND DATE '{e}') AS new_logos
  FROM {deals} GROUP BY payee),
c AS (SELECT payee, CAST(sum(amount) AS DECIMAL(30,2)) AS collected FROM {collections}
      WHERE received_on BETWEEN DATE '{s}' AND DATE '{e}' GROUP BY payee),
p AS (
  SELECT p.id, p.role, p.region, CAST(t.value AS DECIMAL(30,2)) AS t,
         coalesce(b.bookings, CAST(0 AS DECIMAL(30,2))) AS bk,
         coalesce(c.collected, CAST(0 AS DECIMAL(30,2))) AS col, coalesce(b.new_logos, 0) AS logos,
         CASE p.role WHEN 'SE' THEN CAST(0.5 AS DECIMAL(4,3)) WHEN 'AM' THEN CAST(0.8 AS DECIMAL(4,3))
              ELSE CAST(1 AS DECIMAL(4,3)) END AS f
  FROM {payees} p JOIN {targets} t ON t.payee = p.id AND t.metric = 'bookings' AND t.period = '2026-Q3'
  LEFT JOIN b ON b.payee = p.id LEFT JOIN c ON c.payee = p.id),
s AS (
  SELECT id, bk, col, logos,
    greatest(least(bk, t * 0.5), 0) * (0.02 * f)
    + greatest(least(bk, t * 1.0) - t * 0.5, 0) * (0.05 * f)
    + greatest(least(bk, t * 1.5) - t * 1.0, 0) * (0.08 * f)
    + greatest(bk - t * 1.5, 0) * (0.10 * f + CASE WHEN region = 'west' THEN 0.01 ELSE 0 END) AS raw
  FROM p)
SELECT id, round(CASE WHEN col < bk * 0.6 THEN raw * 0.5 ELSE raw END, 2) AS commission,
       CAST(least(logos * 500, 5000) AS DECIMAL(18,2)) AS spiff
FROM s ORDER BY id
"""


def run_duckdb(folder: Path, fmt: str) -> dict[str, tuple[Decimal, Decimal]]:
    """The hand-written DuckDB query (one statement, files read directly)."""
    import duckdb

    con = duckdb.connect()
    sql = DUCKDB_SQL.format(s=Q_START, e=Q_END, **{n: _src(folder, n, fmt) for n in
                                                    ("deals", "collections", "payees", "targets")})
    return {str(r[0]): (Decimal(r[1]), Decimal(r[2])) for r in con.execute(sql).fetchall()}


def run_pandas(folder: Path, fmt: str) -> dict[str, tuple[Decimal, Decimal]]:
    """The hand-written pandas script: integer cents, Decimal tiers per payee."""
    import pandas as pd

    def read(name: str, cols: list[str]) -> pd.DataFrame:
        if fmt == "parquet":
            df = pd.read_parquet(folder / f"{name}.parquet", columns=cols)
            if "amount" in cols:
                df["amount"] = df["amount"].astype(str)
            return df.astype({c: str for c in cols if c != "is_new_customer"})
        return pd.read_csv(folder / f"{name}.csv", usecols=cols, dtype=str, keep_default_na=False)

    def cents(s: pd.Series) -> pd.Series:
        parts = s.str.split(".", n=1, expand=True)
        frac = parts[1].fillna("0").str.ljust(2, "0") if parts.shape[1] > 1 else "00"
        return parts[0].astype("int64") * 100 + frac.astype("int64")

    deals = read("deals", ["payee", "amount", "stage", "signed_on", "is_new_customer"])
    won = deals[(deals["stage"] == "won") & (deals["signed_on"] >= Q_START) & (deals["signed_on"] <= Q_END)]
    bookings = cents(won["amount"]).groupby(won["payee"]).sum()
    new = won["is_new_customer"].astype(str).str.lower() == "true"
    logos = new.groupby(won["payee"]).sum()
    coll = read("collections", ["payee", "amount", "received_on"])
    coll = coll[(coll["received_on"] >= Q_START) & (coll["received_on"] <= Q_END)]
    collected = cents(coll["amount"]).groupby(coll["payee"]).sum()
    payees = read("payees", ["id", "role", "region"])
    targets = read("targets", ["payee", "metric", "period", "value"])
    targets = targets[(targets["metric"] == "bookings") & (targets["period"] == "2026-Q3")]
    tmap = dict(zip(targets["payee"], targets["value"], strict=True))
    bmap, cmap, lmap = bookings.to_dict(), collected.to_dict(), logos.to_dict()
    out = {}
    for pid, role, region in zip(payees["id"], payees["role"], payees["region"], strict=True):
        bk = Decimal(int(bmap.get(pid, 0))).scaleb(-2)
        col = Decimal(int(cmap.get(pid, 0))).scaleb(-2)
        out[pid] = (commission(bk, col, Decimal(tmap[pid]), rates(role, region)),
                    spiff(int(lmap.get(pid, 0))))
    return out
