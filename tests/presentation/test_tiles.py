"""The scorecard tiles (pipelines/presentation/tiles.py): values worked out by hand."""

from __future__ import annotations

import base64
import re
from datetime import date, timedelta

import polars as pl

from pipelines.presentation.tiles import (
    spark_scale,
    sparkline_svg,
    tile_html,
    tiles_html,
    trusted_sparks,
)


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


def test_a_fixed_scale_keeps_a_small_wiggle_small_and_clamps_outliers():
    # Scale 0-1 in the same 120 x 28 box: y = 3 + 22 * (1 - v).
    # 0.70 -> 9.6, 0.72 -> 9.16 -> 9.2: a 2-point change moves less than half a pixel,
    # where its own range would stretch it over the whole 22 (3.0 to 25.0).
    svg = _svg(sparkline_svg([0.70, 0.72], "#000", scale=(0.0, 1.0)))
    assert re.findall(r'points="([^"]*)"', svg) == ["3.0,9.6 117.0,9.2"]
    # outside the scale: on its edge (1.5 -> top, -1 -> bottom)
    svg = _svg(sparkline_svg([1.5, -1.0], "#000", scale=(0.0, 1.0)))
    assert re.findall(r'points="([^"]*)"', svg) == ["3.0,3.0 117.0,25.0"]


def test_spark_scale_is_0_to_100_percent_for_a_rate_and_from_zero_for_minutes():
    assert spark_scale("l1_resolution_rate", [0.69, 0.71]) == (0.0, 1.0)
    assert spark_scale("handoff_delay_median_min", [10.0, None, 40.0]) == (0.0, 40.0)
    assert spark_scale("handoff_delay_median_min", [None, 0.0]) == (0.0, 1.0)


def test_trusted_sparks_leave_gaps_for_missing_small_and_partial_weeks():
    w = [date(2025, 3, 3) + timedelta(weeks=i) for i in range(6)]
    weekly = pl.DataFrame(
        {  # no rows for w[0] and w[2]; w[3] has 3 cases; w[5] is not over
            "week_start": [w[1], w[3], w[4], w[5], w[4]],
            "metric": ["l1_resolution_rate"] * 4 + ["escalation_rate"],
            "value": [0.70, 0.0, 0.72, 1.0, 0.2],
            "sample": [300, 3, 310, 5, 310],
            "status": ["green", "insufficient", "green", "insufficient", "amber"],
        }
    )
    tiles = pl.DataFrame(
        {
            "metric": ["l1_resolution_rate", "escalation_rate"],
            "value": [1.0, 0.2],
            "spark_weeks": [[w[3], w[5]], [w[4]]],
            "spark_values": [[0.0, 1.0], [0.2]],
        }
    )
    got = trusted_sparks(tiles, weekly, w[5], min_sample=20, complete_until=w[4], n_weeks=6)
    assert got["metric"].to_list() == ["l1_resolution_rate", "escalation_rate"]
    assert got["value"].to_list() == [1.0, 0.2]  # the tile's own figures stay
    assert got["spark_weeks"].to_list() == [w, w]
    assert got["spark_values"].to_list() == [
        [None, 0.70, None, None, 0.72, None],
        [None, None, None, None, 0.2, None],
    ]


def test_a_rate_tile_draws_its_sparkline_on_0_to_100_percent():
    html = tile_html(_row(spark_values=[0.692, 0.712]), min_sample=20)
    # y = 3 + 22 * (1 - v): 0.692 -> 9.776 -> 9.8, 0.712 -> 9.336 -> 9.3
    assert re.findall(r'points="([^"]*)"', _svg(html)) == ["3.0,9.8 117.0,9.3"]
    assert 'title="L1 resolution, last 2 weeks on a scale of 0.0% to 100.0%"' in html


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
    assert 'alt="L1 resolution, last 2 weeks on a scale of 0.0% to 100.0%"' in html


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
