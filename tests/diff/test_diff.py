"""kpidsl diff: semantic plan diff and per-payee comparison on the East China example."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.diff import compare, diff_plans
from kpidsl.fmt import format_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "east-china-2026"
PLAN_TEXT = (EXAMPLE / "plan.kpi").read_text(encoding="utf-8")
DATA = EXAMPLE / "data"

H2_WEIGHTS_OLD = """    bookings       weight 35%  cap 150%
    new_logos      weight 15%  cap 200%
    collected      weight 40%  threshold 50%"""
H2_WEIGHTS_NEW = """    bookings       weight 50%  cap 150%
    new_logos      weight 10%  cap 200%
    collected      weight 30%  threshold 50%"""


def _variant(tmp_path: Path, text: str, name: str = "new.kpi") -> Path:
    assert text != PLAN_TEXT, "the variant must differ from the example"
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def old_plan() -> kpidsl.Plan:
    return kpidsl.load(EXAMPLE / "plan.kpi")


@pytest.fixture(scope="module")
def data() -> kpidsl.RawData:
    return kpidsl.load_data(DATA)


def test_h2_weights_variant_totals_equal_two_separate_evaluations(
    tmp_path: Path, old_plan: kpidsl.Plan, data: kpidsl.RawData
) -> None:
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT.replace(H2_WEIGHTS_OLD, H2_WEIGHTS_NEW)))
    c = compare(old_plan, new_plan, data, "2026-Q3")
    r_old = old_plan.evaluate(data, "2026-Q3")
    r_new = new_plan.evaluate(data, "2026-Q3")
    assert r_old.ok and r_new.ok and c.ok
    assert {p.payee for p in c.payees} == set(r_old.payees) == set(r_new.payees)
    moved = 0
    for p in c.payees:
        old_total, new_total = r_old.payees[p.payee].total, r_new.payees[p.payee].total
        assert (p.old_total, p.new_total) == (old_total, new_total)
        assert p.delta == new_total - old_total
        for name, comp in p.components.items():
            assert comp.delta == r_new.payees[p.payee].components[name] - r_old.payees[p.payee].components[name]
        moved += p.delta != 0
    assert moved > 0, "the new H2 weights must change someone's bonus"
    assert c.old_total == sum(p.total for p in r_old.payees.values())
    assert c.new_total == sum(p.total for p in r_new.payees.values())
    assert c.total_delta == c.new_total - c.old_total
    assert c.count("up") + c.count("down") == moved
    assert c.count("same") == len(c.payees) - moved
    # only AE bonuses can move: the Q3 weights block is for AEs
    for p in c.payees:
        if p.delta:
            assert {n for n, comp in p.components.items() if comp.delta} == {"bonus"}
    # and the definition diff names exactly the score in that block
    changes = c.plan_diff.definitions()
    assert [(label, ch.key, ch.status) for label, ch in changes] == [
        ("for role AE from 2026-07-01", "performance", "changed")
    ]
    assert "weight 35%" in (changes[0][1].old_text or "")
    assert "weight 50%" in (changes[0][1].new_text or "")


def test_removing_the_h2_block_is_a_removed_block_and_matches_evaluations(
    tmp_path: Path, old_plan: kpidsl.Plan, data: kpidsl.RawData
) -> None:
    start = PLAN_TEXT.index("for role AE from 2026-07-01")
    end = PLAN_TEXT.index("}\n}\n", start) + 4
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT[:start] + PLAN_TEXT[end:]))
    c = compare(old_plan, new_plan, data, "2026-Q3")
    diff = c.plan_diff
    assert [(b.label, b.status) for b in diff.blocks] == [("for role AE from 2026-07-01", "removed")]
    assert [ch.key for ch in diff.blocks[0].changes] == ["performance"]
    r_new = new_plan.evaluate(data, "2026-Q3")
    expected = sum(p.total for p in r_new.payees.values()) - sum(
        p.total for p in old_plan.evaluate(data, "2026-Q3").payees.values()
    )
    assert c.total_delta == expected != 0


def test_layout_only_changes_are_not_definition_changes(tmp_path: Path, old_plan: kpidsl.Plan) -> None:
    formatted, diags = format_source(PLAN_TEXT, "plan.kpi")
    assert formatted is not None and not diags
    commented = "// a new comment\n\n" + PLAN_TEXT.replace(
        "payout bonus: money", "// why the bonus exists\n\npayout   bonus:   money"
    )
    for i, text in enumerate((formatted, commented)):
        if text == PLAN_TEXT:
            continue
        new_plan = kpidsl.load(_variant(tmp_path, text, f"layout{i}.kpi"))
        diff = diff_plans(old_plan, new_plan)
        assert not diff.changed
        assert diff.blocks == () and diff.header == () and diff.kinds == ()


def test_a_changed_tier_rate_reports_exactly_that_tiers(tmp_path: Path, old_plan: kpidsl.Plan) -> None:
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT.replace("100% to 150% : 8%", "100% to 150% : 9%")))
    diff = diff_plans(old_plan, new_plan)
    assert [(label, c.kind, c.key, c.status) for label, c in diff.definitions()] == [
        ("base plan", "tiers", "commission_rate", "changed")
    ]
    change = diff.definitions()[0][1]
    assert "100% to 150% : 8%" in (change.old_text or "")
    assert "100% to 150% : 9%" in (change.new_text or "")
    assert change.old_at == "plan.kpi:49:1"


def test_header_and_added_definition(tmp_path: Path, old_plan: kpidsl.Plan) -> None:
    text = PLAN_TEXT.replace("rounding half_up 0.01", "rounding half_even 0.01").replace(
        "target collected = 800_000", "target collected = 800_000\nconst kicker: money = 100"
    )
    diff = diff_plans(old_plan, kpidsl.load(_variant(tmp_path, text)))
    assert [(h.setting, h.old, h.new) for h in diff.header] == [("rounding_mode", "half_up", "half_even")]
    assert [(c.key, c.status, c.new_text) for _, c in diff.definitions()] == [
        ("kicker", "added", "const kicker: money = 100")
    ]


def test_a_payee_failing_in_one_version_only_is_listed_and_left_out_of_sums(
    tmp_path: Path, old_plan: kpidsl.Plan, data: kpidsl.RawData
) -> None:
    # a closed last band: attainment above 200% becomes an evaluation error
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT.replace("150% and up  : 10%", "150% to 200% : 10%")))
    c = compare(old_plan, new_plan, data, "2026-Q3")
    old_only, new_only = c.errors_in_one()
    assert old_only == []
    assert new_only and all(p.new_total is None and p.new_errors for p in new_only)
    assert "guoxia" in {p.payee for p in new_only}  # 280% attainment
    assert not c.ok
    assert c.count("error") == len(new_only)
    assert c.old_total == sum(p.old_total for p in c.payees if p.new_total is not None and p.old_total)


def test_movers_sorted_by_absolute_delta_then_payee(
    tmp_path: Path, old_plan: kpidsl.Plan, data: kpidsl.RawData
) -> None:
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT.replace(H2_WEIGHTS_OLD, H2_WEIGHTS_NEW)))
    c = compare(old_plan, new_plan, data, "2026-Q3")
    movers = c.movers(3)
    keys = [(-abs(p.delta or Decimal(0)), p.payee) for p in movers]
    assert keys == sorted(keys) and len(movers) == min(3, c.count("up") + c.count("down"))
    everyone = sorted((-abs(p.delta or 0), p.payee) for p in c.compared if p.delta)
    assert keys == everyone[:3]


def test_cli_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = _variant(tmp_path, PLAN_TEXT.replace("100% to 150% : 8%", "100% to 150% : 9%"))
    old = str(EXAMPLE / "plan.kpi")
    code = main(["diff", old, str(new), "--data", str(DATA), "--period", "2026-Q3", "--format", "json", "--top", "2"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    s = out["summary"]
    assert Decimal(s["total_delta"]) == Decimal(s["new_total"]) - Decimal(s["old_total"]) > 0
    assert isinstance(s["total_delta"], str) and len(out["movers"]) == 2
    assert out["definitions"]["blocks"][0]["changes"][0]["name"] == "commission_rate"
    first = out["payees"][out["movers"][0]]
    assert Decimal(first["delta"]) == sum(Decimal(c["delta"]) for c in first["components"].values())

    code = main(["diff", old, str(new), "--data", str(DATA), "--period", "2026-Q3"])
    text = capsys.readouterr().out
    assert code == 0 and "~ tiers commission_rate changed" in text and "Total cost: old" in text

    broken = _variant(tmp_path, PLAN_TEXT.replace("payout bonus: money = 30_000 * performance",
                                                  "payout bonus: money = 30_000 * nothing"), "bad.kpi")
    assert main(["diff", old, str(broken), "--data", str(DATA), "--period", "2026-Q3"]) == 1
    assert main(["diff", old, str(tmp_path / "missing.kpi"), "--data", str(DATA), "--period", "2026-Q3"]) == 2
    assert main(["diff", old, str(new), "--data", str(tmp_path / "nodata"), "--period", "2026-Q3"]) == 2
    capsys.readouterr()


def test_cli_evaluation_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    new = _variant(tmp_path, PLAN_TEXT.replace("150% and up  : 10%", "150% to 200% : 10%"))
    code = main(["diff", str(EXAMPLE / "plan.kpi"), str(new), "--data", str(DATA), "--period", "2026-Q3"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Errors only in the new plan:" in captured.out
    assert "(new plan): guoxia" in captured.err


def test_the_columnar_engine_gives_the_same_comparison(tmp_path: Path, old_plan: kpidsl.Plan) -> None:
    pytest.importorskip("duckdb")
    new_plan = kpidsl.load(_variant(tmp_path, PLAN_TEXT.replace(H2_WEIGHTS_OLD, H2_WEIGHTS_NEW)))
    ref = compare(old_plan, new_plan, DATA, "2026-Q3")
    col = compare(old_plan, new_plan, DATA, "2026-Q3", engine="columnar")
    assert ref.ok and col.ok and ref.payees and col.payees == ref.payees
    got, want = col.to_dict(5), ref.to_dict(5)
    assert got["summary"] == want["summary"] and got["movers"] == want["movers"]
    assert got["payees"] == want["payees"]
