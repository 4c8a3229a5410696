"""A real browser opens the report from disk: complete, no network, no console errors.

Headless Chromium (Debian package ``chromium``) is driven over the DevTools
protocol on a pipe (stdlib only, see ``cdp.py``). Skipped only when Chromium
is not installed. ``KPIDSL_UPDATE_SCREENSHOTS=1`` also writes the statement's
screenshot to ``docs/img/statement.png``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kpidsl.report.site import site_files, write_tree
from kpidsl.report.statement import statement_path

from .cdp import Browser
from .conftest import ROOT
from .test_html import lookup, parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
SHOWN = "zhoujie"  # an AE in the east with deals and a next band to reach


@pytest.fixture(scope="module")
def site(east: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site"
    write_tree(out, site_files(east[3]), force=False)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    assert CHROMIUM is not None
    b = Browser(CHROMIUM, tmp_path_factory.mktemp("profile"))
    try:
        yield b
    finally:
        b.close()


def _dom_figures(b: Browser) -> list[tuple[str, str]]:
    html = b.evaluate("document.documentElement.outerHTML")
    assert isinstance(html, str)
    return parse(html).figures


def test_statement_opens_offline_and_matches_the_result(
    site: Path, browser: Browser, east: Any, tmp_path: Path
) -> None:
    page = site / statement_path(SHOWN)
    browser.open(page.as_uri())
    assert browser.requests() == [page.as_uri()]
    assert browser.console_errors() == []
    payee = east[2].to_dict()["payees"][SHOWN]
    figures = _dom_figures(browser)
    assert ("total", payee["total"]) in figures
    assert all(lookup(payee, k) == v for k, v in figures)
    assert browser.evaluate("document.characterSet") == "UTF-8"
    assert "周杰" in browser.evaluate("document.body.innerText")
    shot = tmp_path / "statement.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    if os.environ.get("KPIDSL_UPDATE_SCREENSHOTS"):
        target = ROOT / "docs" / "img" / "statement.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_leaderboard_filters_without_script(site: Path, browser: Browser, east: Any) -> None:
    board = site / "leaderboard.html"
    browser.open(board.as_uri())
    assert browser.requests() == [board.as_uri()] and browser.console_errors() == []
    visible = "[...document.querySelectorAll('section.board')].filter(s => getComputedStyle(s).display !== 'none').map(s => s.id)"
    assert browser.evaluate(visible) == ["board-all"]
    section = browser.evaluate("document.querySelector('section.board').id")
    browser.open(board.as_uri() + "#" + section)
    assert browser.evaluate(visible) == [section]
    payees = east[2].to_dict()["payees"]
    for key, value in _dom_figures(browser):
        pid, _, rest = key.partition(".")
        assert lookup(payees[pid], rest) == value


def test_the_browser_check_catches_network_and_errors(browser: Browser, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="https://example.invalid/x.png"><script>console.error("boom")</script>')
    browser.open(bad.as_uri())
    assert "https://example.invalid/x.png" in browser.requests()
    assert browser.console_errors()
