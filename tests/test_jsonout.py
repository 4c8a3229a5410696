"""kpidsl.jsonout writes what json.dumps(..., ensure_ascii=False, indent=n) writes, byte for
byte, faster: `kpidsl eval --format json` and Result.to_json() use it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpidsl.jsonout import dumps

SCALARS = st.none() | st.booleans() | st.integers() | st.text()
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                    max_leaves=30)


@given(JSON, st.sampled_from([0, 1, 2, 4]))
def test_the_text_is_json_dumps_text(value: Any, indent: int) -> None:
    assert dumps(value, indent) == json.dumps(value, ensure_ascii=False, indent=indent)


@given(st.dictionaries(st.text(), st.text(), max_size=6))
def test_a_mapping_of_texts_is_written_as_json_dumps_writes_it(value: dict[str, str]) -> None:
    """The shortcut for a mapping of texts (components, values), CJK, quotes and controls included."""
    assert dumps({"p": value}) == json.dumps({"p": value}, ensure_ascii=False, indent=2)


def test_a_result_shape_with_cjk_and_escapes() -> None:
    value = {"plan": {"name": "华东 \"Q3\"", "version": None, "digest": "sha256:ab"},
             "payees": {"张三": {"total": "1.50", "components": {}, "values": {"x\n": "\u2028"},
                                 "errors": [{"code": "KPI0601", "source": None, "n": 3, "ok": True}]}},
             "errors": (), "empty": []}
    assert dumps(value) == json.dumps(value, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("value", [1.5, {1: "a"}, {"a": object()}])
def test_what_a_result_never_holds_is_refused_not_written_another_way(value: Any) -> None:
    with pytest.raises(TypeError):
        dumps(value)
