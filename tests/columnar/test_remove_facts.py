"""Facts removed from a loaded run (a CRM deleted a deal created by mistake): the figures,
explanations and digest are those of the data without them, every problem is reported and
a rejected removal changes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, FactsRejected, load_folder

from .test_changes import _facts, csv_line, deal_record, move_collections, new_deal, to_parquet, won
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

# DATA: a has D000 (won, 100.05) and D001 (lost); b has D002 (won, 0.01);
# C000 (on D000, credited to a, -10.05) and C001 (on D002, credited to b, 0.01).


def _run(folder: Path, text: str = WIDE_PLAN, engine: str = "columnar", moved: bool = False,
         fmt: str = "csv") -> ColumnarRun:
    write(folder, DATA)
    if moved:
        move_collections(folder)  # C000 (on a's D000) is credited to b, C001 to c
    if fmt == "parquet":
        to_parquet(folder)
    plan = kpidsl.loads(text)
    loaded = load_folder(plan.model, folder, engine=engine)
    assert loaded.engine == engine
    return ColumnarRun(plan.model, loaded, "2026-Q3")


def _codes(exc: pytest.ExceptionInfo[FactsRejected]) -> list[tuple[str, str, int]]:
    return [(d.code, d.span.file, d.span.line) for d in exc.value.diagnostics]


def _figures(run: ColumnarRun) -> dict[str, tuple[Any, dict[str, Any]]]:
    result = run.evaluate()
    assert result is not None
    return {p: (r.total, dict(r.values)) for p, r in result.payees.items()}


def _all_facts(node: Any) -> set[str]:
    return {*node.facts, *(k for child in node.children for k in _all_facts(child))}


ENGINES = ["columnar", "reference"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_removed_deal_no_longer_counts_nor_is_explained(tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, engine=engine)
    run.remove_facts("collections", ["C000"])  # the wide plan reads collection.deal: C000 first
    assert run.remove_facts("deals", ["D000"], source="crm delete 7") == ()
    result = run.evaluate(["a"])
    assert result is not None
    assert result.payees["a"].values["bookings"] == Decimal("0")
    assert result.payees["a"].values["collected"] == Decimal("0")
    node = run.explain("a", "not_lost")
    assert node is not None and node.facts == ()  # D001 is lost; D000 is gone
    node = run.explain("a", "biggest")  # max over every deal of the period: D001 only
    assert node is not None and _all_facts(node) == {"D001"} and node.value == "200.15"
    everyone = run.evaluate()
    assert everyone is not None and everyone.payees["b"].values["bookings"] == Decimal("0.01")
    if run.stage is not None:  # a report's fact table no longer finds it
        assert run.stage.index.by_key.get("deal").get("D000") is None  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_key_not_in_the_data_or_given_twice_rejects_the_removal_with_every_problem(
        tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, text=BENCH_PLAN, engine=engine)
    before, digest = _figures(run), run.loaded.dataset.digest
    with pytest.raises(FactsRejected) as exc:
        run.remove_facts("deals", ["D001", "D777", "D001"])
    assert _codes(exc) == [("KPI0727", "<deals removal 1>", 2), ("KPI0720", "<deals removal 1>", 3)]
    missing, twice = exc.value.diagnostics
    assert "no deal 'D777' to remove" in missing.message
    assert "already given at line 1" in twice.message
    assert run.loaded.dataset.digest == digest and _figures(run) == before
    if run.stage is not None:
        assert run.stage.overlay.facts == {} and run.stage.overlay.removed == {}
        assert run.stage.overlay.dirty == set()
    # removed once: the second time it is not in the data any more
    run.remove_facts("deal", [" D001 "])  # a key is read as a cell is: stripped
    with pytest.raises(FactsRejected) as exc:
        run.remove_facts("deal", ["D001"], source="crm")
    assert _codes(exc) == [("KPI0727", "crm", 1)]


def test_an_unknown_table_an_empty_removal_or_a_non_text_key_is_refused(tmp_path: Path) -> None:
    run = _run(tmp_path)
    with pytest.raises(FactsRejected, match="no fact table named 'payees'"):
        run.remove_facts("payees", ["a"])
    with pytest.raises(FactsRejected, match="no keys to remove"):
        run.remove_facts("deals", [])
    with pytest.raises(FactsRejected) as exc:
        run.remove_facts("deals", [Decimal("1")])  # type: ignore[list-item]
    assert _codes(exc) == [("KPI0709", "<deals removal 1>", 1)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_referrer_the_plan_reads_through_makes_the_removal_an_error(tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, engine=engine)  # the wide plan reads collection.deal.product
    before, digest = _figures(run), run.loaded.dataset.digest
    with pytest.raises(FactsRejected) as exc:
        run.remove_facts("deals", ["D001", "D000"])
    assert _codes(exc) == [("KPI0722", "<deals removal 1>", 2)]
    diag = exc.value.diagnostics[0]
    assert diag.severity == "error" and "collection 'C000'" in diag.message
    assert "collections.csv line 2" in diag.message and diag.help is not None and "C000" in diag.help
    assert run.loaded.dataset.digest == digest and _figures(run) == before
    # a collection added since refers to the deal too
    run.remove_facts("collections", ["C000"])
    run.add_facts("collections", [{"id": "C900", "deal": "D000", "payee": "c", "amount": "1.00",
                                   "received_on": "2026-07-09"}], source="crm")
    with pytest.raises(FactsRejected) as exc:
        run.remove_facts("deals", ["D000"])
    assert [(d.code, d.secondary[0].span.file) for d in exc.value.diagnostics] == [("KPI0722", "crm")]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_referrer_the_plan_does_not_read_through_is_a_warning_and_its_payee_is_dirty(
        tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, text=BENCH_PLAN, engine=engine, moved=True)
    warnings = run.remove_facts("deals", ["D000"])
    assert [(w.code, w.severity, w.span.line) for w in warnings] == [("KPI0722", "warning", 1)]
    assert "collection 'C000'" in warnings[0].message
    if run.stage is not None:  # a's deal, and b's collection that refers to it
        assert run.stage.overlay.dirty == {"a", "b"}
    result = run.evaluate()
    assert result is not None
    assert result.payees["a"].values["bookings"] == Decimal("0")
    assert result.payees["b"].values["collected"] == Decimal("-10.05")  # the collection still counts


def test_removing_a_deal_and_its_collections_warns_about_none_of_them(tmp_path: Path) -> None:
    run = _run(tmp_path, text=BENCH_PLAN)
    assert run.remove_facts("collections", ["C000"]) == ()
    assert run.remove_facts("deals", ["D000"]) == ()
    assert run.stage is not None and run.stage.overlay.removed == {"collection": {"C000"}, "deal": {"D000"}}


@pytest.mark.parametrize("engine", ENGINES)
def test_add_then_remove_gives_back_the_run_as_loaded(tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, engine=engine)
    before, digest = _figures(run), run.loaded.dataset.digest
    run.add_facts("deals", [won("D900"), won("D901", payee="b")])
    run.add_facts("collections", [{"id": "C900", "deal": "D900", "payee": "a", "amount": "3.00",
                                   "received_on": "2026-07-09"}])
    assert run.loaded.dataset.digest != digest and _figures(run) != before
    node = run.explain("a", "bookings")
    assert node is not None and node.facts == ("D000", "D900")
    run.remove_facts("collections", ["C900"])
    run.remove_facts("deals", ["D901", "D900"])
    assert run.loaded.dataset.digest == digest
    assert _figures(run) == before
    node = run.explain("a", "bookings")
    assert node is not None and node.facts == ("D000",)
    if run.stage is not None:
        assert run.stage.overlay.facts == {} and run.stage.overlay.removed == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_replaced_deal_removed_takes_the_loaded_one_with_it(tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, text=BENCH_PLAN, engine=engine)
    run.replace_facts("deals", [won("D000", payee="b", amount="7.00")])
    run.remove_facts("deals", ["D000"])
    result = run.evaluate()
    assert result is not None
    assert result.payees["a"].values["bookings"] == Decimal("0")  # the loaded D000 does not come back
    assert result.payees["b"].values["bookings"] == Decimal("0.01")
    with pytest.raises(FactsRejected) as exc:  # nor can it be replaced: it is not in the data
        run.replace_facts("deals", [won("D000")])
    assert [d.code for d in exc.value.diagnostics] == ["KPI0726"]


def test_the_digest_depends_on_the_data_not_on_the_path_to_it(tmp_path: Path) -> None:
    one, two, three = (_run(tmp_path / n, text=BENCH_PLAN) for n in ("1", "2", "3"))
    loaded = one.loaded.dataset.digest
    one.remove_facts("deals", ["D000"])
    two.replace_facts("deals", [won("D000", amount="5.00")])
    two.remove_facts("deals", ["D000"])
    assert one.loaded.dataset.digest == two.loaded.dataset.digest != loaded
    # removed, then added again: a replacement of the loaded fact
    one.add_facts("deals", [won("D000", amount="9.00")])
    three.replace_facts("deals", [won("D000", amount="9.00")])
    assert one.loaded.dataset.digest == three.loaded.dataset.digest
    result = one.evaluate(["a"])
    assert result is not None and result.payees["a"].values["bookings"] == Decimal("9.00")


def test_on_the_reference_engine_the_digest_is_that_of_the_files_without_the_rows(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", text=BENCH_PLAN, engine="reference")
    run.remove_facts("deals", ["D001"])
    write(tmp_path / "fresh", DATA)
    path = tmp_path / "fresh" / "deals.csv"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.startswith("D001,")), encoding="utf-8")
    fresh = load_folder(run.model, tmp_path / "fresh", engine="reference")
    assert run.loaded.dataset.digest == fresh.dataset.digest != load_folder(
        run.model, tmp_path / "run", engine="reference").dataset.digest


def test_a_deal_after_as_of_can_be_removed(tmp_path: Path) -> None:
    import datetime as dt

    write(tmp_path, DATA)
    plan = kpidsl.loads(BENCH_PLAN)
    run = ColumnarRun(plan.model, load_folder(plan.model, tmp_path), "2026-Q3", as_of=dt.date(2026, 7, 31))
    run.remove_facts("deals", ["D002"])  # signed 2026-08-02: not counted, but in the data
    with pytest.raises(FactsRejected):
        run.remove_facts("deals", ["D002"])


def test_parquet_removal_explains_without_the_fact(tmp_path: Path) -> None:
    run = _run(tmp_path, text=BENCH_PLAN, fmt="parquet")
    run.index_facts()
    run.remove_facts("deals", ["D000"])
    node = run.explain("a", "bookings")
    assert node is not None and node.facts == () and node.value == "0"


# -- differential: random adds, replacements and removals against the files loaded afresh ----

@st.composite
def changes(draw: Any, n_deals: int, n_colls: int) -> list[tuple[str, Any]]:
    """Batches, keys by number (some already removed, or given twice: then rejected)."""
    out: list[tuple[str, Any]] = []
    deals, colls = n_deals, n_colls
    for _ in range(draw(st.integers(1, 6))):
        what = draw(st.sampled_from(["add", "replace", "again", "collect", "drop", "drop", "uncollect",
                                     "drop_referred"] if deals else ["add"]))
        if what == "add":
            batch = draw(st.lists(new_deal, min_size=1, max_size=2))
            out.append(("add", batch))
            deals += len(batch)
        elif what in ("replace", "again"):
            out.append((what, (draw(st.integers(0, deals - 1)), draw(new_deal))))
        elif what == "collect":
            out.append(("collect", (draw(st.integers(0, deals - 1)), draw(_cents(-5_000, 500_000)),
                                    draw(st.sampled_from(DAYS)), draw(st.sampled_from(PAYEES)))))
            colls += 1
        elif what == "drop":
            out.append(("drop", draw(st.lists(st.integers(0, deals - 1), min_size=1, max_size=3))))
        elif what == "drop_referred":  # the deal of a collection still in the data, if any
            out.append(("drop", None))
        elif colls:
            out.append(("uncollect", draw(st.lists(st.integers(0, colls - 1), min_size=1, max_size=2))))
    return out


class Files:
    """The data as rows by key (what the run should hold), written back as CSV files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.head: dict[str, str] = {}
        self.rows: dict[str, dict[str, str]] = {}
        for name in ("deals", "collections"):
            lines = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()
            self.head[name] = lines[0]
            self.rows[name] = {line.split(",")[0]: line for line in lines[1:]}

    def refers(self, deal: str) -> list[str]:
        return sorted(k for k, line in self.rows["collections"].items() if line.split(",")[1] == deal)

    def save(self) -> None:
        for name, rows in self.rows.items():
            text = "\n".join([self.head[name], *rows.values()]) + "\n"
            (self.folder / f"{name}.csv").write_text(text, encoding="utf-8")


def apply(run: ColumnarRun, files: Files, batches: list[tuple[str, Any]], n_deals: int, n_colls: int,
          navigates: bool) -> None:
    """Each batch on ``run``; accepted ones also in ``files``; rejected ones exactly when they should."""
    deals, colls = files.rows["deals"], files.rows["collections"]
    for what, arg in batches:
        if what == "add":
            records = []
            for d in arg:
                records.append(deal_record(f"D{n_deals:03d}", d))
                n_deals += 1
            run.add_facts("deals", records)
            deals.update({str(r["id"]): csv_line(r) for r in records})
        elif what in ("replace", "again"):
            index, d = arg
            record = deal_record(f"D{index:03d}", d)
            there = record["id"] in deals
            if there == (what == "replace"):
                (run.replace_facts if there else run.add_facts)("deals", [record])
                deals[str(record["id"])] = csv_line(record)
            else:
                with pytest.raises(FactsRejected) as exc:
                    (run.add_facts if there else run.replace_facts)("deals", [record])
                assert [x.code for x in exc.value.diagnostics] == ["KPI0720" if there else "KPI0726"]
        elif what == "collect":
            index, amount, day, payee = arg
            record = {"id": f"C{n_colls:03d}", "deal": f"D{index:03d}", "payee": payee, "amount": amount,
                      "received_on": day.isoformat()}
            n_colls += 1
            if navigates and record["deal"] not in deals:
                with pytest.raises(FactsRejected):
                    run.add_facts("collections", [record])
                continue
            warnings = run.add_facts("collections", [record])
            assert len(warnings) == (record["deal"] not in deals)
            colls[str(record["id"])] = csv_line(record)
        else:
            table, rows = ("deals", deals) if what == "drop" else ("collections", colls)
            if arg is None:  # the deal of the first collection (a referrer left dangling)
                arg = [int(line.split(",")[1][1:]) for line in colls.values()][:1] or [0]
            keys = [f"{'D' if what == 'drop' else 'C'}{i:03d}" for i in arg]
            left = [c for k in set(keys) for c in files.refers(k)] if what == "drop" else []
            ok = len(set(keys)) == len(keys) and all(k in rows for k in keys)
            if not ok or (navigates and left):
                with pytest.raises(FactsRejected):
                    run.remove_facts(table, keys)
                continue
            warnings = run.remove_facts(table, keys)
            assert sorted(w.secondary[0].message.split("'")[1] for w in warnings) == sorted(left)
            for k in keys:
                del rows[k]
    files.save()


@SETTINGS
@given(datasets(), st.data(), st.sampled_from(["csv", "parquet", "reference"]))
def test_removals_give_the_figures_of_the_changed_data_loaded_from_scratch(
        tmp_path_factory: Any, d: dict[str, Any], data: Any, how: str) -> None:
    d = {**d, "splits": False}
    batches = data.draw(changes(len(d["deals"]), len(d["collections"])))
    text = data.draw(st.sampled_from([WIDE_PLAN, BENCH_PLAN]))
    plan = kpidsl.loads(text)
    moved = data.draw(st.booleans())  # collections credited to another payee than their deal's
    folder, after = tmp_path_factory.mktemp("remove"), tmp_path_factory.mktemp("after")
    for f in (folder, after):
        write(f, d)
        if moved:
            move_collections(f)
    if how == "parquet":
        to_parquet(folder)
    loaded = load_folder(plan.model, folder, engine="reference" if how == "reference" else "columnar")
    assert loaded.engine == ("reference" if how == "reference" else "columnar")
    run = ColumnarRun(plan.model, loaded, "2026-Q3")
    assert run.evaluate() is not None  # the grouped aggregates are computed before the changes
    apply(run, Files(after), batches, len(d["deals"]), len(d["collections"]), text == WIDE_PLAN)
    fresh = load_folder(plan.model, after, engine="reference")
    assert all(x.severity == "warning" for x in fresh.diagnostics)
    ref = ColumnarRun(plan.model, fresh, "2026-Q3")
    assert_same(ref.evaluate(), run.evaluate())
    for pid in PAYEES:  # one payee at a time, as a service asks: the same figures and facts
        one, theirs_one = run.evaluate([pid]), ref.evaluate([pid])
        assert one is not None and theirs_one is not None
        assert one.payees[pid].total == theirs_one.payees[pid].total
        mine, theirs = run.explain(pid, "total"), ref.explain(pid, "total")
        assert mine is not None and theirs is not None
        assert _facts(mine) == _facts(theirs), pid
    if how == "reference":  # in memory, the data set is rebuilt: the digest of loading it afresh
        assert run.loaded.dataset.digest == fresh.dataset.digest
