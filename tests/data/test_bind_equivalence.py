"""Reading and binding the small tables gives exactly the recorded outputs.

The fixture ``fixtures/bind_equivalence.json`` was recorded with the reader and
binders as they were before they were made faster; the folders are generated
here from fixed seeds, with many clean rows and many messy ones (bad ids,
unknown managers, duplicate payees, manager cycles, bad targets, whitespace,
BOM, CRLF, GB18030, Chinese names, quoted line breaks, ragged rows, ...).
Every diagnostic is compared word for word (code, severity, message, spans,
labels, notes, help, order), the bound values and rejected rows through a
hash of their full dump, and the data digest byte for byte.

Regenerate (only when an output is meant to change) with
``python tests/data/test_bind_equivalence.py --regenerate``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kpidsl
from kpidsl.data.bind import bind_result, summarize
from kpidsl.data.csvread import _records_by_line, _single_line_records, read_folder
from kpidsl.data.digest import decimal_text
from kpidsl.data.model import Dataset, RawTable
from kpidsl.diagnostics import Diagnostic, Label
from kpidsl.source import Span

FIXTURE = Path(__file__).parent / "fixtures" / "bind_equivalence.json"

PLAN = """\
plan "Equivalence" {
  currency CNY
  period quarter
  rounding half_up 0.01
  effective 2026-01-01
}

fact deal {
  new_customer: bool
}

input collaboration: percent
input start_day: date
input eligible: bool
input note: text
input quota: money
input headcount: count

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric new_logos: count = count deal where deal.stage == "won" and deal.signed_on in period
metric collected: money = sum collection.amount where collection.received_on in period
metric collection_rate: percent = collected / bookings else 0%

payout commission: money = bookings * 2%
payout spiff: money = new_logos * 500
"""

# (seed, rows per table, options)
CASES: dict[str, tuple[int, int, dict[str, Any]]] = {
    "plain-lf": (1, 120, {}),
    "bom-crlf": (2, 120, {"bom": True, "newline": "\r\n"}),
    "gb18030-excel": (3, 100, {"encoding": "gb18030", "excel_column": True}),
    "extra-columns-cr": (4, 100, {"newline": "\r", "extra_column": True}),
    "mostly-clean": (5, 1500, {"messy": 0.01}),
}

_HANZI = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁"
_REGIONS = ("east", "west", "north", "south", "华东", " east ")
_ROLES = ("AE", "SE", "AM", "manager", "")


def _name(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.4:
        return "".join(rng.choice(_HANZI) for _ in range(rng.randint(2, 3)))
    if pick < 0.5:
        return ""
    if pick < 0.55:
        return f'"Smith, J{rng.randint(0, 9)}"'  # a quoted comma
    if pick < 0.58:
        return '"two\nlines"'  # a quoted line break
    return f"Person {rng.randint(0, 999)}"


def _payees(rng: random.Random, n: int, messy: float) -> tuple[list[str], list[str]]:
    ids = [f"p{i:04d}" for i in range(n)]
    lines = ["id,name,role,region,manager,team"]
    for i, pid in enumerate(ids):
        manager = ids[rng.randrange(i)] if i and rng.random() < 0.8 else ""
        cells = [pid, _name(rng), rng.choice(_ROLES), rng.choice(_REGIONS), manager,
                 rng.choice(("", "华东大区", "team a"))]
        if rng.random() < messy:
            kind = rng.randrange(9)
            if kind == 0:
                cells[0] = rng.choice(("", "  "))  # empty id
            elif kind == 1:
                cells[0] = ids[rng.randrange(max(i, 1))]  # duplicate payee
            elif kind == 2:
                cells[4] = rng.choice(("ghost", "P0001", "p9999"))  # unknown manager
            elif kind == 3:
                cells[4] = pid  # own manager
            elif kind == 4 and i > 2:
                cells[4] = ids[i + 1] if i + 1 < n else ids[0]  # a cycle through later rows
            elif kind == 5:
                cells = cells[:4]  # ragged: fewer cells
            elif kind == 6:
                cells = [*cells, "x"]  # ragged: more cells
            elif kind == 7:
                cells = [f"  {c}\t" for c in cells]  # whitespace around every cell
            else:
                lines.append("")  # a blank line (skipped, counted)
        lines.append(",".join(cells))
    return lines, ids


_PERIODS = ("2026-Q3", "2026-Q1", "2026-q2", "2026-Q4")
_BAD_PERIODS = ("2026-07", "2026", "2026-Q5", "Q3-2026", "２０２６-Q3", "2026-H1", "")
_NUMBERS = ("1000", "1,234.50", "1_000_000", "0.5", "-12.00", "993050", "+7", "1.50")
_BAD_NUMBERS = ("12,3O0.00", "1e5", "nan", "１２３", "١٢٣", "1,23", ".5", "5.", "abc", "")
_PERCENTS = ("65%", "0.65", "100 %", "-0.2", "1")
_BAD_PERCENTS = ("65", "150", "x%", "６５%", "1e2%")
_METRICS = ("bookings", "new_logos", "collected", "collection_rate")


def _value_for(metric: str, rng: random.Random) -> str:
    if metric == "collection_rate":
        return rng.choice(_PERCENTS)
    if metric == "new_logos":
        return rng.choice(("3", "3.0", "12", "1_200"))
    return rng.choice(_NUMBERS)


def _targets(rng: random.Random, n: int, ids: list[str], messy: float) -> list[str]:
    lines = ["payee,metric,period,value"]
    keys = [(p, m, q) for p in ids for m in _METRICS for q in _PERIODS]
    for key in rng.sample(keys, min(n, len(keys))):
        payee, metric, period = key
        if rng.random() < messy / 4:
            payee = rng.choice(ids)  # may repeat a key: a duplicate target
        cells = [payee, metric, period, _value_for(metric, rng)]
        if rng.random() < messy:
            kind = rng.randrange(8)
            if kind == 0:
                cells[0] = rng.choice(("", "ghost", "P0001"))
            elif kind == 1:
                cells[1] = rng.choice(("", "revenue", "Bookings"))
            elif kind == 2:
                cells[2] = rng.choice(_BAD_PERIODS)
            elif kind == 3:
                cells[3] = rng.choice(_BAD_NUMBERS)
            elif kind == 4:
                cells[1], cells[3] = "collection_rate", rng.choice(_BAD_PERCENTS)
            elif kind == 5:
                cells[1], cells[3] = "new_logos", rng.choice(("3.5", "-0.1", "2e1"))
            elif kind == 6:
                cells = [f" {c} " for c in cells]
            else:
                cells = cells[:3]
        lines.append(",".join(_quote(c) for c in cells))
    return lines


def _quote(cell: str) -> str:
    return f'"{cell}"' if "," in cell and not cell.startswith('"') else cell


def _history(rng: random.Random, n: int, ids: list[str], messy: float) -> list[str]:
    lines = ["payee,attribute,value,effective_from"]
    for _ in range(n):
        attribute = rng.choice(("manager", "region", "role", "team"))
        value = rng.choice(ids) if attribute == "manager" else rng.choice(_REGIONS + _ROLES)
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        cells = [rng.choice(ids), attribute, value, day]
        if rng.random() < messy:
            kind = rng.randrange(6)
            if kind == 0:
                cells[0] = rng.choice(("", "ghost"))
            elif kind == 1:
                cells[1] = rng.choice(("", "id", "name"))
            elif kind == 2:
                cells[1], cells[2] = "manager", rng.choice(("ghost", cells[0], ""))
            elif kind == 3:
                cells[3] = rng.choice(("2026-02-30", "2026/07/01", "", "２０２６-07-01"))
            elif kind == 4:
                cells[3] = "2026-07-01"  # likely duplicates on the same day
            else:
                cells[1], cells[2], cells[3] = "manager", rng.choice(ids), "2026-05-01"
        lines.append(",".join(cells))
    return lines


_INPUT_VALUES = {
    "collaboration": _PERCENTS,
    "start_day": ("2026-07-01", "2026-12-31"),
    "eligible": ("yes", "No", "TRUE", "0"),
    "note": ("good", "需要复核", '"a, b"', "x"),
    "quota": _NUMBERS,
    "headcount": ("3", "3.0", "1_000"),
}
_BAD_INPUT_VALUES = {
    "collaboration": _BAD_PERCENTS,
    "start_day": ("2026-02-29", "07/01/2026", "２０２６-07-01"),
    "eligible": ("maybe", "１", "2"),
    "note": ("",),
    "quota": _BAD_NUMBERS,
    "headcount": ("2.5", "1e3", "-"),
}


def _inputs(rng: random.Random, n: int, ids: list[str], messy: float) -> list[str]:
    lines = ["payee,name,period,value"]
    names = list(_INPUT_VALUES)
    for _ in range(n):
        name = rng.choice(names)
        value = rng.choice(_INPUT_VALUES[name])
        cells = [rng.choice(ids), name, rng.choice(_PERIODS), _quote(value)]
        if rng.random() < messy:
            kind = rng.randrange(5)
            if kind == 0:
                cells[0] = rng.choice(("", "ghost"))
            elif kind == 1:
                cells[1] = rng.choice(("", "bonus_pool"))
            elif kind == 2:
                cells[2] = rng.choice(_BAD_PERIODS)
            elif kind == 3:
                cells[3] = _quote(rng.choice(_BAD_INPUT_VALUES[name]))
            else:
                cells[2] = "2026-Q3"  # likely a duplicate input value
        lines.append(",".join(cells))
    return lines


def _payments(rng: random.Random, n: int, ids: list[str], messy: float) -> list[str]:
    lines = ["payee,component,period,amount"]
    for _ in range(n):
        cells = [rng.choice(ids), rng.choice(("commission", "spiff")), rng.choice(_PERIODS),
                 _quote(rng.choice(_NUMBERS))]
        if rng.random() < messy:
            kind = rng.randrange(4)
            if kind == 0:
                cells[0] = rng.choice(("", "ghost"))
            elif kind == 1:
                cells[1] = rng.choice(("", "bonus"))
            elif kind == 2:
                cells[2] = rng.choice(_BAD_PERIODS)
            else:
                cells[3] = _quote(rng.choice(_BAD_NUMBERS))
        lines.append(",".join(cells))
    return lines


def write_folder(folder: Path, seed: int, n: int, options: dict[str, Any]) -> None:
    """A generated data folder: payees, payee_history, targets, inputs, payments."""
    rng = random.Random(seed)
    messy = options.get("messy", 0.25)
    payees, ids = _payees(rng, n, messy)
    tables = {
        "payees": payees,
        "targets": _targets(rng, 2 * n, ids, messy),
        "payee_history": _history(rng, n // 2, ids, messy),
        "inputs": _inputs(rng, n, ids, messy),
        "payments": _payments(rng, n // 2, ids, messy),
    }
    if options.get("excel_column"):
        tables["targets"] = [line + ("," if line else "") for line in tables["targets"]]
    if options.get("extra_column"):
        tables["inputs"] = [
            line + ("," + ("comment" if i == 0 else "c"))
            for i, line in enumerate(tables["inputs"])
        ]
    newline = options.get("newline", "\n")
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in tables.items():
        text = newline.join(lines) + newline
        data = text.encode(options.get("encoding", "utf-8"))
        if options.get("bom"):
            data = b"\xef\xbb\xbf" + data
        (folder / f"{name}.csv").write_bytes(data)


# -- recording the outputs ---------------------------------------------------------------


def _span(span: Span) -> list[Any]:
    return [span.file, span.line, span.col, span.end_line, span.end_col]


def _label(label: Label) -> list[Any]:
    return [_span(label.span), label.message]


def _diagnostic(d: Diagnostic) -> list[Any]:
    """code, severity, message, primary label, secondary labels, notes, help."""
    secondary = [_label(s) for s in d.secondary]
    return [d.code, d.severity, d.message, _label(d.primary), secondary, list(d.notes), d.help]


def _tables_dump(tables: dict[str, RawTable]) -> list[Any]:
    return [
        [t.name, t.file, list(t.header), t.header_line,
         [[r.ref.file, r.ref.line, list(r.cells), list(r.cols)] for r in t.rows]]
        for t in (tables[k] for k in sorted(tables))
    ]


def _dataset_dump(data: Dataset) -> list[Any]:
    def ref(row: Any) -> list[Any]:
        return [row.ref.file, row.ref.line]

    return [
        [[p.id, p.name, sorted(p.attrs.items()), ref(p)] for p in data.payees],
        [[h.payee, h.attribute, h.value, h.effective_from.isoformat(), ref(h)]
         for h in data.history],
        [[t.payee, t.metric, t.period, repr(t.value), ref(t)] for t in data.targets],
        [[i.payee, i.name, i.period, repr(i.value), ref(i)] for i in data.inputs],
        [[p.payee, p.component, p.period, repr(p.amount), ref(p)] for p in data.payments],
        sorted((k, len(v)) for k, v in data.facts.items()),
    ]


def _sha(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def outputs(folder: Path) -> dict[str, Any]:
    """Everything reading and binding ``folder`` produces, in comparable JSON form."""
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
        "digest": result.dataset.digest,
    }


def _recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_reading_and_binding_reproduce_the_recorded_outputs(case: str, tmp_path: Path) -> None:
    seed, n, options = CASES[case]
    write_folder(tmp_path / "data", seed, n, options)
    got = outputs(tmp_path / "data")
    want = _recorded()[case]
    assert got["read_diagnostics"] == want["read_diagnostics"]
    assert got["bind_diagnostics"] == want["bind_diagnostics"]
    assert got == want


def test_the_cases_are_messy_enough() -> None:
    """The fixture exercises the careful paths: many distinct codes, rows rejected."""
    recorded = _recorded()
    codes = {d[0] for case in recorded.values() for d in case["bind_diagnostics"]}
    read_codes = {d[0] for case in recorded.values() for d in case["read_diagnostics"]}
    assert len(codes) >= 10, codes
    assert read_codes, "no read diagnostic (ragged rows, encoding) in any case"
    assert any(case["bind_diagnostics"] for case in recorded.values())


def _compact_json(recorded: dict[str, Any]) -> str:
    """One line per diagnostic, so a change shows as a readable diff."""
    out = ["{"]
    for n, (case, got) in enumerate(sorted(recorded.items())):
        out.append(f"{json.dumps(case)}: {{")
        for m, (key, value) in enumerate(sorted(got.items())):
            comma = "," if m < len(got) - 1 else ""
            if isinstance(value, list):
                items = [json.dumps(v, ensure_ascii=False) for v in value]
                body = ",\n".join(f"   {i}" for i in items)
                out.append(f"  {json.dumps(key)}: [\n{body}\n  ]{comma}" if items
                           else f"  {json.dumps(key)}: []{comma}")
            else:
                out.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
        out.append("}," if n < len(recorded) - 1 else "}")
    out.append("}")
    return "\n".join(out) + "\n"


# -- the fast paths agree with the careful ones -----------------------------------------


@given(st.text(alphabet=',"ab 中\t\r\n\x00\x0b\x85\u2028\u3000', max_size=60))
def test_reading_whole_lines_agrees_with_reading_record_by_record(text: str) -> None:
    """Whenever the one-call read is taken, it finds the records and lines the careful
    record-by-record read finds (and it gives way whenever the careful read reports)."""
    fast = _single_line_records(text)
    careful, diags = _records_by_line(text, "t.csv")
    if fast is not None:
        assert diags == []
        assert (fast.lines, fast.cells) == (careful.lines, careful.cells)


def test_reading_gives_way_on_quoted_line_breaks_and_errors() -> None:
    assert _single_line_records('a,b\n"x\ny",z\n') is None  # line numbers differ
    assert _single_line_records('a,b\n"x"y,z\n') is None  # malformed: the careful read words it
    assert _single_line_records("a,b\n\ncd,e\r\n") is not None


@given(
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.builds(lambda d, e: d.scaleb(e), st.decimals(allow_nan=False, allow_infinity=False),
                st.integers(-30, 30))
)
def test_decimal_text_is_the_fixed_point_format(value: Decimal) -> None:
    assert decimal_text(value) == f"{value:f}"


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
        sys.exit("usage: python tests/data/test_bind_equivalence.py --regenerate")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _regenerate(Path(tmp))
