"""Generate the example data sets deterministically.

Run ``python examples/generate_data.py`` to (re)write ``examples/*/data/*.csv``,
or ``python examples/generate_data.py OUT_DIR`` to write them under OUT_DIR
instead (``OUT_DIR/<example>/data/*.csv``). The output is byte-identical on
every run: one ``random.Random(2026)`` per example, amounts built from integer
cents, no floats written, rows sorted by key, ``\\n`` line endings, UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

Row = Sequence[str]

YEAR_START = dt.date(2026, 1, 1)
YEAR_END = dt.date(2026, 12, 31)
PRODUCTS = ("CloudSuite", "DataHub", "SecureEdge")
QUARTERS = ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def money(cents: int) -> str:
    """Integer cents as a plain decimal with two places: 1234550 -> 1234.50."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def amount_cents(rng: random.Random, low: int, high: int) -> int:
    """A deal amount between low and high (whole units), mostly round, sometimes with cents.

    About one amount in eight ends in .25 or .75: at a 2% or 5% rate those give
    exact half-cent products (246.905), which exercise the rounding mode.
    """
    bands = ((low, low * 6), (low * 6, high // 3), (high // 3, high))
    lo, hi = bands[rng.choice((0, 0, 1, 1, 1, 2))]
    cents = rng.randint(lo // 100, hi // 100) * 100 * 100
    tail = rng.randint(1, 16)
    if tail == 1:
        cents += rng.choice((25, 75))
    elif tail == 2:
        cents += rng.choice((50, 10, 99))
    return cents


def day_in(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A date in [start, end]."""
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def pct(n: int) -> str:
    return f"{n}%"


def render_csv(header: Row, rows: Iterable[Row]) -> bytes:
    """CSV text with ``\\n`` endings, minimal quoting, UTF-8 without BOM."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def subtree(payee: str, manager_of: dict[str, str]) -> list[str]:
    """Everyone below ``payee`` in the reporting tree, any depth."""
    below = [p for p, m in manager_of.items() if m == payee]
    out = list(below)
    for p in below:
        out.extend(subtree(p, manager_of))
    return out


# --------------------------------------------------------------------------
# Shared: customers and deals
# --------------------------------------------------------------------------

CN_CITIES = ("上海", "杭州", "苏州", "南京", "宁波", "北京", "天津", "青岛", "广州", "深圳", "厦门")
CN_CORES = (
    "云帆",
    "恒通",
    "华信",
    "博远",
    "众联",
    "鼎盛",
    "新航",
    "启明",
    "天诚",
    "嘉禾",
    "瑞丰",
    "明德",
    "远景",
    "金桥",
    "智行",
    "长风",
    "海纳",
    "同创",
    "信达",
    "安捷",
)
CN_SUFFIXES = ("科技", "信息", "数据", "网络", "软件", "电子")


def cn_customers(rng: random.Random, n: int) -> list[str]:
    names = [f"{c}{k}{s}有限公司" for c in CN_CITIES for k in CN_CORES for s in CN_SUFFIXES]
    return rng.sample(names, n)


def mark_new_customers(deals: list[dict[str, str]], existing: set[str]) -> None:
    """new_customer is true on a prospect's first deal (in date order), false afterwards."""
    seen: set[str] = set(existing)
    for d in deals:
        d["new_customer"] = "false" if d["customer"] in seen else "true"
        seen.add(d["customer"])


def number_deals(deals: list[dict[str, str]], prefix: str) -> None:
    """Sort by (signed_on, payee, amount) and assign ids D0001... in that order."""
    deals.sort(key=lambda d: (d["signed_on"], d["payee"], d["amount"], d["customer"]))
    for i, d in enumerate(deals, start=1):
        d["id"] = f"{prefix}{i:04d}"


def stage(rng: random.Random, signed_on: dt.date) -> str:
    """Won/lost/open; deals dated late in the year are more often still open."""
    r = rng.randint(1, 100)
    open_share = 30 if signed_on >= dt.date(2026, 11, 1) else 10
    if r <= open_share:
        return "open"
    if r <= open_share + 22:
        return "lost"
    return "won"


def collect(
    rng: random.Random, deals: list[dict[str, str]], parts: Sequence[int], refunds: int
) -> list[dict[str, str]]:
    """Cash for won deals in instalments (a count drawn from ``parts``), then a few refunds.

    Instalments split the amount exactly in cents (the last takes the remainder);
    cash due after 2026 is left out; a refund is a negative collection on a deal.
    """
    out: list[dict[str, str]] = []
    for d in deals:
        if d["stage"] != "won":
            continue
        total = int(d["amount"].replace(".", ""))
        count = rng.choice(parts)
        day = dt.date.fromisoformat(d["signed_on"])
        paid = 0
        for k in range(count):
            share = total - paid if k == count - 1 else total // count
            paid += share
            day = day + dt.timedelta(days=rng.randint(12, 60))
            if day > YEAR_END:
                break
            out.append(
                {
                    "deal": d["id"],
                    "payee": d["payee"],
                    "amount": money(share),
                    "received_on": day.isoformat(),
                }
            )
    for c in rng.sample([c for c in out if c["received_on"] < "2026-10-01"], refunds):
        cents = int(c["amount"].replace(".", "")) // 4 // 100 * 100
        day = dt.date.fromisoformat(c["received_on"]) + dt.timedelta(days=rng.randint(20, 70))
        out.append(
            {
                "deal": c["deal"],
                "payee": c["payee"],
                "amount": money(-cents),
                "received_on": day.isoformat(),
            }
        )
    out.sort(key=lambda c: (c["received_on"], c["deal"], c["amount"]))
    for i, c in enumerate(out, start=1):
        c["id"] = f"C{i:04d}"
    return out


DEAL_COLS = ("id", "payee", "amount", "stage", "signed_on", "customer", "product")
COLLECTION_COLS = ("id", "deal", "payee", "amount", "received_on")


def table(rows: list[dict[str, str]], cols: Sequence[str]) -> list[list[str]]:
    return [[r[c] for c in cols] for r in rows]


# --------------------------------------------------------------------------
# east-china-2026
# --------------------------------------------------------------------------

# (id, name, role, region, manager, team)
EAST_PAYEES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("zhoujianguo", "周建国", "manager", "east", "", "销售总部"),
    ("chenzhiqiang", "陈志强", "manager", "east", "zhoujianguo", "华东大区"),
    ("liuhaitao", "刘海涛", "manager", "north", "zhoujianguo", "华北大区"),
    ("huangxiaoming", "黄晓明", "manager", "south", "zhoujianguo", "华南大区"),
    ("wumin", "吴敏", "manager", "east", "chenzhiqiang", "华东大区"),
    ("sunli", "孙丽", "manager", "east", "chenzhiqiang", "华东大区"),
    ("wangwei", "王伟", "AE", "east", "wumin", "华东大区"),
    ("lina", "李娜", "AE", "east", "wumin", "华东大区"),
    ("zhangmin", "张敏", "AE", "east", "wumin", "华东大区"),
    ("liuyang", "刘洋", "AE", "east", "wumin", "华东大区"),
    ("chenjing", "陈静", "AE", "east", "wumin", "华东大区"),
    ("yangfan", "杨帆", "AE", "east", "sunli", "华东大区"),
    ("zhaolei", "赵磊", "AE", "east", "sunli", "华东大区"),
    ("huangting", "黄婷", "AE", "east", "sunli", "华东大区"),
    ("zhoujie", "周杰", "AE", "east", "sunli", "华东大区"),
    ("xuhui", "徐慧", "AE", "east", "sunli", "华东大区"),
    ("machao", "马超", "AE", "north", "liuhaitao", "华北大区"),
    ("zhudan", "朱丹", "AE", "north", "liuhaitao", "华北大区"),
    ("hubin", "胡斌", "AE", "north", "liuhaitao", "华北大区"),
    ("guoxia", "郭霞", "AE", "north", "liuhaitao", "华北大区"),
    ("heyong", "何勇", "AE", "north", "liuhaitao", "华北大区"),
    ("gaojie", "高洁", "AE", "north", "liuhaitao", "华北大区"),
    ("linfeng", "林峰", "AE", "north", "liuhaitao", "华北大区"),
    ("luojuan", "罗娟", "AE", "north", "liuhaitao", "华北大区"),
    ("liangwei", "梁伟", "AE", "south", "huangxiaoming", "华南大区"),
    ("songjia", "宋佳", "AE", "south", "huangxiaoming", "华南大区"),
    ("zhenghao", "郑浩", "AE", "south", "huangxiaoming", "华南大区"),
    ("xiefang", "谢芳", "AE", "south", "huangxiaoming", "华南大区"),
    ("hanbing", "韩冰", "AE", "south", "huangxiaoming", "华南大区"),
    ("tangning", "唐宁", "AE", "south", "huangxiaoming", "华南大区"),
    ("fengxue", "冯雪", "AE", "south", "huangxiaoming", "华南大区"),
    ("dengchao", "邓超", "AE", "south", "huangxiaoming", "华南大区"),
    ("caoyang", "曹阳", "SE", "east", "chenzhiqiang", "华东大区"),
    ("pengliang", "彭亮", "SE", "east", "chenzhiqiang", "华东大区"),
    ("zengwen", "曾雯", "SE", "east", "chenzhiqiang", "华东大区"),
    ("xiaoran", "萧然", "SE", "north", "liuhaitao", "华北大区"),
    ("tianye", "田野", "SE", "north", "liuhaitao", "华北大区"),
    ("dongming", "董明", "SE", "south", "huangxiaoming", "华南大区"),
    ("yuanyuan", "袁媛", "SE", "south", "huangxiaoming", "华南大区"),
    ("panyi", "潘毅", "SE", "south", "huangxiaoming", "华南大区"),
)

# 郑浩 moves from 华南 to 华北 on 17 August 2026: a mid-quarter change (two segments in Q3).
EAST_HISTORY = (
    ("zhenghao", "manager", "liuhaitao", "2026-08-17"),
    ("zhenghao", "region", "north", "2026-08-17"),
    ("zhenghao", "team", "华北大区", "2026-08-17"),
)


def east_deals(rng: random.Random) -> list[dict[str, str]]:
    customers = cn_customers(rng, 170)
    existing = set(customers[:50])
    deals: list[dict[str, str]] = []
    for pid, _name, role, *_ in EAST_PAYEES:
        if role == "manager":
            continue
        for _ in range(rng.randint(9, 12) if role == "AE" else rng.randint(3, 5)):
            signed = day_in(rng, YEAR_START, YEAR_END)
            deals.append(
                {
                    "payee": pid,
                    "amount": money(amount_cents(rng, 5_000, 400_000)),
                    "stage": stage(rng, signed),
                    "signed_on": signed.isoformat(),
                    "customer": rng.choice(customers),
                    "product": rng.choice((*PRODUCTS, "CloudSuite")),
                }
            )
    number_deals(deals, "D")
    mark_new_customers(deals, existing)
    return deals


def east_targets(rng: random.Random) -> list[list[str]]:
    """2026-Q3 targets for every AE and SE; a manager's target is the sum of their subtree's."""
    own: dict[tuple[str, str], int] = {}
    for pid, _n, role, *_ in EAST_PAYEES:
        if role == "manager":
            continue
        book = rng.randint(3, 7) * 50_000 if role == "AE" else rng.randint(2, 4) * 50_000
        own[(pid, "bookings")] = book
        own[(pid, "new_logos")] = rng.randint(1, 3)
        own[(pid, "collected")] = book * 4 // 5
    manager_of = {p[0]: p[4] for p in EAST_PAYEES}
    rows: list[list[str]] = []
    for pid, _n, role, *_ in EAST_PAYEES:
        for metric in ("bookings", "new_logos", "collected"):
            if role == "manager":
                value = sum(own.get((p, metric), 0) for p in subtree(pid, manager_of))
            else:
                value = own[(pid, metric)]
            rows.append([pid, metric, "2026-Q3", str(value)])
    return sorted(rows)


def east_china(rng: random.Random) -> dict[str, bytes]:
    deals = east_deals(rng)
    collections = collect(rng, deals, parts=(1, 1, 1, 1, 2), refunds=3)
    targets = east_targets(rng)
    inputs = sorted(
        [p[0], "collaboration", q, pct(rng.randint(12, 20) * 5)]
        for p in EAST_PAYEES
        for q in QUARTERS
    )
    return {
        "payees.csv": render_csv(("id", "name", "role", "region", "manager", "team"), EAST_PAYEES),
        "payee_history.csv": render_csv(
            ("payee", "attribute", "value", "effective_from"), EAST_HISTORY
        ),
        "deals.csv": render_csv(
            (*DEAL_COLS, "new_customer"), table(deals, (*DEAL_COLS, "new_customer"))
        ),
        "collections.csv": render_csv(COLLECTION_COLS, table(collections, COLLECTION_COLS)),
        "targets.csv": render_csv(("payee", "metric", "period", "value"), targets),
        "inputs.csv": render_csv(("payee", "name", "period", "value"), inputs),
    }


# --------------------------------------------------------------------------
# saas-team
# --------------------------------------------------------------------------

SAAS_PAYEES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("mreyes", "Maria Reyes", "manager", "east", "", "Sales Leadership"),
    ("dkim", "Daniel Kim", "manager", "east", "mreyes", "East Enterprise"),
    ("apatel", "Anita Patel", "manager", "west", "mreyes", "West Commercial"),
    ("jsmith", "Jordan Smith", "AE", "east", "dkim", "East Enterprise"),
    ("lchen", "Lily Chen", "AE", "east", "dkim", "East Enterprise"),
    ("mgarcia", "Miguel Garcia", "AE", "east", "dkim", "East Enterprise"),
    ("sjohnson", "Sarah Johnson", "AE", "east", "dkim", "East Enterprise"),
    ("obrien", "Owen O'Brien", "AE", "east", "dkim", "East Enterprise"),
    ("anguyen", "Anh Nguyen", "AE", "east", "dkim", "East Enterprise"),
    ("rwilliams", "Rachel Williams", "AE", "east", "dkim", "East Enterprise"),
    ("tmueller", "Tobias Mueller", "AE", "east", "dkim", "East Enterprise"),
    ("kbrown", "Kevin Brown", "AE", "west", "apatel", "West Commercial"),
    ("esato", "Emi Sato", "AE", "west", "apatel", "West Commercial"),
    ("cdavis", "Chris Davis", "AE", "west", "apatel", "West Commercial"),
    ("pmartin", "Priya Martin", "AE", "west", "apatel", "West Commercial"),
    ("jlopez", "Julia Lopez", "AE", "west", "apatel", "West Commercial"),
    ("bwilson", "Ben Wilson", "AE", "west", "apatel", "West Commercial"),
    ("nrossi", "Nora Rossi", "AE", "west", "apatel", "West Commercial"),
    ("hali", "Hassan Ali", "AE", "west", "apatel", "West Commercial"),
    ("gtaylor", "Grace Taylor", "SE", "east", "dkim", "East Enterprise"),
    ("wzhang", "Wei Zhang", "SE", "east", "dkim", "East Enterprise"),
    ("fmoreau", "Felix Moreau", "SE", "east", "dkim", "East Enterprise"),
    ("iandersen", "Ida Andersen", "SE", "west", "apatel", "West Commercial"),
    ("rsingh", "Ravi Singh", "SE", "west", "apatel", "West Commercial"),
    ("lcosta", "Lucas Costa", "SE", "west", "apatel", "West Commercial"),
)

SAAS_CUSTOMERS = tuple(
    f"{a} {b}"
    for a in (
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Stark",
        "Wayne",
        "Wonka",
        "Tyrell",
        "Cyberdyne",
        "Soylent",
        "Vandelay",
        "Massive",
        "Aperture",
    )
    for b in ("Corp", "Labs", "Group", "Inc")
)


def saas_deals(rng: random.Random) -> list[dict[str, str]]:
    aes = [p for p in SAAS_PAYEES if p[2] == "AE"]
    deals: list[dict[str, str]] = []
    for pid, *_ in aes:
        for _ in range(rng.randint(11, 14)):
            signed = day_in(rng, YEAR_START, YEAR_END)
            segment = rng.choice(("enterprise", "mid-market", "mid-market", "smb"))
            deals.append(
                {
                    "payee": pid,
                    "amount": money(amount_cents(rng, 5_000, 250_000)),
                    "stage": stage(rng, signed),
                    "signed_on": signed.isoformat(),
                    "customer": rng.choice(SAAS_CUSTOMERS),
                    "product": rng.choice(("Platform", "Analytics", "Security")),
                    "segment": segment,
                    "multi_year": "true" if rng.randint(1, 5) == 1 else "false",
                }
            )
    number_deals(deals, "S")
    return deals


def saas_credits(rng: random.Random, deals: list[dict[str, str]]) -> list[list[str]]:
    """Split credits on some deals (two AEs, summing to 100%) and SE overlays at 100%.

    Every deal that has credit rows lists its split rows explicitly, so the
    split always sums to exactly 100% whatever the overlay rows say.
    """
    aes = [p[0] for p in SAAS_PAYEES if p[2] == "AE"]
    ses_by_region = {
        r: [p[0] for p in SAAS_PAYEES if p[2] == "SE" and p[3] == r] for r in ("east", "west")
    }
    region = {p[0]: p[3] for p in SAAS_PAYEES}
    rows: list[list[str]] = []
    for d in deals:
        split = rng.randint(1, 6) == 1
        overlay = d["segment"] == "enterprise" or rng.randint(1, 4) == 1
        if not (split or overlay):
            continue
        if split:
            other = rng.choice([a for a in aes if a != d["payee"]])
            mine = rng.choice((50, 60, 70))
            rows.append(["deal", d["id"], d["payee"], pct(mine), "split"])
            rows.append(["deal", d["id"], other, pct(100 - mine), "split"])
        else:
            rows.append(["deal", d["id"], d["payee"], "100%", "split"])
        if overlay:
            se = rng.choice(ses_by_region[region[d["payee"]]])
            rows.append(["deal", d["id"], se, "100%", "overlay"])
    return sorted(rows, key=lambda r: (r[1], r[4], r[2]))


def saas_targets(rng: random.Random) -> list[list[str]]:
    """Quarterly quotas: AE bookings, SE overlay bookings, managers their team's bookings."""
    manager_of = {p[0]: p[4] for p in SAAS_PAYEES}
    role = {p[0]: p[2] for p in SAAS_PAYEES}
    rows: list[list[str]] = []
    for q in QUARTERS:
        quota = {p: rng.randint(6, 12) * 25_000 for p, r in role.items() if r == "AE"}
        for pid, r in role.items():
            if r == "AE":
                rows.append([pid, "bookings", q, str(quota[pid])])
            elif r == "SE":
                rows.append([pid, "overlay_bookings", q, str(rng.randint(8, 14) * 50_000)])
            else:
                team = sum(quota.get(p, 0) for p in subtree(pid, manager_of))
                rows.append([pid, "team_bookings", q, str(team)])
    return sorted(rows)


def saas_team(rng: random.Random) -> dict[str, bytes]:
    deals = saas_deals(rng)
    cols = (*DEAL_COLS, "segment", "multi_year")
    return {
        "payees.csv": render_csv(("id", "name", "role", "region", "manager", "team"), SAAS_PAYEES),
        "deals.csv": render_csv(cols, table(deals, cols)),
        "credits.csv": render_csv(
            ("kind", "fact", "payee", "share", "type"), saas_credits(rng, deals)
        ),
        "targets.csv": render_csv(("payee", "metric", "period", "value"), saas_targets(rng)),
    }


# --------------------------------------------------------------------------
# distributor-collections
# --------------------------------------------------------------------------

DIST_MANAGERS = (
    ("qd-east", "钱东", "manager", "east", "", "渠道华东"),
    ("qd-north", "秦北", "manager", "north", "", "渠道华北"),
    ("qd-south", "宁南", "manager", "south", "", "渠道华南"),
)
DIST_PARTNERS = (
    ("p-sh01", "上海恒信系统集成", "east"),
    ("p-sh02", "上海云桥信息", "east"),
    ("p-hz01", "杭州数联科技", "east"),
    ("p-nj01", "南京金盾网络", "east"),
    ("p-sz01", "苏州博达软件", "east"),
    ("p-nb01", "宁波海天电子", "east"),
    ("p-bj01", "北京华安信通", "north"),
    ("p-bj02", "北京中科睿智", "north"),
    ("p-tj01", "天津港联数据", "north"),
    ("p-qd01", "青岛蓝海科技", "north"),
    ("p-sy01", "沈阳北方软件", "north"),
    ("p-gz01", "广州粤信科技", "south"),
    ("p-gz02", "广州天河云服", "south"),
    ("p-sz02", "深圳前海智联", "south"),
    ("p-xm01", "厦门鹭岛信息", "south"),
    ("p-fz01", "福州闽江网络", "south"),
    ("p-nn01", "南宁八桂数据", "south"),
)


def dist_payees() -> list[tuple[str, str, str, str, str, str]]:
    mgr = {m[3]: m for m in DIST_MANAGERS}
    rows = list(DIST_MANAGERS)
    for pid, name, region in DIST_PARTNERS:
        rows.append((pid, name, "partner", region, mgr[region][0], mgr[region][5]))
    return rows


def dist_deals(rng: random.Random) -> list[dict[str, str]]:
    customers = cn_customers(rng, 120)
    deals: list[dict[str, str]] = []
    for pid, _name, _region in DIST_PARTNERS:
        for _ in range(rng.randint(8, 10)):
            signed = day_in(rng, YEAR_START, dt.date(2026, 11, 30))
            won = rng.randint(1, 100) <= 85
            deals.append(
                {
                    "payee": pid,
                    "amount": money(amount_cents(rng, 5_000, 300_000)),
                    "stage": "won" if won else rng.choice(("lost", "open")),
                    "signed_on": signed.isoformat(),
                    "customer": rng.choice(customers),
                    "product": rng.choice(PRODUCTS),
                }
            )
    number_deals(deals, "F")
    return deals


def distributor(rng: random.Random) -> dict[str, bytes]:
    deals = dist_deals(rng)
    collections = collect(rng, deals, parts=(1, 2, 2, 3, 3), refunds=5)
    return {
        "payees.csv": render_csv(
            ("id", "name", "role", "region", "manager", "team"), dist_payees()
        ),
        "deals.csv": render_csv(DEAL_COLS, table(deals, DEAL_COLS)),
        "collections.csv": render_csv(COLLECTION_COLS, table(collections, COLLECTION_COLS)),
    }


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------

EXAMPLES = {
    "east-china-2026": east_china,
    "saas-team": saas_team,
    "distributor-collections": distributor,
}


def generate() -> dict[str, dict[str, bytes]]:
    """Every example's data files as bytes: {example: {file name: content}}."""
    return {name: build(random.Random(2026)) for name, build in EXAMPLES.items()}


def write(out_dir: Path) -> list[Path]:
    """Write every data file under ``out_dir/<example>/data/``; return the paths written."""
    written: list[Path] = []
    for example, files in generate().items():
        data_dir = out_dir / example / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        for name, content in sorted(files.items()):
            path = data_dir / name
            path.write_bytes(content)
            written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    for path in write(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
