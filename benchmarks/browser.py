"""Dashboard timing in a real browser: `streamlit run dashboards/app.py` on a free
port against a built database, Debian's Chromium (/usr/bin/chromium, never a
downloaded one) driven by Playwright.

Each run starts a fresh server (so every first render is a cold one: no Streamlit
cache) and a fresh browser context, then measures

- first render: from `page.goto` to the scorecard's KPI tiles drawn (metric values
  visible, no "running" indicator, no skeleton);
- filter change: from choosing the largest partner in the sidebar's Partner filter
  (typed, Enter, Escape to close the list) to the tiles showing that partner's
  numbers (the values change, the app is idle).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = int(os.environ.get("BENCH_BROWSER_TIMEOUT_MS", "180000"))
TILES = '[data-testid="stMain"] [data-testid="stMetricValue"]'
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url}/_stcore/health did not answer in {timeout}s")


def _server_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _one_run(db: Path, partner: str, page_factory, log: Path) -> tuple[float, float, float]:
    from pipelines.serve import streamlit_command

    port = _free_port()
    command = streamlit_command(db, port)
    split = command.index("--")  # the app's own arguments (--db) come after it
    command = [*command[:split], "--server.address", "127.0.0.1", *command[split:]]
    env = {**os.environ, "TIERLENS_DB": str(Path(db).resolve())}
    with log.open("a") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
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
        return first, change, _server_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
