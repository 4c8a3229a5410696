"""The example plans and their data: they parse, check clean, and the data is sound.

The data files are the committed output of ``examples/generate_data.py``; the
generator must reproduce them byte for byte. Data soundness (unique keys,
split shares summing to exactly 100%, references that resolve) is checked here
with the ``csv`` module directly, independently of the library's own loader,
and then once more through the library's binder.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from kpidsl.check import check
from kpidsl.data.bind import bind
from kpidsl.data.csvread import read_folder
from kpidsl.diagnostics import Diagnostic
from kpidsl.model import PlanModel
from kpidsl.syntax.parser import parse_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NAMES = ("east-china-2026", "saas-team", "distributor-collections")

# The key of each data file: its rows must be unique by these columns.
KEYS: dict[str, tuple[str, ...]] = {
    "payees.csv": ("id",),
    "deals.csv": ("id",),
    "collections.csv": ("id",),
    "targets.csv": ("payee", "metric", "period"),
    "inputs.csv": ("payee", "name", "period"),
    "credits.csv": ("kind", "fact", "payee", "type"),
    "payee_history.csv": ("payee", "attribute", "effective_from"),
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kpi_examples_gen", EXAMPLES / "generate_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def rows(example: str, file: str) -> list[dict[str, str]]:
    path = EXAMPLES / example / "data" / file
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def data_files(example: str) -> Iterator[Path]:
    return iter(sorted((EXAMPLES / example / "data").glob("*.csv")))


def errors(diags: list[Diagnostic]) -> list[str]:
    return [f"{d.code} {d.span}: {d.message}" for d in diags if d.severity == "error"]


def checked(example: str) -> PlanModel:
    path = EXAMPLES / example / "plan.kpi"
    module, diags = parse_source(path.read_text(encoding="utf-8"), f"{example}/plan.kpi")
    assert module is not None and errors(diags) == [], errors(diags)
    model, check_diags = check([module])
    assert errors(check_diags) == [], errors(check_diags)
    assert model is not None
    return model


# --------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------


@pytest.mark.parametrize("example", NAMES)
def test_plan_parses_and_checks_without_errors(example: str) -> None:
    model = checked(example)
    assert model.payouts, "an example plan pays something"
    assert model.tests, "every example plan carries tests"
    assert model.invariants, "every example plan declares invariants"


def test_east_china_keeps_the_reference_expectation() -> None:
    text = (EXAMPLES / "east-china-2026" / "plan.kpi").read_text(encoding="utf-8")
    assert "expect alice.commission == 5_100.00" in text
    assert len(checked("east-china-2026").tests) >= 5


@pytest.mark.parametrize("example", NAMES)
def test_example_has_a_readme(example: str) -> None:
    readme = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    assert "plan.kpi" in readme and "## Data" in readme and "## Run it" in readme


@pytest.mark.parametrize("example", NAMES)
def test_data_binds_to_its_plan_without_errors(example: str) -> None:
    model = checked(example)
    tables, read_diags = read_folder(EXAMPLES / example / "data")
    dataset, bind_diags = bind(model, tables)
    assert errors(read_diags + bind_diags) == []
    assert len(dataset.payees) == len(rows(example, "payees.csv"))
    assert len(dataset.facts["deal"]) == len(rows(example, "deals.csv"))


# --------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    """The generated data files (each example's data/ folder; import/ holds hand-made sources)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.glob("*/data/*.csv"))}


def test_generator_is_deterministic_and_matches_committed_files(tmp_path: Path) -> None:
    gen = load_generator()
    gen.write(tmp_path / "a")
    gen.write(tmp_path / "b")
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert first == second
    committed = {
        name: content for name, content in snapshot(EXAMPLES).items() if name.split("/")[0] in NAMES
    }
    assert sorted(first) == sorted(committed)
    for name, content in first.items():
        assert content == committed[name], f"{name} differs from the generator's output"


def test_generator_writes_no_floats_and_two_decimal_amounts() -> None:
    gen = load_generator()
    assert gen.money(1234550) == "12345.50"
    assert gen.money(-600) == "-6.00"
    assert gen.money(5) == "0.05"
    for example in NAMES:
        for file in ("deals.csv", "collections.csv"):
            for row in rows(example, file):
                whole, _, cents = row["amount"].lstrip("-").partition(".")
                assert whole.isdigit() and len(cents) == 2 and cents.isdigit(), row


# --------------------------------------------------------------------------
# Data soundness, with the csv module only
# --------------------------------------------------------------------------


@pytest.mark.parametrize("example", NAMES)
def test_no_duplicate_keys(example: str) -> None:
    for path in data_files(example):
        key = KEYS.get(path.name)
        if key is None:
            continue
        counts = Counter(tuple(r[c] for c in key) for r in rows(example, path.name))
        dupes = [k for k, n in counts.items() if n > 1]
        assert dupes == [], f"{path.name}: duplicate keys {dupes}"


def percent(text: str) -> Decimal:
    assert text.endswith("%"), text
    return Decimal(text[:-1]) / 100


def test_split_shares_sum_to_exactly_one_hundred_percent() -> None:
    credits = rows("saas-team", "credits.csv")
    assert credits, "the saas example has credits"
    split: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in credits:
        assert row["type"] in ("split", "overlay")
        if row["type"] == "split":
            split[(row["kind"], row["fact"])] += percent(row["share"])
    assert split and all(total == Decimal(1) for total in split.values()), split
    overlay_facts = {(r["kind"], r["fact"]) for r in credits if r["type"] == "overlay"}
    assert overlay_facts <= set(split), "a deal with an overlay lists its split explicitly"
    shares = [percent(r["share"]) for r in credits if r["type"] == "split"]
    assert any(share < 1 for share in shares), "some deals are really split"


@pytest.mark.parametrize("example", NAMES)
def test_references_resolve(example: str) -> None:
    payees = {r["id"]: r for r in rows(example, "payees.csv")}
    deals = {r["id"]: r for r in rows(example, "deals.csv")}
    for row in payees.values():
        assert row["manager"] == "" or row["manager"] in payees, row
    for row in deals.values():
        assert row["payee"] in payees, row
    for row in rows(example, "collections.csv"):
        assert row["deal"] in deals and row["payee"] == deals[row["deal"]]["payee"], row
    for file in ("targets.csv", "inputs.csv", "payee_history.csv"):
        for row in rows(example, file):
            assert row["payee"] in payees, (file, row)
    for row in rows(example, "credits.csv"):
        assert row["fact"] in deals and row["payee"] in payees, row


def test_manager_hierarchy_has_no_cycle() -> None:
    for example in NAMES:
        manager = {r["id"]: r["manager"] for r in rows(example, "payees.csv")}
        for start in manager:
            seen, node = set(), start
            while node:
                assert node not in seen, f"{example}: cycle through {node}"
                seen.add(node)
                node = manager[node]


def test_east_china_data_covers_the_brief() -> None:
    payees = rows("east-china-2026", "payees.csv")
    deals = rows("east-china-2026", "deals.csv")
    collections = rows("east-china-2026", "collections.csv")
    assert 35 <= len(payees) <= 45 and 250 <= len(deals) <= 350
    assert 180 <= len(collections) <= 260
    assert {r["role"] for r in payees} == {"AE", "SE", "manager"}
    assert {r["region"] for r in payees} == {"east", "north", "south"}
    assert {r["stage"] for r in deals} == {"won", "lost", "open"}
    assert {r["product"] for r in deals} == {"CloudSuite", "DataHub", "SecureEdge"}
    assert {r["signed_on"][:7] for r in deals} >= {f"2026-{m:02d}" for m in range(1, 13)}
    amounts = [Decimal(r["amount"]) for r in deals]
    assert min(amounts) >= 5_000 and max(amounts) <= 400_000
    assert any(a % 1 in (Decimal("0.25"), Decimal("0.75")) for a in amounts), "half-cent ties"
    assert sum(1 for r in collections if r["amount"].startswith("-")) >= 2, "refunds"
    sellers = {r["id"] for r in payees if r["role"] in ("AE", "SE")}
    q3 = {r["payee"] for r in rows("east-china-2026", "targets.csv") if r["period"] == "2026-Q3"}
    assert sellers <= q3
    scores = rows("east-china-2026", "inputs.csv")
    assert {r["payee"] for r in scores if r["period"] == "2026-Q3"} == {r["id"] for r in payees}
    assert all(r["value"].endswith("%") for r in scores)
    history = rows("east-china-2026", "payee_history.csv")
    assert {h["effective_from"] for h in history} == {"2026-08-17"}
    moved = {h["payee"] for h in history}
    assert len(moved) == 1 and payees[[p["id"] for p in payees].index(moved.pop())]["role"] == "AE"


# --------------------------------------------------------------------------
# Evaluation of the full data sets
# --------------------------------------------------------------------------

PERIODS: dict[str, tuple[str, ...]] = {
    "east-china-2026": ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
    "saas-team": ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"),
    "distributor-collections": tuple(f"2026-{m:02d}" for m in range(1, 13)),
}


@pytest.mark.parametrize("example", NAMES)
def test_every_period_evaluates_without_errors(example: str) -> None:
    import kpidsl

    plan = kpidsl.load(EXAMPLES / example / "plan.kpi")
    data = kpidsl.load_data(EXAMPLES / example / "data")
    paid = Decimal(0)
    for period in PERIODS[example]:
        result = plan.evaluate(data, period=period)
        assert result.ok, (period, result.data_diagnostics)
        payees = result.to_dict()["payees"]
        assert len(payees) == len(rows(example, "payees.csv"))
        for payee, figures in payees.items():
            assert figures["errors"] == [], (period, payee, figures["errors"])
            paid += Decimal(figures["total"])
    assert paid > 0


def test_mid_quarter_move_splits_the_movers_q3() -> None:
    import kpidsl

    plan = kpidsl.load(EXAMPLES / "east-china-2026" / "plan.kpi")
    result = plan.evaluate(kpidsl.load_data(EXAMPLES / "east-china-2026" / "data"), "2026-Q3")
    text = repr(result.explain("zhenghao", "commission"))
    assert "2026-08-17" in text, "the explanation shows the segment starting on the move date"
