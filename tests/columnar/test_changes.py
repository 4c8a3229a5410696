"""Facts added or replaced on a loaded run (a service: "a new deal arrived"): the figures are
those of loading the changed data from scratch, every rejected record is reported and a
rejected batch changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, FactsRejected, load_folder

from .test_differential import (
    BENCH_PLAN,
    DAYS,
    PAYEES,
    SETTINGS,
    WIDE_PLAN,
    _cents,
    assert_same,
    datasets,
    write,
)
from .test_stage import DATA

DEAL_FIELDS = ("id", "payee", "amount", "stage", "signed_on", "customer", "product", "is_new_customer")
new_deal = st.tuples(st.sampled_from(PAYEES), _cents(-5_000, 2_000_000), st.sampled_from(["won", "lost", "open"]),
                     st.sampled_from(DAYS), st.sampled_from(["x", "y", "q"]), st.sampled_from(["P1", "P2", "P3"]),
                     st.booleans())


@st.composite
def changes(draw: Any, n_deals: int) -> list[tuple[str, Any]]:
    """Batches: ("add", deals), ("replace", (index, deal)), ("collect", (deal index, amount, day, payee))."""
    out: list[tuple[str, Any]] = []
    known = n_deals
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["add", "replace", "collect"] if known else ["add"]))
        if what == "add":
            batch = draw(st.lists(new_deal, min_size=1, max_size=3))
            out.append(("add", batch))
            known += len(batch)
        elif what == "replace":
            out.append(("replace", (draw(st.integers(0, known - 1)), draw(new_deal))))
        else:
            out.append(("collect", (draw(st.integers(0, known - 1)), draw(_cents(-5_000, 500_000)),
                                    draw(st.sampled_from(DAYS)), draw(st.sampled_from(PAYEES)))))
    return out


def deal_record(key: str, d: tuple[Any, ...]) -> dict[str, object]:
    payee, amount, stage, day, customer, product, new = d
    # Python values of several types, as a service would send them
    return dict(zip(DEAL_FIELDS, (key, payee, Decimal(amount), stage, day, customer, product, new), strict=True))


def csv_line(record: dict[str, object]) -> str:
    return ",".join(str(v).lower() if isinstance(v, bool) else str(v) for v in record.values())


def apply(run: ColumnarRun, folder: Path, n_deals: int, n_colls: int, batches: list[tuple[str, Any]]) -> None:
    """Each batch on ``run``, and the same change written into ``folder``'s CSV files."""
    deals = (folder / "deals.csv").read_text(encoding="utf-8").splitlines()
    colls = (folder / "collections.csv").read_text(encoding="utf-8").splitlines()
    for what, arg in batches:
        if what == "add":
            records = []
            for d in arg:
                records.append(deal_record(f"D{n_deals:03d}", d))
                n_deals += 1
            run.add_facts("deals", records)
            deals.extend(csv_line(r) for r in records)
        elif what == "replace":
            index, d = arg
            record = deal_record(f"D{index:03d}", d)
            run.replace_facts("deal", [record])
            deals[1 + index] = csv_line(record)
        else:
            index, amount, day, payee = arg
            key = f"D{index:03d}"
            record = {"id": f"C{n_colls:03d}", "deal": key, "payee": payee, "amount": amount,
                      "received_on": day.isoformat()}
            n_colls += 1
            run.add_facts("collections", [record], source="crm")
            colls.append(csv_line(record))
    (folder / "deals.csv").write_text("\n".join(deals) + "\n", encoding="utf-8")
    (folder / "collections.csv").write_text("\n".join(colls) + "\n", encoding="utf-8")


@SETTINGS
@given(datasets(), st.data(), st.sampled_from(["csv", "parquet", "reference"]))
def test_changes_give_the_figures_of_the_changed_data_loaded_from_scratch(
        tmp_path_factory: Any, d: dict[str, Any], data: Any, how: str) -> None:
    d = {**d, "splits": False}
    batches = data.draw(changes(len(d["deals"])))
    text = data.draw(st.sampled_from([WIDE_PLAN, BENCH_PLAN]))
    plan = kpidsl.loads(text)
    folder = tmp_path_factory.mktemp("changes")
    moved = data.draw(st.booleans())  # collections credited to another payee than their deal's
    write(folder, d)
    if moved:
        move_collections(folder)
    if how == "parquet":
        to_parquet(folder)
    loaded = load_folder(plan.model, folder, engine="reference" if how == "reference" else "columnar")
    assert loaded.engine == ("reference" if how == "reference" else "columnar")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    before = run.evaluate()
    assert before is not None
    after_folder = tmp_path_factory.mktemp("after")
    write(after_folder, d)
    if moved:
        move_collections(after_folder)
    apply(run, after_folder, len(d["deals"]), len(d["collections"]), batches)
    fresh = load_folder(plan.model, after_folder, engine="reference")
    assert fresh.diagnostics == () or all(x.severity == "warning" for x in fresh.diagnostics)
    ref = ColumnarRun(plan.model, fresh, "2026-Q3")
    assert_same(ref.evaluate(), run.evaluate())
    for pid in PAYEES:  # one payee at a time, as a service asks: the same figures and trees
        one = run.evaluate([pid])
        assert one is not None and one.payees[pid].total == ref.evaluate([pid]).payees[pid].total  # type: ignore[union-attr]
        mine, theirs = run.explain(pid, "total"), ref.explain(pid, "total")
        assert mine is not None and theirs is not None
        assert _facts(mine) == _facts(theirs), pid
    if how == "reference":  # in memory, the data set is rebuilt: the digest of loading it afresh
        assert run.loaded.dataset.digest == fresh.dataset.digest
    else:
        assert run.loaded.dataset.digest != loaded.dataset.digest


def move_collections(folder: Path) -> None:
    """Credit every collection to the payee after its deal's."""
    path = folder / "collections.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        cells[2] = PAYEES[(PAYEES.index(cells[2]) + 1) % len(PAYEES)]
        lines[i] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def to_parquet(folder: Path) -> None:
    import duckdb

    con = duckdb.connect()
    for f in list(folder.glob("*.csv")):
        con.execute(f"COPY (SELECT * FROM read_csv('{f}', all_varchar = true)) TO "
                    f"'{f.with_suffix('.parquet')}' (FORMAT PARQUET)")
        f.unlink()


def _facts(node: Any) -> list[tuple[str, ...]]:
    """Every node's (name, value, facts) in the tree: what a payee's dispute turns on."""
    out = [(node.name, node.value, *node.facts)]
    for child in node.children:
        out.extend(_facts(child))
    return out


@pytest.fixture()
def run(tmp_path: Path) -> ColumnarRun:
    write(tmp_path, DATA)
    plan = kpidsl.loads(WIDE_PLAN)
    loaded = load_folder(plan.model, tmp_path)
    assert loaded.engine == "columnar"
    return ColumnarRun(plan.model, loaded, "2026-Q3")


def won(key: str, payee: str = "a", amount: str = "1000.00", **more: object) -> dict[str, object]:
    return {"id": key, "payee": payee, "amount": amount, "stage": "won", "signed_on": dt.date(2026, 7, 2),
            "customer": "q", "product": "P1", "is_new_customer": True, **more}


def test_a_new_deal_counts_for_its_payee_and_is_explained_with_its_source(run: ColumnarRun) -> None:
    before = run.evaluate(["a"])
    assert before is not None and before.payees["a"].values["bookings"] == Decimal("100.05")
    assert run.add_facts("deals", [won("D900")], source="crm event 17") == ()
    after = run.evaluate(["a"])
    assert after is not None and after.payees["a"].values["bookings"] == Decimal("1100.05")
    node = run.explain("a", "bookings")
    assert node is not None and node.facts == ("D000", "D900")
    assert run.stage is not None
    fact = run.stage.index.by_key.get("deal").get("D900")  # what a report's fact table cites
    assert fact is not None and str(fact.ref) == "crm event 17:1" and fact.values["amount"] == Decimal("1000.00")
    other = run.evaluate(["b"])
    assert other is not None and other.payees["b"].values["bookings"] == Decimal("0.01")


def test_a_replaced_deal_moves_to_its_new_payee_and_out_of_the_old_ones_figures(run: ColumnarRun) -> None:
    run.replace_facts("deals", [won("D000", payee="b", amount="100.05")])
    result = run.evaluate()
    assert result is not None
    assert result.payees["a"].values["bookings"] == Decimal("0")
    assert result.payees["b"].values["bookings"] == Decimal("100.06")
    # a's collection of D000 still reads the deal's product through collection.deal
    assert result.payees["a"].values["via_deal"] == Decimal("-10.05")


def test_replacing_a_deal_changes_who_collected_on_it_through_collection_deal(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    move_collections(tmp_path)  # C000 (on a's D000) is now credited to b
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3")
    before = run.evaluate()
    assert before is not None and before.payees["b"].values["via_deal"] == Decimal("-10.05")
    run.replace_facts("deals", [won("D000", amount="100.05", product="P2")])
    assert run.stage is not None and run.stage.overlay.dirty == {"a", "b"}
    after = run.evaluate(["b"])
    assert after is not None and after.payees["b"].values["via_deal"] == Decimal("0")


def _codes(exc: pytest.ExceptionInfo[FactsRejected]) -> list[tuple[str, str, int]]:
    return [(d.code, d.span.file, d.span.line) for d in exc.value.diagnostics]


def test_every_problem_of_a_batch_is_reported_and_nothing_changes(run: ColumnarRun) -> None:
    before = run.evaluate()
    digest = run.loaded.dataset.digest
    batch = [won("D901"), won("D000", amount="1x"), won("D902", payee="zed"), won("D903", signed_on="2026-13-01")]
    with pytest.raises(FactsRejected) as exc:
        run.add_facts("deals", batch)
    assert _codes(exc) == [("KPI0720", "<deals batch 1>", 2), ("KPI0710", "<deals batch 1>", 2),
                           ("KPI0721", "<deals batch 1>", 3), ("KPI0710", "<deals batch 1>", 4)]
    dup = exc.value.diagnostics[0]
    assert "already in the data at" in dup.message and "deals.csv line 2" in dup.message
    assert dup.help is not None and "replace" in dup.help
    assert "'1x'" in exc.value.diagnostics[1].message and "column amount" in exc.value.diagnostics[1].message
    assert run.loaded.dataset.digest == digest
    again = run.evaluate()
    assert before is not None and again is not None
    assert {p: r.total for p, r in again.payees.items()} == {p: r.total for p, r in before.payees.items()}
    assert run.stage is not None and run.stage.overlay.facts == {} and run.stage.overlay.dirty == set()


def test_replacing_a_fact_that_is_not_there_is_kpi0726(run: ColumnarRun) -> None:
    with pytest.raises(FactsRejected) as exc:
        run.replace_facts("deals", [won("D777")])
    assert _codes(exc) == [("KPI0726", "<deals batch 1>", 1)]
    assert exc.value.diagnostics[0].help is not None and "add_facts" in exc.value.diagnostics[0].help


def test_a_reference_to_a_missing_deal_is_an_error_where_the_plan_reads_through_it(run: ColumnarRun) -> None:
    coll = {"id": "C900", "deal": "D999", "payee": "a", "amount": "5.00", "received_on": "2026-07-09"}
    with pytest.raises(FactsRejected) as exc:  # the wide plan reads collection.deal.product
        run.add_facts("collections", [coll])
    assert _codes(exc) == [("KPI0722", "<collections batch 1>", 1)]
    # the same collection after its deal arrived, in one batch or before it
    run.add_facts("deals", [won("D999", amount="1.00")])
    run.add_facts("collections", [coll])
    result = run.evaluate(["a"])
    assert result is not None and result.payees["a"].values["collected"] == Decimal("-5.05")


def test_a_dangling_reference_the_plan_does_not_read_is_a_warning_and_the_fact_counts(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    plan = kpidsl.loads(BENCH_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3")
    coll = {"id": "C900", "deal": "D999", "payee": "a", "amount": "5.00", "received_on": "2026-07-09"}
    warnings = run.add_facts("collections", [coll])
    assert [(w.code, w.severity) for w in warnings] == [("KPI0722", "warning")]
    result = run.evaluate(["a"])
    assert result is not None and result.payees["a"].values["collected"] == Decimal("-5.05")


def test_an_unknown_table_or_an_empty_batch_is_refused(run: ColumnarRun) -> None:
    with pytest.raises(FactsRejected, match="no fact table named 'payees'"):
        run.add_facts("payees", [{"id": "z"}])
    with pytest.raises(FactsRejected, match="no records"):
        run.add_facts("deals", [])


def test_the_digest_depends_on_the_facts_not_on_the_batches(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    plan = kpidsl.loads(WIDE_PLAN)
    one = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3")
    two = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3")
    one.add_facts("deals", [won("D900"), won("D901", amount="5.00")])
    two.add_facts("deals", [won("D901", amount="7.00")])
    two.add_facts("deals", [won("D900")])
    assert one.loaded.dataset.digest != two.loaded.dataset.digest
    two.replace_facts("deals", [won("D901", amount="5.00")])
    assert one.loaded.dataset.digest == two.loaded.dataset.digest


def test_a_fact_after_as_of_is_kept_but_not_counted(tmp_path: Path) -> None:
    write(tmp_path, DATA)
    plan = kpidsl.loads(WIDE_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3", as_of=dt.date(2026, 7, 31))
    run.add_facts("deals", [won("D900", signed_on="2026-08-15")])
    result = run.evaluate(["a"])
    assert result is not None and result.payees["a"].values["bookings"] == Decimal("100.05")
    with pytest.raises(FactsRejected) as exc:  # still in the data: its key is taken
        run.add_facts("deals", [won("D900")])
    assert _codes(exc) == [("KPI0720", "<deals batch 2>", 1)]
