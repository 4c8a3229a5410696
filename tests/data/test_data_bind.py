"""Binding raw tables to a plan: typing, validation and the report of every rejected row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from datahelp import PAYEES, bind_texts, codes_of, make_model, only, table

from kpidsl import ast
from kpidsl.data import codes
from kpidsl.data.bind import bind, bind_result, summarize
from kpidsl.data.csvread import read_folder
from kpidsl.data.model import RawTable

DEAL_HEADER = "id,payee,amount,stage,signed_on,customer,product,new_customer\n"


def deals(*rows: str) -> dict[str, str]:
    return {"deals": DEAL_HEADER + "".join(r + "\n" for r in rows)}


def test_good_deals_are_typed() -> None:
    result = bind_texts(deals('D1,alice,"1,234.50",won,2026-07-10,,CloudSuite,yes'))
    assert result.diagnostics == ()
    (fact,) = result.dataset.facts["deal"]
    assert fact.key == "D1"
    assert fact.values == {
        "id": "D1",
        "payee": "alice",
        "amount": Decimal("1234.50"),
        "stage": "won",
        "signed_on": dt.date(2026, 7, 10),
        "customer": None,
        "product": "CloudSuite",
        "new_customer": True,
    }
    assert fact.ref.line == 2
    assert result.dataset.facts["collection"] == ()


def test_bad_amount_names_file_line_column_value_and_reason() -> None:
    result = bind_texts(
        deals(
            "D1,alice,10,won,2026-07-10,c,p,no",
            'D2,alice,"12,3O0.00",won,2026-07-10,c,p,no',
        )
    )
    diag = only(result.diagnostics, codes.INVALID_VALUE)
    assert diag.message == (
        "invalid amount '12,3O0.00' in data/deals.csv line 3, column amount: not a decimal number"
    )
    assert (diag.span.file, diag.span.line, diag.span.col) == ("data/deals.csv", 3, 3)
    assert [f.key for f in result.dataset.facts["deal"]] == ["D1"]


def test_bad_date_and_bool_each_reported_and_the_row_rejected_once() -> None:
    result = bind_texts(deals("D1,alice,10,won,2026-02-30,c,p,maybe"))
    assert codes_of(result.diagnostics) == [codes.INVALID_VALUE, codes.INVALID_VALUE]
    assert "'2026-02-30'" in result.diagnostics[0].message
    assert "'maybe'" in result.diagnostics[1].message
    assert result.dataset.facts["deal"] == ()
    assert len(result.rejected) == 1


def _tables(files: dict[str, str]) -> dict[str, RawTable]:
    return {n: table(n, t) for n, t in {"payees": PAYEES, **files}.items()}


def test_unknown_payee_is_an_error() -> None:
    result = bind_texts(deals("D1,zed,10,won,2026-07-10,c,p,no"))
    diag = only(result.diagnostics, codes.UNKNOWN_PAYEE)
    assert "'zed'" in diag.message and diag.severity == "error"
    assert result.dataset.facts["deal"] == ()


def test_empty_required_value_but_optional_customer_and_product() -> None:
    result = bind_texts(deals("D1,alice,10,,2026-07-10,,,no"))
    diag = only(result.diagnostics, codes.EMPTY_REQUIRED)
    assert "empty stage" in diag.message
    result = bind_texts(deals("D1,alice,10,won,2026-07-10,,,no"))
    assert result.diagnostics == ()


def test_duplicate_key_cites_the_first_and_every_later_duplicate_is_reported() -> None:
    result = bind_texts(
        deals(
            "D1,alice,10,won,2026-07-10,c,p,no",
            "D2,alice,10,won,2026-07-10,c,p,no",
            "D1,bob,20,won,2026-07-11,c,p,no",
            "D1,bob,30,won,2026-07-12,c,p,no",
        )
    )
    dups = [d for d in result.diagnostics if d.code == codes.DUPLICATE_KEY]
    assert [d.span.line for d in dups] == [4, 5]
    for d in dups:
        assert "first defined at data/deals.csv line 2" in d.message
        assert d.secondary[0].span.line == 2
    kept = {f.key: f.values["amount"] for f in result.dataset.facts["deal"]}
    assert kept == {"D1": Decimal(10), "D2": Decimal(10)}


def test_missing_required_column_is_one_error_at_the_header() -> None:
    result = bind_texts(
        {"deals": "id,payee,amount,signed_on\nD1,alice,1,2026-07-01\nD2,bob,2,2026-07-01\n"}
    )
    diag = only(result.diagnostics, codes.MISSING_COLUMN)
    assert diag.span.line == 1
    assert "stage" in diag.message and "new_customer" in diag.message
    assert "customer," not in diag.message  # optional columns may be left out
    assert len(result.rejected) == 2


def test_extra_columns_are_a_warning_once_per_file() -> None:
    text = "id,payee,amount,stage,signed_on,new_customer,colour,size\n"
    text += "D1,alice,1,won,2026-07-01,no,red,L\nD2,bob,2,won,2026-07-01,no,blue,M\n"
    result = bind_texts({"deals": text})
    diag = only(result.diagnostics, codes.EXTRA_COLUMNS)
    assert diag.severity == "warning"
    assert "colour, size" in diag.message
    assert len(result.dataset.facts["deal"]) == 2


def test_dangling_reference_is_a_warning_and_the_row_is_kept() -> None:
    files = {
        **deals("D1,alice,10,won,2026-07-10,c,p,no"),
        "collections": "id,deal,payee,amount,received_on\nC1,D1,alice,5,2026-07-20\nC2,D9,alice,5,2026-07-21\n",
    }
    result = bind_texts(files)
    diag = only(result.diagnostics, codes.DANGLING_REFERENCE)
    assert diag.severity == "warning"
    assert "'D9'" in diag.message and diag.span.line == 3
    assert [c.key for c in result.dataset.facts["collection"]] == ["C1", "C2"]


def test_plan_kind_file_is_bound_by_its_file_stem() -> None:
    text = "id,payee,minutes,happened_on,deal\nA1,bob,30,2026-07-01,D1\nA2,bob,2.5,2026-07-01,D1\n"
    result = bind_texts({**deals("D1,alice,10,won,2026-07-10,c,p,no"), "activities": text})
    assert "a count must be a whole number" in only(result.diagnostics, codes.INVALID_VALUE).message
    (act,) = result.dataset.facts["activity"]
    assert act.values["minutes"] == Decimal(30)


def test_rows_are_sorted_by_key_regardless_of_file_order() -> None:
    rows = [f"D{i},alice,{i},won,2026-07-10,c,p,no" for i in (3, 1, 2)]
    result = bind_texts(deals(*rows))
    assert [f.key for f in result.dataset.facts["deal"]] == ["D1", "D2", "D3"]
    assert [p.id for p in result.dataset.payees] == ["alice", "bob", "mia"]


def test_digest_is_independent_of_row_order_and_number_spelling() -> None:
    a = bind_texts(
        deals('D1,alice,"1,000.50",won,2026-07-10,c,p,no', "D2,bob,2,won,2026-07-10,c,p,yes")
    )
    b = bind_texts(
        deals("D2,bob,2,won,2026-07-10,c,p,true", "", "D1,alice,1000.50,won,2026-07-10,c,p,0")
    )
    c = bind_texts(
        deals("D2,bob,3,won,2026-07-10,c,p,true", "D1,alice,1000.50,won,2026-07-10,c,p,0")
    )
    assert a.dataset.digest == b.dataset.digest
    assert a.dataset.digest.startswith("sha256:")
    assert a.dataset.digest != c.dataset.digest


def test_payees_attributes_and_duplicates() -> None:
    text = "id,name,role,region,manager,team\nalice,Alice,AE,east,,华东\nbob,,AE,west,alice,\nalice,Again,SE,west,,\n"
    result = bind_texts({"payees": text})
    dup = only(result.diagnostics, codes.DUPLICATE_KEY)
    assert dup.span.line == 4 and "line 2" in dup.message
    alice, bob = result.dataset.payees
    assert alice.attrs == {"role": "AE", "region": "east", "manager": "", "team": "华东"}
    assert bob.name == "bob"  # an empty name falls back to the id


def test_unknown_manager_is_an_error() -> None:
    result = bind_texts({"payees": "id,manager\nalice,ghost\n"})
    diag = only(result.diagnostics, codes.UNKNOWN_MANAGER)
    assert "'ghost'" in diag.message and diag.severity == "error"


def test_manager_cycle_is_reported_once_naming_the_cycle() -> None:
    text = "id,manager\nc,a\na,b\nb,c\nd,a\ne,e\n"
    result = bind_texts({"payees": text})
    cycles = [d for d in result.diagnostics if d.code == codes.MANAGER_CYCLE]
    assert [d.message for d in cycles] == [
        "cycle in the manager hierarchy: a → b → c → a "
        "(each of them manages themselves through the others)",
        "e is their own manager (data/payees.csv line 6, column manager)",
    ]
    assert cycles[0].span.line == 3  # a's row
    assert [lab.message for lab in cycles[0].secondary] == [
        "data/payees.csv:4:2: b's manager is c",
        "data/payees.csv:2:2: c's manager is a",
    ]


HISTORY = "payee,attribute,value,effective_from\n"


def test_a_history_row_making_a_payee_their_own_manager_is_rejected() -> None:
    result = bind_texts({"payee_history": HISTORY + "bob,manager,bob,2026-08-01\n"})
    err = only(result.diagnostics, codes.MANAGER_CYCLE)
    assert err.severity == "error" and err.span.line == 2
    assert err.message.startswith("bob is their own manager from 2026-08-01 (data/payee_history.csv line 2")
    assert result.dataset.history == ()


def test_a_cycle_formed_through_history_is_reported_on_its_date() -> None:
    rows = "mia,manager,alice,2026-08-01\nbob,manager,alice,2026-07-01\n"
    result = bind_texts({"payee_history": HISTORY + rows})
    err = only(result.diagnostics, codes.MANAGER_CYCLE)
    assert err.message.startswith(
        "cycle in the manager hierarchy from 2026-08-01: alice → mia → alice"
    )
    assert (err.span.file, err.span.line) == ("data/payees.csv", 2)  # alice's manager cell
    assert [lab.message for lab in err.secondary] == [
        "data/payee_history.csv:2:3: mia's manager is alice"
    ]


def test_a_cycle_undone_before_it_forms_is_not_reported() -> None:
    rows = "alice,manager,,2026-08-01\nmia,manager,alice,2026-08-01\n"
    result = bind_texts({"payee_history": HISTORY + rows})
    assert codes.MANAGER_CYCLE not in codes_of(result.diagnostics)
    later = "alice,manager,,2026-09-01\nmia,manager,alice,2026-08-01\n"
    result = bind_texts({"payee_history": HISTORY + later})
    assert "from 2026-08-01" in only(result.diagnostics, codes.MANAGER_CYCLE).message


def test_targets_granularity_metric_and_values() -> None:
    text = (
        "payee,metric,period,value\n"
        'alice,bookings,2026-q3,"1,000,000"\n'
        "alice,bookings,2026,4000000\n"
        "alice,revenue,2026-Q3,1\n"
        "alice,meetings,2026-Q3,2.5\n"
        "alice,bookings,2026-Q3,5\n"
    )
    result = bind_texts({"targets": text})
    (target,) = result.dataset.targets
    assert (target.payee, target.metric, target.period, target.value) == (
        "alice",
        "bookings",
        "2026-Q3",
        Decimal(1000000),
    )
    gran = only(result.diagnostics, codes.WRONG_GRANULARITY)
    assert gran.span.line == 3 and "year period" in gran.message
    assert "bookings" in only(result.diagnostics, codes.UNKNOWN_METRIC).message
    assert only(result.diagnostics, codes.INVALID_VALUE).span.line == 5
    assert only(result.diagnostics, codes.DUPLICATE_KEY).span.line == 6


def test_monthly_plan_accepts_monthly_targets_only() -> None:
    text = "payee,metric,period,value\nalice,bookings,2026-03,1\nalice,bookings,2026-Q1,1\n"
    result = bind_texts({"targets": text}, make_model("month"))
    assert [t.period for t in result.dataset.targets] == ["2026-03"]
    assert only(result.diagnostics, codes.WRONG_GRANULARITY).span.line == 3


def test_inputs_are_typed_by_their_declaration() -> None:
    text = (
        "payee,name,period,value\n"
        "alice,collaboration,2026-Q3,90%\n"
        "bob,collaboration,2026-Q3,0.85\n"
        "mia,collaboration,2026-Q3,1\n"
        "alice,mood,2026-Q3,1\n"
    )
    result = bind_texts({"inputs": text})
    values = {i.payee: i.value for i in result.dataset.inputs}
    assert values == {"alice": Decimal("0.90"), "bob": Decimal("0.85"), "mia": Decimal(1)}
    assert "collaboration" in only(result.diagnostics, codes.UNKNOWN_INPUT).message


@pytest.mark.parametrize(
    ("cell", "ratio"), [("65", "0.65"), ("65.5", "0.655"), ("1200", "12"), ("-3", "-0.03")]
)
def test_a_bare_percent_beyond_one_is_an_ambiguity_error(cell: str, ratio: str) -> None:
    text = f"payee,name,period,value\nmia,collaboration,2026-Q3,{cell}\n"
    result = bind_texts({"inputs": text})
    err = only(result.diagnostics, codes.PERCENT_WITHOUT_SIGN)
    assert err.severity == "error" and result.dataset.inputs == ()
    assert err.message == (
        f"ambiguous percent '{cell}' in data/inputs.csv line 2, column value: "
        f"write {cell}% or the ratio {ratio}"
    )
    assert "E" not in err.message


def test_a_percent_target_and_fact_field_are_checked_the_same_way() -> None:
    model = make_model()
    rate = ast.Metric("rate", "percent", ast.Name("bookings"))
    model = attrs.evolve(model, base={**model.base, "rate": rate})
    targets = "payee,metric,period,value\nmia,rate,2026-Q3,90\nbob,rate,2026-Q3,90%\n"
    result = bind_texts({"targets": targets}, model)
    assert only(result.diagnostics, codes.PERCENT_WITHOUT_SIGN).span.line == 2
    assert [t.value for t in result.dataset.targets] == [Decimal("0.90")]
    deal = model.kinds["deal"]
    deal = attrs.evolve(deal, fields={**deal.fields, "discount": "percent"})
    model = attrs.evolve(model, kinds={**model.kinds, "deal": deal})
    header = "id,payee,amount,stage,signed_on,customer,product,new_customer,discount\n"
    rows = "D1,bob,10,won,2026-07-01,,,no,15\nD2,bob,10,won,2026-07-01,,,no,0.15\n"
    result = bind_texts({"deals": header + rows}, model)
    assert only(result.diagnostics, codes.PERCENT_WITHOUT_SIGN).span.line == 2
    assert [f.key for f in result.dataset.facts["deal"]] == ["D2"]


def test_payments_need_a_known_component() -> None:
    text = "payee,component,period,amount\nalice,commission,2026-Q1,100.00\nalice,bonus,2026-Q1,5\n"
    result = bind_texts({"payments": text})
    assert [p.amount for p in result.dataset.payments] == [Decimal("100.00")]
    assert only(result.diagnostics, codes.UNKNOWN_COMPONENT).span.line == 3


def test_history_rows() -> None:
    text = (
        "payee,attribute,value,effective_from\n"
        "alice,role,SE,2026-08-01\n"
        "alice,manager,ghost,2026-08-01\n"
        "alice,id,x,2026-08-01\n"
        "alice,role,AE,2026-08-01\n"
        "zed,role,AE,2026-08-01\n"
    )
    result = bind_texts({"payee_history": text})
    (row,) = result.dataset.history
    assert (row.payee, row.attribute, row.value, row.effective_from) == (
        "alice",
        "role",
        "SE",
        dt.date(2026, 8, 1),
    )
    assert codes_of(result.diagnostics) == [
        codes.UNKNOWN_MANAGER,
        codes.BAD_HISTORY_ATTRIBUTE,
        codes.DUPLICATE_KEY,
        codes.UNKNOWN_PAYEE,
    ]


CREDIT_DEALS = deals("D1,alice,100,won,2026-07-10,c,p,no", "D2,bob,100,won,2026-07-10,c,p,no")


def test_credits_split_and_overlay() -> None:
    text = (
        "kind,fact,payee,share,credit_type\n"
        "deal,D1,alice,60%,split\n"
        "deals,D1,bob,0.4,\n"
        "deal,D1,mia,100%,overlay\n"
    )
    result = bind_texts({**CREDIT_DEALS, "credits": text})
    assert result.diagnostics == ()
    got = [(c.kind, c.fact, c.payee, c.share, c.type) for c in result.dataset.credits]
    assert got == [
        ("deal", "D1", "alice", Decimal("0.60"), "split"),
        ("deal", "D1", "bob", Decimal("0.4"), "split"),
        ("deal", "D1", "mia", Decimal("1.00"), "overlay"),
    ]


def test_split_shares_not_100_reject_every_row_of_that_fact() -> None:
    text = (
        "kind,fact,payee,share,type\n"
        "deal,D1,alice,60%,split\n"
        "deal,D1,bob,30%,split\n"
        "deal,D1,mia,100%,overlay\n"
        "deal,D2,bob,100%,split\n"
        "deal,D2,mia,50%,overlay\n"
    )
    result = bind_texts({**CREDIT_DEALS, "credits": text})
    errs = [d for d in result.diagnostics if d.code == codes.SPLIT_NOT_100]
    assert [d.span.line for d in errs] == [2, 3, 4]
    assert "sum to 90%, not 100%" in errs[0].message
    assert [(c.fact, c.payee) for c in result.dataset.credits] == [("D2", "bob"), ("D2", "mia")]


def test_only_overlay_rows_is_a_split_error() -> None:
    text = "kind,fact,payee,share,type\ndeal,D1,mia,100%,overlay\n"
    result = bind_texts({**CREDIT_DEALS, "credits": text})
    assert "sum to 0%" in only(result.diagnostics, codes.SPLIT_NOT_100).message


def test_credit_unknown_fact_kind_payee_share_and_duplicates() -> None:
    text = (
        "kind,fact,payee,share\n"
        "deal,D9,alice,100%\n"
        "invoice,D1,alice,100%\n"
        "deal,D2,zed,100%\n"
        "deal,D1,alice,150%\n"
        "deal,D2,bob,100%\n"
        "deal,D2,bob,100%\n"
    )
    result = bind_texts({**CREDIT_DEALS, "credits": text})
    by_line = {d.span.line: d.code for d in result.diagnostics}
    assert by_line == {
        2: codes.UNKNOWN_CREDIT_FACT,
        3: codes.UNKNOWN_CREDIT_KIND,
        4: codes.UNKNOWN_PAYEE,
        5: codes.SHARE_OUT_OF_RANGE,
        7: codes.DUPLICATE_KEY,
    }
    assert [(c.fact, c.payee) for c in result.dataset.credits] == [("D2", "bob")]


def test_credit_for_a_rejected_fact_says_so() -> None:
    files = {
        **deals("D1,alice,oops,won,2026-07-10,c,p,no"),
        "credits": "kind,fact,payee,share\ndeal,D1,alice,1\n",
    }
    result = bind_texts(files)
    assert "was rejected" in only(result.diagnostics, codes.UNKNOWN_CREDIT_FACT).message


def test_unused_table_is_a_warning_or_an_error_when_strict() -> None:
    tables = {"payees": table("payees", PAYEES), "notes": table("notes", "a\n1\n")}
    _, diags = bind(make_model(), tables)
    assert only(diags, codes.UNUSED_TABLE).severity == "warning"
    _, diags = bind(make_model(), tables, strict_unused=True)
    assert only(diags, codes.UNUSED_TABLE).severity == "error"


def test_summary_accounts_for_every_row() -> None:
    files = {
        **deals(
            "D1,alice,10,won,2026-07-10,c,p,no",
            "D1,alice,10,won,2026-07-10,c,p,no",
            "D3,zed,10,won,2026-07-10,c,p,no",
        ),
        "credits": "kind,fact,payee,share\ndeal,D1,alice,50%\n",
    }
    tables = _tables(files)
    result = bind_result(make_model(), tables)
    summary = {s.file: s for s in summarize(make_model(), tables, result)}
    deal_sum = summary["data/deals.csv"]
    assert (deal_sum.rows_read, deal_sum.rows_accepted, deal_sum.rows_rejected) == (3, 1, 2)
    assert (
        summary["data/credits.csv"].rows_rejected,
        summary["data/payees.csv"].rows_accepted,
    ) == (1, 3)


def test_summary_counts_rows_rejected_by_the_reader(tmp_path: Path) -> None:
    (tmp_path / "payees.csv").write_text("id,name\nalice,A\nbob,B,extra\n")
    tables, read_diags = read_folder(tmp_path)
    result = bind_result(make_model(), tables)
    (s,) = summarize(make_model(), tables, result, read_diags)
    assert (s.rows_read, s.rows_accepted, s.rows_rejected) == (2, 1, 1)


def test_digest_is_independent_of_file_encoding(tmp_path: Path) -> None:
    text = "id,name,role,region,manager,team\nalice,张伟,AE,华东,,华南大区\n"
    digests = []
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        folder = tmp_path / encoding
        folder.mkdir()
        (folder / "payees.csv").write_bytes(text.encode(encoding))
        (folder / "deals.csv").write_text(DEAL_HEADER)
        (folder / "activities.csv").write_text("id,payee,minutes,happened_on,deal\n")
        tables, _ = read_folder(folder)
        result = bind_result(make_model(), tables)
        assert result.diagnostics == ()
        assert result.dataset.payees[0].attrs["team"] == "华南大区"
        digests.append(result.dataset.digest)
    assert len(set(digests)) == 1


def test_inline_test_tables_bind_like_csv() -> None:
    from kpidsl import ast
    from kpidsl.data.records import table_from_test
    from kpidsl.source import Span

    def cells(line: int, *texts: str) -> tuple[ast.Cell, ...]:
        return tuple(
            ast.Cell(t, span=Span("plan.kpi", line, 3 + 10 * i, line, 3 + 10 * i + len(t)))
            for i, t in enumerate(texts)
        )

    payees = ast.TestTable(
        "payees", cells(5, "id", "role", "manager"), (cells(6, "alice", "AE", "-"),)
    )
    targets = ast.TestTable("targets", (), (cells(8, "alice", "bookings", "100_000"),))
    deal_rows = (
        cells(11, "D1", "alice", "120_000", "won", "2026-07-10", "false"),
        cells(12, "D2", "alice", "12,3O0", "won", "2026-07-10", "false"),
    )
    header = cells(10, "id", "payee", "amount", "stage", "signed_on", "new_customer")
    tables = {
        "payees": table_from_test(payees, "plan.kpi"),
        "targets": table_from_test(targets, "plan.kpi", period="2026-Q3"),
        "deals": table_from_test(ast.TestTable("deals", header, deal_rows), "plan.kpi"),
    }
    result = bind_result(make_model(), tables)
    diag = only(result.diagnostics, codes.INVALID_VALUE)
    assert (diag.span.file, diag.span.line, diag.span.col, diag.span.end_col) == (
        "plan.kpi",
        12,
        23,
        29,
    )
    assert [t.value for t in result.dataset.targets] == [Decimal(100000)]
    assert [f.values["amount"] for f in result.dataset.facts["deal"]] == [Decimal(120000)]
    assert result.dataset.payees[0].attrs["manager"] == ""


def test_python_records_bind_like_csv() -> None:
    from kpidsl.data.records import tables_from_records

    payees, _ = tables_from_records("payees", [{"id": "alice"}])
    deals_t, _ = tables_from_records(
        "deals",
        [
            {
                "id": "D1",
                "payee": "alice",
                "amount": Decimal("10.50"),
                "stage": "won",
                "signed_on": dt.date(2026, 7, 1),
                "new_customer": True,
            },
        ],
    )
    assert payees is not None and deals_t is not None
    result = bind_result(make_model(), {"payees": payees, "deals": deals_t})
    assert result.diagnostics == ()
    (fact,) = result.dataset.facts["deal"]
    assert fact.values["signed_on"] == dt.date(2026, 7, 1) and fact.values["new_customer"] is True
