"""Scorecard: one tile per KPI with a target for the chosen week."""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import charts, data
from dashboards.context import get_context
from dashboards.filters import week_window
from dashboards.format import fmt_delta, fmt_value, label, label_expr, unit
from dashboards.stats import scorecard_tiles, verdict
from pipelines.metrics import METRICS

SPARK_WEEKS = 12
TILES_PER_ROW = 4
BADGES = {"green": "green", "amber": "orange", "red": "red"}


def _week_options(weeks: list[date], since: date | None, until: date | None) -> list[date]:
    return [w for w in weeks if (since is None or w >= since) and (until is None or w <= until)]


def _tile(row: dict, min_sample: int) -> None:
    metric, status = row["metric"], row["status"]
    unit_ = unit(metric)
    with st.container(border=True):
        st.markdown(f"**{label(metric)}**")
        if status == "insufficient":
            st.markdown("### :gray[insufficient sample]")
            st.caption(f"{row['sample']} cases this week; a rate needs at least {min_sample}.")
        elif row["value"] is None:
            st.markdown("### :gray[no cases]")
            st.caption("Nothing to measure this week.")
        else:
            st.metric(
                label=label(metric),
                value=fmt_value(row["value"], unit_),
                delta=fmt_delta(row["change"], unit_),
                delta_color=_delta_colour(metric),
                label_visibility="collapsed",
                delta_description="vs previous week",
            )
        badge = BADGES.get(status)
        target = f"target {row['target']}" if row["target"] else "no target"
        if badge:
            st.markdown(f":{badge}-badge[{status.upper()}] {target}")
        else:
            st.caption(target)
        spark = pl.DataFrame(
            {"week_start": row["spark_weeks"] or [], "value": row["spark_values"] or []},
            schema={"week_start": pl.Date, "value": pl.Float64},
        )
        if spark.height:
            st.plotly_chart(
                charts.sparkline(spark, status),
                config={"staticPlot": True, "displayModeBar": False},
                key=f"spark_{metric}",
            )


def _delta_colour(metric: str) -> str:
    better = next((m.higher_is_better for m in METRICS if m.metric == metric), None)
    if better is None:
        return "off"
    return "normal" if better else "inverse"


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Escalation scorecard")
    weeks = _week_options(data.weeks(snap), filters.since, filters.until)
    if not weeks:
        st.info("No week in the chosen range. Widen the weeks in the sidebar.")
        return
    default = data.last_complete_week(snap)
    if default not in weeks:
        default = weeks[-1]
    week = st.selectbox(
        "Week",
        options=weeks,
        index=weeks.index(default),
        format_func=lambda w: f"week of {w:%d %b %Y}",
        help="Defaults to the last complete week of the data.",
        key="scorecard_week",
    )
    since, until = week_window(week, SPARK_WEEKS)
    weekly = data.weekly_kpis(snap, filters.with_weeks(since, until))
    targets = data.targets(snap)
    metrics = [m.metric for m in METRICS if m.metric in targets]
    tiles = scorecard_tiles(weekly, week, metrics)
    this_week = weekly.filter(pl.col("week_start") == week)
    if this_week.is_empty() or this_week["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters in the week of {week:%d %b %Y} "
            f"({filters.describe()}). Pick another week or clear a filter in the sidebar."
        )
        return
    line = verdict(tiles)
    colour = "red" if "red:" in line else ("orange" if "amber:" in line else "green")
    st.markdown(f"#### :{colour}[{line}]")
    st.caption(
        f"Week of {week:%d %b %Y}, {filters.describe()}. Open tickets now: "
        f"{data.backlog(snap, filters):,}. Sparklines: the last {SPARK_WEEKS} weeks."
    )
    min_sample = data.min_sample(snap)
    rows = tiles.to_dicts()
    for start in range(0, len(rows), TILES_PER_ROW):
        columns = st.columns(TILES_PER_ROW)
        for column, row in zip(columns, rows[start : start + TILES_PER_ROW], strict=False):
            with column:
                _tile(row, min_sample)
    with st.expander("Every KPI this week"):
        table = this_week.with_columns(KPI=label_expr()).select(
            "KPI", "value", "numerator", "denominator", "ci_low", "ci_high", "target", "status"
        )
        st.dataframe(table, hide_index=True)
    st.caption(
        "Green: on target. Amber: off target but not yet red. Red: past the red line. "
        "Insufficient sample: too few cases this week for a rate to mean anything."
    )


if __name__ == "__main__":
    render()
