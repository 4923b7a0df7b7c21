"""Retake docs/screenshots/ (only with TIERLENS_UPDATE_SCREENSHOTS=1: it builds the
2,000-ticket sample and takes a minute). See tests/dashboard/screenshots.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .screenshots import main
from .test_browser import _require_browser

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    os.environ.get("TIERLENS_UPDATE_SCREENSHOTS") != "1",
    reason="set TIERLENS_UPDATE_SCREENSHOTS=1 to retake docs/screenshots/",
)
def test_update_docs_screenshots():
    _require_browser()
    shots = main(ROOT / "artifacts" / "docs-screenshots")
    docs = ROOT / "docs" / "screenshots"
    for shot in shots:
        assert shot.stat().st_size > 20_000, shot  # a rendered page, not a blank one
        shutil.copy2(shot, docs / shot.name)
