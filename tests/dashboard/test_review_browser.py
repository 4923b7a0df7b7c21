"""The weekly review end to end in a real browser: `streamlit run`, Debian's
Chromium, a verdict typed into the Weekly review page, found in the database and
in the next `tierlens report`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.config import Config
from pipelines.models.runner import run_build
from pipelines.report.build import write_report
from pipelines.review.verdicts import journal_path
from pipelines.serve import running_dashboard

from .test_browser import SETTLED, _require_browser

pytestmark = pytest.mark.browser

ARTICLE = "Reset a forgotten VPN token (browser test)"


@pytest.fixture(scope="module")
def review_url(reviewed_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_browser()
    log = tmp_path_factory.mktemp("streamlit") / "review.log"
    with running_dashboard(reviewed_db, log) as served:
        yield served.url


def _verdict(db: Path) -> tuple | None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select should_escalate, timing, l1_need, reviewer from meta.review_verdicts "
            "where kb_article_to_write = ?",
            [ARTICLE],
        ).fetchone()
    finally:
        con.close()


def test_a_verdict_typed_in_the_browser_reaches_the_database_and_the_report(
    review_url: str, reviewed_db: Path, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{review_url}/review")
        page.wait_for_function(SETTLED, timeout=60_000, polling=100)
        main = page.locator('[data-testid="stMain"]')
        main.get_by_label("Reviewer").fill("Browser reviewer")
        main.get_by_label("Reviewer").press("Enter")
        form = main.locator('[data-testid="stForm"]')
        form.get_by_role("radiogroup", name="Should this have been escalated?").get_by_text(
            "No", exact=True
        ).click()
        form.get_by_role("radiogroup", name=re.compile("right time")).get_by_text(
            "Too early", exact=True
        ).click()
        form.get_by_role("radiogroup", name=re.compile("What would L1 need")).get_by_text(
            "KB article", exact=True
        ).click()
        form.get_by_label("KB article to write").fill(ARTICLE)
        form.get_by_role("button", name="Save verdict").click()
        page.get_by_text(re.compile("Verdict saved")).wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert errors == []
        browser.close()

    assert ARTICLE in journal_path(reviewed_db).read_text(encoding="utf-8")
    found = _verdict(reviewed_db)
    if found is None:  # queued: the database was busy; the next build applies it
        run_build(reviewed_db, Config())
        found = _verdict(reviewed_db)
    assert found == ("no", "too early", "kb article", "Browser reviewer")

    out = tmp_path / "after-review.html"
    write_report(reviewed_db, None, out=out)
    text = out.read_text(encoding="utf-8")
    assert ARTICLE in text[text.index('<section id="actions">') :]
