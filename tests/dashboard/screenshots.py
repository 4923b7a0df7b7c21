"""Screenshots of every dashboard page for docs/screenshots/, on the 2,000-ticket
sample (`tierlens sample` defaults), with a review sample part-reviewed so the
Weekly review page shows findings and actions.

    make screenshots    # = .venv/bin/python -m tests.dashboard.screenshots --out docs/screenshots

A page is shot only when it has finished rendering: no skeleton or running
indicator anywhere, the page's own content (tiles, charts, tables) visible, the
charts drawn, and nothing changing for a moment. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from dashboards.pages import DEFAULT_PAGE, PAGES
from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.review.sampling import create_sample
from pipelines.review.verdicts import Verdict, record
from pipelines.serve import running_dashboard
from pipelines.serving import read_pointer

from .conftest import build_sample
from .test_browser import SETTLED

TICKETS = 2000
SEED = 7
VIEWPORT = {"width": 1440, "height": 1600}

# What each page shows once it is complete (CSS selector, minimum count).
EXPECTED: dict[str, tuple[str, int]] = {
    "scorecard": (".tl-tile .tl-value", 8),
    "trends": (".js-plotly-plot", 2),
    "partners": ('[data-testid="stDataFrame"] canvas', 1),
    "flow": (".js-plotly-plot", 1),
    "agents": ('[data-testid="stDataFrame"] canvas', 1),
    "timeline": (".js-plotly-plot", 1),
    "tickets": ('[data-testid="stDataFrame"] canvas', 1),
    "access": ('[data-testid="stAlert"]', 1),
    "review": ('[data-testid="stForm"]', 1),
    "quality": ('[data-testid="stDataFrame"] canvas', 1),
    "review_findings": ('[data-testid="stMetric"]', 3),
    "review_action": ('[data-testid="stDataFrame"] canvas', 3),
}
CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(el => el.querySelector('.main-svg') !== null)"""

# Verdicts for the screenshot's review (position in the sample -> answers).
ANSWERS = [
    ("no", "too early", "kb article", None, "Reset MFA for a locked-out user"),
    ("yes", "right", "nothing", None, None),
    ("no", "too early", "access", "read access to the finance share", None),
    ("yes", "too late", "training", None, None),
    ("no", "right", "kb article", None, "Map a network printer"),
    ("unsure", None, "tooling", "remote-control tool for L1", None),
    ("yes", "right", "nothing", None, None),
    ("no", "too early", "kb article", None, "Reset MFA for a locked-out user"),
]


def prepare(folder: Path) -> tuple[Path, str]:
    """The sample database with a review sample and a few verdicts; returns the
    database and a ticket for the timeline page."""
    db = build_sample(folder, TICKETS, SEED)
    sample = create_sample(db, None, n=25, seed=1)
    rows = sample.items.select("escalation_id", "ticket_id").rows()
    for (esc, ticket), answer in zip(rows, ANSWERS, strict=False):
        decision, timing, need, text, article = answer
        record(
            db,
            Verdict(
                escalation_id=esc,
                ticket_id=ticket,
                sample_id=sample.sample_id,
                reviewer="Service desk lead",
                should_escalate=decision,
                timing=timing,
                l1_need=need,
                l1_need_text=text,
                kb_article_to_write=article,
            ),
        )
    pointer = read_pointer(db)
    assert pointer is not None
    con = duckdb.connect(str(pointer.snapshot), read_only=True)
    try:
        ticket = con.execute(
            "select ticket_id from analytics.fct_tickets where is_bounced_back "
            "order by ticket_id limit 1"
        ).fetchone()[0]
    finally:
        con.close()
    return db, ticket


def wait_complete(page, key: str, *, timeout_s: float = 60) -> None:
    """Until the page is settled, shows its content and stays so for a moment."""
    selector, minimum = EXPECTED.get(key, ("h1", 1))
    deadline = time.monotonic() + timeout_s
    page.wait_for_function(SETTLED, timeout=timeout_s * 1000, polling=100)
    while time.monotonic() < deadline:
        ready = (
            page.evaluate(SETTLED)
            and page.locator(selector).count() >= minimum
            and page.evaluate(CHARTS_DRAWN)
        )
        if ready:
            page.wait_for_timeout(1000)  # settle, then check nothing started again
            if page.evaluate(SETTLED):
                return
        page.wait_for_timeout(200)
    raise TimeoutError(f"{key}: the page did not finish rendering in {timeout_s:.0f}s")


def shoot(url: str, out: Path, ticket: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT).new_page()
        for key in PAGES:
            path = "" if key == DEFAULT_PAGE else key
            query = f"?ticket={ticket}" if key == "timeline" else ""
            page.goto(f"{url}/{path}{query}")
            wait_complete(page, key)
            target = out / f"{key}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
            if key == "review":
                for tab in ("Findings", "Action list"):
                    page.get_by_role("tab", name=tab).click()
                    name = f"review_{tab.split()[0].lower()}"
                    page.wait_for_timeout(300)
                    wait_complete(page, name)
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
        browser.close()
    return written


def main(out: Path) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="tierlens-shots-") as tmp:
        db, ticket = prepare(Path(tmp))
        with running_dashboard(db, Path(tmp) / "streamlit.log") as served:
            return shoot(served.url, out, ticket)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("artifacts/docs-screenshots"))
    for written in main(parser.parse_args().out):
        print(written)
