"""Dashboard timing in a real browser: the dashboard served as `tierlens dashboard`
serves it (pipelines.serve) on a free port against a built database, Debian's
Chromium (/usr/bin/chromium, never a downloaded one) driven by Playwright.

Each run starts a fresh server (so every first render is a cold one: no Streamlit
cache) and a fresh browser context, then measures

- first render: from `page.goto` to the scorecard's KPI tiles drawn (their values
  visible, no "running" indicator, no skeleton);
- filter change: from choosing the largest partner in the sidebar's Partner filter
  (typed, Enter, Escape to close the list) to the tiles showing that partner's
  numbers (the values change, the app is idle).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.serve import running_dashboard

TIMEOUT_MS = int(os.environ.get("BENCH_BROWSER_TIMEOUT_MS", "180000"))
TILES = '[data-testid="stMain"] .tl-tile .tl-value'
IDLE = """() =>
    document.querySelector('[data-testid="stMain"] h1') !== null
    && document.querySelectorAll('TILES').length > 0
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid*="Skeleton"]')""".replace("TILES", TILES)
CHANGED = """(before) => {
    const now = Array.from(document.querySelectorAll('TILES')).map(e => e.innerText).join('|');
    return now !== '' && now !== before
        && !document.querySelector('[data-testid="stStatusWidget"]');
}""".replace("TILES", TILES)


def _server_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _one_run(db: Path, partner: str, page_factory, log: Path) -> tuple[float, float, float]:
    with running_dashboard(db, log) as served:
        url = served.url
        page = page_factory()
        try:
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_function(IDLE, timeout=TIMEOUT_MS, polling=50)
            first = time.perf_counter() - started
            before = "|".join(page.locator(TILES).all_inner_texts())
            sidebar = page.locator('[data-testid="stSidebar"]')
            box = sidebar.locator('[data-testid="stMultiSelect"]').first  # Partner
            box.click()
            page.keyboard.type(partner)
            page.get_by_role("option", name=partner, exact=True).wait_for(timeout=30_000)
            started = time.perf_counter()
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")  # close the list: the app reruns
            try:
                page.wait_for_function(CHANGED, arg=before, timeout=TIMEOUT_MS, polling=25)
            except Exception:
                page.screenshot(path=str(log.with_name("filter_change_failed.png")))
                raise
            change = time.perf_counter() - started
        finally:
            page.context.close()
        return first, change, _server_rss_mb(served.pid)


def measure_dashboard(db: Path | str, runs: int = 3) -> dict:
    """Median first render and filter change over `runs` fresh servers (seconds)."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install chromium)")
    import duckdb
    from playwright.sync_api import sync_playwright

    log = Path(db).with_name("streamlit.log")
    con = duckdb.connect(str(db), read_only=True)
    try:  # the partner with the most tickets
        (partner,) = con.execute(
            "select partner from analytics.fct_tickets group by partner "
            "order by count(*) desc, partner limit 1"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    firsts, changes, rss = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:

            def page_factory():
                context = browser.new_context(viewport={"width": 1440, "height": 1800})
                return context.new_page()

            for _ in range(runs):
                first, change, server_rss = _one_run(Path(db), partner, page_factory, log)
                firsts.append(first)
                changes.append(change)
                rss.append(server_rss)
        finally:
            browser.close()
    return {
        "first_render": [round(x, 3) for x in firsts],
        "filter_change": [round(x, 3) for x in changes],
        "first_render_median": statistics.median(firsts),
        "filter_change_median": statistics.median(changes),
        "server_rss_mb": max(rss),
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(measure_dashboard(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)))
