"""Every page through Streamlit's AppTest on the sample: no exception, the
expected elements, and filters moving the numbers as SQL over the marts says."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.pages import PAGES
from pipelines.db import connect

from .conftest import app_test, open_page


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _tiles(at: AppTest) -> dict[str, str]:
    """The scorecard's tiles as {KPI label: value shown}, read from its HTML block."""
    found: dict[str, str] = {}
    for block in at.html:
        for name, value in re.findall(
            r'<div class="tl-name">([^<]*)</div><div class="tl-value[^"]*">([^<]*)</div>',
            block.value,
        ):
            found[html.unescape(name)] = html.unescape(value)
    return found


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _partner_rates(con: duckdb.DuckDBPyConnection, week: object) -> dict[str, float]:
    """L1 resolution by partner in `week`, straight from fct_tickets."""
    rows = con.execute(
        """
        select partner, count(*) filter (where is_l1_resolved) / count(*)
        from analytics.fct_tickets
        where state = 'resolved' and entry_tier = 'L1' and week_start = ?
        group by partner
        """,
        [week],
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(sample_db: Path, monkeypatch: pytest.MonkeyPatch, page: str):
    at = open_page(app_test(sample_db, monkeypatch), page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == {"scorecard": "Escalation scorecard"}.get(page, PAGES[page][1])
    assert at.sidebar.multiselect(key="partner").options


def test_scorecard_tiles_and_verdict(sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con):
    at = open_page(app_test(sample_db, monkeypatch), "scorecard")
    week = at.selectbox(key="scorecard_week").value
    weekly = dict(
        snap_con.execute(
            "select week_start, count(*) from analytics.fct_tickets "
            "where week_start is not null group by 1"
        ).fetchall()
    )
    today = snap_con.execute("select max(resolved_at)::date from analytics.fct_tickets").fetchone()[
        0
    ]
    typical = sorted(weekly.values())
    median = (typical[(len(typical) - 1) // 2] + typical[len(typical) // 2]) / 2
    last = max(w for w, n in weekly.items() if (today - w).days >= 7 and n >= median / 2)
    assert week == last  # the last complete week by default
    verdict = at.markdown[0].value
    assert "red" in verdict or "green" in verdict or "amber" in verdict
    tiles = _tiles(at)
    assert len(tiles) == 14  # one per KPI with a default target
    overall = snap_con.execute(
        "select count(*) filter (where is_l1_resolved) / count(*) from analytics.fct_tickets "
        "where state = 'resolved' and entry_tier = 'L1' and week_start = ?",
        [week],
    ).fetchone()[0]
    assert tiles["L1 resolution"] == _pct(overall)
    # a sparkline for each KPI with at least one week of enough cases (its status is
    # not 'insufficient') among the 12 complete weeks; a week with too few is a gap
    from pipelines.metrics import METRICS, for_clock

    shown = for_clock([m.name for m in METRICS if m.target is not None], "wall")
    judged = snap_con.execute(
        "select count(distinct metric) from analytics.kpi_weekly "
        "where list_contains(?, metric) and dimension = 'overall' "
        "and status not in ('insufficient', 'n/a') and week_start between ? and ?",
        [shown, week - timedelta(weeks=11), week],
    ).fetchone()[0]
    sparklines = "".join(block.value for block in at.html).count('class="tl-spark"')
    assert sparklines == judged < 14


def test_scorecard_lists_every_kpi_on_demand(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    at = open_page(app_test(sample_db, monkeypatch), "scorecard")
    assert not at.dataframe  # drawn only when asked for
    at.toggle(key="scorecard_all_kpis").set_value(True).run()
    assert not at.exception
    week = at.selectbox(key="scorecard_week").value
    (n_metrics,) = snap_con.execute(
        "select count(*) from analytics.kpi_weekly "
        "where dimension = 'overall' and week_start = ?",
        [week],
    ).fetchone()
    table = at.dataframe[0].value
    assert len(table) == n_metrics
    ratio = table[table["KPI"].str.startswith("Time to resolve, unnecessary escalation vs")]
    assert ratio["value"].iloc[0].endswith("x")


def test_scorecard_partner_filter_moves_the_rate(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    at = open_page(app_test(sample_db, monkeypatch), "scorecard")
    week = at.selectbox(key="scorecard_week").value
    overall = _tiles(at)
    rates = _partner_rates(snap_con, week)
    worst = min(rates, key=rates.get)
    at.sidebar.multiselect(key="partner").set_value([worst]).run()
    assert not at.exception
    filtered = _tiles(at)
    assert filtered["L1 resolution"] == _pct(rates[worst])
    assert float(filtered["L1 resolution"][:-1]) < float(overall["L1 resolution"][:-1])


def test_filters_come_from_the_url(sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con):
    at = app_test(sample_db, monkeypatch, partner=["Acme"], priority=["P3", "P4"])
    at.run()
    assert at.sidebar.multiselect(key="partner").value == ["Acme"]
    assert at.sidebar.multiselect(key="priority").value == ["P3", "P4"]


def _lines(at: AppTest) -> list[str]:
    """The names of the first trend chart's lines (not its bands, limits or signals)."""
    return [t["name"] for t in _charts(at)[0]["data"] if t.get("meta") == "series"]


def test_trends_split_and_filter(sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con):
    at = open_page(app_test(sample_db, monkeypatch), "trends")
    assert _lines(at) == ["All tickets"]
    at.selectbox(key="trend_split").set_value("partner").run()
    partners = [
        r[0]
        for r in snap_con.execute(
            "select distinct partner from analytics.fct_tickets order by 1"
        ).fetchall()
    ]
    assert sorted(_lines(at)) == partners
    at.sidebar.multiselect(key="partner").set_value([partners[0]]).run()
    assert _lines(at) == [partners[0]]


def test_partner_comparison_rates_and_significance(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    at = open_page(app_test(sample_db, monkeypatch), "partners")
    assert at.selectbox(key="partner_metric").value == "l1_resolution_rate"
    charts = _charts(at)
    # the bars: the observed rates, as SQL over the marts gives them
    observed = next(c for c in charts if c["data"][0]["name"].startswith("Observed"))["data"][0]
    expected = dict(
        snap_con.execute(
            "select partner, count(*) filter (where is_l1_resolved) / count(*) "
            "from analytics.fct_tickets where state = 'resolved' and entry_tier = 'L1' group by 1"
        ).fetchall()
    )
    got = dict(zip(observed["x"], observed["y"], strict=True))
    assert got == pytest.approx(expected)
    # the funnel: every partner (all have enough tickets) a point carrying its name
    funnel = charts[0]["data"]
    keys = [k for trace in funnel if "customdata" in trace for k in trace["customdata"]]
    assert sorted(keys) == sorted(expected)
    pairs = next(df.value for df in at.dataframe if "verdict" in df.value.columns)
    assert set(pairs["verdict"]) <= {
        "different",
        "no clear gap",
        "gap below the minimum that matters (5.0 pts)",
        "no tickets of the same kinds",
    }
    n = len(expected)
    assert len(pairs) == n * (n - 1) // 2
    # Filtering to two partners leaves one pair.
    two = sorted(expected)[:2]
    at.sidebar.multiselect(key="partner").set_value(two).run()
    pairs = next(df.value for df in at.dataframe if "verdict" in df.value.columns)
    assert len(pairs) == 1


def test_flow_counts_follow_the_partner_filter(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    at = open_page(app_test(sample_db, monkeypatch), "flow")
    sankey = _charts(at)[0]["data"][0]
    assert sankey["type"] == "sankey"
    partner, n = snap_con.execute(
        "select partner, count(*) from analytics.fct_tickets where state = 'resolved' "
        "group by 1 order by 2 limit 1"
    ).fetchone()
    at.sidebar.multiselect(key="partner").set_value([partner]).run()
    assert at.markdown[0].value.startswith(f"**{n:,} resolved tickets**")


def test_agents_tables_follow_the_partner_filter(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con
):
    at = open_page(app_test(sample_db, monkeypatch), "agents")
    agents = at.dataframe[0].value
    assert {"agent", "escalations", "notes complete", "median min to escalate"} <= set(
        agents.columns
    )
    assert agents["escalations"].is_monotonic_decreasing
    total = snap_con.execute("select count(*) from analytics.fct_escalations").fetchone()[0]
    assert agents["escalations"].sum() == total
    partner, n = snap_con.execute(
        "select partner, count(*) from analytics.fct_escalations group by 1 order by 2 limit 1"
    ).fetchone()
    at.sidebar.multiselect(key="partner").set_value([partner]).run()
    assert at.dataframe[0].value["escalations"].sum() == n < total


def test_timeline_of_a_ticket(sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con):
    ticket_id, handoffs, escalations = snap_con.execute(
        "select ticket_id, n_handoffs, n_escalations from analytics.fct_tickets "
        "where is_bounced_back order by ticket_id limit 1"
    ).fetchone()
    at = app_test(sample_db, monkeypatch)
    at.run()
    at.query_params["ticket"] = ticket_id  # as a link to the timeline page carries it
    at.switch_page("views/timeline.py").run()
    assert not at.exception
    assert at.subheader[0].value.startswith(ticket_id)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Handoffs"] == str(handoffs)
    assert metrics["Escalations"] == str(escalations)
    assert "Bounceback" in " ".join(m.value for m in at.markdown)
    assert {t["name"] for t in _charts(at)[0]["data"]} >= {"L1", "L2"}


def test_timeline_search_by_part_of_an_id(sample_db: Path, monkeypatch: pytest.MonkeyPatch):
    at = open_page(app_test(sample_db, monkeypatch), "timeline")
    assert at.info[0].value.startswith("Type a ticket id")
    at.text_input(key="ticket").input("no-such-ticket-xyz").run()
    assert "No ticket id contains" in at.warning[0].value


def test_agents_click_through_to_the_timeline(sample_db: Path, monkeypatch: pytest.MonkeyPatch):
    from dashboards.context import OPEN_TICKET_KEY

    at = open_page(app_test(sample_db, monkeypatch), "agents")
    # What a click on a ticket row does: remember it and switch to the timeline.
    at.session_state[OPEN_TICKET_KEY] = "TKT"
    at.switch_page("views/timeline.py").run()
    assert at.text_input(key="ticket").value == "TKT"


def test_quality_reconciliation(sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con):
    from pipelines.reconcile import reconcile

    at = open_page(app_test(sample_db, monkeypatch), "quality")
    subheaders = [s.value for s in at.subheader]
    assert "Reconciliation with the source's counters" in subheaders
    recon = next(df.value for df in at.dataframe if "agree share" in df.value.columns)
    reported, measurable, agree = snap_con.execute(
        "select count(reported_reassignment_count), "
        "count(reported_reassignment_count) filter (where can_count_reassignments), "
        "count(*) filter (where can_count_reassignments "
        "and reported_reassignment_count = n_handoffs_all) from analytics.fct_tickets"
    ).fetchone()
    row = recon[recon["counter"] == "reassignments"].iloc[0]
    assert (row["tickets"], row["agree"], row["not measurable"]) == (
        reported, agree, reported - measurable)
    # the figures `tierlens reconcile` computes from the main file
    cli = reconcile(sample_db).summary.filter(counter="reassignments").row(0, named=True)
    assert (cli["n_tickets"], cli["n_agree_all"]) == (row["tickets"], row["agree"])


@pytest.mark.parametrize("page", list(PAGES))
def test_filters_matching_no_ticket_explain_themselves(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch, snap_con, page: str
):
    partner, client = snap_con.execute(
        "select a.partner, b.client from analytics.fct_tickets a, analytics.fct_tickets b "
        "where b.client is not null and b.client not in "
        "(select client from analytics.fct_tickets where partner = a.partner and client is "
        "not null) limit 1"
    ).fetchone()
    at = app_test(sample_db, monkeypatch, partner=[partner], client=[client])
    open_page(at, page)
    assert not at.exception, [e.value for e in at.exception]
    if page not in ("timeline", "quality", "access"):  # not filtered by partner or client
        assert any("No " in i.value for i in at.info), [i.value for i in at.info]


def test_missing_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    at = app_test(tmp_path / "nope.duckdb", monkeypatch).run()
    assert not at.exception
    assert "no database" in at.warning[0].value
    assert "tierlens build --db" in at.markdown[0].value


def test_database_without_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    db = tmp_path / "fresh.duckdb"
    connect(db).close()
    at = app_test(db, monkeypatch).run()
    assert not at.exception
    assert at.info[0].value.startswith("No build yet")


def test_empty_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipelines.config import Config
    from pipelines.db import connect
    from pipelines.models.runner import run_build

    db = tmp_path / "empty.duckdb"
    connect(db).close()  # a database with nothing loaded yet
    run_build(db, Config())
    at = app_test(db, monkeypatch).run()
    assert not at.exception
    assert "no resolved tickets" in at.info[0].value


def test_scorecard_switches_durations_to_business_hours(
    sample_db: Path, monkeypatch: pytest.MonkeyPatch
):
    """The clock toggle swaps each duration tile for its business-hours twin. The
    sample has no calendar, so business time is wall-clock time: same value."""
    at = open_page(app_test(sample_db, monkeypatch), "scorecard")
    wall = _tiles(at)
    wall_label = "Handoff delay to pickup (median)"
    business_label = f"{wall_label} (business hours)"
    assert wall_label in wall and business_label not in wall
    at.radio(key="scorecard_clock").set_value("business").run()
    assert not at.exception
    business = _tiles(at)
    assert business_label in business and wall_label not in business
    assert business[business_label] == wall[wall_label]
    assert len(business) == len(wall) == 14
    assert "Durations: business hours." in "".join(c.value for c in at.caption)
