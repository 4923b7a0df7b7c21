"""Every number leads to its tickets, in Chromium, with filters set: from a KPI of
the scorecard to the tickets behind it to a ticket's timeline; from a path of the
escalation flow to its tickets. No exception text anywhere on the way."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.dashboard.test_browser import (  # noqa: F401  (fixtures)
    SETTLED,
    VISIBLE_GRIDS,
    _select_first_row,
    server,
)
from tests.dashboard.test_links_browser import MAIN, _params

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(server: str):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test: a chart's click handlers are bound on a page
    that no earlier test has navigated."""
    context = browser.new_context(viewport={"width": 1440, "height": 1800})
    yield context.new_page()
    context.close()


def _settle(page, path: str) -> None:
    page.wait_for_function(f"() => location.pathname.endsWith('{path}')", timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.locator(MAIN).inner_text()


def _select_row_with(page, grid: int, text: str) -> None:
    """Click the row marker of the row whose first cell reads `text` in the `grid`-th
    visible grid (the grid draws on a canvas; its accessible table is hidden but
    holds the text). Rows are 35 px high under a 35 px header."""
    table = page.locator(VISIBLE_GRIDS).nth(grid)
    table.wait_for(timeout=60_000)
    rows = table.locator('[role="row"]')
    rows.nth(1).wait_for(state="attached", timeout=60_000)
    firsts = [
        (rows.nth(i).locator('[role="gridcell"]').first.text_content() or "").strip()
        for i in range(1, min(rows.count(), 10))
    ]
    assert text in firsts, (text, firsts)
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * firsts.index(text) + 17)


def test_from_a_kpi_to_its_tickets_to_a_timeline(server: str, page, snap_con):  # noqa: F811
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    weeks = [
        r[0]
        for r in snap_con.execute(
            "select distinct week_start from analytics.fct_tickets where week_start is not null "
            "order by 1"
        ).fetchall()
    ]
    week = weeks[-2]
    query = {"partner": partner, "priority": "P3", "week": week.isoformat()}
    page.goto(f"{server}/?{urlencode(query)}")
    _settle(page, "/")
    page.get_by_text("Every KPI this week").click()
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    _select_row_with(page, 0, "Escalation rate")
    _settle(page, "/tickets")
    shown = _params(page.url)
    assert shown["kpi"] == ["escalation_rate"] and shown["week"] == [week.isoformat()]
    assert shown["partner"] == [partner] and shown["priority"] == ["P3"]
    expected = snap_con.execute(
        "select count(*) from analytics.kpi_facts f join config.metric_facts m using (fact) "
        "where m.metric = 'escalation_rate' and not m.is_base and f.numerator > 0 "
        "and partner = ? and priority = 'P3' and week_start = ?",
        [partner, week],
    ).fetchone()[0]
    assert f"{expected:,} cases counted in Escalation rate" in page.locator(MAIN).inner_text()
    _select_first_row(page, 0)
    _settle(page, "/timeline")
    shown = _params(page.url)
    assert shown["partner"] == [partner] and shown["priority"] == ["P3"]
    ticket = shown["ticket"][0]
    assert page.locator(f"{MAIN} h3").first.inner_text().startswith(ticket)
    row = snap_con.execute(
        "select partner, priority, is_escalated from analytics.fct_tickets where ticket_id = ?",
        [ticket],
    ).fetchone()
    assert row == (partner, "P3", True)


def test_from_a_path_of_the_flow_to_its_tickets(server: str, page, snap_con):  # noqa: F811
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    path, n = snap_con.execute(
        "select path, sum(n_tickets) from analytics.tier_paths where partner = ? "
        "group by path order by 2 desc, path limit 1",
        [partner],
    ).fetchone()
    page.goto(f"{server}/flow?partner={partner}")
    _settle(page, "/flow")
    _select_row_with(page, 0, path)
    _settle(page, "/tickets")
    assert _params(page.url)["path"] == [path]
    assert f"{n:,} resolved tickets took the tier path {path}" in page.locator(MAIN).inner_text()


def test_a_scorecard_tile_opens_the_tickets_behind_it(server: str, page, snap_con):  # noqa: F811
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    page.goto(f"{server}/?partner={partner}&priority=P3")
    _settle(page, "/")
    week = page.locator('[data-testid="stSelectbox"]').first.inner_text()
    page.locator('.tl-tile[data-metric="l1_resolution_rate"] a.tl-cover').click()
    _settle(page, "/tickets")
    shown = _params(page.url)
    assert shown["kpi"] == ["l1_resolution_rate"] and shown["partner"] == [partner]
    assert shown["priority"] == ["P3"]
    day = shown["week"][0]
    expected = snap_con.execute(
        "select count(*) from analytics.kpi_facts f join config.metric_facts m using (fact) "
        "where m.metric = 'l1_resolution_rate' and not m.is_base and f.numerator > 0 "
        "and partner = ? and priority = 'P3' and week_start = ?",
        [partner, day],
    ).fetchone()[0]
    text = page.locator(MAIN).inner_text()
    assert f"{expected:,} cases counted in L1 resolution" in text
    assert week.split("week of ")[-1].strip() in text  # the tile's week, kept


def test_a_partner_on_the_comparison_opens_its_tickets(server: str, page, snap_con):  # noqa: F811
    """The partner table's first row (largest partner first) opens its tickets."""
    page.goto(f"{server}/partners?priority=P3")
    _settle(page, "/partners")
    _select_first_row(page, 0)
    _settle(page, "/tickets")
    shown = _params(page.url)
    assert shown["kpi"] == ["l1_resolution_rate"] and shown["priority"] == ["P3"]
    (partner,) = shown["partner"]
    largest = snap_con.execute(
        "select partner from analytics.kpi_facts f join config.metric_facts m using (fact) "
        "where m.metric = 'l1_resolution_rate' and not m.is_base and priority = 'P3' "
        "group by partner order by count(*) desc, partner limit 1"
    ).fetchone()[0]
    assert partner == largest
    expected = snap_con.execute(
        "select count(*) from analytics.kpi_facts f join config.metric_facts m using (fact) "
        "where m.metric = 'l1_resolution_rate' and not m.is_base and f.numerator > 0 "
        "and partner = ? and priority = 'P3'",
        [partner],
    ).fetchone()[0]
    assert expected > 0
    assert f"{expected:,} cases counted in L1 resolution" in page.locator(MAIN).inner_text()


def test_a_week_of_a_trend_opens_its_tickets(server: str, page, snap_con):  # noqa: F811
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    page.goto(f"{server}/trends?partner={partner}")
    _settle(page, "/trends")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    points = chart.locator(".scatterlayer path.point")
    points.first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # Plotly binds its click handlers after drawing
    for i in range(points.count()):
        box = points.nth(i).bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_function(
                "() => location.pathname.endsWith('/tickets')", timeout=5_000
            )
            break
        except PlaywrightTimeout:
            continue
    _settle(page, "/tickets")
    shown = _params(page.url)
    (metric,) = shown["kpi"]
    (week,) = shown["week"]
    assert shown["partner"] == [partner]
    expected = snap_con.execute(
        "select numerator from analytics.kpi_weekly where dimension = 'partner' "
        "and dimension_value = ? and metric = ? and week_start = ?",
        [partner, metric, week],
    ).fetchone()[0]
    assert f"{int(expected):,} cases counted in" in page.locator(MAIN).inner_text()
