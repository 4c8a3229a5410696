"""Renderers on hand-built explanation trees: text layout, JSON round trip, HTML escaping."""

from __future__ import annotations

import json

from kpidsl.explain.codec import explanation_from_dict, explanations_from_json
from kpidsl.explain.render import (
    display_width,
    facts_line,
    format_value,
    render_html,
    render_json,
    render_text,
)
from kpidsl.explain.tree import Explanation as E
from kpidsl.source import Span


def sample() -> E:
    return E(
        "commission",
        "payout",
        "5100.00",
        formula="commission_rate(bookings)",
        span=Span("plan.kpi", 12, 1, 12, 40),
        override="for role AE from 2026-07-01",
        children=(
            E(
                "bookings",
                "metric",
                "120000",
                span=Span("plan.kpi", 3, 1, 3, 9),
                facts=("D1", "D2"),
                fact_count=12,
            ),
            E(
                "commission_rate",
                "tiers",
                "5100.00",
                row_header=("band", "rate", "slice", "amount"),
                rows=(
                    ("0% to 50%", "2%", "50000", "1000.00"),
                    ("50% to 100%", "5%", "50000", "2500.00"),
                    ("100% and up", "8%", "20000", "1600.00"),
                ),
            ),
            E("回款额", "metric", None, error="KPI0601 division by zero"),
        ),
    )


EXPECTED_TEXT = """\
commission = 5,100.00  [payout]  (plan.kpi:12:1)
│  formula: commission_rate(bookings)
│  override: for role AE from 2026-07-01
├─ bookings = 120,000  [metric]  (plan.kpi:3:1)
│     12 facts: D1, D2, … (+10 more)
├─ commission_rate = 5,100.00  [tiers]
│     band         rate  slice   amount
│     ───────────  ────  ─────  ───────
│     0% to 50%      2%  50000  1000.00
│     50% to 100%    5%  50000  2500.00
│     100% and up    8%  20000  1600.00
└─ 回款额 = ERROR  [metric]
      ✖ error: KPI0601 division by zero
"""


def test_text_tree_exact_layout() -> None:
    assert render_text(sample()) == EXPECTED_TEXT


def test_text_colour_only_adds_escape_codes() -> None:
    coloured = render_text(sample(), color=True)
    assert "\x1b[" in coloured
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == EXPECTED_TEXT


def test_text_nested_prefixes_continue_the_vertical_bar() -> None:
    tree = E(
        "a",
        "payout",
        "1",
        children=(
            E("b", "derived", "1", children=(E("c", "const", "1"),)),
            E("d", "const", "0"),
        ),
    )
    assert render_text(tree) == (
        "a = 1  [payout]\n├─ b = 1  [derived]\n│  └─ c = 1  [const]\n└─ d = 0  [const]\n"
    )


def test_values_keep_every_digit() -> None:
    assert format_value("1234567.125") == "1,234,567.125"
    assert format_value("-0.005") == "-0.005"
    assert format_value("999") == "999"
    assert format_value("true") == "true"
    assert format_value(None) == "ERROR"


def test_facts_line_counts_and_truncates() -> None:
    keys = tuple(f"D{i}" for i in range(1, 13))
    assert (
        facts_line(keys, 12, 10) == "12 facts: D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, … (+2 more)"
    )
    assert facts_line(("D1",), 1, 10) == "1 fact: D1"
    assert facts_line((), 3, 10) == "3 facts: … (+3 more)"


def test_cjk_columns_align_by_display_width() -> None:
    assert display_width("回款额") == 6
    tree = E(
        "t", "table", "800", row_header=("产品", "rate"), rows=(("云套件", "800"), ("x", "300"))
    )
    lines = render_text(tree).splitlines()[1:]
    # The numeric column starts at the same terminal column on every line.
    ends = {display_width(line) for line in lines[2:]}
    assert len(ends) == 1
    assert lines[2].strip().startswith("云套件")


def test_json_is_stable_utf8_and_round_trips() -> None:
    text = render_json(sample())
    assert "回款额" in text  # ensure_ascii=False
    assert text == render_json(sample())
    data = json.loads(text)
    assert list(data)[:3] == ["name", "kind", "value"]
    back = explanation_from_dict(data)
    assert back.to_dict() == sample().to_dict()
    assert render_json(back) == text


def test_json_list_of_trees() -> None:
    text = render_json([sample(), E("x", "const", "1")])
    trees = explanations_from_json(text)
    assert [t.name for t in trees] == ["commission", "x"]


def test_html_is_self_contained_and_escapes_everything() -> None:
    evil = E(
        "<script>alert(1)</script>",
        "metric",
        '"><img src=x onerror=alert(2)>',
        formula="a < b & c",
        notes=("<b>note</b>",),
        row_header=("<th>",),
        rows=(("<td>",),),
        facts=("<i>D1</i>",),
        fact_count=1,
        error="<err>",
    )
    page = render_html([evil, sample()], title="<title>报告")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "a &lt; b &amp; c" in page
    assert "&lt;b&gt;note&lt;/b&gt;" in page and "&lt;i&gt;D1&lt;/i&gt;" in page
    assert '<meta charset="utf-8">' in page
    assert "回款额" in page and "&lt;title&gt;报告" in page
    for banned in ("http://", "https://", "<link", 'src="', "@import", "url("):
        assert banned not in page


def test_html_uses_details_for_collapsible_nodes() -> None:
    page = render_html([sample()], title="t")
    assert page.count("<details") == 4  # root, bookings (facts), tiers (rows), error node
    assert "<details open><summary>" in page
    assert "<table>" in page and "<th>amount</th>" in page
    assert '<td class="num">1600.00</td>' in page


def test_display_shows_percents_and_drops_padding_zeros_only() -> None:
    from kpidsl.explain.render import display_value, trim_zeros

    assert display_value("1.185", "attainment") == "118.5%"
    assert display_value("0.50", "score") == "50%"
    assert display_value("542.0000000000000000000000000", "tiers") == "542"
    assert display_value("2370.00", "payout") == "2,370.00"  # money scale kept
    assert display_value("15000.0125", "tiers") == "15,000.0125"  # real digits never rounded
    assert trim_zeros("rounded half_up to 0.01 from 271.0000000000000000000000000") == (
        "rounded half_up to 0.01 from 271")
    assert trim_zeros("2026-07-10 at 0.05") == "2026-07-10 at 0.05"


def test_render_text_keeps_the_exact_value_in_the_tree_but_shows_a_percent() -> None:
    node = E("attainment(bookings)", "attainment", "1.185000")
    assert "attainment(bookings) = 118.5%" in render_text(node)
    assert node.value == "1.185000"



def test_percent_typed_values_display_as_percents_and_keep_their_exact_value() -> None:
    from kpidsl.explain.render import render_json, render_text
    from kpidsl.explain.tree import Explanation

    node = Explanation("collaboration", "input", "0.65", unit="percent")
    assert "collaboration = 65%" in render_text(node)
    assert '"value": "0.65"' in render_json(node) and '"unit": "percent"' in render_json(node)
