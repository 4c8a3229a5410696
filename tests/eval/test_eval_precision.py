"""Rounding to a multiple of the quantum, the precision bound, exact totals and too-large values."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kpidsl
from kpidsl.numbers import (
    ROUNDING_MODES,
    digits_needed,
    exact_sum,
    is_power_of_ten,
    quantize,
    quantize_exact,
)

PLAN = """plan "QA" {
  currency CNY
  period quarter
  rounding half_up 0.01
}
metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
target bookings = 1_000_000
tiers commission_rate marginal on attainment(bookings) {
  0%   to 50%  : 2%
  50%  to 100% : 5%
  100% and up  : 8%
}
payout commission: money = commission_rate(bookings)
"""
PAYEES = [{"id": "alice", "name": "A", "role": "AE", "region": "east", "manager": ""},
          {"id": "bob", "name": "B", "role": "AE", "region": "east", "manager": ""}]


def _deal(i: str, payee: str, amount: str) -> dict[str, str]:
    return {"id": i, "payee": payee, "amount": amount, "stage": "won", "signed_on": "2026-07-10",
            "customer": "c", "product": "p"}


@pytest.mark.parametrize(
    ("value", "quantum", "mode", "expected"),
    [
        ("15000.0125", "0.05", "half_up", "15000.00"),  # 300000.25 -> 300000
        ("1.025", "0.05", "half_up", "1.05"),  # 20.5 -> 21
        ("-0.025", "0.05", "half_up", "-0.05"),  # -0.5 -> -1 (away from zero)
        ("0.025", "0.05", "half_even", "0.00"),  # 0.5 -> 0
        ("0.075", "0.05", "half_even", "0.10"),  # 1.5 -> 2
        ("2370.00", "100", "half_up", "2400"),
        ("15000.0125", "1", "up", "15001"),
        ("-0.004", "0.01", "half_up", "0.00"),  # never "-0.00"
        ("5", "0.01", "half_up", "5.00"),
        ("7.99", "0.5", "down", "7.5"),
        ("1E+30", "0.01", "half_up", "1000000000000000000000000000000.00"),  # exact at any size
    ],
)
def test_quantize_rounds_to_a_multiple_at_the_quantum_scale(value: str, quantum: str, mode: str,
                                                           expected: str) -> None:
    assert str(quantize(Decimal(value), Decimal(quantum), mode)) == expected


def test_helpers_for_quanta_and_sums() -> None:
    assert is_power_of_ten(Decimal("0.01")) and is_power_of_ten(Decimal("1"))
    assert not is_power_of_ten(Decimal("0.05")) and not is_power_of_ten(Decimal("100"))
    assert digits_needed(Decimal("2E+28"), Decimal("0.01")) == 31
    total = exact_sum([Decimal("99999999999999.99"), Decimal("99999999999999.99")])
    assert str(total) == "199999999999999.98"


def test_a_quantum_of_005_is_stated_in_the_explanation() -> None:
    plan = kpidsl.loads(PLAN.replace("half_up 0.01", "half_up 0.05"))
    result = plan.evaluate({"payees": PAYEES, "deals": [_deal("D3", "bob", "600000.25")]}, "2026-Q3")
    node = result.explain("bob", "commission")
    assert node.value == "15000.00"
    assert "rounded half_up to a multiple of 0.05 from 15000.0125" in node.notes


def test_a_huge_amount_is_an_error_for_that_payee_only_via_the_api() -> None:
    plan = kpidsl.loads(PLAN)
    data = {"payees": PAYEES, "deals": [_deal("D1", "alice", "1" + "0" * 30), _deal("D2", "bob", "1000")]}
    result = plan.evaluate(data, "2026-Q3")
    alice, bob = result.payees["alice"], result.payees["bob"]
    assert [e.code for e in alice.errors] == ["KPI0615"] and alice.total is None
    assert "exceeds the plan's precision" in alice.errors[0].message
    assert str(bob.total) == "20.00"


def test_a_huge_amount_exits_1_without_a_traceback_via_the_cli(tmp_path: Path) -> None:
    (tmp_path / "plan.kpi").write_text(PLAN, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\nalice,A,AE,east,\n", encoding="utf-8")
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n"
                                    f"D1,alice,1{'0' * 30},won,2026-07-10,c,p\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "import sys; from kpidsl.cli import main; sys.exit(main())", "eval", str(tmp_path / "plan.kpi"), "--data",
                           str(data), "--period", "2026-Q3"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "KPI0615" in proc.stderr


def test_tier_overflow_on_attainment_is_stated_in_attainment_terms() -> None:
    plan = kpidsl.loads(PLAN.replace("  100% and up  : 8%\n", "").replace("1_000_000", "100_000"))
    result = plan.evaluate({"payees": PAYEES[:1], "deals": [_deal("D1", "alice", "118500.00")]}, "2026-Q3")
    (err,) = result.payees["alice"].errors
    assert err.code == "KPI0606"
    assert ("attainment 118.5% (bookings 118,500.00 / target 100,000) is above the last band's upper edge "
            "100% and no `above` value is given") in err.message


def test_a_header_precision_below_16_is_kpi0008_with_help() -> None:
    import pytest

    import kpidsl
    from kpidsl.diagnostics import KpiError

    with pytest.raises(KpiError) as info:
        kpidsl.loads('plan "p" {\n  currency CNY\n  precision 15\n}\npayout p: money = 1\n')
    (d,) = [d for d in info.value.diagnostics if d.code == "KPI0008"]
    assert "at least 16" in d.message and "10^13" in (d.help or "")


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=Decimal("-1e30"),
                   max_value=Decimal("1e30")),
       st.integers(min_value=-6, max_value=3), st.sampled_from(sorted(ROUNDING_MODES)))
def test_quantize_to_decimal_places_is_the_integer_arithmetic(value: Decimal, places: int, mode: str) -> None:
    """The fast path (Decimal.quantize, for 0.01, 1, 100...) equals the exact integer arithmetic."""
    quantum = Decimal((0, (1,), places))
    assert str(quantize(value, quantum, mode)) == str(quantize_exact(value, quantum, mode))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.decimals(allow_nan=False, allow_infinity=False, places=None), max_size=8))
def test_exact_sum_is_the_integer_sum(values: list[Decimal]) -> None:
    """Decimal addition in the unbounded context equals integer arithmetic at the finest
    scale, digit for digit (a zero sum positive)."""
    if not values:
        assert exact_sum(values) == 0
        return
    e = min(int(v.as_tuple().exponent) for v in values)
    units = 0  # every v is a whole number of 10**e: add those whole numbers as Python ints
    for v in values:
        sign, digits, exp = v.as_tuple()
        n = int("".join(map(str, digits))) * 10 ** (int(exp) - e)
        units += -n if sign else n
    want = Decimal((0 if units >= 0 else 1, tuple(int(c) for c in str(abs(units))), e))
    assert str(exact_sum(values)) == str(want)
