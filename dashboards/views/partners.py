"""Partner comparison: every KPI side by side with 95% intervals, pairwise
significance and case-mix adjusted rates."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context
from pipelines.metrics import STOCK_METRICS
from pipelines.presentation import charts
from pipelines.presentation.filters import Filters
from pipelines.presentation.format import label
from pipelines.presentation.safe_text import md
from pipelines.presentation.stats import metric_is_rate, pairwise_tests, standardise
from pipelines.presentation.tables import kpi_overview


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Partner comparison")
    if ctx.scope.kind == "partner":  # a partner's own session: peers have no names
        peer_view(snap, filters)
        return
    by_partner = data.kpis(snap, filters, ("partner",)).filter(
        ~pl.col("metric").is_in(STOCK_METRICS)
    )
    if by_partner.is_empty() or by_partner["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters ({md(filters.describe())}). "
            "Clear a filter or widen the weeks in the sidebar."
        )
        return
    partners = by_partner["partner"].unique().sort().to_list()
    if len(partners) < 2:
        st.info(
            f"Only one partner ({md(', '.join(partners))}) has tickets under these filters: "
            "select two or more partners (or none) in the sidebar to compare."
        )
    rate_metrics = [
        m for m in by_partner["metric"].unique(maintain_order=True) if metric_is_rate(m)
    ]
    metric = st.selectbox("KPI", rate_metrics, format_func=label, key="partner_metric")
    strata = (
        data.kpis(snap, filters, ("partner", "category", "priority"))
        .filter(pl.col("metric") == metric)
        .with_columns(pl.col("category", "priority").fill_null("(none)"))
    )
    adjusted = standardise(strata).select(
        "partner", "adjusted_rate", "adjusted_low", "adjusted_high"
    )
    observed = by_partner.filter(pl.col("metric") == metric)
    compared = observed.join(adjusted, on="partner", how="left")
    st.plotly_chart(charts.partner_chart(compared, metric), key="partner_chart")
    st.caption(
        "Observed: the partner's own rate with its 95% Wilson interval. Case-mix adjusted: "
        "the rate the partner would have on everyone's mix of category x priority (direct "
        "standardisation), so harder tickets do not make a partner look worse."
    )
    tests = pairwise_tests(observed.select("partner", "metric", "numerator", "denominator"))
    if tests.height:
        st.subheader("Is the gap real?")
        table = tests.select(
            pl.col("partner_a").alias("partner A"),
            pl.col("partner_b").alias("partner B"),
            pl.col("rate_a").alias("rate A"),
            pl.col("rate_b").alias("rate B"),
            pl.col("difference"),
            pl.col("z").round(2),
            pl.when(pl.col("significant"))
            .then(pl.lit("significant"))
            .otherwise(pl.lit("≈ not significant"))
            .alias("verdict (95%)"),
        )
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                c: st.column_config.NumberColumn(format="percent")
                for c in ("rate A", "rate B", "difference")
            },
        )
        st.caption(
            "Two-proportion z-test on the observed rates: a gap with |z| < 1.96 is marked "
            "≈ not significant (it could be chance at the 95% level)."
        )
    st.subheader("Every KPI by partner")
    st.caption("Value (95% interval for rates); a status other than green is appended.")
    st.dataframe(kpi_overview(by_partner), hide_index=True)


def peer_view(snap: str, filters: Filters) -> None:
    """This partner against the other partners, who are never named (a partner
    scope's snapshot holds their weekly figures without names: peer_kpis)."""
    own = data.kpis(snap, filters, ("partner",)).filter(~pl.col("metric").is_in(STOCK_METRICS))
    if own.is_empty() or own["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters ({md(filters.describe())}). "
            "Clear a filter or widen the weeks in the sidebar."
        )
        return
    peers = data.peer_rates(snap, filters)
    rate_metrics = [m for m in own["metric"].unique(maintain_order=True) if metric_is_rate(m)]
    metric = st.selectbox("KPI", rate_metrics, format_func=label, key="partner_metric")
    mine = own.filter((pl.col("metric") == metric) & (pl.col("denominator") > 0))
    theirs = peers.filter(pl.col("metric") == metric)
    if theirs.is_empty() or mine.is_empty():
        st.info("No other partners' figures to compare with in these weeks.")
    else:
        st.plotly_chart(charts.peer_funnel_chart(mine, theirs, metric), key="peer_funnel")
        st.caption(
            f"Your desk (the diamond) against {theirs.height} other partners, shown as "
            "unnamed grey points: each desk's rate against its number of cases. Inside the "
            "funnel, a gap from the pooled rate (the line) is within what chance gives "
            "a desk of that size; outside the 99.8% limits it is not. Only the weeks "
            "filter applies to the other partners."
        )
    st.subheader("Every KPI")
    st.caption("Value (95% interval for rates); a status other than green is appended.")
    st.dataframe(kpi_overview(own), hide_index=True)


if __name__ == "__main__":
    render()
