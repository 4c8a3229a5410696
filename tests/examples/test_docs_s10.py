"""The commands and output shown in the user docs are what the program does.

README.md, docs/api.md, cli.md, diff.md, what-it-takes.md, explanations.md,
reports.md and language.md show commands, Python snippets and output excerpts;
each is run here (on the bundled example, in a temporary folder) and its output
compared with the doc, lines marked ``...`` left out. The flags in the docs'
synopses exist, and the docs' links resolve.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.explain.render import reconcile, render_text

ROOT = Path(__file__).resolve().parents[2]
EAST = ROOT / "examples" / "east-china-2026"
OWNED = ["README.md"] + [
    f"docs/{n}.md"
    for n in ("api", "cli", "cookbook", "data", "diff", "explanations", "language", "reports",
              "testing", "what-it-takes")
]


def doc(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def fenced(name: str, lang: str = "") -> list[str]:
    """The fenced blocks of a doc whose info string is ``lang`` (``""``: a bare fence)."""
    blocks: list[str] = []
    current: list[str] | None = None
    info = ""
    for line in doc(name).splitlines(keepends=True):
        if current is None and line.startswith("```"):
            current, info = [], line[3:].strip()
        elif current is not None and line.rstrip() == "```":
            if info == lang:
                blocks.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def shown(block: str) -> list[str]:
    """The lines of an output excerpt: without the `$ command` lines and the `...` elisions."""
    return [ln.rstrip() for ln in block.splitlines() if ln.strip() != "..." and not ln.startswith("$ ")]


def assert_excerpt(block: str, out: str) -> None:
    """Every shown line is printed, in the order shown (an elision may hide lines between)."""
    lines = [ln.rstrip() for ln in out.splitlines()]
    at = 0
    for want in shown(block):
        assert want in lines[at:], f"not printed (after line {at}): {want!r}\n--- output ---\n{out}"
        at = lines.index(want, at) + 1


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


def command_of(block: str) -> list[str]:
    (line,) = [ln for ln in block.splitlines() if ln.startswith("$ kpidsl ")]
    return line.split()[2:]


@pytest.fixture
def east(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/east-china-2026, as the current folder."""
    folder = tmp_path / "east-china-2026"
    shutil.copytree(EAST, folder)
    monkeypatch.chdir(folder)
    return folder


# README.md and docs/api.md


def test_readme_try_it_commands_succeed(capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    [line] = [c for c in re.findall(r"```sh\n(.*?)\n```", doc("README.md"), re.S) if "kpidsl eval" in c]
    commands = [c.split() for c in line.split(" && ") if c.startswith("kpidsl ")]
    assert [c[1] for c in commands] == ["eval", "explain"]
    for argv in commands:
        code, out = run(argv[1:], capsys)
        assert code == 0, argv
    assert out.startswith("total = 60,510.02  [payout]")


def test_api_first_snippet_runs(capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = fenced("docs/api.md", "python")[0]
    exec(compile(code, "docs/api.md", "exec"), {})
    assert "lina" in capsys.readouterr().out


# docs/cli.md


def test_cli_check_example_is_what_check_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (plans := tmp_path / "plans").mkdir()
    (plans / "q3.kpi").write_text(
        'plan "Q3" {\n  currency CNY\n  period quarter\n  rounding half_up 0.01\n}\n\n'
        'metric bookings: money =\n  sum deal.amount where deal.stage == "won" and deal.signed_on in period\n'
        "target bookings = 1_000_000\n\n"
        "tiers commission_rate marginal on attainment(bookings) {\n"
        "  // the bands, on lines 13 and 14 as in the doc\n"
        "  0% to 50% : 2%\n"
        "  60% to 100% : 5%\n"
        "}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    code, out = run(["check", "plans/q3.kpi"], capsys)
    assert code == 1
    block = next(b for b in fenced("docs/cli.md") if "error[KPI0301]" in b)
    assert block in out


COMMAND = re.compile(
    r"kpidsl (check|fmt|eval|explain|schema|test|diff|what-it-takes|import|validate|report|cache)\b([^`\n]*)"
)


@pytest.mark.parametrize("name", OWNED)
def test_every_flag_shown_exists(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = doc(name).replace("\\\n", " ").replace("\n                      ", " ")  # wrapped commands
    helps: dict[str, str] = {}
    missing = []
    for sub, rest in COMMAND.findall(text):
        if sub not in helps:
            with pytest.raises(SystemExit):
                main([sub, "--help"])
            helps[sub] = capsys.readouterr().out
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-k)(?![\w-])", rest):
            if not re.search(rf"(?<![\w-]){flag}(?![\w-])", helps[sub]):
                missing.append(f"kpidsl {sub} {flag}")
    assert missing == []


# docs/diff.md and docs/what-it-takes.md: the worked examples


def test_diff_worked_example(east: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = doc("docs/diff.md")
    (change,) = re.findall(r"```kpi\n(.*?)```", text, re.S)
    plan = (east / "plan.kpi").read_text(encoding="utf-8")
    start = plan.index("for role AE from 2026-07-01 {")
    end = plan.index("}\n}\n", start) + 4
    (east / "plan-h2.kpi").write_text(plan[:start] + change + plan[end:], encoding="utf-8")
    block = next(b for b in fenced("docs/diff.md") if b.startswith("$ cd "))
    code, out = run(command_of(block), capsys)
    assert code == 0
    assert_excerpt(block, out)
    import json

    code, out = run([*command_of(block), "--format", "json"], capsys)
    result = json.loads(out)
    shown_json = next(b for b in fenced("docs/diff.md", "json"))
    summary = json.loads(re.search(r'"summary": (\{.*?\})', shown_json, re.S)[1])  # type: ignore[index]
    assert result["summary"] == summary
    assert result["movers"] == ["guoxia", "lina", "zhoujie"]
    payee = json.loads("{" + re.search(r'("guoxia": \{.*?"new_errors": \[\]\})', shown_json, re.S)[1] + "}")  # type: ignore[index]
    assert result["payees"]["guoxia"] == payee["guoxia"]


WHAT_IT_TAKES = [b for b in fenced("docs/what-it-takes.md") if b.startswith("$ kpidsl what-it-takes")]


@pytest.mark.parametrize("block", WHAT_IT_TAKES, ids=[f"example{i}" for i in range(len(WHAT_IT_TAKES))])
def test_what_it_takes_worked_examples(block: str, east: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(command_of(block), capsys)
    assert code == 0
    assert_excerpt(block, out)


def test_what_it_takes_has_four_worked_examples() -> None:
    assert len(WHAT_IT_TAKES) == 4


# docs/explanations.md: both trees are what render_text draws


def _plan(tmp_path: Path, body: str, deals: str, history: str = "") -> kpidsl.Result:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\nalice,Alice,AE,east,\n", encoding="utf-8")
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n" + deals, encoding="utf-8")
    if history:
        (data / "payee_history.csv").write_text("payee,attribute,value,effective_from\n" + history, encoding="utf-8")
    (tmp_path / "plan.kpi").write_text('plan "conformance" { currency CNY  period quarter }\n' + body, encoding="utf-8")
    return kpidsl.load(tmp_path / "plan.kpi").evaluate(data, "2026-Q3")


# docs/explanations.md's plan and deal: marginal tiers on attainment of a 100,000 target
MARGINAL = (
    'metric bookings: money = sum deal.amount where deal.stage == "won" and deal.signed_on in period\n'
    "target bookings = 100_000\n"
    "tiers rate marginal on attainment(bookings) { 0% to 50% : 2%  50% to 100% : 5%  100% and up : 8% }\n"
    "payout commission: money = rate(bookings)\n",
    "D1,alice,120000,won,2026-07-10,c1,p\n",
)

def test_explanations_marginal_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _plan(
        tmp_path,
        *MARGINAL,
    )
    tree = result.explain("alice", "commission")
    (block,) = [b for b in fenced("docs/explanations.md") if b.startswith("commission = 5,100.00")]
    assert render_text(tree) == block
    assert reconcile(tree) == []
    json_block = fenced("docs/explanations.md", "json")[0]
    rate = tree.children[1].to_dict()
    assert f'"rows": [{str(rate["table"]["rows"][0]).replace(chr(39), chr(34))}, "..."]' in json_block
    assert list(tree.to_dict()) == ["name", "kind", "value", "formula", "source", "notes", "unit", "children"]


def test_explanations_segment_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _plan(
        tmp_path,
        "metric bookings: money = sum deal.amount where deal.signed_on in period\n"
        "payout spiff: money = bookings * 10%\n  cap 5_000\n",
        "D1,alice,30000,won,2026-07-10,c1,p\nD2,alice,40000,won,2026-09-10,c1,p\n",
        "alice,region,north,2026-08-16\n",
    )
    (block,) = [b for b in fenced("docs/explanations.md") if b.startswith("spiff = 5,000.00")]
    assert render_text(result.explain("alice", "spiff")) == block


# docs/reports.md


def test_reports_first_command(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(EAST, tmp_path / "examples" / "east-china-2026")
    monkeypatch.chdir(tmp_path)
    block = fenced("docs/reports.md", "console")[0]
    first = block.split("\n\n")[0].replace("\\\n   ", "")
    code, out = run(command_of(first), capsys)
    assert code == 0
    assert_excerpt(first, out)
    assert (tmp_path / "build" / "statements" / "index.html").is_file()


# docs/language.md


def test_language_duplicate_row_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "payees.csv").write_text("id,name,role,region,manager\na,A,AE,east,\n", encoding="utf-8")
    rows = [f"D{n:04d},a,1,won,2026-07-10,c,p" for n in range(100, 113)]  # lines 2..14
    rows[9 - 2] = rows[14 - 2] = "D0012,a,1,won,2026-07-10,c,p"
    (data / "deals.csv").write_text("id,payee,amount,stage,signed_on,customer,product\n" + "\n".join(rows) + "\n",
                                    encoding="utf-8")
    plan = kpidsl.loads('plan "x" { currency CNY  period quarter }\n'
                        "metric b: money = sum deal.amount where deal.signed_on in period\n"
                        "payout p: money = b * 1%\n", "plan.kpi")
    result = plan.evaluate(data, "2026-Q3")
    shown_line = next(b for b in fenced("docs/language.md", "text") if "KPI0720" in b).strip()
    worded = [f"error[{d.code}]: {d.message}" for d in result.data_diagnostics if d.code == "KPI0720"]
    assert worded == [shown_line]


# links


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("name", OWNED)
def test_links_resolve(name: str) -> None:
    page = ROOT / name
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", doc(name)):
        if link.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path) if path else page
        if not target.exists():
            broken.append(link)
        elif anchor and target.suffix == ".md":
            headings = re.findall(r"^#+ (.*)$", target.read_text(encoding="utf-8"), re.M)
            if anchor not in {_slug(h) for h in headings}:
                broken.append(link)
    assert broken == []


# the Python snippets of the docs, each run where its paths make sense


def test_api_mapping_snippet_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    first, mapping = fenced("docs/api.md", "python")[:2]
    scope: dict[str, object] = {}
    exec(compile(first, "docs/api.md", "exec"), scope)
    exec(compile(mapping, "docs/api.md", "exec"), scope)
    assert isinstance(scope["data"], kpidsl.RawData)


def test_testing_python_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (plan,) = fenced("docs/testing.md", "kpi")
    (tmp_path / "plan.kpi").write_text(plan, encoding="utf-8")
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "east.kpi").write_text(plan, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    for code in fenced("docs/testing.md", "python"):
        exec(compile(code, "docs/testing.md", "exec"), scope)
    assert capsys.readouterr().out.startswith("2 passed, 0 failed\n")


def test_explanations_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    _plan(
        tmp_path,
        *MARGINAL,
    )
    exec(compile(fenced("docs/explanations.md", "python")[0], "docs/explanations.md", "exec"), {})
    assert capsys.readouterr().out.startswith("commission = 5,100.00")


@pytest.mark.parametrize("name", ["docs/diff.md", "docs/what-it-takes.md"])
def test_feature_python_snippets_run(name: str, east: Path) -> None:
    shutil.copy(east / "plan.kpi", east / "plan-h2.kpi")
    for code in fenced(name, "python"):
        exec(compile(code, name, "exec"), {})
