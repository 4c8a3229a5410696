"""The HTML site: figures equal the JSON result, privacy, escaping, safe paths, no network."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from kpidsl.report.site import site_files, write_tree
from kpidsl.report.statement import statement_path, team_path

from .conftest import EVIL_CUSTOMER, EVIL_IDS, EVIL_NAME


class Figures(HTMLParser):
    """Collects (data-key, data-value) pairs, tags and attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = {k: v or "" for k, v in attrs}
        self.attrs.extend(found.items())
        if "data-key" in found and "data-value" in found:
            self.figures.append((found["data-key"], found["data-value"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Figures:
    f = Figures()
    f.feed(page)
    return f


def lookup(payee: dict[str, Any], key: str) -> str | None:
    if key == "total":
        return payee["total"]  # type: ignore[no-any-return]
    section, _, name = key.partition(".")
    return payee[section][name]  # type: ignore[no-any-return]


def test_every_statement_figure_equals_the_json_result(east: Any) -> None:
    _, _, result, model = east
    data = result.to_dict()
    files = site_files(model)
    checked = 0
    for pid, payee in data["payees"].items():
        figures = parse(files[statement_path(pid)]).figures
        keys = {k for k, _ in figures}
        assert "total" in keys and all(f"components.{c}" in keys for c in payee["components"])
        for key, value in figures:
            assert lookup(payee, key) == value, (pid, key)
            checked += 1
    assert checked > 40 * 4


def test_leaderboard_and_team_figures_equal_the_json_result(east: Any) -> None:
    _, _, result, model = east
    payees = result.to_dict()["payees"]
    files = site_files(model)
    pages = [files["leaderboard.html"], files["index.html"]]
    pages += [files[team_path(p.id)] for p in model.payees if p.reports]
    seen = 0
    for page in pages:
        for key, value in parse(page).figures:
            pid, _, rest = key.partition(".")
            if pid in payees:
                assert lookup(payees[pid], rest) == value, key
                seen += 1
    assert seen > 40


def test_an_ae_statement_shows_no_other_payees_facts(east: Any) -> None:
    _plan, raw, _, model = east
    files = site_files(model)
    deals = raw.tables["deals"]
    owner_col = deals.header.index("payee")
    owners = {r.cells[0]: r.cells[owner_col] for r in deals.rows}
    ae = next(p for p in model.payees if p.role == "AE" and p.facts)
    page = files[statement_path(ae.id)]
    own = {k for k, o in owners.items() if o == ae.id}
    others = {k for k, o in owners.items() if o != ae.id}
    assert {f.key for f in ae.facts if f.kind == "deal"} <= own
    assert [k for k in others if re.search(rf"\b{re.escape(k)}\b", page)] == []
    assert any(k in page for k in own)


def test_a_manager_sees_team_facts_but_not_other_teams(east: Any) -> None:
    _, raw, _, model = east
    mgr = next(p for p in model.payees if p.role == "manager" and p.reports and p.manager)
    deals = raw.tables["deals"]
    col = deals.header.index("payee")
    team = set(mgr.reports)
    outside = {r.cells[0] for r in deals.rows if r.cells[col] not in team and r.cells[col] != mgr.id}
    page = site_files(model)[statement_path(mgr.id)]
    assert mgr.facts and all(f.key not in outside for f in mgr.facts)
    assert [k for k in outside if re.search(rf"\b{re.escape(k)}\b", page)] == []


def test_hostile_text_is_escaped_everywhere(hostile: Any) -> None:
    _, _, _, model = hostile
    for rel, page in site_files(model).items():
        parsed = parse(page)
        assert "script" not in parsed.tags and "img" not in parsed.tags, rel
        assert not any(k.startswith("on") for k, _ in parsed.attrs), rel
        assert EVIL_NAME not in page and EVIL_CUSTOMER not in page
    statement = site_files(model)[statement_path(EVIL_IDS[0])]
    assert EVIL_NAME in "".join(parse(statement).text)
    assert EVIL_CUSTOMER in "".join(parse(statement).text)


def test_file_names_are_safe_and_unique(hostile: Any, tmp_path: Path) -> None:
    _, _, _, model = hostile
    files = site_files(model)
    for pid in EVIL_IDS:
        rel = statement_path(pid)
        assert re.fullmatch(r"payees/[a-z0-9_-]+-[0-9a-f]{10}\.html", rel), rel
    out = tmp_path / "site"
    written = write_tree(out, files, force=False)
    assert all(out.resolve() in p.resolve().parents for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert len({statement_path(p) for p in EVIL_IDS}) == len(EVIL_IDS)


def test_pages_are_self_contained(east: Any) -> None:
    model = east[3]
    for rel, page in site_files(model).items():
        assert '<meta charset="utf-8">' in page
        assert re.search(r"<(script|link|img|iframe|object|embed)\b", page) is None, rel
        urls = re.findall(r"(?:https?:)?//[^\s\"'<>)]+", page)
        assert set(urls) <= {"http://www.w3.org/2000/svg"}, (rel, urls)
        assert "@import" not in page and "url(" not in page
        assert "Noto Sans CJK SC" in page


def test_chinese_text_is_written_as_utf8(east: Any, tmp_path: Path) -> None:
    model = east[3]
    out = tmp_path / "r"
    write_tree(out, site_files(model), force=False)
    p = next(p for p in model.payees if p.id == "zhenghao")
    text = (out / statement_path(p.id)).read_bytes().decode("utf-8")
    assert "郑浩" in text and "苏州众联软件有限公司" in text


def test_leaderboard_has_a_section_per_filter_and_ranks_by_score(east: Any) -> None:
    model = east[3]
    page = site_files(model)["leaderboard.html"]
    ids = re.findall(r'<section class="board" id="([^"]+)"', page)
    regions = {p.region for p in model.payees}
    roles = {p.role for p in model.payees}
    assert len(ids) == len(regions) + len(roles) + 1 and ids[-1] == "board-all"
    for a in ids:
        assert f'href="#{a}"' in page
    all_section = page[page.index('id="board-all"'):]
    scores = [v for k, v in parse(all_section).figures if k.endswith(".values.performance")]
    from decimal import Decimal

    assert scores == sorted(scores, key=Decimal, reverse=True) and len(scores) == len(model.payees)


def test_team_page_lists_the_subtree(east: Any) -> None:
    model = east[3]
    top = next(p for p in model.payees if not p.manager and p.reports)
    page = site_files(model)[team_path(top.id)]
    assert len(top.reports) == len(model.payees) - 1
    for pid in top.reports:
        assert f"{pid}.total" in page

