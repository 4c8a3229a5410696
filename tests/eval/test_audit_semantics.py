"""Audit of the evaluator against the contract (/work/shared/design/semantics.md).

Each test is a confirmed defect: it fails on the code as audited and passes once fixed.
Expected figures are worked out by hand from the contract's words, not from the engine.
"""

from __future__ import annotations

from decimal import Decimal

import kpidsl

HEADER = 'plan "audit" {\n  currency USD\n  period quarter\n  rounding half_up 0.01\n}\n'

PAYEES = [{"id": "a", "name": "A", "role": "AE", "region": "east", "manager": ""}]


def _deal(key: str, payee: str, amount: str, day: str) -> dict[str, object]:
    return {"id": key, "payee": payee, "amount": Decimal(amount), "stage": "won", "signed_on": day,
            "customer": "c1", "product": "p"}


# Q3 2026 (92 days) split on 2026-08-16 by a region change: 46 + 46 days.
SPLIT_DATA = {
    "payees": PAYEES,
    "deals": [_deal("D1", "a", "46000", "2026-07-10"), _deal("D2", "a", "45000", "2026-09-10")],
    "payee_history": [{"payee": "a", "attribute": "region", "value": "west", "effective_from": "2026-08-16"}],
}


def _eval(body: str, data: dict[str, object], explain: bool = False) -> kpidsl.Result:
    plan = kpidsl.loads(HEADER + body)
    result = plan.evaluate(kpidsl.load_data(data), "2026-Q3", explain=explain)
    assert not result.data_diagnostics, [d.message for d in result.data_diagnostics]
    return result


def test_default_target_from_a_per_period_const_is_prorated_once() -> None:
    """Contract: "Each segment is evaluated as a period of its own: facts by their date, targets
    prorated by calendar days (segment days ÷ period days)" and "targets and constants declared
    `per period` (a target incentive, say) are prorated by days".

    The quarter's target is 92,000 (``target bookings = quota``, ``quota`` = 92,000 per period).
    In each 46-day segment it is 92,000 × 46/92 = 46,000, not 23,000 (prorated twice: once as
    the const, once as the target). Segment 1: 46,000 / 46,000 = 100% → 10,000; segment 2:
    45,000 / 46,000 → 9,782.6086…; the component is 19,782.61.
    """
    body = """
metric bookings: money = sum deal.amount where deal.signed_on in period
const quota: money = 92_000 per period
target bookings = quota
payout bonus: money = 10_000 * attainment(bookings)
"""
    result = _eval(body, SPLIT_DATA)
    pr = result.payees["a"]
    assert pr.values["target(bookings)@2026-07-01"] == Decimal("46000")
    assert pr.components["bonus"] == Decimal("19782.61")


def test_per_period_const_built_from_another_per_period_const_is_prorated_once() -> None:
    """Contract: "targets and constants declared `per period` (a target incentive, say) are
    prorated by days" — by segment days ÷ period days, once.

    ``ti2`` is 18,400 for the quarter (2 × 9,200); in each 46-day half it is 9,200, and paid over
    the two segments it sums to 18,400.00 (not 9,200.00: 18,400 × (46/92)² per segment).
    """
    body = """
const ti: money = 9_200 per period
const ti2: money = ti * 2 per period
payout p: money = ti2
"""
    result = _eval(body, SPLIT_DATA)
    assert result.payees["a"].components["p"] == Decimal("18400.00")


def _walk(node: kpidsl.Explanation):  # type: ignore[no-untyped-def]
    yield node
    for c in node.children:
        yield from _walk(c)


def test_binding_floor_of_a_split_period_explains_its_figure() -> None:
    """Contract: "Every number in a result can be explained as a tree: the definition's name, its
    source span, the formula, the inputs with their values, ... whether a cap or floor was
    binding, the segments, and for aggregates the count and keys of the contributing facts."

    The floor ``bookings * 10%`` is evaluated over the whole period (decision: "evaluated over the
    whole period (not prorated)") and binds at 9,100 = 10% × 91,000 (D1 + D2). Without a split
    the payout's tree shows ``bookings = 91000`` with facts D1, D2; with the split the whole-period
    ``bookings`` that produced the paid 9,100.00 appears nowhere in the tree.
    """
    body = """
metric bookings: money = sum deal.amount where deal.signed_on in period
payout p: money = 1
  floor bookings * 10%
"""
    result = _eval(body, SPLIT_DATA, explain=True)
    assert result.payees["a"].components["p"] == Decimal("9100.00")
    tree = result.explain("a", "p")
    nodes = [n for n in _walk(tree) if n.name == "bookings" and n.value == "91000"]
    assert nodes, "the whole-period bookings (91,000) behind the binding floor is not in the tree"
    assert set(nodes[0].facts) == {"D1", "D2"}


def _precision_folder(tmp_path, deals: list[str]):  # type: ignore[no-untyped-def]
    """Payees a and b; ``deals`` as ``id,payee,amount``, all won on 2026-07-10."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,east,\nb,B,AE,east,\n",
                                       encoding="utf-8")
    rows = "".join(f"{d},won,2026-07-10,c,p\n" for d in deals)
    (folder / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n" + rows, encoding="utf-8")
    return folder


def _precision_plan(metric: str) -> kpidsl.Plan:
    return kpidsl.loads('plan "p" { currency USD  period quarter  precision 16 }\n'
                        f"metric bk: money = {metric} where deal.signed_on in period\npayout p: money = bk\n")


def test_columnar_engine_keeps_the_plans_precision_like_the_reference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Contract: "All arithmetic is `decimal.Decimal` under a plan-owned local context" and the
    decision "the evaluation context has 28 significant digits by default (plan-settable)";
    docs/api.md: the engines give "the same figures, values, errors and trees".

    With ``precision 16`` the reference adds 99,999,999,999,999.99 + 0.02 in a 16-digit context
    (100,000,000,000,000.0) and pays 0.01 after the -99,999,999,999,999.99 refund; the columnar
    stage sums the same rows exactly in DuckDB and pays 0.02. One plan, one data set, two
    figures: the columnar stage must agree with the reference (or decline the aggregate, as it
    already does for ``over team`` sums beyond the precision).
    """
    import pytest

    pytest.importorskip("duckdb")
    folder = _precision_folder(tmp_path, ["D1,a,99999999999999.99", "D2,a,0.02", "D3,a,-99999999999999.99"])
    plan = _precision_plan("sum deal.amount")
    ref = plan.evaluate(folder, "2026-Q3", engine="reference")
    col = plan.evaluate(folder, "2026-Q3", engine="columnar")
    assert col.payees["a"].components == ref.payees["a"].components
    assert col.payees["a"].values == ref.payees["a"].values


def test_columnar_explanation_of_a_payee_with_a_fallback_lists_the_facts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Contract: "Every number in a result can be explained as a tree: ... and for aggregates the
    count and keys of the contributing facts"; docs/api.md: "On the columnar path the facts
    behind a figure are fetched when a tree is first built".

    Payee b's target is 0, so ``rate`` takes its fallback (not an error). On the columnar engine
    (what ``kpidsl explain --engine columnar`` runs) b's ``bookings`` node says "1 fact" but lists
    no key, with the note "explain this payee to list the facts" — in b's own explanation. The
    reference lists D2, and so does the columnar engine for payee a (no fallback taken).
    """
    import pytest

    pytest.importorskip("duckdb")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,east,\nb,B,AE,east,\n",
                                       encoding="utf-8")
    (folder / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n"
                                      "D1,a,100,won,2026-07-10,c,p\nD2,b,200,won,2026-07-11,c,p\n",
                                      encoding="utf-8")
    (folder / "targets.csv").write_text("payee,metric,period,value\na,bookings,2026-Q3,100\n"
                                        "b,bookings,2026-Q3,0\n", encoding="utf-8")
    plan = kpidsl.loads(HEADER + """
metric bookings: money = sum deal.amount where deal.signed_on in period
metric rate: percent = bookings / target(bookings) else 0%
payout p: money = bookings * 1% + bookings * rate
""")
    result = plan.evaluate(folder, "2026-Q3", engine="columnar")
    assert result.payees["b"].components["p"] == Decimal("2.00")
    nodes = [n for n in _walk(result.explain("b", "p")) if n.name == "bookings"]
    assert nodes and all(n.facts == ("D2",) for n in nodes), [(n.fact_count, n.facts) for n in nodes]


def test_columnar_engine_rounds_per_fact_products_as_the_reference_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same contract point for a per-fact expression: at ``precision 16`` an amount of
    1,234,567,890.12 times a rate of 0.123457 needs 18 digits, which the reference's context
    rounds; the columnar stage leaves that aggregate to the reference (and says why) rather
    than pay the exact product."""
    import pytest

    pytest.importorskip("duckdb")
    from kpidsl.columnar import ColumnarRun, load_folder

    folder = _precision_folder(tmp_path, ["D1,a,1234567890.12", "D2,a,987654321.99", "D3,b,10.01"])
    plan = _precision_plan("sum deal.amount * 0.123457")
    ref = plan.evaluate(folder, "2026-Q3", engine="reference")
    run = ColumnarRun(plan.model, load_folder(plan.model, folder, engine="columnar"), "2026-Q3")
    col = run.evaluate()
    assert col is not None
    assert {p: r.values for p, r in col.payees.items()} == {p: r.values for p, r in ref.payees.items()}
    assert {p: r.components for p, r in col.payees.items()} == {p: r.components for p, r in ref.payees.items()}
    assert list(run.unsupported.values()) == [
        "payee a: values or sums beyond the plan's precision (the reference's arithmetic rounds them)"]
