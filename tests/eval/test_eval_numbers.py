"""numbers.py and periods.py: contexts, rounding, formatting and period arithmetic."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpidsl.numbers import fmt, grouped, parse_decimal, plan_context, quantize
from kpidsl.periods import PeriodError, parse_period, period_of


def test_context_traps_and_precision() -> None:
    ctx = plan_context(34)
    assert ctx.prec == 34
    with pytest.raises(decimal.DivisionByZero):
        ctx.divide(Decimal(1), Decimal(0))
    with pytest.raises(decimal.InvalidOperation):
        ctx.divide(Decimal(0), Decimal(0))
    with pytest.raises(decimal.FloatOperation):
        ctx.create_decimal_from_float(0.1)
        with decimal.localcontext(ctx):
            Decimal(1) < 0.5  # noqa: B015


def test_global_context_untouched() -> None:
    before = decimal.getcontext().copy()
    plan_context(10).divide(Decimal(1), Decimal(3))
    assert decimal.getcontext().prec == before.prec
    assert decimal.getcontext().traps == before.traps


@pytest.mark.parametrize(
    ("value", "mode", "expected"),
    [
        ("-0.005", "half_up", "-0.01"),
        ("0.005", "half_up", "0.01"),
        ("0.005", "half_even", "0.00"),
        ("0.015", "half_even", "0.02"),
        ("0.019", "down", "0.01"),
        ("0.011", "up", "0.02"),
        ("0.015", "half_down", "0.01"),
    ],
)
def test_quantize_modes(value: str, mode: str, expected: str) -> None:
    assert fmt(quantize(Decimal(value), Decimal("0.01"), mode)) == expected


def test_fmt_never_uses_exponent() -> None:
    assert fmt(Decimal("1E+3")) == "1000"
    assert fmt(Decimal("1.0E-7")) == "0.00000010"
    assert fmt(Decimal("-0.00")) == "0.00"
    assert parse_decimal("1_000.50") == Decimal("1000.50")
    assert parse_decimal("80%") == Decimal("0.80")


def test_periods_calendar() -> None:
    q = parse_period("2026-Q3", "quarter")
    assert (q.start, q.end, q.days) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30), 92)
    assert q.previous().label == "2026-Q2"
    assert parse_period("2026-Q1", "quarter").previous().label == "2025-Q4"
    assert parse_period("2026-03", "month").end == dt.date(2026, 3, 31)
    assert parse_period("2026-H2", "half").start == dt.date(2026, 7, 1)
    assert parse_period("2026", "year").days == 365


def test_fiscal_year_shifts_quarters() -> None:
    q1 = parse_period("2026-Q1", "quarter", 2)
    assert (q1.start, q1.end) == (dt.date(2026, 2, 1), dt.date(2026, 4, 30))
    q4 = parse_period("2026-Q4", "quarter", 2)
    assert q4.end == dt.date(2027, 1, 31)
    assert [p.label for p in q4.earlier_in_fiscal_year()] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert period_of(dt.date(2027, 1, 15), "quarter", 2).label == "2026-Q4"
    assert q4.fy_start == dt.date(2026, 2, 1)


@pytest.mark.parametrize("text", ["2026-03", "2026", "2026-H2", "2026-Q5", "26-Q1"])
def test_period_of_wrong_granularity(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, "quarter")


@pytest.mark.parametrize(("text", "granularity", "fy_start", "hint"), [
    ("2026-03", "quarter", 1, "a month; the quarter holding it is 2026-Q1"),  # said "expected 2026-Q3"
    ("2026-03", "quarter", 4, "a month; the quarter holding it is 2025-Q4"),  # a fiscal year from April
    ("2026-11", "half", 1, "a month; the half holding it is 2026-H2"),
    ("2026-13", "quarter", 1, "write it like 2026-Q3"),
    ("garbage", "year", 1, "write it like 2026"),
])
def test_a_wrong_period_says_what_to_write(text: str, granularity: str, fy_start: int, hint: str) -> None:
    with pytest.raises(PeriodError) as e:
        parse_period(text, granularity, fy_start)
    assert str(e.value) == f"{text!r} is not a {granularity} period ({hint})"


def test_contexts_are_independent_across_threads() -> None:
    results: list[str] = []

    def work(prec: int) -> None:
        ctx = plan_context(prec)
        results.append(str(ctx.divide(Decimal(1), Decimal(3))))

    threads = [threading.Thread(target=work, args=(p,)) for p in (5, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["0.33333", "0.3333333333"]


def test_equal_quanta_written_differently_round_differently() -> None:
    """1E+2 and 100 are equal decimals, but 1E+2 is a power of ten (rounding to places)
    and 100 a multiple; what is known of one quantum is never reused for an equal one."""
    from kpidsl.numbers import digits_needed, quantize

    for first, second in ((Decimal("1E+2"), Decimal("100")), (Decimal("100"), Decimal("1E+2"))):
        for q in (first, second, first):
            got = quantize(Decimal("150"), q)
            assert got == 200 and got.as_tuple().exponent == q.as_tuple().exponent, (q, got)
        assert str(quantize(Decimal("149.94"), Decimal("0.1"))) == "149.9"
        assert str(quantize(Decimal("149.94"), Decimal("0.10"))) == "149.90"  # a multiple of 0.10
    assert digits_needed(Decimal("123.456"), Decimal("0.01")) == 5
    assert digits_needed(Decimal("123.456"), Decimal("1E+1")) == 2


@pytest.mark.parametrize("quantum", ["0.01", "1", "0.05", "100", "0.10", "1E+2"])
@pytest.mark.parametrize("mode", ["half_up", "half_even", "half_down", "down", "up"])
def test_quantize_all_is_quantize_of_each_value(quantum: str, mode: str) -> None:
    """The bulk stage rounds a whole column at once: value for value (and digit count for digit
    count) what quantize and digits_needed give one value at a time."""
    from kpidsl.numbers import digits_needed, quantize_all

    values = [Decimal(v) for v in ("0", "-0", "-0.004", "0.005", "-0.005", "0.025", "-0.025", "12.345",
                                   "-12.355", "99999999999999.995", "1E+30", "-1E-30", "7", "149.99", "150")]
    q = Decimal(quantum)
    expected = [(quantize(v, q, mode), digits_needed(quantize(v, q, mode), q)) for v in values]
    got = quantize_all(values, q, mode)
    assert [(str(r), d) for r, d in got] == [(str(r), d) for r, d in expected]


@pytest.mark.parametrize("text, granularity, fy_start", [("0000-Q1", "quarter", 1), ("0001-Q1", "quarter", 1),
                                                         ("9999-Q4", "quarter", 4), ("9999-12", "month", 1)])
def test_a_period_outside_the_calendar_is_a_period_error(text: str, granularity: str, fy_start: int) -> None:
    """Its dates, its previous period's (``previous period`` windows) or the day after it are
    not dates: a PeriodError (a usage error on the command line), not a traceback."""
    from kpidsl.periods import PeriodOutOfRange

    with pytest.raises(PeriodOutOfRange, match="outside the years 0001 to 9999"):
        parse_period(text, granularity, fy_start)


@pytest.mark.parametrize(("value", "text"), [
    ("118500.00", "118,500.00"), ("-1234567.5", "-1,234,567.5"), ("1E+3", "1,000"), ("0.001", "0.001"),
    ("-0", "0"), ("-0.00", "0.00"), ("0E+5", "0"), ("999", "999"), ("-1000", "-1,000"),
    ("12345678901234567890.123456", "12,345,678,901,234,567,890.123456"),
])
def test_grouped_groups_the_integer_part_only_and_keeps_every_digit(value: str, text: str) -> None:
    assert grouped(Decimal(value)) == text


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_grouped_is_fmt_with_the_integer_part_grouped(value: Decimal) -> None:
    """``grouped`` is ``fmt`` (no exponent, the scale kept, no -0) with commas every three
    digits of the integer part, whatever the locale: the table `kpidsl eval` prints."""
    plain_text, text = fmt(value), grouped(value)
    sign = "-" if plain_text.startswith("-") else ""
    whole, dot, frac = plain_text.lstrip("-").partition(".")
    assert text == f"{sign}{int(whole):,}{dot}{frac}"
    assert text.replace(",", "") == plain_text


def test_grouped_refuses_what_is_not_a_number() -> None:
    with pytest.raises(ValueError):
        grouped(Decimal("NaN"))
