"""Reading and binding fact tables gives exactly the recorded outputs.

The fixture ``fixtures/fact_bind_equivalence.json`` was recorded with the fact
binder as it was before its per-row fast path; the folders are generated here
from fixed seeds: deals, collections and two kinds of the plan's own (rebates,
with a percent and a count, and clawbacks, which refer to rebates), many clean
rows and many messy ones (bad numbers, dates, booleans, percents, empty required
cells, whitespace, duplicate keys, unknown payees, dangling references, ragged
rows, Chinese text, credit splits). Every diagnostic is compared word for word,
the bound values and rejected rows through a hash of their full dump, and the
data digest byte for byte.

Regenerate (only when an output is meant to change) with
``python tests/data/test_fact_bind_equivalence.py --regenerate``.
"""

from __future__ import annotations

import json
import random
import sys
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_bind_equivalence import _compact_json, _diagnostic, _sha, _tables_dump

import kpidsl
from kpidsl.data.bind import bind_result, summarize
from kpidsl.data.csvread import read_folder
from kpidsl.data.digest import _fact_lines, _mapping, decimal_text
from kpidsl.data.model import Dataset, Fact, RowRef

FIXTURE = Path(__file__).parent / "fixtures" / "fact_bind_equivalence.json"

PLAN = """\
plan "Fact equivalence" {
  currency CNY
  period quarter
  rounding half_up 0.01
  effective 2026-01-01
}

fact deal {
  is_new_customer: bool
  margin: percent
  seats: count
  region: text
}

fact rebate { key id  date paid_on  deal: deal  amount: money  rate: percent  payee: payee }

fact clawback { key id  date taken_on  rebate: rebate  amount: money }

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
metric collected_won: money =
  sum collection.amount where collection.deal.stage == "won" and collection.received_on in period
metric rebated: money = sum rebate.amount where rebate.paid_on in period

payout commission: money = bookings * 2% + collected_won * 1% - rebated * 1%
"""

# (seed, rows per fact table, options)
CASES: dict[str, tuple[int, int, dict[str, Any]]] = {
    "messy": (11, 300, {}),
    "messy-crlf-bom": (12, 200, {"newline": "\r\n", "bom": True}),
    "no-rebates-table": (13, 150, {"drop": ("rebates",)}),
    "mostly-clean": (14, 2000, {"messy": 0.01}),
    "credits": (15, 200, {"credits": True, "messy": 0.05}),
    "gb18030-ragged": (16, 150, {"encoding": "gb18030", "messy": 0.3}),
}

_HANZI = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁"
_STAGES = ("won", "open", "lost", "won", "won", " won", "Won", "赢单")
_PRODUCTS = ("Edge", "Security", "云服务", "", " Edge ")


def _pick(rng: random.Random, clean: str, messy: float, bad: list[str]) -> str:
    return rng.choice(bad) if rng.random() < messy else clean


def _q(cell: str) -> str:
    return f'"{cell}"' if any(c in cell for c in ',"\n') or cell != cell.strip() else cell


def _line(cells: list[str]) -> str:
    return ",".join(_q(c) if '"' not in c else '"' + c.replace('"', '""') + '"' for c in cells)


def _money(rng: random.Random) -> str:
    return rng.choice((f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}", str(rng.randint(1, 500)),
                       f"{rng.randint(1, 99)},{rng.randint(100, 999)}.5", f"-{rng.randint(1, 99)}.00",
                       "1.50", "0"))


def _date(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


BAD_MONEY = ["12,3O0.00", "abc", "1.2.3", "١٢٣", "１２３", "1e5", "NaN", "  ", "$5", "--1", "12 000"]
BAD_DATE = ["2026-13-01", "2026/07/01", "01-07-2026", "2026-02-30", "tomorrow", "２０２６-０１-０１"]
BAD_BOOL = ["maybe", "2", "是", "TRUE ", "yes!"]
BAD_PERCENT = ["65", "150", "abc%", "12,5%", "-300", "0.5%%"]
BAD_COUNT = ["1.5", "-", "x", "3.0", "一"]


def _deals(rng: random.Random, n: int, ids: list[str], messy: float) -> tuple[list[str], list[str]]:
    lines = ["id,payee,amount,stage,signed_on,customer,product,is_new_customer,margin,seats,region"]
    keys: list[str] = []
    for i in range(n):
        key = _pick(rng, f"D{i:05d}", messy / 3, [f"D{max(i - 1, 0):05d}", "", " D00001", f"单{i}"])
        keys.append(key)
        cells = [
            key,
            _pick(rng, rng.choice(ids), messy / 2, ["", "nobody", " p001", "P001", "张三"]),
            _pick(rng, _money(rng), messy, [*BAD_MONEY, ""]),
            rng.choice(_STAGES),
            _pick(rng, _date(rng), messy, [*BAD_DATE, ""]),
            rng.choice(("c1", "c2", "", f"客户{rng.choice(_HANZI)}", " c3")),
            rng.choice(_PRODUCTS),
            _pick(rng, rng.choice(("true", "false", "TRUE", "0", "1", "yes", "no")), messy,
                  [*BAD_BOOL, ""]),
            _pick(rng, rng.choice(("65%", "0.65", "1", "-0.5", "12.5%", "0")), messy,
                  [*BAD_PERCENT, ""]),
            _pick(rng, str(rng.randint(0, 300)), messy, [*BAD_COUNT, ""]),
            _pick(rng, rng.choice(("east", "west", "华东", " north")), messy, ["", " "]),
        ]
        if rng.random() < messy / 4:
            cells = cells[: rng.randint(1, len(cells) - 1)] if rng.random() < 0.5 else [*cells, "x"]
        lines.append(_line(cells))
    return lines, keys


def _collections(rng: random.Random, n: int, ids: list[str], deals: list[str],
                 messy: float) -> list[str]:
    lines = ["id,deal,payee,amount,received_on"]
    for i in range(n):
        cells = [
            _pick(rng, f"C{i:05d}", messy / 3, [f"C{max(i - 1, 0):05d}", ""]),
            _pick(rng, rng.choice(deals) or "D00000", messy / 2, ["D99999", "", "不存在"]),
            _pick(rng, rng.choice(ids), messy / 2, ["ghost", ""]),
            _pick(rng, _money(rng), messy, [*BAD_MONEY, ""]),
            _pick(rng, _date(rng), messy, [*BAD_DATE, ""]),
        ]
        if rng.random() < messy / 4:
            cells = cells[:-1]
        lines.append(_line(cells))
    return lines


def _rebates(rng: random.Random, n: int, ids: list[str], deals: list[str],
             messy: float) -> tuple[list[str], list[str]]:
    lines = ["paid_on,id,deal,amount,rate,payee,note"]  # columns out of order, an extra one
    keys = []
    for i in range(n):
        key = _pick(rng, f"R{i:04d}", messy / 3, ["R0000", ""])
        keys.append(key)
        lines.append(_line([
            _pick(rng, _date(rng), messy, [*BAD_DATE, ""]),
            key,
            _pick(rng, rng.choice(deals) or "D00000", messy / 2, ["D99999", "", "nope"]),
            _pick(rng, _money(rng), messy, [*BAD_MONEY, ""]),
            _pick(rng, rng.choice(("5%", "0.05")), messy, [*BAD_PERCENT, ""]),
            _pick(rng, rng.choice(ids), messy / 2, ["ghost", ""]),
            rng.choice(("", "备注", "note, with comma")),
        ]))
    return lines, keys


def _clawbacks(rng: random.Random, n: int, rebates: list[str], messy: float) -> list[str]:
    lines = ["id,taken_on,rebate,amount"]
    for i in range(n):
        lines.append(_line([
            _pick(rng, f"K{i:04d}", messy / 3, ["K0000", ""]),
            _pick(rng, _date(rng), messy, BAD_DATE),
            _pick(rng, rng.choice(rebates) or "R0000", messy, ["R9999", "", "R0000"]),
            _pick(rng, _money(rng), messy, BAD_MONEY),
        ]))
    return lines


def _credits(rng: random.Random, n: int, ids: list[str], deals: list[str]) -> list[str]:
    lines = ["kind,fact,payee,share,credit_type"]
    for deal in rng.sample([d for d in deals if d], min(n, len([d for d in deals if d]))):
        a, b = rng.sample(ids, 2)
        first = rng.choice(("60%", "50%", "0.4", "70%"))
        rest = {"60%": "40%", "50%": "50%", "0.4": "0.6", "70%": "20%"}[first]  # 70/20: not 100%
        lines.append(_line(["deal", deal, a, first, "split"]))
        lines.append(_line(["deal", deal, b, rest, "split"]))
        if rng.random() < 0.2:
            lines.append(_line(["deal", deal, rng.choice([*ids, "ghost"]), "10%", "overlay"]))
    lines.append(_line(["deal", "D99999", ids[0], "100%", "split"]))
    return lines


def write_folder(folder: Path, seed: int, n: int, options: dict[str, Any]) -> None:
    rng = random.Random(seed)
    messy = options.get("messy", 0.2)
    ids = [f"p{i:03d}" for i in range(40)] + ["张三"]
    payees = ["id,name,role,region,manager"] + [
        f"{p},{'名' + p if i % 3 else 'Person ' + p},AE,east," for i, p in enumerate(ids)
    ]
    deals, deal_keys = _deals(rng, n, ids, messy)
    rebates, rebate_keys = _rebates(rng, n // 3, ids, deal_keys, messy)
    tables = {
        "payees": payees,
        "deals": deals,
        "collections": _collections(rng, n // 2, ids, deal_keys, messy),
        "rebates": rebates,
        "clawbacks": _clawbacks(rng, n // 5, rebate_keys, messy),
    }
    if options.get("credits"):
        tables["credits"] = _credits(rng, n // 10, ids, deal_keys)
    for name in options.get("drop", ()):
        del tables[name]
    newline = options.get("newline", "\n")
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in tables.items():
        data = (newline.join(lines) + newline).encode(options.get("encoding", "utf-8"))
        if options.get("bom"):
            data = b"\xef\xbb\xbf" + data
        (folder / f"{name}.csv").write_bytes(data)


def _dataset_dump(data: Dataset) -> list[Any]:
    def value(v: Any) -> str:
        return f"{type(v).__name__}:{decimal_text(v) if type(v).__name__ == 'Decimal' else v}"

    return [
        [[p.id, p.name, sorted(p.attrs.items()), [p.ref.file, p.ref.line]] for p in data.payees],
        {k: [[f.kind, f.key, [[n, value(v)] for n, v in f.values.items()],
              [f.ref.file, f.ref.line]] for f in fs] for k, fs in sorted(data.facts.items())},
        [[c.kind, c.fact, c.payee, c.type, repr(c.share), [c.ref.file, c.ref.line]]
         for c in data.credits],
    ]


def outputs(folder: Path) -> dict[str, Any]:
    plan = kpidsl.loads(PLAN, "plan.kpi")
    tables, read_diags = read_folder(folder, "data")
    result = bind_result(plan.model, dict(tables))
    summary = summarize(plan.model, dict(tables), result, read_diags)
    return {
        "read_diagnostics": [_diagnostic(d) for d in read_diags],
        "bind_diagnostics": [_diagnostic(d) for d in result.diagnostics],
        "tables_sha256": _sha(_tables_dump(dict(tables))),
        "dataset_sha256": _sha(_dataset_dump(result.dataset)),
        "rejected_sha256": _sha(sorted([r.file, r.line] for r in result.rejected)),
        "summary": [[s.file, s.rows_read, s.rows_accepted, s.rows_rejected] for s in summary],
        "facts": sorted([k, len(v)] for k, v in result.dataset.facts.items()),
        "digest": result.dataset.digest,
    }


def _recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_binding_facts_reproduces_the_recorded_outputs(case: str, tmp_path: Path) -> None:
    seed, n, options = CASES[case]
    write_folder(tmp_path / "data", seed, n, options)
    got = outputs(tmp_path / "data")
    want = _recorded()[case]
    assert got["read_diagnostics"] == want["read_diagnostics"]
    assert got["bind_diagnostics"] == want["bind_diagnostics"]
    assert got == want


def test_the_cases_are_messy_enough() -> None:
    """The fixture exercises the careful paths: many distinct codes, rows rejected, and
    most rows of the mostly-clean case accepted (the fast path)."""
    recorded = _recorded()
    codes = {d[0] for case in recorded.values() for d in case["bind_diagnostics"]}
    assert len(codes) >= 8, codes
    assert any(case["read_diagnostics"] for case in recorded.values())
    clean = dict(recorded["mostly-clean"]["facts"])
    assert clean["deal"] > 1800


def _regenerate(work: Path) -> None:
    recorded = {}
    for case, (seed, n, options) in sorted(CASES.items()):
        write_folder(work / case, seed, n, options)
        recorded[case] = outputs(work / case)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    text = _compact_json(recorded)
    FIXTURE.write_text(text, encoding="utf-8")
    print(f"wrote {FIXTURE} ({len(text):,} characters)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python tests/data/test_fact_bind_equivalence.py --regenerate")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _regenerate(Path(tmp))


# -- the digest's column-by-column fact lines agree with the row-by-row text ------------

_VALUES = (
    st.none() | st.booleans() | st.text(max_size=8) | st.dates()
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.builds(lambda d, e: d.scaleb(e), st.decimals(allow_nan=False, allow_infinity=False),
                st.integers(-30, 30))
)


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b%", 'c"', "中"]), _VALUES, min_size=0,
                                max_size=4), max_size=6),
       st.sampled_from(["deal", "odd%kind"]))
def test_fact_lines_are_the_row_by_row_text(rows: list[dict[str, Any]], kind: str) -> None:
    facts = [Fact(kind, f"k{i}", values, RowRef("t.csv", i + 2)) for i, values in enumerate(rows)]
    enc = encode_basestring
    want = "".join(f'["fact",{enc(kind)},{enc(f.key)},{_mapping(f.values)}]\n' for f in facts)
    assert "".join(_fact_lines(kind, facts)) == want


@given(st.lists(_VALUES, min_size=1, max_size=6))
def test_fact_lines_of_one_layout(column: list[Any]) -> None:
    facts = [Fact("deal", f"k{i}", {"x": v, "y": column[0]}, RowRef("t.csv", i + 2))
             for i, v in enumerate(column)]
    enc = encode_basestring
    want = "".join(f'["fact","deal",{enc(f.key)},{_mapping(f.values)}]\n' for f in facts)
    assert "".join(_fact_lines("deal", facts)) == want
