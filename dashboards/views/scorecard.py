"""Scorecard: one tile per KPI with a target for the chosen week."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_tickets, view_params
from dashboards.links import match_week, publish, seed
from pipelines.metrics import METRICS, for_clock
from pipelines.presentation.filters import week_window
from pipelines.presentation.format import label_expr, value_expr
from pipelines.presentation.safe_text import md
from pipelines.presentation.stats import scorecard_tiles, verdict
from pipelines.presentation.tiles import TILE_CSS, tiles_html, trusted_sparks

SPARK_WEEKS = 12
CLOCKS = {"wall": "Wall clock", "business": "Business hours"}


def _week_options(weeks: list[date], since: date | None, until: date | None) -> list[date]:
    return [w for w in weeks if (since is None or w >= since) and (until is None or w <= until)]


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Escalation scorecard")
    # the tiles' style on its own (Streamlit keeps a style-only block out of the
    # layout): unchanged from run to run, the browser keeps it and redraws only the
    # tiles when a filter changes
    st.html(TILE_CSS)
    weeks = _week_options(data.weeks(snap), filters.since, filters.until)
    if not weeks:
        st.info("No week in the chosen range. Widen the weeks in the sidebar.")
        return
    default = data.last_complete_week(snap)
    if default not in weeks:
        default = weeks[-1]
    seed(
        "scorecard_week",
        lambda values: match_week(values[0], weeks),
        default,
        valid=lambda w: w in weeks,
        param="week",
    )
    week = st.selectbox(
        "Week",
        options=weeks,
        format_func=lambda w: f"week of {w:%d %b %Y}",
        help="Defaults to the last complete week of the data.",
        key="scorecard_week",
    )
    publish("week", [] if week == default else [week.isoformat()])
    since, until = week_window(week, SPARK_WEEKS)
    weekly = data.weekly_kpis(snap, filters.with_weeks(since, until))
    seed(
        "scorecard_clock",
        lambda values: values[0] if values[0] in CLOCKS else None,
        "wall",
        param="clock",
    )
    clock = st.radio(
        "Clock",
        options=list(CLOCKS),
        format_func=CLOCKS.__getitem__,
        horizontal=True,
        key="scorecard_clock",
        help="Business hours: durations count only the working hours of each ticket's "
        "calendar ([calendars] in tierlens.toml); a ticket with no calendar counts "
        "wall-clock time.",
    )
    publish("clock", [] if clock == "wall" else [clock])
    targets = data.targets(snap)
    metrics = for_clock([m.name for m in METRICS if m.name in targets], clock)
    tiles = trusted_sparks(  # sparklines with gaps for near-empty and unfinished weeks
        scorecard_tiles(weekly, week, metrics),
        weekly,
        week,
        min_sample=data.min_sample(snap),
        complete_until=data.last_complete_week(snap),
        n_weeks=SPARK_WEEKS,
    )
    this_week = weekly.filter(pl.col("week_start") == week)
    if this_week.is_empty() or this_week["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters in the week of {week:%d %b %Y} "
            f"({md(filters.describe())}). Pick another week or clear a filter in the sidebar."
        )
        return
    line = verdict(tiles)
    colour = "red" if "red:" in line else ("orange" if "amber:" in line else "green")
    st.markdown(f"#### :{colour}[{md(line)}]")
    st.caption(
        f"Week of {week:%d %b %Y}, {md(filters.describe())}. Open tickets now: "
        f"{data.backlog(snap, filters):,}. Sparklines: the last {SPARK_WEEKS} weeks. "
        f"Durations: {CLOCKS[clock].lower()}."
    )
    view = view_params()

    def behind(metric: str) -> str:  # a tile opens the tickets behind it, filters kept
        return "tickets?" + urlencode(
            {**view, "kpi": [metric], "week": [week.isoformat()]}, doseq=True
        )

    st.html(tiles_html(tiles, data.min_sample(snap), link=behind))
    # A toggle, not an expander: an expander's table is drawn even while it is closed,
    # and a data grid is the slowest element of the page to draw.
    if st.toggle("Every KPI this week", key="scorecard_all_kpis"):
        listed = this_week.filter(pl.col("week_start").is_not_null())
        table = listed.select(
            KPI=label_expr(),
            value=value_expr("value"),
            cases=pl.col("sample"),
            numerator=pl.col("numerator"),
            denominator=pl.col("denominator"),
            interval=pl.when(pl.col("ci_low").is_not_null()).then(
                value_expr("ci_low") + " – " + value_expr("ci_high")
            ),
            target=pl.col("target"),
            status=pl.col("status"),
        )
        st.caption("Select a KPI to list the tickets behind it.")
        picked = st.dataframe(
            table,
            hide_index=True,
            on_select="rerun",
            selection_mode="single-row",
            key="scorecard_kpis",
        )
        if picked.selection.rows:
            open_tickets(str(listed["metric"][picked.selection.rows[0]]), week)
    st.caption(
        "Green: on target. Amber: off target but not yet red. Red: past the red line. "
        "Insufficient sample: too few cases this week for a rate to mean anything."
    )


if __name__ == "__main__":
    render()
