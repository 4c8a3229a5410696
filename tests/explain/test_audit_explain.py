"""Explanation rendering: defects found by an audit."""

from __future__ import annotations

from kpidsl.explain.render import reconcile, render_html, render_text
from kpidsl.explain.tree import Explanation as E


def test_fact_keys_in_a_table_are_shown_as_written() -> None:
    # invoice keys 1.500 and 2026.100 were shown as 1.5 and 2026.1 in the facts table
    # (and as written in the facts line below it); the amounts still lose padding zeros
    node = E("bookings", "metric", "2026.1010", formula="sum deal.amount",
             row_header=("fact", "share", "amount"),
             rows=(("1.500", "1", "100.1000"), ("2026.100", "1", "1926.0010")),
             facts=("1.500", "2026.100"), fact_count=2)
    text = render_text(node)
    assert "1.500 " in text and "2026.100 " in text and "1.5 " not in text
    assert "100.1\n" in text and "1926.001\n" in text
    page = render_html([node], "t")
    assert "<td>1.500</td>" in page or '<td class="num">1.500</td>' in page
    assert '<td class="num">2026.100</td>' in page


def test_a_text_value_is_shown_as_written() -> None:
    # a text input `code` entered as 007 was shown as `code = 7`
    for node in (E("code", "input", "007", unit="text"), E("code", "input", "1.500", unit="text"),
                 E("code", "table", "007")):
        text = render_text(node)
        assert text.startswith(f"code = {node.value}  ["), text
        assert f">{node.value}</span>" in render_html([node], "t")


def test_a_scores_points_are_percents_like_its_value() -> None:
    # the score showed 30.5% with points 0.225 and 0.08: the parts in another unit than the whole
    node = E("performance", "score", "0.305",
             row_header=("line", "attainment", "threshold", "cap", "weight", "points"),
             rows=(("bookings", "0.75", "", "1.50", "0.30", "0.225"),
                   ("collaboration", "0.80", "", "", "0.10", "0.08"),
                   ("collected", "0.40", "0.50", "", "0.60", "0.00")))
    text = render_text(node)
    assert text.startswith("performance = 30.5%  [score]")
    lines = text.splitlines()
    assert lines[3].endswith("22.5%") and lines[4].endswith("8%") and lines[5].endswith("0%"), text
    assert '<td class="num">22.5%</td>' in render_html([node], "t")


def test_parts_added_in_the_engines_precision_reconcile() -> None:
    # a marginal commission on a prorated target: the engine adds the three slices in 28
    # digits, rounding each partial sum, and gets ...0436 where their exact sum rounds to
    # ...0435; reconcile reported "amount column gives ..., value is ..." for a tree that adds up
    node = E("rate", "tiers", "2354.349026086956521739130436", formula="marginal on attainment(bookings)",
             row_header=("band", "slice base", "rate", "amount"),
             rows=(("0% to 50%", "27173.91304347826086956521739", "2%", "543.4782608695652173913043478"),
                   ("50% to 100%", "27173.91304347826086956521739", "5%", "1358.69565217391304347826087"),
                   ("100% and up", "5652.18891304347826086956522", "8%", "452.1751130434782608695652176")))
    assert reconcile(node) == []
    # a real difference at that length is still found
    wrong = E("rate", "tiers", "2354.359026086956521739130436", row_header=node.row_header, rows=node.rows)
    assert len(reconcile(wrong)) == 1
