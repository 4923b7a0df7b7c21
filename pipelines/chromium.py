"""The system Chromium, for the PDF report, the browser tests and the benchmark.

Debian's /usr/bin/chromium (or $TIERLENS_CHROMIUM), driven by Playwright; a
browser is never downloaded. The flags suit a headless server or container.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("TIERLENS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
