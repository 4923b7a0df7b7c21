"""The trend chart (charts.trend_chart): weeks too small to judge greyed or hidden,
intervals as bands, the p-chart's limits and signals, weekly ticks, titles that fit
a phone and colours that never say red, green or amber. Values worked out by hand."""

from __future__ import annotations

import colorsys
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import pytest

from pipelines.presentation import charts
from pipelines.presentation.format import STATUS_COLOURS, TIER_COLOURS

W = [date(2025, 3, 3) + timedelta(weeks=i) for i in range(6)]


def _traces(fig: go.Figure, meta: str) -> list:
    return [t for t in fig.data if t.meta == meta]


def _weekly(**columns: list) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({"week_start": W[:n], **columns})


def test_weeks_with_few_cases_or_not_over_are_grey_points_off_the_line():
    # min_sample 20: week 1 has 1 case (reads 0%), week 4 is after the last complete week.
    weekly = _weekly(value=[0.0, 0.70, 0.72, 0.90], sample=[1, 300, 320, 51])
    fig = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20, complete_until=W[2])
    (line,) = _traces(fig, "series")
    assert list(line.x) == W[:4]
    assert list(line.y) == [None, 0.70, 0.72, None]  # the line breaks there
    assert line.connectgaps is False
    (few,) = _traces(fig, "few")
    assert list(few.x) == [W[0], W[3]] and list(few.y) == [0.0, 0.90]
    assert few.marker.symbol == "circle-open" and few.marker.color == STATUS_COLOURS["n/a"]
    assert list(few.customdata) == [
        "too few cases to judge: 1 case",
        "partial week, not over yet: 51 cases",
    ]
    hidden = charts.trend_chart(
        weekly, "l1_resolution_rate", min_sample=20, complete_until=W[2], hide_few=True
    )
    assert not _traces(hidden, "few")
    assert list(_traces(hidden, "series")[0].y) == [None, 0.70, 0.72, None]


def test_a_week_the_kpi_calls_insufficient_is_greyed_whatever_min_sample_says():
    weekly = _weekly(value=[0.5, 0.6], sample=[25, 300], status=["insufficient", "green"])
    fig = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20)
    assert list(_traces(fig, "few")[0].x) == [W[0]]


def test_the_interval_is_a_band_over_each_run_of_full_weeks():
    weekly = _weekly(
        value=[0.5, 0.6, 0.7, 0.0, 0.4],
        sample=[100, 100, 100, 2, 100],
        ci_low=[0.4, 0.5, 0.6, 0.0, 0.3],
        ci_high=[0.6, 0.7, 0.8, 0.8, 0.5],
    )
    fig = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20)
    (band,) = _traces(fig, "band")
    assert band.fill == "toself" and not band.error_y.array
    pad = timedelta(days=2)
    # weeks 1-3 out along the highs and back along the lows; week 5 alone, 4 days wide
    run = [W[0], W[1], W[2], W[2], W[1], W[0], None]
    lone = [W[4] - pad, W[4] + pad, W[4] + pad, W[4] - pad, None]
    assert list(band.x) == [*run, *lone]
    assert list(band.y) == [0.6, 0.7, 0.8, 0.6, 0.5, 0.4, None, 0.5, 0.5, 0.3, 0.3, None]
    assert band.name == "95% interval" and band.showlegend


def test_a_rate_gets_its_p_chart_and_the_signalled_weeks_are_marked():
    # The hand-worked chart of tests/presentation/test_control.py: p = 300 / 600 = 0.5;
    # week 2 (0.42 on 400) is below 0.425, weeks 3 and 4 above 0.8 and 0.6732.
    weekly = _weekly(
        value=[0.5, 0.42, 0.88, 0.8],
        numerator=[50.0, 168.0, 22.0, 60.0],
        denominator=[100.0, 400.0, 25.0, 75.0],
        sample=[100, 400, 25, 75],
    )
    fig = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20)
    (centre,) = _traces(fig, "centre")
    assert list(centre.y) == pytest.approx([0.5] * 4) and centre.name == "Average 50.0%"
    upper, lower = _traces(fig, "limits")
    assert list(upper.y) == pytest.approx([0.65, 0.575, 0.8, 0.5 + 1.5 / 75**0.5])
    assert list(lower.y) == pytest.approx([0.35, 0.425, 0.2, 0.5 - 1.5 / 75**0.5])
    (signals,) = _traces(fig, "signal")
    assert list(signals.x) == W[1:4]
    assert list(signals.y) == pytest.approx([0.42, 0.88, 0.8])
    assert signals.marker.symbol == "diamond-open"
    assert list(signals.customdata) == [
        "below the lower control limit",
        "above the upper control limit",
        "above the upper control limit",
    ]
    off = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20, signals=False)
    assert not _traces(off, "signal") and not _traces(off, "limits")


def test_weeks_not_judged_stay_out_of_the_p_chart():
    # Week 1 (2 of 2) is too small: the average is 40 / 200 over weeks 2-3 only.
    weekly = _weekly(
        value=[1.0, 0.1, 0.3],
        numerator=[2.0, 10.0, 30.0],
        denominator=[2.0, 100.0, 100.0],
        sample=[2, 100, 100],
    )
    fig = charts.trend_chart(weekly, "l1_resolution_rate", min_sample=20)
    (centre,) = _traces(fig, "centre")
    assert list(centre.x) == W[1:3] and list(centre.y) == pytest.approx([0.2, 0.2])
    assert not _traces(fig, "signal")  # 0.1 and 0.3 sit inside 0.08-0.32


def test_split_lines_get_signals_but_no_limits_and_durations_get_no_p_chart():
    weekly = pl.DataFrame(
        {
            "week_start": W[:4] * 2,
            "split": ["Acme"] * 4 + ["Globex"] * 4,
            "value": [0.5, 0.42, 0.88, 0.8, 0.5, 0.5, 0.5, 0.5],
            "numerator": [50.0, 168.0, 22.0, 60.0, 50.0, 50.0, 50.0, 50.0],
            "denominator": [100.0, 400.0, 25.0, 75.0] + [100.0] * 4,
        }
    )
    fig = charts.trend_chart(weekly, "l1_resolution_rate", split_label="partner")
    assert [t.name for t in _traces(fig, "series")] == ["Acme", "Globex"]
    assert not _traces(fig, "limits") and not _traces(fig, "centre")
    (signals,) = _traces(fig, "signal")  # Globex is flat: no signal
    assert list(signals.x) == W[1:4] and "Acme" in signals.hovertemplate
    minutes = charts.trend_chart(weekly, "handoff_delay_median_min")
    assert not _traces(minutes, "signal") and not _traces(minutes, "centre")


def test_more_lines_than_colours_are_told_apart_by_dashes():
    n = len(charts.SERIES_COLOURS) + 1
    weekly = pl.DataFrame(
        {"week_start": [W[0]] * n, "split": [f"P{i}" for i in range(n)], "value": [0.5] * n}
    )
    lines = _traces(charts.trend_chart(weekly, "l1_resolution_rate"), "series")
    assert [t.line.dash for t in lines] == ["solid"] * (n - 1) + ["dash"]
    assert lines[-1].line.color == lines[0].line.color


def test_one_tick_per_week_reading_03_mar():
    weekly = _weekly(value=[0.5, 0.6, 0.7])
    fig = charts.trend_chart(weekly, "l1_resolution_rate")
    assert list(fig.layout.xaxis.tickvals) == W[:3]
    assert list(fig.layout.xaxis.ticktext) == ["03 Mar", "10 Mar", "17 Mar"]


def test_a_long_title_is_wrapped_for_a_phone_and_the_legend_sits_below():
    weekly = _weekly(value=[3.0, 2.5])
    metric = "mttr_unnecessary_business_ratio"  # a label of 80-odd characters
    fig = charts.trend_chart(weekly, metric, split_label="partner")
    lines = fig.layout.title.text.split("<br>")
    assert len(lines) > 1 and all(len(line) <= charts.TITLE_WIDTH for line in lines)
    assert fig.layout.title.subtitle.text == "lower is better"
    assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == (
        "container",
        0,
        "bottom",
    )


def _hue_and_saturation(colour: str) -> tuple[float, float]:
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _, saturation = colorsys.rgb_to_hls(red, green, blue)
    return hue * 360, saturation


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colour", [*charts.SERIES_COLOURS, *TIER_COLOURS.values()])
def test_tier_and_series_colours_are_not_status_colours_and_read_on_both_themes(colour):
    hue, saturation = _hue_and_saturation(colour)
    # red 330-20, orange and amber 20-70, green 70-170: hues only a status may use
    assert 170 <= hue <= 330 or saturation < 0.15, (colour, hue)
    assert colour not in STATUS_COLOURS.values()
    assert _contrast(colour, "#ffffff") >= 3.0  # Streamlit's light theme
    assert _contrast(colour, "#0e1117") >= 3.0  # and its dark one
