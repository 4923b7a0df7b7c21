"""The report as PDF: the same page printed on A4 by a headless Chromium.

Uses the system Chromium (/usr/bin/chromium, or $TIERLENS_CHROMIUM) through
Playwright; it never downloads a browser.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.chromium import CHROMIUM, CHROMIUM_ARGS
from pipelines.errors import TierlensError


def html_to_pdf(html: str, workdir: Path, *, timeout_ms: int = 60_000) -> bytes:
    """Print `html` to an A4 PDF; a clear error when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        raise TierlensError(
            f"--format pdf needs Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
            "or set TIERLENS_CHROMIUM). The HTML report works without it."
        )
    try:
        from playwright.sync_api import Error as PlaywrightError, sync_playwright
    except ImportError as exc:
        raise TierlensError(
            "--format pdf needs the playwright package (pip install playwright; no browser "
            "download is needed, the system Chromium is used)."
        ) from exc
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix=".report-") as tmp:
        page_file = Path(tmp).resolve() / "report.html"  # a file URI needs an absolute path
        page_file.write_text(html, encoding="utf-8")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.goto(page_file.as_uri(), wait_until="load", timeout=timeout_ms)
                    page.wait_for_function(
                        "() => document.querySelectorAll("
                        "'.plotly-graph-div:not(.js-plotly-plot)').length === 0",
                        timeout=timeout_ms,
                    )
                    page.emulate_media(media="print")
                    return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            raise TierlensError(f"Chromium could not print the report: {exc}") from exc
