"""Trends: weekly lines per KPI with the target band, optionally split. Weeks too
small to judge (or not over yet) are greyed or hidden; rate KPIs carry a p-chart
(pipelines.presentation.control) whose signals are marked and listed."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_tickets
from pipelines.metrics import METRICS
from pipelines.presentation import charts
from pipelines.presentation.control import describe_signals, is_proportion, weekly_p_chart
from pipelines.presentation.format import label
from pipelines.presentation.safe_text import md, plot_text

SPLITS: dict[str, str] = {
    "none": "No split",
    "partner": "Partner",
    "client": "Client",
    "category": "Category",
    "priority": "Priority",
}
MAX_LINES = 8
FEW_CASES: dict[str, str] = {"grey": "Greyed", "hide": "Hidden"}


def _top_values(weekly: pl.DataFrame, n: int) -> list[str]:
    """The split values with the most cases, so the chart stays readable."""
    return (
        weekly.group_by("split")
        .agg(pl.col("sample").sum())
        .sort("sample", descending=True)
        .head(n)["split"]
        .to_list()
    )


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Trends")
    targets = data.targets(snap)
    weekly_metrics = [m.name for m in METRICS if m.stat != "count"]
    default = [m for m in weekly_metrics if m in targets][:4]
    col_metrics, col_split = st.columns([3, 1])
    chosen = col_metrics.multiselect(
        "KPIs", weekly_metrics, default=default, format_func=label, key="trend_metrics"
    )
    split = col_split.selectbox(
        "Split by", list(SPLITS), format_func=SPLITS.__getitem__, key="trend_split"
    )
    split_dim = None if split == "none" else split
    weekly = data.weekly_kpis(snap, filters, split_dim)
    if weekly.is_empty() or weekly["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters ({md(filters.describe())}). "
            "Clear a filter or widen the weeks in the sidebar."
        )
        return
    if split_dim:
        top = _top_values(weekly, MAX_LINES)
        if weekly["split"].n_unique() > MAX_LINES:
            st.caption(f"Showing the {MAX_LINES} {SPLITS[split].lower()} values with most cases.")
        weekly = weekly.filter(pl.col("split").is_in(top))
    if not chosen:
        st.info("Pick at least one KPI above.")
        return
    hide_few, signals = _display_options()
    min_sample, complete_until = data.min_sample(snap), data.last_complete_week(snap)
    for metric in chosen:
        series = weekly.filter(pl.col("metric") == metric)
        if series.is_empty():
            st.caption(f"{md(label(metric))}: no cases in these weeks.")
            continue
        fig = charts.trend_chart(
            series,
            metric,
            targets.get(metric),
            split_label=SPLITS[split].lower() if split_dim else None,
            min_sample=min_sample,
            complete_until=complete_until,
            hide_few=hide_few,
            signals=signals,
        )
        event = st.plotly_chart(
            fig, key=f"trend_{metric}", on_select="rerun", selection_mode="points"
        )
        _open_clicked(event, fig, metric, split_dim, series)
        if signals and is_proportion(metric):
            _signal_caption(weekly_p_chart(series, metric, min_sample, complete_until))
    st.caption(_how_to_read(min_sample, signals))


def _open_clicked(
    event: Any, fig: Any, metric: str, split_dim: str | None, series: pl.DataFrame
) -> None:
    """A clicked week of a line (a point with its details: not a band or a limit):
    the tickets behind that week's figure, narrowed to the line's split value."""
    points = [p for p in (event.selection.points if event else []) if p.get("customdata")]
    if not points:
        return
    point = points[0]
    try:
        week = date.fromisoformat(str(point["x"])[:10])
    except ValueError:
        return
    narrowed: dict[str, str] = {}
    if split_dim and "split" in series.columns:
        shown = fig.data[point["curve_number"]].name
        by_label = {plot_text(str(v)): str(v) for v in series["split"].unique().to_list()}
        if shown in by_label:
            narrowed[split_dim] = by_label[shown]
    open_tickets(metric, week, **narrowed)


def _display_options() -> tuple[bool, bool]:
    """Whether weeks too small to judge are hidden (else greyed), and whether rates get
    control limits."""
    col_few, col_signals = st.columns([3, 2])
    few_cases = col_few.radio(
        "Weeks with too few cases, and the week under way",
        list(FEW_CASES),
        format_func=FEW_CASES.__getitem__,
        horizontal=True,
        key="trend_few_cases",
    )
    signals = col_signals.toggle(
        "Control-chart signals",
        value=True,
        key="trend_signals",
        help="For rate KPIs: mark the weeks that differ from the average by more than "
        "chance explains (a p-chart).",
    )
    return few_cases == "hide", signals


def _signal_caption(chart: pl.DataFrame | None) -> None:
    """The chart's signals in words, under it."""
    if chart is None or chart.is_empty():
        return
    found = describe_signals(chart, by="split" if "split" in chart.columns else None)
    if found:
        st.caption("**Signal:** " + " ".join(md(sentence) for sentence in found))
    else:
        st.caption(
            "No signal: every full week is within its control limits and no 8 in a row sit "
            "on one side of the average. The ups and downs are noise."
        )


def _how_to_read(min_sample: int, signals: bool) -> str:
    text = (
        "Weeks are weeks of final resolution. A hollow grey point is a week with fewer than "
        f"{min_sample} cases (one ticket reads 0% or 100%) or the week still under way: it is "
        "not joined to the line and not judged. The shaded band is the 95% interval: with "
        "this many cases, the true rate is very likely inside it."
    )
    if signals:
        text += (
            " For a rate, the dashed line is the average over the full weeks shown and the "
            "dotted lines its control limits (3 standard errors for each week's number of "
            "cases). A diamond marks a signal: a week beyond its limits, or 8 weeks in a row "
            "on one side of the average. Something changed there and is worth a look; every "
            "other wiggle is chance, not a reason to act."
        )
    return text


if __name__ == "__main__":
    render()
