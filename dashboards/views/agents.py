"""Agents and groups: who escalates most, fastest, with the least complete
notes; who picks up slowest. Select a row to list its escalations, then a
ticket to open its timeline."""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_ticket
from pipelines.metrics import known
from pipelines.presentation.safe_text import md

# metric -> column title
COLUMNS: dict[str, str] = {
    "bounceback_rate": "escalations",  # its denominator: every escalation made
    "escalation_rate": "escalation rate",
    "time_to_escalate_median_min": "median min to escalate",
    "early_escalation_rate": "escalated in minutes, no note",
    "note_completeness_rate": "notes complete",
}
known(*COLUMNS)
PERCENT = ("escalation rate", "escalated in minutes, no note", "notes complete", "bounced back")


def _league(frame: pl.DataFrame, who: str) -> pl.DataFrame:
    """One row per agent or group, a column per KPI, most escalations first."""
    picked = frame.filter(pl.col("metric").is_in(list(COLUMNS)))
    values = picked.with_columns(
        column=pl.col("metric").replace_strict(COLUMNS),
        cell=pl.when(pl.col("metric") == "bounceback_rate")
        .then(pl.col("denominator"))
        .otherwise(pl.col("value")),
    )
    wide = values.pivot(on="column", index=who, values="cell")
    bounced = picked.filter(pl.col("metric") == "bounceback_rate").select(
        who, pl.col("value").alias("bounced back")
    )
    for column in COLUMNS.values():
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    return (
        wide.join(bounced, on=who, how="left")
        .with_columns(pl.col(who).fill_null("(none)"), pl.col("escalations").fill_null(0))
        .select(who, *COLUMNS.values(), "bounced back")
        .sort("escalations", descending=True)
    )


def _table(frame: pl.DataFrame, key: str, extra: dict[str, Any] | None = None) -> list[int]:
    config = {c: st.column_config.NumberColumn(format="percent") for c in PERCENT}
    config |= {"median min to escalate": st.column_config.NumberColumn(format="%.0f")}
    config |= extra or {}
    event = st.dataframe(
        frame,
        hide_index=True,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        column_config=config,
    )
    return list(event.selection.rows) if event is not None else []


def _drill(snap: str, who: Literal["agent", "group"], name: str) -> None:
    filters = get_context().filters
    tickets = data.escalated_tickets(snap, filters, who, name)
    st.subheader(f"Escalations by {md(name)}", anchor=False)
    if tickets.is_empty():
        st.caption("No escalation of a resolved ticket in these weeks.")
        return
    rows = _table(tickets, key=f"drill_{who}")
    st.caption("Select a ticket to open its timeline.")
    if rows:
        open_ticket(tickets["ticket_id"][rows[0]])


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Agents and groups")
    agents = data.kpis(snap, filters, ("agent",))
    if agents.is_empty() or agents["sample"].sum() == 0:
        st.info(
            f"No resolved tickets match these filters ({md(filters.describe())}). "
            "Clear a filter or widen the weeks in the sidebar."
        )
        return
    st.caption(
        "Click a column header to sort. Ticket KPIs (escalation rate, minutes to escalate) "
        "count the agent or group that took the ticket in; escalation KPIs (escalations, "
        "notes, bounced back) the one that escalated."
    )
    tab_agents, tab_groups, tab_pickup = st.tabs(["Agents", "Groups", "Pickup by group"])
    with tab_agents:
        league = _league(agents, "agent")
        rows = _table(league, key="agents_table")
        if rows:
            _drill(snap, "agent", league["agent"][rows[0]])
    with tab_groups:
        league = _league(data.kpis(snap, filters, ("group",)), "group")
        rows = _table(league, key="groups_table")
        if rows:
            _drill(snap, "group", league["group"][rows[0]])
    with tab_pickup:
        pickup = data.pickup_by_group(snap, filters)
        st.caption(
            "Slowest first: minutes from an escalation to the receiving group starting work. "
            "The group filter matches the receiving group here."
        )
        _table(
            pickup,
            key="pickup_table",
            extra={
                "never_picked_up": st.column_config.NumberColumn(
                    "never picked up", format="percent"
                ),
                "pickup_median_min": st.column_config.NumberColumn("median min", format="%.0f"),
                "pickup_p90_min": st.column_config.NumberColumn("p90 min", format="%.0f"),
            },
        )


if __name__ == "__main__":
    render()
