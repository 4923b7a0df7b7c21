"""Shared links in Chromium: an address with every parameter opens the same view,
and a value that matches nothing is said, never silently dropped."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.dashboard.test_browser import SETTLED, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'


def _open(page, url: str) -> None:  # noqa: F811
    page.goto(url)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stException"]').count() == 0


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def _weeks(snap_con, table: str) -> list:
    """The weeks of an analytics table, in order."""
    return [
        r[0]
        for r in snap_con.execute(
            f"select distinct week_start from analytics.{table} "
            "where week_start is not null order by 1"
        ).fetchall()
    ]


def test_a_link_with_every_parameter_opens_the_same_view(server: str, page, snap_con):  # noqa: F811
    weeks = _weeks(snap_con, "fct_tickets")
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    first, last, week = weeks[0], weeks[-2], weeks[-3]
    query = {
        "weeks": [first.isoformat(), last.isoformat()],
        "partner": [partner],
        "priority": ["P3"],
        "kpi": ["escalation_rate"],
        "week": [(week + timedelta(days=2)).isoformat()],  # any day names its week
    }
    _open(page, f"{server}/tickets?{urlencode(query, doseq=True)}")
    sidebar = page.locator(SIDEBAR).inner_text()
    assert partner in sidebar and "P3" in sidebar
    assert f"{first:%d %b %Y}" in sidebar and f"{last:%d %b %Y}" in sidebar
    main = page.locator(MAIN).inner_text()
    assert "Escalation rate" in main and f"week of {week:%d %b %Y}" in main
    # the count is the KPI's numerator
    expected = snap_con.execute(
        "select sum(numerator) from analytics.kpi_facts f join config.metric_facts m "
        "using (fact) where m.metric = 'escalation_rate' and not m.is_base "
        "and partner = ? and priority = 'P3' and week_start = ?",
        [partner, week],
    ).fetchone()[0]
    assert f"{int(expected):,} cases counted in Escalation rate" in main
    # the address now names the week by its first day, and keeps everything else
    shown = _params(page.url)
    assert shown["week"] == [week.isoformat()]
    assert shown["weeks"] == [first.isoformat(), last.isoformat()]
    assert shown["partner"] == [partner] and shown["kpi"] == ["escalation_rate"]
    # a recipient opening that address sees the same view
    again = page.url
    _open(page, again)
    assert page.locator(MAIN).inner_text() == main
    assert _params(page.url) == shown


def test_a_value_the_link_does_not_match_is_said(server: str, page, snap_con):  # noqa: F811
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    _open(page, f"{server}/partners?partner=No%20Such%20Partner&partner={partner.lower()}")
    text = page.locator(MAIN).inner_text()
    assert "“No Such Partner” matches no partner in this build" in text
    # the mis-cased one is matched to the partner it names
    assert partner in page.locator(SIDEBAR).inner_text()
    assert _params(page.url)["partner"] == [partner]


def test_weeks_in_the_older_label_form_still_open(server: str, page, snap_con):  # noqa: F811
    weeks = _weeks(snap_con, "fct_tickets")
    label = f"{weeks[1]:%d %b %Y}".replace(" ", "+")
    _open(page, f"{server}/?weeks={label}&weeks={weeks[2].isoformat()}")
    assert _params(page.url)["weeks"] == [weeks[1].isoformat(), weeks[2].isoformat()]
    _open(page, f"{server}/?weeks=2031-01-06")
    assert "week “2031-01-06” is not a week of this build" in page.locator(MAIN).inner_text()


def test_the_weeks_slider_keeps_the_range_it_is_moved_to(server: str, page, snap_con):  # noqa: F811
    """Moved in the browser, the weeks slider stays where it was put: the address
    says so, and the next run (another filter changed) keeps it."""
    weeks = _weeks(snap_con, "kpi_weekly")
    partner = snap_con.execute("select min(partner) from analytics.fct_tickets").fetchone()[0]
    _open(page, f"{server}/")
    thumbs = page.locator(f'{SIDEBAR} [data-testid="stSlider"] input[type="range"]')
    thumbs.first.focus()
    page.keyboard.press("ArrowRight")  # the first week one later
    page.wait_for_function("() => location.search.includes('weeks=')", timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    chosen = [weeks[1].isoformat(), weeks[-1].isoformat()]
    assert _params(page.url)["weeks"] == chosen
    box = page.locator(f'{SIDEBAR} [data-testid="stMultiSelect"]').first  # Partner
    box.click()
    page.keyboard.type(partner)
    page.get_by_role("option", name=partner, exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => location.search.includes('partner=')", timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=100)
    page.wait_for_timeout(300)
    assert _params(page.url)["weeks"] == chosen
    shown = [thumbs.nth(i).get_attribute("aria-valuetext") for i in range(2)]
    assert shown == [f"{weeks[1]:%d %b %Y}", f"{weeks[-1]:%d %b %Y}"]
