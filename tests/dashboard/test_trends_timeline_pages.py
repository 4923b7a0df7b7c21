"""The Trends and Ticket timeline pages through Streamlit's AppTest on the sample:
weeks too small to judge greyed or hidden, signals said in words, the timeline's
compressed scale and every handoff's note, checked against SQL over the marts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import app_test, open_page


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _traces(chart: dict, meta: str) -> list[dict]:
    return [t for t in chart["data"] if t.get("meta") == meta]


def test_trends_grey_the_weeks_too_small_and_hide_them_on_demand(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    min_sample = snap_con.execute("select min_sample from config.settings").fetchone()[0]
    small = {
        str(r[0])
        for r in snap_con.execute(
            "select week_start from analytics.kpi_weekly where dimension = 'overall' "
            "and metric = 'l1_resolution_rate' and sample < ?",
            [min_sample],
        ).fetchall()
    }
    assert small  # the sample's first week is a trickle
    at = open_page(app_test(sample_db, monkeypatch), "trends")
    assert not at.exception
    first = _charts(at)[0]  # L1 resolution, the first KPI chosen
    (line,) = _traces(first, "series")
    assert line["name"] == "All tickets"
    (few,) = _traces(first, "few")
    assert small <= {x[:10] for x in few["x"]}
    assert all(y is None for x, y in zip(line["x"], line["y"], strict=True) if x[:10] in small)
    assert any(c.value.startswith(("No signal", "**Signal:**")) for c in at.caption)
    at.radio(key="trend_few_cases").set_value("hide").run()
    assert not _traces(_charts(at)[0], "few")
    at.toggle(key="trend_signals").set_value(False).run()
    assert not _traces(_charts(at)[0], "limits")
    assert not any(c.value.startswith(("No signal", "**Signal:**")) for c in at.caption)


def test_timeline_lists_every_handoff_with_its_escalation_note(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    ticket_id, note = snap_con.execute(
        "select ticket_id, escalation_note from analytics.fct_escalations "
        "where escalation_note is not null and is_bounceback order by ticket_id limit 1"
    ).fetchone()
    handoffs = snap_con.execute(
        "select count(*) from analytics.ticket_events "
        "where ticket_id = ? and is_in_scope and is_handoff",
        [ticket_id],
    ).fetchone()[0]
    at = app_test(sample_db, monkeypatch)
    at.run()
    at.query_params["ticket"] = ticket_id  # as a link to the timeline page carries it
    at.switch_page("views/timeline.py").run()
    assert not at.exception
    listed = next(df.value for df in at.dataframe if "note" in df.value.columns)
    assert len(listed) == handoffs
    first = listed.iloc[0]
    assert first["step"] == "escalation L1 → L2" and first["note"] == note
    chart = _charts(at)[0]
    (marks,) = _traces(chart, "handoff")
    assert len(marks["x"]) == handoffs
    assert "note:" in marks["customdata"][0]
    compressed = at.toggle(key="timeline_compressed").value
    at.toggle(key="timeline_compressed").set_value(not compressed).run()
    axis = _charts(at)[0]["layout"]["xaxis"]["type"]
    assert axis == ("date" if compressed else "linear")
