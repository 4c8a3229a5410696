"""A service's use of a loaded run: load once, then after each new deal ask for one payee's
standing and its explanation. After any sequence of ``add_facts`` calls (accepted or
rejected), one payee's figures and explanation facts must be those of a fresh reference
evaluation of the original data plus the added records; the records arrive as a service
sends them (a list, a tuple, a generator), and a result handed out before a change never
explains the changed facts."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl

pytest.importorskip("duckdb")

from kpidsl.columnar import ColumnarRun, FactsRejected, load_folder
from kpidsl.data.records import to_text

from .test_changes import _facts, to_parquet, won
from .test_differential import BENCH_PLAN, PAYEES, WIDE_PLAN, write
from .test_stage import DATA

# DATA: a has D000 (won, 100.05) and D001 (lost); b has D002 (won, 0.01); a manages b and c;
# e has no fact. C000 is on D000 (credited to a), C001 on D002 (credited to b).
ENGINES = ["columnar", "reference"]


def _run(folder: Path, engine: str = "columnar", text: str = WIDE_PLAN, fmt: str = "csv",
         as_of: dt.date | None = None) -> ColumnarRun:
    write(folder, DATA)
    if fmt == "parquet":
        to_parquet(folder)
    plan = kpidsl.loads(text)
    loaded = load_folder(plan.model, folder, engine=engine)
    assert loaded.engine == engine
    return ColumnarRun(plan.model, loaded, "2026-Q3", as_of=as_of)


def _bookings(run: ColumnarRun, payee: str) -> Decimal:
    result = run.evaluate([payee])
    assert result is not None
    value = result.payees[payee].values["bookings"]
    assert isinstance(value, Decimal)
    return value


# ---- records and keys as a service sends them ------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_records_given_by_a_generator_are_all_added(tmp_path: Path, engine: str) -> None:
    # the batch's header was read from the generator, which left no record to bind: the
    # call returned no warning and added nothing
    run = _run(tmp_path, engine)
    assert _bookings(run, "a") == Decimal("100.05")
    records: Iterator[dict[str, object]] = (r for r in [won("D900"), won("D901", amount="5.00")])
    assert run.add_facts("deals", records) == ()  # type: ignore[arg-type]
    assert _bookings(run, "a") == Decimal("1105.05")
    node = run.explain("a", "bookings")
    assert node is not None and node.facts == ("D000", "D900", "D901")


def test_keys_given_by_a_generator_are_all_removed(tmp_path: Path) -> None:
    # the keys were read once to prefetch their facts, and the removal then saw none: the
    # call returned no warning and removed nothing (the reference engine removed them)
    run = _run(tmp_path, text=BENCH_PLAN)
    run.remove_facts("deals", (k for k in ["D000", "D001"]))  # type: ignore[arg-type]
    assert _bookings(run, "a") == Decimal("0")
    with pytest.raises(FactsRejected) as exc:  # gone: removing them again is KPI0727
        run.remove_facts("deals", ["D000"])
    assert [d.code for d in exc.value.diagnostics] == ["KPI0727"]


@pytest.mark.parametrize("engine", ENGINES)
def test_records_that_are_not_a_list_of_mappings_are_refused_and_nothing_changes(
        tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, engine)
    digest = run.loaded.dataset.digest
    for records, why in [(won("D900"), "not dict"), ("D900", "not str"), ([won("D901"), "D902"], "record 2 is a str"),
                         ([won("D901"), None], "record 2 is a NoneType"), (7, "not int")]:
        with pytest.raises(TypeError, match=why):  # was an AttributeError ('str' object has no attribute 'get')
            run.add_facts("deals", records)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not str"):  # was four errors, one per character of 'D000'
        run.remove_facts("deals", "D000")
    assert run.loaded.dataset.digest == digest
    assert _bookings(run, "a") == Decimal("100.05")
    run.add_facts("deals", (won("D900"),))  # a tuple is a sequence of records
    assert _bookings(run, "a") == Decimal("1100.05")


# ---- a result handed out before a change -------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_result_from_before_a_change_never_explains_the_changed_facts(tmp_path: Path, engine: str) -> None:
    # its trees were built when first read, on the run's facts then: the result said
    # bookings 100.05 and explained 1100.05 with D900, a deal it had not counted
    from kpidsl.columnar.run import ChangedSince

    run = _run(tmp_path, engine)
    one = run.evaluate(["a"])
    everyone = run.evaluate()
    read = run.evaluate(["b"])
    assert one is not None and everyone is not None and read is not None
    before_b = read.payees["b"].explanations["bookings"]  # read before the change: kept
    run.add_facts("deals", [won("D900"), won("D901", payee="b", amount="5.00")])
    old = one.payees["a"]
    assert old.values["bookings"] == Decimal("100.05")
    with pytest.raises(ChangedSince, match="evaluate again"):
        old.explanations  # noqa: B018
    with pytest.raises(ChangedSince):
        everyone.payees["c"].explanations  # noqa: B018
    # b's trees were read before (``everyone`` and ``read`` hold the same result): kept
    assert everyone.payees["b"].explanations["bookings"] is before_b
    assert before_b.value == "0.01" and before_b.facts == ("D002",)
    now = run.evaluate(["a"])  # a new result: current figures, explained on the same facts
    assert now is not None
    assert now.payees["a"].values["bookings"] == Decimal("1100.05")
    tree = now.payees["a"].explanations["bookings"]
    assert tree.value == "1100.05" and tree.facts == ("D000", "D900")
    run.add_facts("deals", [won("D902", amount="1.00")])
    assert now.payees["a"].explanations["bookings"] is tree  # read before this change: kept
    fresh = run.evaluate(["a"])
    assert fresh is not None
    with pytest.raises(FactsRejected):  # a rejected batch changes nothing: the result stays good
        run.add_facts("deals", [won("D000")])
    assert fresh.payees["a"].explanations["bookings"].value == "1101.05"


def test_explained_results_and_explain_are_unaffected_by_later_changes(tmp_path: Path) -> None:
    run = _run(tmp_path)
    eager = run.evaluate(["a"], explain=True)
    tree = run.explain("a", "bookings")
    run.add_facts("deals", [won("D900")])
    assert eager is not None and eager.payees["a"].explanations["bookings"].facts == ("D000",)
    assert tree is not None and tree.value == "100.05"
    after = run.explain("a", "bookings")
    assert after is not None and after.value == "1100.05" and after.facts == ("D000", "D900")


# ---- the oracle: generated sequences of additions against a fresh reference evaluation -----

TEAM_PLAN = WIDE_PLAN + """
metric team_count: count = count deal over team where deal.signed_on in period
metric team_max: money = max deal.amount over team where deal.signed_on in period else 0
payout capped: money = team_max * 1% cap 250
payout per_team: money = team_count * 100 cap 450
"""
DAYS = [dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 8, 31),
        dt.date(2026, 9, 30), dt.date(2026, 10, 1)]
cents = st.integers(-500_000, 3_000_000).map(lambda c: Decimal(c).scaleb(-2))
# an amount as a service may send it: a Decimal, its text, an int, a text with more places
amounts = st.one_of(cents, cents.map(str), st.integers(-5_000, 90_000), cents.map(lambda d: f"{d}5"))
deal = st.fixed_dictionaries({
    "payee": st.sampled_from([*PAYEES, "zed"]),  # zed: no such payee, the batch is rejected
    "amount": amounts,
    "stage": st.sampled_from(["won", "won", "lost", "open"]),
    "signed_on": st.one_of(st.sampled_from(DAYS), st.sampled_from(DAYS).map(dt.date.isoformat)),
    "customer": st.sampled_from(["x", "客户", "q"]),
    "product": st.sampled_from(["P1", "P2", "P3"]),
    "is_new_customer": st.sampled_from([True, False, "true", "FALSE"]),
})
step = st.one_of(
    st.tuples(st.just("deals"), st.lists(deal, min_size=1, max_size=3)),
    # a collection of a deal by its index among the deals so far (an index past them: a
    # deal that is nowhere, rejected since the wide plan reads collection.deal.product)
    st.tuples(st.just("collections"), st.lists(st.tuples(st.integers(0, 12), cents, st.sampled_from(DAYS),
                                                         st.sampled_from(PAYEES)), min_size=1, max_size=2)),
    st.tuples(st.just("duplicate"), st.integers(0, 12)),
    st.tuples(st.just("ask"), st.sampled_from(PAYEES)),
    st.tuples(st.just("index"), st.none()),
)


def _append(folder: Path, table: str, records: list[dict[str, object]]) -> None:
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows.extend([to_text(r.get(h)) for h in rows[0]] for r in records)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=6), st.sampled_from(["csv", "parquet", "reference"]),
       st.sampled_from([WIDE_PLAN, TEAM_PLAN]), st.sampled_from([None, dt.date(2026, 8, 1)]))
def test_after_any_sequence_of_additions_one_payee_is_as_a_fresh_evaluation(
        tmp_path_factory: Any, steps: list[tuple[str, Any]], how: str, text: str,
        as_of: dt.date | None) -> None:
    folder = tmp_path_factory.mktemp("service")
    run = _run(folder, "reference" if how == "reference" else "columnar", text,
               "parquet" if how == "parquet" else "csv", as_of)
    after = tmp_path_factory.mktemp("after")
    write(after, DATA)
    deals = ["D000", "D001", "D002"]
    n = 0
    for what, arg in steps:
        if what == "ask":  # a request between events: figures and trees cached, then changed
            run.evaluate([arg])
            run.explain(arg, "total")
            continue
        if what == "index":
            run.index_facts()
            continue
        records: list[dict[str, object]] = []
        table = "collections" if what == "collections" else "deals"
        if what == "deals":
            for d in arg:
                n += 1
                records.append({"id": f"N{n:03d}", **d})
        elif what == "duplicate":  # a key already in the data: KPI0720, nothing added
            records.append(won(deals[arg % len(deals)]))
        else:
            for index, amount, day, payee in arg:
                n += 1
                key = deals[index] if index < len(deals) else "D999"
                records.append({"id": f"NC{n:03d}", "deal": key, "payee": payee, "amount": amount,
                                "received_on": day})
        try:
            run.add_facts(table, records, source=f"event {n}")
        except FactsRejected as e:
            assert e.diagnostics and all(d.severity == "error" for d in e.diagnostics[:1])
            bad = {r.get("payee") for r in records} & {"zed"} or what == "duplicate" or \
                any(r.get("deal") == "D999" for r in records)
            assert bad, [d.message for d in e.diagnostics]
            continue
        _append(after, table, records)
        if table == "deals":
            deals.extend(str(r["id"]) for r in records)
    plan = kpidsl.loads(text)
    fresh = load_folder(plan.model, after, engine="reference")
    assert not any(d.severity == "error" for d in fresh.diagnostics)
    ref = ColumnarRun(plan.model, fresh, "2026-Q3", as_of=as_of)
    everyone, theirs = run.evaluate(), ref.evaluate()
    assert everyone is not None and theirs is not None
    for pid in PAYEES:  # one payee at a time, as a service asks: every figure and the facts
        one = run.evaluate([pid])
        assert one is not None
        mine, want = one.payees[pid], theirs.payees[pid]
        assert (mine.total, mine.components, mine.values) == (want.total, want.components, want.values), pid
        assert everyone.payees[pid].values == want.values, pid
        got, expected = run.explain(pid, "total"), ref.explain(pid, "total")
        assert got is not None and expected is not None
        assert _facts(got) == _facts(expected), pid


# ---- runs on one loading, in threads -------------------------------------------------------


def test_runs_on_one_loading_in_threads_give_every_payee_its_own_figures(tmp_path: Path) -> None:
    """A service loads once and gives each worker thread its own ColumnarRun. They shared the
    loading's one DuckDB connection, which serves one statement at a time: 26 of 240 calls
    failed ("connection is busy", "No open result set") or paid 0.00 where 99,042.02 was due.
    Each run now has a cursor of its own, and the copies made for explanations are shared."""
    import threading

    seq = _run(tmp_path, fmt="parquet")
    payees = sorted(p.id for p in seq.loaded.dataset.payees)
    expected = seq.evaluate()
    assert expected is not None
    want = {p: (expected.payees[p].total, seq.explain(p, "total")) for p in payees}
    plan, loaded = seq.model, seq.loaded
    got: list[tuple[str, object, object]] = []
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        run = ColumnarRun(plan, loaded, "2026-Q3")
        try:
            for i in range(30):  # past the direct reads: the copies sorted by payee are made meanwhile
                pid = payees[(n + i) % len(payees)]
                result = run.evaluate([pid])
                assert result is not None
                got.append((pid, result.payees[pid].total, run.explain(pid, "total")))
        except BaseException as exc:  # reported below, with the figures of the other threads
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len(got) == 6 * 30
    for pid, total, node in got:
        assert (total, node) == want[pid], pid


@pytest.mark.parametrize("engine", ENGINES)
def test_one_payee_given_as_a_str_is_refused_not_read_as_letters(tmp_path: Path, engine: str) -> None:
    run = _run(tmp_path, engine)
    with pytest.raises(TypeError, match=r"evaluate\(\['a'\]\)"):
        run.evaluate("a")  # type: ignore[arg-type]
    result = run.evaluate(["a"])
    assert result is not None and list(result.payees) == ["a"]
