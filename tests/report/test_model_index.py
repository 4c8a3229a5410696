"""The report's model is gathered with indexes, not a scan of the data per payee.

Each payee's view (facts behind their figures, reporting subtree, attributes as of
the period's end) must be exactly what a plain scan of the whole data set gives;
the data evaluated is bound once, not again for the report.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kpidsl.data.bind
from kpidsl.data.model import HistoryRow
from kpidsl.report.model import (
    aggregate_kinds,
    attributes_at,
    build_model,
    fact_keys,
    reporting_lines,
    subtree,
)


def _naive_subtree(managers: dict[str, str], root: str) -> list[str]:
    """Everyone whose chain of managers reaches ``root`` (cycle-safe), by walking up."""
    below = []
    for pid in managers:
        seen, m = {pid}, managers.get(pid, "")
        while m and m not in seen:
            if m == root:
                below.append(pid)
                break
            seen.add(m)
            m = managers.get(m, "")
    return sorted(p for p in below if p != root)


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from(["", *"abcdefghz"]), max_size=8),
       st.sampled_from("abcdefghz"))
def test_subtree_with_prebuilt_reporting_lines_is_the_walk_up(managers: dict[str, str], root: str) -> None:
    expected = _naive_subtree(managers, root)
    assert subtree(managers, root) == expected
    assert subtree(managers, root, reporting_lines(managers)) == expected


def test_attributes_from_the_payees_own_history_rows(east: Any) -> None:
    _plan, _raw, result, _ = east
    dataset = result.dataset
    assert dataset.history, "the example has history rows"
    for day in (dt.date(2026, 7, 1), dt.date(2026, 9, 30), dt.date(2027, 1, 1)):
        for p in dataset.payees:
            own = [r for r in dataset.history if r.payee == p.id]
            assert attributes_at(p, own, day) == attributes_at(p, dataset.history, day)
    assert isinstance(dataset.history[0], HistoryRow)


@pytest.mark.parametrize("which", ["east", "hostile"])
def test_each_payee_lists_exactly_the_facts_named_in_their_trees(which: str, request: Any) -> None:
    """Every fact an aggregate of the payee's trees lists, of that aggregate's kind: nothing
    else (a fact of another kind sharing a key), nothing less (a co-seller's collection)."""
    plan, _raw, result, model = request.getfixturevalue(which)
    dataset = result.dataset
    kinds = aggregate_kinds(plan.model)
    listed_somewhere = 0
    for view in model.payees:
        named: set[tuple[str | None, str]] = set()
        for e in result.payees[view.id].explanations.values():
            named |= fact_keys(e, kinds)
        assert all(kind is not None for kind, _ in named)  # every listing node's kind is known
        expected = []
        for kind in sorted(dataset.facts):
            for fact in dataset.facts[kind]:  # every fact, scanned
                if (kind, fact.key) in named:
                    expected.append((kind, fact.key, str(fact.ref)))
        got = [(f.kind, f.key, f.source) for f in view.facts]
        assert got == sorted(expected)
        listed_somewhere += bool(got)
    assert listed_somewhere >= 2


def test_the_report_binds_the_evaluated_data_once(east: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    plan, raw, result, model = east
    calls = []
    real = kpidsl.data.bind.bind
    monkeypatch.setattr(kpidsl.data.bind, "bind", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = build_model(plan, raw, result)
    assert calls == []
    assert again == model
    # a result without its data set (the columnar engine's) is bound for the report
    rebound = build_model(plan, raw, attrs.evolve(result, dataset=None))
    assert calls == [1]
    assert rebound == model


def test_team_members_are_looked_up_by_id(east: Any) -> None:
    model = east[3]
    for p in model.payees:
        assert model.payee(p.id) is p
    with pytest.raises(KeyError):
        model.payee("nobody")
