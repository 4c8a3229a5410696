"""A messy, realistic migration corpus, generated (no committed binaries)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

PAYEES_GBK = (
    "编号,姓名,角色,区域,上级\r\n"
    "mia,王美,manager,east,\r\n"
    "alice ,李爱丽,AE,east,mia\r\n"
    "\r\n"
    "bob,鲍勃,AE,east,mia\r\n"
)

MAPPING = """
version = 1

[[source]]
file = "payees-gbk.csv"
table = "payees"
[source.columns]
"编号" = "id"
"姓名" = "name"
"角色" = "role"
"区域" = "region"
"上级" = "manager"

[[source]]
file = "commission.xlsx"
sheet = "合同明细"
header_row = 3
table = "deals"
[source.columns]
"合同编号" = "id"
"销售" = "payee"
"金额" = "amount"
"阶段" = "stage"
"签约日期" = "signed_on"
"客户名称" = "customer"
[source.values.stage]
"赢单" = "won"
"输单" = "lost"
[source.dates]
signed_on = ["%Y/%m/%d", "%Y年%m月%d日", "excel_serial"]
[source.numbers.amount]
currency = ["¥"]
negative_parens = true
"""

# (sheet row, cells) of the deals sheet below its title block and header (row 3).
DEAL_ROWS: list[tuple[int, list[object]]] = [
    (4, ["D1", "alice", 120000.5, "赢单", "2026/7/1", "上海天诚"]),
    (5, ["D2", "alice", "１２,３００.００", "赢单", "2026年7月1日", "上海天诚"]),
    (6, ["D3", "bob  ", "¥8,000.00", "输单", 46204, "南京启明"]),
    # row 7 left blank
    (8, ["D4", "bob", "12,3O0.00", "赢单", dt.datetime(2026, 7, 2, 9, 30), "青岛众联"]),
    (9, ["D1", "bob", 10, "赢单", dt.date(2026, 7, 3), "重复"]),
    (10, ["D5", "zoe", 500, "赢单", "2026/7/4", "未知销售"]),
    (11, ["D6", "bob", "(1,500.00)", "赢单", "2026/13/1", "坏日期"]),
    (12, ["D7", "alice", 1234.560000000001, "赢单", "2026/7/5", "浮点"]),  # float-ok: noise
    (13, ["D8", "mia", 9.99, "赢单", "2026/7/6", None]),
]


def build(folder: Path) -> Path:
    """Write the corpus into ``folder``; returns the mapping path."""
    import openpyxl

    (folder / "payees-gbk.csv").write_bytes(PAYEES_GBK.encode("gbk"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "合同明细"
    ws["A1"] = "华东销售 2026 Q3 提成计算表"
    ws.merge_cells("A1:F1")
    ws["A2"] = "制表：财务部"
    ws.append([])  # keeps the row counter honest; row 3 set explicitly below
    for i, name in enumerate(["合同编号", "销售", "金额", "阶段", "签约日期", "客户名称"], 1):
        ws.cell(row=3, column=i, value=name)
    for row, cells in DEAL_ROWS:
        for i, value in enumerate(cells, 1):
            ws.cell(row=row, column=i, value=value)
    ws.merge_cells("F4:F5")  # one customer cell over D1 and D2: D2's is empty (KPI0755)
    other = wb.create_sheet("说明")
    other["A1"] = "not data"
    wb.save(folder / "commission.xlsx")
    path = folder / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return path
