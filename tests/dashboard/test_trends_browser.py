"""Trends and the ticket timeline in Debian's Chromium on a phone-width screen (390
px): the legends sit under the plots and never cover a title, no title runs off
the chart, and weeks too small to judge are hollow grey points off the line (or
hidden). Measured on the Plotly SVG the browser drew.

Needs /usr/bin/chromium, like test_browser.py (skipped without it unless
TIERLENS_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.serve import running_dashboard

from .test_browser import ARTIFACTS, SETTLED, _require_browser

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 1600}

# Every chart's boxes (left, top, right, bottom in page pixels): the whole SVG, the
# title and subtitle, the legend, the plot area and the x axis's tick labels.
BOXES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom]; };
  const all = sel => [...plot.querySelectorAll(sel)].filter(e => e.getBBox().width > 0)
                                                       .map(box);
  return {
    svg: box(plot.querySelector('svg.main-svg')),
    titles: all('.gtitle, .gtitle-subtitle'),
    legend: all('.legend'),
    plot: all('.draglayer .nsewdrag'),
    ticks: all('.xtick text'),
  };
})"""

# The traces of every chart as Plotly holds them (gd.data), and the hollow points
# drawn for the trace marked "few" (weeks not judged).
TRACES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
  const layers = [...plot.querySelectorAll('.scatterlayer g.trace')];
  return plot.data.map((t, i) => ({
    meta: t.meta || null, name: t.name, x: t.x, y: t.y,
    symbol: t.marker && t.marker.symbol || null,
    drawn: layers[i] ? layers[i].querySelectorAll('path.point').length : null,
  }));
})"""


def _overlap(a: list[float], b: list[float]) -> bool:
    """Two boxes share more than a pixel's sliver."""
    return min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1


def _assert_legends_clear(charts: list[dict[str, Any]], where: str) -> None:
    assert charts, f"{where}: no chart drawn"
    for i, chart in enumerate(charts):
        svg = chart["svg"]
        assert chart["titles"], f"{where}, chart {i}: no title"
        for title in chart["titles"]:  # nothing runs off the chart's right edge
            assert svg[0] - 1 <= title[0] and title[2] <= svg[2] + 1, (where, i, title, svg)
        for legend in chart["legend"]:
            for other in chart["titles"] + chart["plot"] + chart["ticks"]:
                assert not _overlap(legend, other), (where, i, legend, other)
            assert legend[1] >= max(p[3] for p in chart["plot"]), (where, i, "legend not below")


@pytest.fixture(scope="module")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with running_dashboard(sample_db, log) as served:
        yield served.url


@pytest.fixture(scope="module")
def phone(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=PHONE).new_page()
        yield page
        browser.close()


# Every chart has drawn its title (Plotly draws after the script run ends, and on a
# loaded machine the second chart can lag the first).
TITLES_DRAWN = """() => { const plots = [...document.querySelectorAll('.js-plotly-plot')];
  return plots.length > 0 && plots.every(p => [...p.querySelectorAll('.gtitle')]
    .some(t => t.getBBox().width > 0)); }"""


def _charts_drawn(page: Any) -> None:
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_function(TITLES_DRAWN, timeout=60_000, polling=100)
    page.wait_for_timeout(500)  # the legends are placed after the titles


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .legend').length > 0",
        timeout=60_000,
    )
    _charts_drawn(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_phone_width_legends_stay_below_the_titles_and_plots(server: str, phone, snap_con):
    _open(phone, f"{server}/trends")
    _assert_legends_clear(phone.evaluate(BOXES), "trends")
    phone.get_by_role("combobox", name="Split by").click()
    phone.get_by_role("option", name="Partner", exact=True).click()
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    phone.wait_for_function(
        "name => [...document.querySelectorAll('svg .legendtext')]"
        ".some(t => t.textContent === name)",
        arg=partner,
        timeout=60_000,
    )
    _charts_drawn(phone)
    _shot(phone, "trends_phone_by_partner")
    _assert_legends_clear(phone.evaluate(BOXES), "trends by partner")
    ticket = snap_con.execute(
        "select ticket_id from analytics.fct_tickets where is_bounced_back "
        "order by ticket_id limit 1"
    ).fetchone()[0]
    _open(phone, f"{server}/timeline?ticket={ticket}")
    _shot(phone, "timeline_phone")
    _assert_legends_clear(phone.evaluate(BOXES), "timeline")


def test_weeks_too_small_to_judge_are_grey_points_off_the_line(server: str, phone, snap_con):
    # The sample's first week is a trickle (fewer than min_sample resolved) and its
    # last is not over: both hollow and grey, off the line; the weeks between on it.
    weeks = [
        r[0]
        for r in snap_con.execute(
            "select week_start from analytics.kpi_weekly where dimension = 'overall' "
            "and metric = 'l1_resolution_rate' order by week_start"
        ).fetchall()
    ]
    first_sample, min_sample = snap_con.execute(
        "select sample, (select min_sample from config.settings) from analytics.kpi_weekly "
        "where dimension = 'overall' and metric = 'l1_resolution_rate' and week_start = ?",
        [weeks[0]],
    ).fetchone()
    assert first_sample < min_sample  # what the sample is built to hold
    _open(phone, f"{server}/trends")
    _shot(phone, "trends_phone")
    first = phone.evaluate(TRACES)[0]  # the first KPI chosen: L1 resolution
    (line,) = [t for t in first if t["meta"] == "series"]
    (few,) = [t for t in first if t["meta"] == "few"]
    assert line["y"][0] is None and line["y"][-1] is None  # the line skips them
    assert all(v is not None for v in line["y"][1:-1])
    assert line["drawn"] == len(weeks) - 2
    assert [x[:10] for x in few["x"]] == [weeks[0].isoformat(), weeks[-1].isoformat()]
    assert few["symbol"] == "circle-open" and few["drawn"] == 2
    phone.get_by_text("Hidden", exact=True).click()
    phone.wait_for_function(
        "() => !document.querySelector('.js-plotly-plot').data.some(t => t.meta === 'few')",
        timeout=60_000,
    )
    hidden = phone.evaluate(TRACES)[0]
    assert not [t for t in hidden if t["meta"] == "few"]
    assert next(t for t in hidden if t["meta"] == "series")["drawn"] == len(weeks) - 2
