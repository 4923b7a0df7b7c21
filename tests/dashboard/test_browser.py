"""The dashboard in a real browser: `streamlit run` on a free port, Debian's
Chromium driven by Playwright, every page visited, screenshots saved to
artifacts/screenshots/.

Needs /usr/bin/chromium (`apt-get install chromium`); never downloads a browser.
Skipped when Chromium is missing, unless TIERLENS_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards.pages import DEFAULT_PAGE, PAGES
from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.serve import running_dashboard

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SETTLED = """() =>
    document.querySelector('[data-testid="stApp"]') !== null
    && document.querySelector('[data-testid="stMain"] h1') !== null
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid*="Skeleton"]')"""

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    message = "install Debian's chromium (apt-get install chromium) to run the browser tests"
    if os.environ.get("TIERLENS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TIERLENS_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with running_dashboard(sample_db, log) as served:
        yield served.url


@pytest.fixture(scope="module")
def page(server: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1800})
        yield context.new_page()
        browser.close()


def _visit(page, url: str, name: str) -> float:
    started = time.monotonic()
    page.goto(url)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    elapsed = time.monotonic() - started
    page.wait_for_timeout(500)  # let charts finish drawing for the screenshot
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return elapsed


def test_every_page_in_chromium(server: str, page, snap_con):
    ticket = snap_con.execute(
        "select ticket_id from analytics.fct_tickets where is_bounced_back "
        "order by ticket_id limit 1"
    ).fetchone()[0]
    timings = {}
    for key in PAGES:
        path = "" if key == DEFAULT_PAGE else key
        query = f"?ticket={ticket}" if key == "timeline" else ""
        timings[key] = _visit(page, f"{server}/{path}{query}", key)
        assert page.locator('[data-testid="stException"]').count() == 0, key
        assert page.locator('[data-testid="stMain"] h1').first.inner_text() != ""
    print("page load seconds:", {k: round(v, 2) for k, v in timings.items()})


def test_shared_link_applies_its_filters(server: str, page, snap_con):
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    _visit(page, f"{server}/partners?partner={partner}", "partners_filtered")
    assert page.locator('[data-testid="stException"]').count() == 0
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert partner in sidebar.inner_text()
    assert "Only one partner" in page.locator('[data-testid="stMain"]').inner_text()


VISIBLE_GRIDS = '[data-testid="stDataFrame"]:visible'


def _select_first_row(page, grid: int) -> None:
    """Click the row marker of the first data row of the `grid`-th visible data grid
    (grids in a closed tab are in the page too, hidden)."""
    table = page.locator(VISIBLE_GRIDS).nth(grid)
    table.wait_for(timeout=60_000)
    box = table.bounding_box()
    assert box is not None
    # the row-marker column is the first ~40 px; the header row ~35 px high
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)


def test_a_ticket_opens_from_a_table_with_filters_set(server: str, page, snap_con):
    """Agents and groups, filtered to one partner: an agent, then one of their
    escalated tickets; the timeline opens with the filter kept and the ticket in the
    address (this raised "Cannot clear query parameters bound to widgets")."""
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    _visit(page, f"{server}/agents?partner={partner}", "agents_filtered")
    _select_first_row(page, 0)  # the first agent of the Agents tab
    page.locator(VISIBLE_GRIDS).nth(1).wait_for(timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    _select_first_row(page, 1)  # the first of that agent's escalated tickets
    # Streamlit switches pages in the document (history API): no load event to wait for
    page.wait_for_function("() => location.pathname.endsWith('/timeline')", timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert f"partner={partner}" in page.url and "ticket=" in page.url
    ticket = page.url.split("ticket=")[1].split("&")[0]
    heading = page.locator('[data-testid="stMain"] h3').first.inner_text()
    assert heading.startswith(ticket)
