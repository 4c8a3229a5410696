"""``kpidsl validate --format json`` and ``kpidsl eval --format json`` do not depend on the
order of the data rows: a messy folder (rejected cells, ragged and duplicate rows, dangling
and rejected references, credits, a manager cycle, a file not read, a file whose read a
malformed record stopped) with its rows shuffled gives the same report on both engines,
once the line numbers (which legitimately move with the rows) are normalised; the list of
problems is compared as a multiset (it is in line order)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from kpidsl.cli import main

pytest.importorskip("duckdb")

PLAN = """plan "t" {
  currency CNY
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric x_cash: money =
  sum collection.amount where collection.deal.product == "X" and collection.received_on in period
payout c: money = x_cash * 1% + bookings * 2%
"""
# no error, so that eval pays: references the plan does not read through are warnings
PLAN_WARN = """plan "w" {
  currency CNY
  period quarter
}

metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period
metric cash: money = sum collection.amount where collection.received_on in period
payout c: money = cash * 1% + bookings * 2%
"""
HEAD = {"payees": "id,name,role,region,manager", "deals": "id,payee,amount,stage,signed_on,product",
        "collections": "id,deal,payee,amount,received_on", "credits": "kind,fact,payee,share"}
D05 = "D05,dan,505,won,2026-09-15,Y"


def _rows() -> dict[str, list[str]]:
    payees = ["ann,Ann,AE,east,", "bob,Bob,AE,east,ann", "cat,Cat,AE,west,ghost", "dan,Dan,SE,west,bob",
              "eve,Eve,AE,east,fay", "fay,Fay,AE,east,gus", "gus,Gus,AE,east,eve", "hal,Hal,AE,east,hal"]
    deals = [f"D{i:02d},{('ann', 'bob', 'dan')[i % 3]},{100 * i + 5},won,2026-0{7 + i % 3}-1{i % 9},{'XY'[i % 2]}"
             for i in range(1, 21)]
    deals += ["B01,ann,25x0,won,2026-07-01,X", "B02,zoe,10,won,2026-07-02,X", "B03,ann,,won,2026-07-03,X",
              "B04,ann,10,won,2026-07-04,X,extra", "B05,bob,10,Won,2026-07-05,X", "B06,dan,10,won,2026-13-01,X",
              D05, "B07,ann", "B08,cat,7,won,2026-08-08,X"]  # D05 repeated as it is: either row may be first
    colls = [f"C{i:02d},D{i:02d},ann,{10 * i},2026-08-0{1 + i % 9}" for i in range(1, 16)]
    colls += ["K01,B01,ann,5,2026-08-01", "K02,B04,ann,5,2026-08-02", "K03,D99,bob,5,2026-08-03",
              "K04,D98,bob,5,2026-08-03", "K05,B07,ann,5,2026-08-03", "K06,D01,ann,5x,2026-08-03",
              "K07,,ann,5,2026-08-03", "K08,B06,ann,5,2026-08-03", "K09,D97,zed,5,2026-08-03"]
    credits = ["deal,D01,ann,50%", "deal,D01,bob,50%", "deal,D02,ann,60%", "deal,D02,bob,30%",
               "deal,D03,ann,70%", "deal,D03,dan,70%", "deal,B01,ann,100%", "deal,D96,ann,100%",
               "deal,D04,zed,100%", "deal,D07,ann,0%", "deal,D08,ann,100%", "deal,D08,ann,100%"]
    return {"payees": payees, "deals": deals, "collections": colls, "credits": credits}


def _warnings_only() -> dict[str, list[str]]:
    rows = _rows()
    return {"payees": [p.replace("ghost", "") for p in rows["payees"][:4]],
            "deals": list(dict.fromkeys(d for d in rows["deals"] if d.startswith(("D", "B05")))),
            "collections": [c for c in rows["collections"] if c.startswith(("C", "K01", "K03", "K04"))],
            "credits": ["deal,D01,ann,50%", "deal,D01,bob,50%", "deal,D08,ann,100%", "deal,D09,dan,100%"]}


def _write(folder: Path, case: str, seed: int | None) -> None:
    data = folder / "data"
    data.mkdir(parents=True)
    (folder / "plan.kpi").write_text(PLAN_WARN if case == "warnings" else PLAN, encoding="utf-8")
    for name, body in (_warnings_only() if case == "warnings" else _rows()).items():
        if seed is not None and not (case == "cut" and name == "deals"):
            random.Random(f"{seed}{name}").shuffle(body)
        if case == "cut" and name == "deals":  # the rows after it are not read: D16-D20, B..
            body.insert(15, 'D00,ann,"90"00,won,2026-07-11,X')
        text = "\n".join([HEAD[name], *body]) + "\n"
        (data / f"{name}.csv").write_bytes(text.encode("utf-16" if case == name else "utf-8"))


_LINES = re.compile(r"\b(lines?) \d+(?:-\d+)?(?:, \d+(?:-\d+)?)*")


def _normal(x: Any) -> Any:
    """Line numbers out (``line``, ``end_line``, ``line 3``, ``lines 2-5, 7``, ``deals.csv:6:1``);
    lists sorted (the problems are in line order)."""
    if isinstance(x, dict):
        return {k: 0 if k in ("line", "end_line") and isinstance(v, int) else _normal(v) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((_normal(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(x, str):
        return re.sub(r"(\.csv):\d+:", r"\1:N:", _LINES.sub(r"\1 N", x))
    return x


def _outputs(folder: Path, engine: str, monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    monkeypatch.chdir(folder)
    main(["validate", "--data", "data", "--plan", "plan.kpi", "--format", "json", "--engine", engine])
    validate = capsys.readouterr().out
    main(["eval", "plan.kpi", "--data", "data", "--period", "2026-Q3", "--format", "json", "--engine", engine])
    evaluated = capsys.readouterr().out
    return (json.dumps(_normal(json.loads(validate)), sort_keys=True, indent=1),
            json.dumps(_normal(json.loads(evaluated)), sort_keys=True, indent=1))


@pytest.mark.parametrize("case", ["errors", "warnings", "deals", "payees", "credits", "cut"])
def test_shuffled_rows_give_the_same_reports(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``case``: the messy folder with errors; with warnings only (eval pays); with deals,
    payees or credits saved as UTF-16 (not read); with a malformed deal row (the read stops)."""
    _write(tmp_path / "base", case, None)
    base = _outputs(tmp_path / "base", "reference", monkeypatch, capsys)
    assert '"problems"' in base[0] and '"data_digest"' in base[1]
    if case == "warnings":
        assert '"total": "136.75"' in base[1]  # ann is paid
    for seed in (1, 2, 3):
        folder = tmp_path / f"s{seed}"
        _write(folder, case, seed)
        for engine in ("reference", "columnar"):
            got = _outputs(folder, engine, monkeypatch, capsys)
            assert got[0] == base[0], (seed, engine, "validate")
            assert got[1] == base[1], (seed, engine, "eval")


def test_the_cut_case_says_not_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "cut", 1)
    validate = json.loads(_outputs(tmp_path, "reference", monkeypatch, capsys)[0])
    [cut] = [p for p in validate["problems"] if "collection rows" in p["message"]]
    assert cut["message"].startswith("6 collection rows refer to deal facts that could not be checked")
    assert cut["message"].endswith("data/deals.csv was read only up to line N (see its error)")
