"""Tiers (step, marginal, interpolated, lookup, per fact), scores and payout clauses."""

from __future__ import annotations

from evalkit import D, run

PAYEES = """
id     name   role  region  manager
alice  Alice  AE    east    -
"""


def deals(*amounts: str) -> str:
    rows = [f"D{i} alice {a} won 2026-07-{i + 1:02d}" for i, a in enumerate(amounts)]
    return "id payee amount stage signed_on\n" + "\n".join(rows)


BOOKINGS = 'metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period\n'


def pay(body: str, *amounts: str, target: str = "100000", **tables: str) -> dict[str, object]:
    plan = BOOKINGS + f"target bookings = {target}\n" + body
    r = run(plan, payees=PAYEES, deals=deals(*amounts), **tables)
    alice = r.payees["alice"]
    return {"c": alice.components, "e": alice.errors, "x": alice.explanations, "v": alice.values}


STEP = """
tiers rate step on bookings {
  0 to 25_000 : 1%
  25_000 to 50_000 : 2%
  50_000 to 75_000 : 3%
}
payout p: money = rate(bookings)
"""


def test_step_edge_belongs_to_upper_band() -> None:
    assert pay(STEP, "50000")["c"] == {"p": D("1500.00")}
    assert pay(STEP, "49999.99")["c"] == {"p": D("999.9998").quantize(D("0.01"))}


def test_closed_last_band_above_is_an_error_naming_tiers_and_value() -> None:
    out = pay(STEP, "75000")
    errors = out["e"]
    assert [e.code for e in errors] == ["KPI0606"]  # type: ignore[attr-defined]
    assert "rate" in errors[0].message and "input 75,000" in errors[0].message  # type: ignore[index]


def test_above_value_applies_above_a_closed_last_band() -> None:
    body = STEP.replace("50_000 to 75_000 : 3%", "50_000 to 75_000 : 3%\n  above : 4%")
    assert pay(body, "80000")["c"] == {"p": D("3200.00")}


MARGINAL = """
tiers rate marginal on bookings {
  0 to 10_000 : 1%
  10_000 to 30_000 : 2%
  30_000 and up : 3%
}
payout p: money = rate(bookings)
"""


def test_marginal_slices_and_rows_reconcile() -> None:
    out = pay(MARGINAL, "40000")
    assert out["c"] == {"p": D("800.00")}
    tiers = next(c for c in out["x"]["p"].children if c.kind == "tiers")  # type: ignore[index]
    assert sum(D(r[1]) for r in tiers.rows) == D("40000")
    assert sum(D(r[3]) for r in tiers.rows) == D("800")


def test_marginal_negative_base_takes_first_band_rate() -> None:
    assert pay(MARGINAL, "5000", "-8000")["c"] == {"p": D("-30.00")}


def test_marginal_per_deal_prices_each_fact_from_zero() -> None:
    body = """
    tiers deal_rate marginal per deal on deal.amount {
      0 to 10_000 : 1%
      10_000 to 30_000 : 2%
      30_000 and up : 3%
    }
    payout p: money = sum deal_rate(deal.amount) where deal.stage == "won" and deal.signed_on in period
    """
    assert pay(body, "40000", "5000")["c"] == {"p": D("850.00")}  # 800 + 50, no carry-over


def test_marginal_on_attainment_cuts_at_edge_times_target() -> None:
    body = """
    tiers rate marginal on attainment(bookings) {
      0% to 50% : 2%
      50% to 100% : 5%
      100% and up : 8%
    }
    payout p: money = rate(bookings)
    """
    assert pay(body, "120000")["c"] == {"p": D("5100.00")}


CURVE = """
tiers curve interpolated on attainment(bookings) {
  0% : 0%
  50% : 25%
  100% : 100%
}
const ti: money = 10_000
payout p: money = ti * curve(attainment(bookings))
"""


def test_interpolated_between_points_and_out_of_range() -> None:
    assert pay(CURVE, "75000")["c"] == {"p": D("6250.00")}  # 25% + 25/50 x 75%
    assert pay(CURVE, "50000")["c"] == {"p": D("2500.00")}
    out = pay(CURVE, "120000")
    assert [e.code for e in out["e"]] == ["KPI0607"]  # type: ignore[attr-defined]
    flat = CURVE.replace("interpolated on attainment(bookings) {", "interpolated on attainment(bookings) extend flat {")
    assert pay(flat, "120000")["c"] == {"p": D("10000.00")}


def test_lookup_returns_band_value() -> None:
    body = """
    tiers grade lookup on bookings { 0 to 1_000 : 1  1_000 and up : 2 }
    const unit: money = 100
    payout p: money = unit * grade(bookings)
    """
    assert pay(body, "1000")["c"] == {"p": D("200.00")}
    assert pay(body, "999")["c"] == {"p": D("100.00")}


def test_zero_and_missing_target() -> None:
    body = """
    metric att: percent = attainment(bookings)
    metric att_safe: percent = attainment(bookings) else 0%
    payout p: money = bookings * 1%
    """
    out = pay(body, "100", target="0")
    assert [(e.name, e.code) for e in out["e"]] == [("att", "KPI0603")]  # type: ignore[attr-defined]
    assert out["v"]["att_safe"] == D("0")  # type: ignore[index]
    data_target = "payee metric period value\nalice bookings 2026-Q3 200"
    out = pay(body, "100", target="0", targets=data_target)
    assert out["v"]["att"] == D("0.5")  # type: ignore[index]  # data target wins over the default


SCORE = """
metric n: count = count deal where deal.signed_on in period
target n = 4
input collab: percent
score perf {
  bookings weight 50% cap 150%
  n weight 30% threshold 50%
  collab weight 20%
}
const pool: money = 1_000
payout p: money = pool * perf
"""


def test_score_cap_threshold_and_input_line() -> None:
    inputs = "payee name period value\nalice collab 2026-Q3 90%"
    out = pay(SCORE, "200000", inputs=inputs)  # bookings 200% -> capped 150%; n = 1/4 < 50% -> 0
    assert out["v"]["perf"] == D("0.93")  # type: ignore[index]  # 0.5 x 1.5 + 0 + 0.2 x 0.9
    assert out["c"] == {"p": D("930.00")}


CLAUSES = """
payout p: money = bookings * 10%
  cap 1_000
  when bookings > 5_000 then * 50%
  floor 400
  when bookings > 5_000 then + 100
  requires bookings > 1_000
"""


def test_clause_order_when_in_written_order_then_requires_floor_cap() -> None:
    assert pay(CLAUSES, "30000")["c"] == {"p": D("1000.00")}  # 3000 x 50% + 100 = 1600 -> cap
    assert pay(CLAUSES, "6000")["c"] == {"p": D("400.00")}  # 300 + 100 = 400 (floor not binding)
    assert pay(CLAUSES, "2000")["c"] == {"p": D("400.00")}  # 200 -> floor 400
    assert pay(CLAUSES, "900")["c"] == {"p": D("0.00")}  # requires fails: 0, no floor
    notes = pay(CLAUSES, "2000")["x"]["p"].notes  # type: ignore[index]
    assert any("floor 400 binding" in n for n in notes)


def test_rounding_once_half_up() -> None:
    body = "payout p: money = bookings * 0.5%\n"
    assert pay(body, "1001")["c"] == {"p": D("5.01")}  # 5.005 -> 5.01
    assert pay(body, "-1001")["c"] == {"p": D("-5.01")}


def test_when_replace_and_subtract() -> None:
    body = """
    payout p: money = bookings * 10%
      when bookings > 500 then = 70
      when bookings > 500 then - 20
    """
    assert pay(body, "1000")["c"] == {"p": D("50.00")}
    assert pay(body, "400")["c"] == {"p": D("40.00")}
