"""The scorecard tiles (pipelines/presentation/tiles.py): values worked out by hand."""

from __future__ import annotations

import base64
import re
from datetime import date

import polars as pl

from pipelines.presentation.tiles import sparkline_svg, tile_html, tiles_html


def _svg(img: str) -> str:
    data = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', img)
    assert data, img
    return base64.b64decode(data.group(1)).decode()


def test_sparkline_points_are_scaled_to_the_box_and_a_gap_breaks_the_line():
    # Box 120 x 28 with 3 of padding: x from 3 to 117, y from 3 (high) to 25 (low).
    # Four weeks: x = 3, 41, 79, 117. Values 0 and 1 are the low and the high.
    svg = _svg(sparkline_svg([0.0, 1.0, None, 0.5], "#123456", title="L1"))
    assert re.findall(r'points="([^"]*)"', svg) == ["3.0,25.0 41.0,3.0"]  # week 4 stands alone
    assert '<circle cx="117.0" cy="14.0"' in svg  # the last point: halfway up
    assert 'stroke="#123456"' in svg


def test_flat_series_sits_in_the_middle_and_empty_series_draws_nothing():
    svg = _svg(sparkline_svg([0.2, 0.2], "#000"))
    assert re.findall(r'points="([^"]*)"', svg) == ["3.0,14.0 117.0,14.0"]
    assert sparkline_svg([None, None], "#000") == ""
    assert sparkline_svg([], "#000") == ""


def _row(**kw) -> dict:
    row = {
        "metric": "l1_resolution_rate",
        "value": 0.712,
        "status": "green",
        "target": ">= 70%",
        "sample": 120,
        "change": 0.02,
        "spark_weeks": [date(2025, 3, 3), date(2025, 3, 10)],
        "spark_values": [0.692, 0.712],
    }
    return {**row, **kw}


def test_tile_shows_value_change_status_and_target():
    html = tile_html(_row(), min_sample=20)
    assert 'data-metric="l1_resolution_rate"' in html
    assert '<div class="tl-name">L1 resolution</div><div class="tl-value">71.2%</div>' in html
    # higher is better for L1 resolution: a rise is good news
    assert '<div class="tl-delta good">+2.0 pts vs previous week</div>' in html
    assert '<span class="tl-badge green">GREEN</span>target &gt;= 70%' in html
    assert 'alt="L1 resolution, last 2 weeks"' in html


def test_a_rise_of_a_lower_is_better_kpi_is_bad_news():
    html = tile_html(
        _row(metric="bounceback_rate", value=0.24, status="red", target="5-10%", change=0.03),
        min_sample=20,
    )
    assert '<div class="tl-delta bad">+3.0 pts vs previous week</div>' in html
    assert 'class="tl-tile red"' in html


def test_insufficient_sample_says_so_instead_of_a_rate():
    html = tile_html(_row(status="insufficient", sample=5, value=0.8, change=None), 20)
    assert "71.2%" not in html and "80.0%" not in html
    assert '<div class="tl-value tl-muted">insufficient sample</div>' in html
    assert "5 cases this week; a rate needs at least 20." in html
    assert "tl-badge" not in html


def test_tiles_keep_the_frame_order():
    frame = pl.DataFrame(
        [_row(metric="escalation_rate", status="amber", target="15-20%"), _row()]
    )
    html = tiles_html(frame, 20)
    assert html.startswith('<div class="tl-tiles">')
    assert re.findall(r'data-metric="([^"]+)"', html) == ["escalation_rate", "l1_resolution_rate"]
    assert 'class="tl-tile amber"' in html
