"""The ticket timeline (charts.timeline_chart): tiers as colours, work / queue /
wait as fills, a compressed scale for long tickets, handoffs with their notes.
Values worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
import polars as pl
import pytest

from pipelines.presentation import charts

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _events() -> pl.DataFrame:
    """L1 queues 10 min and works 20; escalates to L2, which queues 2 years (1,051,200
    min), works 60 and waits on the user 30; resolved."""
    minutes = [10.0, 20.0, 1_051_200.0, 60.0, 30.0, 0.0]
    starts = [T0 + timedelta(minutes=sum(minutes[:i])) for i in range(len(minutes))]
    return pl.DataFrame(
        {
            "event_index": list(range(1, 7)),
            "start": starts,
            "end": starts[1:] + starts[-1:],
            "held_group": ["SD", "SD", "Net", "Net", "Net", "Net"],
            "held_tier": ["L1", "L1", "L2", "L2", "L2", "L2"],
            "held_agent": [None, "ann", None, "bob", "bob", "bob"],
            "status": ["New", "In Progress", "Assigned", "In Progress", "Pending", "Resolved"],
            "status_class": ["queue", "work", "queue", "work", "wait", "resolved"],
            "minutes": minutes,
            "business_minutes": [10.0, 20.0, 250_000.0, 60.0, 0.0, 0.0],
            "is_paused": [False, False, False, False, True, False],
            "is_handoff": [False, False, True, False, False, False],
            "note_kind": [None, "escalation", None, None, "public", "public"],
            "note_text": [None, "short note", None, None, "asked user", "fixed"],
        }
    )


def _handoffs() -> pl.DataFrame:
    note = "User issue: VPN drops. " + "Troubleshooting performed: reinstalled client. " * 3
    return pl.DataFrame(
        {
            "event_index": [3],
            "kind": ["escalation"],
            "from_tier": ["L1"],
            "to_tier": ["L2"],
            "from_group": ["SD"],
            "to_group": ["Net"],
            "note": [note + "<b>not bold</b>"],
        }
    )


def _traces(fig: go.Figure, meta: str) -> list:
    return [t for t in fig.data if t.meta == meta]


def test_colour_is_the_tier_and_the_fill_says_queue_work_or_wait():
    fig = charts.timeline_chart(_events())
    bars = {t.name: t for t in _traces(fig, "segment")}
    assert set(bars) == {"L1 · queue", "L1 · work", "L2 · queue", "L2 · work", "L2 · wait",
                         "L2 · resolved"}  # fmt: skip
    for name, bar in bars.items():
        tier = name.split(" · ")[0]
        assert bar.marker.color == charts.TIER_COLOURS[tier]
    assert bars["L2 · queue"].marker.pattern.shape == "/"
    assert bars["L2 · work"].marker.pattern.shape == "" and bars["L2 · work"].opacity == 1.0
    assert bars["L2 · wait"].marker.pattern.shape == "."
    assert bars["L2 · resolved"].opacity < bars["L2 · wait"].opacity < 1.0
    # the legend says which is which: the tiers, then the fills
    keys = [t.name for t in _traces(fig, "key")]
    assert keys[:2] == ["L1", "L2"]
    assert set(keys[2:]) == {
        "In a queue (hatched)",
        "Worked on (solid)",
        "Waiting on user or vendor (dotted)",
        "Resolved, or other (faint)",
    }


def test_true_time_scale_bars_last_their_minutes_held():
    bars = {t.name: t for t in _traces(charts.timeline_chart(_events()), "segment")}
    assert list(bars["L2 · queue"].x) == [1_051_200 * 60_000]
    assert list(bars["L2 · queue"].base) == [T0 + timedelta(minutes=30)]
    assert list(bars["L2 · resolved"].x) == [60_000]  # at least a minute, so it shows
    assert "paused" in bars["L2 · wait"].customdata[0]


def test_compressed_scale_widths_grow_with_the_log_of_the_minutes():
    segments = charts.timeline_segments(_events(), compressed=True)
    widths = [1 + math.log(1 + m) for m in (10, 20, 1_051_200, 60, 30, 0)]
    assert segments["width"].to_list() == pytest.approx(widths)
    # 10 min -> 3.40, 2 years -> 14.87: the wait is 4.4 times as wide, not 105,120 times
    assert widths[2] / widths[0] == pytest.approx(4.37, abs=0.01)
    starts = [sum(widths[:i]) for i in range(6)]
    assert segments["x0"].to_list() == pytest.approx(starts)
    fig = charts.timeline_chart(_events(), compressed=True)
    assert fig.layout.xaxis.type == "linear"
    assert fig.layout.xaxis.ticktext[0] == "03 Mar 2025<br>09:00"
    assert fig.layout.xaxis.tickvals[0] == 0.0


def test_a_handoff_carries_the_escalation_note_escaped_and_wrapped():
    fig = charts.timeline_chart(_events(), _handoffs())
    (marks,) = _traces(fig, "handoff")
    assert list(marks.y) == ["Net"]
    assert list(marks.x) == [T0 + timedelta(minutes=30)]
    text = marks.customdata[0]
    assert text.startswith("Escalation L1 → L2 to Net<br><i>note:</i> User issue: VPN drops.")
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text and "<b>" not in text
    lines = text.split("<br>")[1:]
    assert len(lines) > 2 and all(len(line) < 90 for line in lines)
    without = charts.timeline_chart(_events())
    assert _traces(without, "handoff")[0].customdata[0] == (
        "Handoff to Net<br>no note handed over"
    )


def test_the_legend_is_below_and_taller_tickets_get_taller_charts():
    fig = charts.timeline_chart(_events())
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.height == charts.TIMELINE_BASE_HEIGHT + 2 * charts.TIMELINE_ROW_HEIGHT
