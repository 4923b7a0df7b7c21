"""Partner comparison: every partner against everyone on a funnel plot of case-mix
adjusted rates (indirect standardisation), the observed and adjusted rates side by
side, pairwise verdicts that survive many comparisons, and every KPI by partner."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_tickets
from pipelines.metrics import STOCK_METRICS
from pipelines.presentation import charts
from pipelines.presentation.comparison import (
    PartnerComparison,
    compare_partners,
    funnel_points,
    pair_table,
    partner_table,
    untested_pairs,
)
from pipelines.presentation.filters import Filters
from pipelines.presentation.format import goodness, label
from pipelines.presentation.safe_text import md
from pipelines.presentation.stats import metric_is_rate
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
    strata = data.kpis(snap, filters, ("partner", "category", "priority"))
    comparison = compare_partners(strata, metric, data.min_sample(snap), data.min_gap(snap))
    if comparison.partners.is_empty():
        st.info(f"No partner has a case of {md(label(metric))} under these filters.")
        return
    _funnel(comparison)
    _partners_table(comparison)
    _side_by_side(comparison, by_partner)
    _pairs(comparison)
    st.subheader("Every KPI by partner")
    st.caption("Value (95% interval for rates); a status other than green is appended.")
    st.dataframe(kpi_overview(by_partner), hide_index=True)


def _funnel(comparison: PartnerComparison) -> None:
    metric, minimum = comparison.metric, comparison.min_sample
    picked = st.plotly_chart(
        charts.funnel_chart(
            funnel_points(comparison),
            comparison.pooled,
            metric,
            title=f"{label(metric)} by partner, adjusted for case mix ({goodness(metric)})",
            x_title="weight of evidence, in tickets of an average mix (log scale)",
        ),
        key="partner_funnel",
        on_select="rerun",
        selection_mode="points",
    )
    _open_clicked(picked, comparison.metric)
    st.caption(
        "Each point is a partner's rate adjusted for its mix of tickets (category × "
        f"priority), the line the rate of all partners together "
        f"({100 * comparison.pooled:.1f}%). The funnel is how far chance alone moves a "
        "desk's rate: wide on the left, where a desk's figures say little, narrow on the "
        "right. Inside it, a gap from the line is not evidence of anything. Outside the "
        "95% limits (amber), look closer; outside the 99.8% limits, chance is very "
        "unlikely: a real difference to act on. Across: how much the desk's figures "
        "weigh, in tickets of an average mix; tickets of kinds no other partner "
        "handles weigh nothing (there is nothing to compare them with)."
    )
    left_out = comparison.not_judged
    if left_out.height:
        names = ", ".join(left_out.sort("partner")["partner"].to_list())
        st.caption(
            f"Not on the plot ({left_out.height}): {md(names)}: fewer than {minimum} "
            "tickets, or fewer than that of kinds another partner also handles. Too few "
            "to judge; their observed rates are in the table below."
        )


def _open_clicked(event: Any, metric: str) -> None:
    """A partner clicked on a chart (its customdata): the tickets behind its figure."""
    points = event.selection.points if event else []
    keys = [p.get("customdata") for p in points if p.get("customdata")]
    if keys:
        open_tickets(metric, partner=str(keys[0]))


def _partners_table(comparison: PartnerComparison) -> None:
    table = partner_table(comparison)
    picked = st.dataframe(
        table,
        hide_index=True,
        key="partner_table",
        on_select="rerun",
        selection_mode="single-row",
    )
    st.caption("Select a partner to list the tickets behind its figure.")
    if picked.selection.rows:
        open_tickets(comparison.metric, partner=str(table["partner"][picked.selection.rows[0]]))
    st.caption(
        "Observed: the partner's own rate. Expected for its mix: the rate it would have "
        "if it did as well as all partners together on each kind of ticket it has. "
        "Case-mix adjusted: observed ÷ expected × the rate of all partners, so harder "
        "tickets do not make a partner look worse (indirect standardisation). Its "
        "interval is as wide, relative to the rate, as the observed one: few tickets, "
        f"wide interval. With fewer than {comparison.min_sample} tickets (or comparable "
        "tickets) there is no adjusted figure."
    )


def _side_by_side(comparison: PartnerComparison, by_partner: pl.DataFrame) -> None:
    adjusted = comparison.partners.select(
        "partner", "adjusted_rate", "adjusted_low", "adjusted_high"
    )
    observed = by_partner.filter(pl.col("metric") == comparison.metric)
    compared = observed.join(adjusted, on="partner", how="left")
    st.plotly_chart(charts.partner_chart(compared, comparison.metric), key="partner_chart")
    st.caption(
        "The same figures as bars: observed (95% Wilson interval) and adjusted for case "
        "mix (95% interval). Whether two bars differ is the funnel's and the table "
        "below's question, not the bars' overlap."
    )


def _pairs(comparison: PartnerComparison) -> None:
    table = pair_table(comparison)
    st.subheader("Is the gap between two partners real?")
    if table.height:
        st.dataframe(table, hide_index=True, key="partner_pairs")
    skipped = untested_pairs(comparison)
    skipped_text = (
        f" {skipped} pairs with a partner of fewer than {comparison.min_sample} tickets "
        "are not compared."
        if skipped
        else ""
    )
    st.caption(
        "Each pair is compared on the tickets of the kinds both handle (same category "
        "and priority), so harder tickets do not count against either. A pair is "
        "**different** only when the gap is unlikely to be chance even after allowing "
        "for the number of pairs compared (Benjamini-Hochberg, false discovery rate "
        f"5%: q below 0.05) and it is at least {100 * comparison.min_gap:.1f} points, "
        "the smallest gap that matters (`[comparison] min_gap` in tierlens.toml). A "
        "sure but smaller gap reads 'gap below the minimum that matters'." + skipped_text
    )


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
