"""Chart functions: frames in, Plotly figures out, without Streamlit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import plotly.graph_objects as go
import polars as pl

from pipelines.presentation import charts
from pipelines.presentation.stats import sankey_links

WEEKS = [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]


def _transparent(fig: go.Figure) -> bool:
    return fig.layout.paper_bgcolor == "rgba(0,0,0,0)" and fig.layout.plot_bgcolor == (
        "rgba(0,0,0,0)"
    )


def test_trend_chart_has_a_line_per_split_and_the_target_band():
    weekly = pl.DataFrame(
        {
            "week_start": WEEKS * 2,
            "split": ["Acme"] * 3 + ["Globex"] * 3,
            "value": [0.1, 0.12, 0.11, 0.2, 0.25, 0.22],
        }
    )
    fig = charts.trend_chart(
        weekly, "bounceback_rate", {"green_min": None, "green_max": 0.10}, split_label="partner"
    )
    assert [t.name for t in fig.data] == ["Acme", "Globex"]
    band = fig.layout.shapes[0]
    assert (band.y0, band.y1) == (0.0, 0.10)
    assert fig.layout.title.text == "Bounceback by partner, weekly"
    assert fig.layout.title.subtitle.text == "lower is better; green band = target"
    assert fig.layout.yaxis.tickformat == ".0%"
    assert _transparent(fig)


def test_trend_chart_without_target_has_no_band():
    weekly = pl.DataFrame({"week_start": WEEKS, "value": [10.0, 12.0, 11.0]})
    fig = charts.trend_chart(weekly, "time_to_escalate_median_min", None)
    assert not fig.layout.shapes
    assert fig.data[0].name == "All tickets"


def test_partner_chart_error_bars_are_the_intervals():
    compared = pl.DataFrame(
        {
            "partner": ["B", "A"],
            "value": [0.3, 0.2],
            "ci_low": [0.25, 0.1],
            "ci_high": [0.36, 0.33],
            "adjusted_rate": [0.28, 0.22],
            "adjusted_low": [0.2, 0.15],
            "adjusted_high": [0.35, 0.3],
        }
    )
    fig = charts.partner_chart(compared, "bounceback_rate")
    observed, adjusted = fig.data
    assert list(observed.x) == ["A", "B"]
    assert [round(v, 6) for v in observed.error_y.array] == [0.13, 0.06]
    assert [round(v, 6) for v in observed.error_y.arrayminus] == [0.1, 0.05]
    assert adjusted.name.startswith("Case-mix adjusted")


def test_sankey_chart_from_path_counts():
    nodes, links = sankey_links(
        pl.DataFrame({"path": ["L1 > L2 > L1", "L1 > L3"], "n_tickets": [5, 2]})
    )
    fig = charts.sankey_chart(nodes, links)
    sankey = fig.data[0]
    assert isinstance(sankey, go.Sankey)
    assert sorted(sankey.link.value) == [2, 5, 5]
    assert "L1 · step 1 (7)" in sankey.node.label


def test_pingpong_chart_largest_on_top():
    pairs = pl.DataFrame(
        {"group_a": ["SD", "Net"], "group_b": ["Net", "Apps"], "n_tickets": [9, 3]}
    )
    fig = charts.pingpong_chart(pairs)
    assert list(fig.data[0].x) == [3, 9]  # plotly draws the last bar at the top
    assert fig.data[0].y[-1] == "SD → Net → SD"


def test_timeline_chart_colours_by_tier():
    t = [datetime(2025, 3, 3, 9, m, tzinfo=UTC) for m in (0, 10, 40)]
    events = pl.DataFrame(
        {
            "start": t,
            "end": [t[1], t[2], t[2]],
            "held_group": ["SD", "Net", "SD"],
            "held_tier": ["L1", "L2", "L1"],
            "status": ["New", "In Progress", "Resolved"],
            "minutes": [10.0, 30.0, 0.0],
        }
    )
    fig = charts.timeline_chart(events)
    bars = [tr for tr in fig.data if tr.meta == "segment"]
    assert [tr.name for tr in bars] == ["L1 · unknown", "L2 · unknown"]
    assert bars[1].marker.color == charts.TIER_COLOURS["L2"]
    assert list(bars[1].x) == [30 * 60 * 1000]
    assert min(bars[0].x) >= 60 * 1000  # zero-length events still show
    assert {tr.name for tr in fig.data if tr.meta == "key"} >= {"L1", "L2"}
