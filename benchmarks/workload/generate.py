"""Deterministic benchmark data: payees, targets, deals and collections as CSV and Parquet.

    python benchmarks/workload/generate.py --deals 1000000 [--out benchmarks/workload/data]

Fixed seed (numpy PCG64), amounts in integer cents written as exact decimals
(``DECIMAL(18,2)`` in Parquet), so every file set is byte-for-byte the same on
every machine. 10,000 payees (roles AE/SE/AM, regions north/south/east/west),
a quarterly bookings target each, the last 50 payees without any fact.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

PAYEES = 10_000
NO_FACTS = 50
SEED = 20260701
ROLES = ("AE", "SE", "AM")
REGIONS = ("north", "south", "east", "west")
PRODUCTS = ("Platform", "Analytics", "Security", "DataHub", "Edge")
STAGES = ("won", "won", "lost", "open", "lost")  # 40% won
HERE = Path(__file__).resolve().parent


def folder_for(deals: int, root: Path = HERE / "data") -> Path:
    """Where the data set of ``deals`` deals lives (``data/100k`` ...)."""
    label = f"{deals // 1_000_000}m" if deals % 1_000_000 == 0 else f"{deals // 1_000}k"
    return root / label


def generate(folder: Path, deals: int, payees: int = PAYEES, seed: int = SEED) -> None:
    """Write payees, targets, deals and collections (.csv and .parquet) into ``folder``."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    con = duckdb.connect()
    with_facts = payees - NO_FACTS
    ids = np.array([f"p{i:05d}" for i in range(payees)])
    people = pa.table({
        "id": ids, "name": [f"Person {i}" for i in range(payees)],
        "role": [ROLES[i % 3] for i in range(payees)],
        "region": [REGIONS[(i // 3) % 4] for i in range(payees)],
        "manager": [""] * payees,
    })
    quota = rng.integers(2_000, 40_000, payees) * 25  # 50,000 .. 1,000,000 whole units
    targets = pa.table({  # the 2026-Q3 quota of every payee
        "payee": ids, "metric": ["bookings"] * payees, "period": ["2026-Q3"] * payees,
        "value": quota.astype(str),
    })
    day0 = np.datetime64("2026-01-01")
    deal_payee = rng.integers(0, with_facts, deals)
    deal_cents = rng.integers(10_000, 20_000_001, deals)
    deal_table = pa.table({
        "ix": pa.array(np.arange(deals)),
        "id": pa.array(np.char.add("D", np.char.zfill(np.arange(deals).astype(str), 8))),
        "payee": pa.array(ids[deal_payee]),
        "cents": pa.array(deal_cents),
        "stage": pa.array(np.array(STAGES)[rng.integers(0, 5, deals)]),
        "signed_on": pa.array(day0 + rng.integers(0, 365, deals)),
        "customer": pa.array(np.char.add("c", rng.integers(0, 50_000, deals).astype(str))),
        "product": pa.array(np.array(PRODUCTS)[rng.integers(0, 5, deals)]),
        "is_new_customer": pa.array(rng.random(deals) < 0.25),
    })
    n_coll = deals // 2
    which = rng.integers(0, deals, n_coll)
    coll_cents = rng.integers(1_000, 10_000_001, n_coll)
    coll_table = pa.table({
        "id": pa.array(np.char.add("C", np.char.zfill(np.arange(n_coll).astype(str), 8))),
        "deal_ix": pa.array(which),
        "cents": pa.array(coll_cents),
        "received_on": pa.array(day0 + rng.integers(0, 365, n_coll)),
    })
    con.register("people", people)
    con.register("tgt", targets)
    con.register("d", deal_table)
    con.register("c", coll_table)
    _fix_amounts(con)
    for name, rel in (("payees", "people"), ("targets", "tgt"), ("deals", "deals"),
                      ("collections", "collections")):
        con.execute(f"COPY (SELECT * FROM {rel}) TO '{folder / (name + '.csv')}' (HEADER, DELIMITER ',')")
        con.execute(f"COPY (SELECT * FROM {rel}) TO '{folder / (name + '.parquet')}' (FORMAT PARQUET)")
    (folder / "GENERATED").write_text(f"deals={deals} payees={payees} seed={seed} "
                                      f"on={dt.date(2026, 7, 1).isoformat()}\n", encoding="utf-8")


def _fix_amounts(con: object) -> None:
    """Amounts as exact DECIMAL(18,2) = cents / 100, computed on integers (no float anywhere)."""
    run = con.execute  # type: ignore[attr-defined]
    run("""CREATE OR REPLACE TABLE deals AS SELECT id, payee,
        CAST(cents // 100 AS VARCHAR) || '.' || lpad(CAST(cents % 100 AS VARCHAR), 2, '0') AS amount_text,
        stage, CAST(signed_on AS DATE) AS signed_on, customer, product, is_new_customer FROM d""")
    run("""CREATE OR REPLACE TABLE deals AS SELECT id, payee, CAST(amount_text AS DECIMAL(18,2)) AS amount,
        stage, signed_on, customer, product, is_new_customer FROM deals""")
    run("""CREATE OR REPLACE TABLE collections AS SELECT c.id,
        'D' || lpad(CAST(c.deal_ix AS VARCHAR), 8, '0') AS deal, d.payee,
        CAST(CAST(c.cents // 100 AS VARCHAR) || '.' || lpad(CAST(c.cents % 100 AS VARCHAR), 2, '0')
             AS DECIMAL(18,2)) AS amount,
        CAST(c.received_on AS DATE) AS received_on
        FROM c JOIN d ON d.ix = c.deal_ix
        ORDER BY c.id""")


def ensure(deals: int, root: Path = HERE / "data") -> Path:
    """The folder of ``deals`` deals, generated if missing."""
    folder = folder_for(deals, root)
    if not (folder / "GENERATED").exists():
        generate(folder, deals)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--deals", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    folder = args.out or folder_for(args.deals)
    generate(folder, args.deals)
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
