"""Trends: weekly lines per KPI with the target band, optionally split."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context
from pipelines.metrics import METRICS
from pipelines.presentation import charts
from pipelines.presentation.format import label
from pipelines.presentation.safe_text import md

SPLITS: dict[str, str] = {
    "none": "No split",
    "partner": "Partner",
    "client": "Client",
    "category": "Category",
    "priority": "Priority",
}
MAX_LINES = 8


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
    for metric in chosen:
        series = weekly.filter(pl.col("metric") == metric)
        if series.is_empty():
            st.caption(f"{md(label(metric))}: no cases in these weeks.")
            continue
        st.plotly_chart(
            charts.trend_chart(
                series,
                metric,
                targets.get(metric),
                split_label=SPLITS[split].lower() if split_dim else None,
            ),
            key=f"trend_{metric}",
        )
    st.caption(
        "Weeks are weeks of final resolution. A point on few cases swings: hover for the "
        "value, and see the partner comparison for intervals."
    )


if __name__ == "__main__":
    render()
