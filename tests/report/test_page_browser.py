"""report.html in a real browser: headless Chromium opens it offline, every chart draws, no error.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and the ``playwright`` package (a dev
dependency) to drive it; without them the test is skipped and says which one is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxlist.demo import demo_tenant, sample_file
from cxlist.run import start_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags for a root, offline, GPU-less machine; background networking off so that Chromium
#: itself makes no request the test would have to tell apart from the page's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where to keep the screenshot besides the test's own folder (docs/ keeps the demo's).
SCREENSHOT_ENV = "CXLIST_REPORT_SCREENSHOT"

# Each chart: its size on screen and how many shapes of its data series (bars, lines) have an
# area; pygal draws each series in a group of class "series".
_CHARTS_JS = """
() => Array.from(document.querySelectorAll('figure.chart svg')).map(svg => {
  const box = svg.getBoundingClientRect();
  const shapes = Array.from(svg.querySelectorAll('.series rect, .series path'))
    .map(s => s.getBoundingClientRect())
    .filter(b => b.width > 0 && b.height > 0).length;
  const caption = svg.closest('figure').querySelector('figcaption').textContent;
  return {width: box.width, height: box.height, shapes: shapes, caption: caption};
})
"""


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright, or a skip naming what is missing. Request it
    after any fixture that runs an event loop: Playwright's sync API holds one while open."""
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def report_page(tmp_path: Path) -> Path:
    """The report.html of a demo run against the sandbox, with a delivered webhook."""
    with demo_tenant(tmp_path / "ws") as tenant:
        outcome = asyncio.run(start_run(sample_file(), tenant.settings))
    return outcome.report_path


def test_the_report_opens_offline_and_every_chart_draws(
    report_page: Path, browser: Any, tmp_path: Path
) -> None:
    """Chromium loads the page with every request but the page itself refused: no console
    error, no request, every chart an SVG with drawn shapes; a screenshot and a PDF are made."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    url = report_page.resolve().as_uri()

    def refuse_others(route: Any) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_others)
    page.goto(url, wait_until="load")
    charts = page.evaluate(_CHARTS_JS)
    assert errors == []
    assert requests == []
    assert len(charts) >= 6, charts
    for chart in charts:
        assert chart["width"] > 200, chart
        assert chart["height"] > 100, chart
        assert chart["shapes"] >= 1, chart
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])
    page.emulate_media(media="print")
    assert page.pdf(format="A4")[:5] == b"%PDF-"
    page.close()
