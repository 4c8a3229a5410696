"""Every construct of docs/language.md parses to the expected AST (spans ignored)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from _syntax_helpers import expr, field, item, name, num

from kpidsl import ast
from kpidsl.syntax import parse


def test_numbers_keep_text_and_exact_value() -> None:
    n = expr("120_000.50")
    assert n == ast.Number(Decimal("120000.50"))
    assert isinstance(n, ast.Number) and n.text == "120_000.50"


def test_percent_is_exactly_a_hundredth() -> None:
    n = expr("0.5%")
    assert isinstance(n, ast.Number)
    assert n.percent and n.value == Decimal("0.005") and n.text == "0.5%"
    long = expr("12345678901234567890123456789.123456789%")
    assert isinstance(long, ast.Number)
    assert long.value == Decimal("123456789012345678901234567.89123456789")


def test_literals() -> None:
    assert expr('"a \\"b\\" \\\\ 回款"') == ast.String('a "b" \\ 回款')
    assert expr("2026-07-01") == ast.DateLit(dt.date(2026, 7, 1))
    assert expr("true") == ast.Bool(True)
    assert expr("false") == ast.Bool(False)
    assert expr("回款额") == name("回款额")


def test_precedence_and_associativity() -> None:
    assert expr("1 - 2 - 3") == ast.Binary("-", ast.Binary("-", num("1"), num("2")), num("3"))
    assert expr("a + b * -c") == ast.Binary(
        "+", name("a"), ast.Binary("*", name("b"), ast.Unary("-", name("c")))
    )
    assert expr("(a + b) / c") == ast.Binary("/", ast.Binary("+", name("a"), name("b")), name("c"))
    assert expr("not a == b and c or d") == ast.Binary(
        "or",
        ast.Binary("and", ast.Unary("not", ast.Binary("==", name("a"), name("b"))), name("c")),
        name("d"),
    )
    assert expr("a / b else 0 else 1") == ast.Fallback(
        ast.Fallback(ast.Binary("/", name("a"), name("b")), num("0")), num("1")
    )


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op: str) -> None:
    assert expr(f"a {op} 1") == ast.Binary(op, name("a"), num("1"))


def test_fields_calls_and_lists() -> None:
    assert expr("collection.deal.product") == ast.Field("collection", ("deal", "product"))
    assert expr("attainment(bookings)") == ast.Call("attainment", (name("bookings"),))
    assert expr("min(a, b, 3)") == ast.Call("min", (name("a"), name("b"), num("3")))
    assert expr("max(a)") == ast.Call("max", (name("a"),))
    assert expr("f()") == ast.Call("f", ())
    assert expr('deal.stage in ("won", "closed")') == ast.InList(
        field("deal.stage"), (ast.String("won"), ast.String("closed"))
    )


def test_windows() -> None:
    d = field("deal.signed_on")
    assert expr("deal.signed_on in period") == ast.InWindow(d, ast.PeriodWindow())
    assert expr("deal.signed_on in ytd") == ast.InWindow(d, ast.YtdWindow())
    assert expr("deal.signed_on in previous period") == ast.InWindow(
        d, ast.PreviousPeriodWindow()
    )
    assert expr("deal.signed_on in 2026-02-01 to 2026-07-31") == ast.InWindow(
        d, ast.DateRangeWindow(dt.date(2026, 2, 1), dt.date(2026, 7, 31))
    )


def test_aggregates() -> None:
    won = ast.Binary("==", field("deal.stage"), ast.String("won"))
    assert expr('sum deal.amount where deal.stage == "won"') == ast.Aggregate(
        "sum", "deal", field("deal.amount"), where=won
    )
    assert expr("count deal") == ast.Aggregate("count", "deal", None)
    assert expr("count distinct deal.customer over team") == ast.Aggregate(
        "count_distinct", "deal", field("deal.customer"), scope="team"
    )
    assert expr("avg deal.amount over self + team credited split, overlay else 0") == ast.Fallback(
        ast.Aggregate("avg", "deal", field("deal.amount"), "self+team", ("split", "overlay")),
        num("0"),
    )
    assert expr("max x credited any where collection.amount > 0") == ast.Aggregate(
        "max", "collection", name("x"), credit=("any",),
        where=ast.Binary(">", field("collection.amount"), num("0")),
    )
    weighted = expr("sum deal.amount * deal.share")
    assert isinstance(weighted, ast.Aggregate) and weighted.func == "sum"
    assert weighted.expr == ast.Binary("*", field("deal.amount"), field("deal.share"))
    assert expr("min deal.amount") == ast.Aggregate("min", "deal", field("deal.amount"))


def test_aggregate_kind_empty_when_no_field_names_one() -> None:
    agg = expr("sum 1")
    assert isinstance(agg, ast.Aggregate) and agg.kind == ""


def test_header_defaults_and_settings() -> None:
    module = parse('plan "P" {}')
    assert module.header == ast.PlanHeader("P")
    module = parse(
        'plan "P" { currency USD period month rounding half_even 0.001 precision 34 '
        'fiscal_year_start 04-01 effective 2026-04-01 changes at_period_boundaries version "v2" }'
    )
    assert module.header == ast.PlanHeader(
        "P", "USD", "month", "half_even", Decimal("0.001"), 34, 4, dt.date(2026, 4, 1),
        "at_period_boundaries", "v2",
    )
    assert module.header is not None
    assert module.header.settings == (
        "currency", "period", "rounding", "precision", "fiscal_year_start", "effective",
        "changes", "version",
    )
    assert module.items == ()


def test_import_and_facts() -> None:
    assert item('import "shared/rates.kpi"') == ast.Import("shared/rates.kpi")
    assert item("fact rebate { key id date paid_on deal: deal amount: money }") == ast.FactKind(
        "rebate", "id", "paid_on",
        (ast.FieldDecl("deal", "deal"), ast.FieldDecl("amount", "money")),
    )


def test_simple_definitions() -> None:
    assert item("input collaboration: percent") == ast.InputDecl("collaboration", "percent")
    assert item("input tenure_bonus: money default 0") == ast.InputDecl(
        "tenure_bonus", "money", num("0")
    )
    assert item("target bookings = 1_000_000") == ast.Target("bookings", num("1_000_000"))
    assert item("const t: money = 24_000 per period") == ast.Const(
        "t", "money", num("24_000"), True
    )
    assert item("const base: money = 1_000") == ast.Const("base", "money", num("1_000"))


def test_table() -> None:
    assert item('table s by deal.product { "A" : 800 "B": x  else : f(deal.product) }') == ast.Table(
        "s", field("deal.product"),
        (ast.TableEntry("A", num("800")), ast.TableEntry("B", name("x"))),
        ast.Call("f", (field("deal.product"),)),
    )


def test_tiers_forms() -> None:
    marginal = item("tiers r marginal per deal on deal.amount { 0 to 10_000 : 1%  10_000 and up : 2% }")
    assert marginal == ast.Tiers(
        "r", "marginal", "deal", field("deal.amount"),
        (
            ast.Band(num("0"), num("10_000"), num("1%")),
            ast.Band(num("10_000"), None, num("2%")),
        ),
    )
    curve = item("tiers c interpolated on attainment(b) extend flat { 0% : 0%  100% : 100% }")
    assert curve == ast.Tiers(
        "c", "interpolated", None, ast.Call("attainment", (name("b"),)),
        (ast.Point(num("0%"), num("0%")), ast.Point(num("100%"), num("100%"))),
        extend_flat=True,
    )
    step = item("tiers k step on a { 0% to 100% : 0%  above : 3% }")
    assert isinstance(step, ast.Tiers)
    assert step.mode == "step" and step.above == num("3%") and len(step.bands) == 1
    lookup = item("tiers g lookup on n { 0 to 5 : 1 }")
    assert isinstance(lookup, ast.Tiers) and lookup.mode == "lookup"


def test_score() -> None:
    assert item("score p { a weight 40% cap 150%  b weight 30% threshold 50% cap 2  c weight 10% }") == ast.Score(
        "p",
        (
            ast.ScoreLine("a", num("40%"), num("150%")),
            ast.ScoreLine("b", num("30%"), num("2"), num("50%")),
            ast.ScoreLine("c", num("10%")),
        ),
    )


def test_payout_clauses_keep_written_order() -> None:
    payout = item(
        "payout bonus: money = 30_000 * performance\n"
        "  cap 50_000\n  requires attainment(b) >= 80%\n  floor 0\n"
        "  when r < 60% then * 50%\n  when r < 10% then = 0\n"
        "  when a then + 1  when b then - 2"
    )
    assert payout == ast.Payout(
        "bonus", "money", ast.Binary("*", num("30_000"), name("performance")),
        (
            ast.Cap(num("50_000")),
            ast.Requires(ast.Binary(">=", ast.Call("attainment", (name("b"),)), num("80%"))),
            ast.Floor(num("0")),
            ast.When(ast.Binary("<", name("r"), num("60%")), "*", num("50%")),
            ast.When(ast.Binary("<", name("r"), num("10%")), "=", num("0")),
            ast.When(name("a"), "+", num("1")),
            ast.When(name("b"), "-", num("2")),
        ),
    )


def test_payout_aggregate_then_cap() -> None:
    payout = item("payout s: money = sum f(deal.product) where deal.new_customer cap 5_000")
    assert isinstance(payout, ast.Payout)
    assert payout.clauses == (ast.Cap(num("5_000")),)
    assert isinstance(payout.expr, ast.Aggregate) and payout.expr.where == field("deal.new_customer")


def test_overrides() -> None:
    ov = item('for team "华南大区" and role AE from 2026-08-01 until 2027-01-31 { const t: money = 1 }')
    assert ov == ast.Override(
        (ast.SelectorItem("team", "华南大区"), ast.SelectorItem("role", "AE")),
        dt.date(2026, 8, 1), dt.date(2027, 1, 31),
        (ast.Const("t", "money", num("1")),),
    )
    plain = item("for region west and level senior { }")
    assert plain == ast.Override(
        (ast.SelectorItem("region", "west"), ast.SelectorItem("level", "senior")), None, None, ()
    )
    until = item("for payee \"p-1\" until 2026-03-31 { target b = 2 }")
    assert isinstance(until, ast.Override) and until.start is None
    assert until.until == dt.date(2026, 3, 31)


def test_test_block() -> None:
    block = item(
        'test "t" {\n'
        "  period 2026-Q3\n"
        "  payees {\n    id role manager\n    alice AE -\n    \"p 2\" SE alice\n  }\n"
        "  targets { alice bookings 100_000 }\n"
        "  inputs { alice c 90% 2026-Q3 }\n"
        "  expect alice.commission == 5_100.00\n"
        '  expect "p-1001".total >= 1\n'
        "  expect error KPI0601 for alice.commission\n"
        '  expect error KPI0301 in "fixtures/gap.kpi"\n'
        "  expect error KPI0701 for bob\n"
        "}"
    )
    c = ast.Cell
    assert block == ast.TestBlock(
        "t",
        (
            ast.TestPeriod("2026-Q3"),
            ast.TestTable(
                "payees",
                (c("id"), c("role"), c("manager")),
                ((c("alice"), c("AE"), c("")), (c("p 2", True), c("SE"), c("alice"))),
            ),
            ast.TestTable("targets", (), ((c("alice"), c("bookings"), c("100_000")),)),
            ast.TestTable("inputs", (), ((c("alice"), c("c"), c("90%"), c("2026-Q3")),)),
            ast.Expect("alice", "commission", "==", num("5_100.00")),
            ast.Expect("p-1001", "total", ">=", num("1")),
            ast.ExpectError("KPI0601", "alice", "commission"),
            ast.ExpectError("KPI0301", file="fixtures/gap.kpi"),
            ast.ExpectError("KPI0701", "bob"),
        ),
    )


def test_table_cells_are_raw_words() -> None:
    block = item('test "t" { deals {\n id amount x\n D-1 1_000.5 a/b:c\n } }')
    assert isinstance(block, ast.TestBlock)
    table = block.items[0]
    assert isinstance(table, ast.TestTable)
    assert [cell.text for cell in table.rows[0]] == ["D-1", "1_000.5", "a/b:c"]


def test_invariants() -> None:
    assert item("invariant commission is monotonic in bookings") == ast.Invariant(
        "commission", "monotonic", name("bookings")
    )
    assert item("invariant d is monotonic in deal.amount") == ast.Invariant(
        "d", "monotonic", field("deal.amount")
    )
    assert item("invariant v <= t * 2") == ast.Invariant(
        "v", "<=", ast.Binary("*", name("t"), num("2"))
    )


def test_keywords_are_names_after_a_dot() -> None:
    assert expr("deal.count + deal.period") == ast.Binary(
        "+", field("deal.count"), field("deal.period")
    )


def test_target_function_is_not_the_target_item() -> None:
    assert expr("target(bookings) * 2") == ast.Binary(
        "*", ast.Call("target", (name("bookings"),)), num("2")
    )


def test_comments_are_collected_but_not_in_strings() -> None:
    module = parse('// top\nmetric x: money = 1 // trailing\nconst s: text = "a // b"\n')
    assert [(c.text, c.line) for c in module.comments] == [(" top", 1), (" trailing", 2)]
    const = module.items[1]
    assert isinstance(const, ast.Const) and const.expr == ast.String("a // b")


def test_comment_inside_test_table_is_not_a_cell() -> None:
    block = item('test "t" { deals {\n id x // note\n D1 1\n } }')
    assert isinstance(block, ast.TestBlock)
    table = block.items[0]
    assert isinstance(table, ast.TestTable) and table.header == (ast.Cell("id"), ast.Cell("x"))


def test_empty_plan() -> None:
    module = parse("  // nothing\n")
    assert module.header is None and module.items == ()
