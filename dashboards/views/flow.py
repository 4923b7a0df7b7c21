"""Escalation flow: tier paths as a Sankey, and the top ping-pong group pairs."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_flow_tickets
from pipelines.presentation import charts
from pipelines.presentation.safe_text import md
from pipelines.presentation.stats import sankey_links

TOP_PATHS = 15


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Escalation flow")
    paths = data.tier_paths(snap, filters)
    if paths.is_empty():
        st.info(
            f"No resolved tickets match these filters ({md(filters.describe())}). "
            "Clear a filter or widen the weeks in the sidebar."
        )
        return
    total = int(paths["n_tickets"].sum())
    moved = paths.filter(pl.col("n_steps") > 1)
    described = filters.describe()
    st.markdown(
        f"**{total:,} resolved tickets**; {int(moved['n_tickets'].sum()):,} changed tier "
        f"at least once. {md(described[:1].upper() + described[1:])}."
    )
    nodes, links = sankey_links(moved if moved.height else paths)
    if links.height:
        st.plotly_chart(charts.sankey_chart(nodes, links), key="sankey")
        moves = data.tier_moves(snap, filters)
        with st.expander(f"The flow's {moves.height} links, with their tickets"):
            st.caption("Select a link to list the tickets that made that move.")
            shown = moves.select(
                "step",
                pl.col("from_tier").alias("from"),
                pl.col("to_tier").alias("to"),
                pl.col("n_tickets").alias("tickets"),
            )
            picked = st.dataframe(
                shown,
                hide_index=True,
                on_select="rerun",
                selection_mode="single-row",
                key="flow_links",
            )
            if picked.selection.rows:
                row = moves.row(picked.selection.rows[0], named=True)
                open_flow_tickets(move=f"{row['step']}:{row['from_tier']}:{row['to_tier']}")
    else:
        st.caption("No ticket changed tier under these filters.")
    left, right = st.columns(2)
    with left:
        st.subheader("Most common paths")
        st.caption("Select a path to list its tickets.")
        top = paths.head(TOP_PATHS)
        picked = st.dataframe(
            top.with_columns(share=pl.col("n_tickets") / total).select(
                "path", pl.col("n_tickets").alias("tickets"), "share"
            ),
            hide_index=True,
            column_config={"share": st.column_config.NumberColumn(format="percent")},
            on_select="rerun",
            selection_mode="single-row",
            key="flow_paths",
        )
        if picked.selection.rows:
            open_flow_tickets(path=str(top["path"][picked.selection.rows[0]]))
    with right:
        st.subheader("Ping-pong pairs")
        pairs = data.pingpong_pairs(snap, filters)
        if pairs.is_empty():
            st.success("No ticket went back and forth between two groups.")
        else:
            st.plotly_chart(charts.pingpong_chart(pairs), key="pingpong")
            st.caption(
                "A ping-pong is a ticket handed from group A to B and straight back to A; "
                "bounces counts every such return."
            )


if __name__ == "__main__":
    render()
