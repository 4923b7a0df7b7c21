"""Ticket timeline: one ticket's steps coloured by tier and filled by what it was
doing (work, queue, wait), on a true or a compressed time scale, with its handoffs
and the notes handed over, its events and the KPI flags it carries."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import OPEN_TICKET_KEY, get_context
from dashboards.links import publish, seed
from pipelines.metrics import known
from pipelines.presentation import charts
from pipelines.presentation.format import label
from pipelines.presentation.safe_text import md

TICKET_KEY = "ticket"
LONG_TICKET_MINUTES = 2 * 24 * 60  # a ticket longer than this opens compressed
# fct_tickets flag column -> metric whose label names it
TICKET_FLAGS: dict[str, str] = {
    "is_l1_resolved": "l1_resolution_rate",
    "is_escalated": "escalation_rate",
    "is_first_contact_resolution": "first_contact_resolution_rate",
    "is_bounced_back": "bounceback_rate",
    "is_pingpong": "pingpong_rate",
    "is_reopened": "reopen_rate",
    "is_late_escalation": "late_escalation_rate",
    "is_early_escalation": "early_escalation_rate",
    "is_unnecessary": "unnecessary_escalation_rate",
    "is_unnecessary_by_scope": "unnecessary_by_scope_rate",
    "is_unnecessary_by_kb": "unnecessary_by_kb_rate",
    "is_unnecessary_by_quick_fix": "unnecessary_by_quick_fix_rate",
    "is_sla_breached": "sla_breach_rate_escalated",
    "is_kb_deflected": "kb_deflection_rate",
}
known(*TICKET_FLAGS.values())


def _flags(ticket: dict[str, Any]) -> list[str]:
    names = [label(m) for col, m in TICKET_FLAGS.items() if ticket.get(col) == "true"]
    return [n.replace("SLA breached, escalated tickets", "SLA breached") for n in names]


def _search(snap: str) -> str | None:
    if OPEN_TICKET_KEY in st.session_state:  # another page opened a ticket
        st.session_state[TICKET_KEY] = st.session_state.pop(OPEN_TICKET_KEY)
    seed(TICKET_KEY, lambda values: values[0], "")
    typed = st.text_input(
        "Ticket id",
        key=TICKET_KEY,
        placeholder="e.g. INC0012345",
        help="Or select a ticket in a table on the Agents and groups or Data quality pages.",
    ).strip()
    publish(TICKET_KEY, [typed] if typed else [])
    if not typed:
        return None
    if data.ticket(snap, typed) is not None:
        return typed
    matches = data.find_tickets(snap, typed)
    if not matches:
        st.warning(f"No ticket id contains “{md(typed)}” in this build.")
        return None
    if len(matches) == 1:
        return matches[0]
    return st.selectbox("Did you mean", matches, key="ticket_match")


def _chart(events: pl.DataFrame, handoffs: pl.DataFrame) -> None:
    """The timeline, compressed by default when the ticket lasted long enough for its
    short steps to vanish on a true time scale."""
    span = events.select((pl.col("start").max() - pl.col("start").min()).dt.total_minutes())
    compressed = st.toggle(
        "Compress long waits",
        value=(span.item() or 0) > LONG_TICKET_MINUTES,
        key="timeline_compressed",
        help="Each step's width grows with the logarithm of its length instead of the "
        "length itself: a month-long wait stays visible beside the minutes around it. "
        "Hover a step for its real times. Off: a true time axis (drag to zoom).",
    )
    st.plotly_chart(charts.timeline_chart(events, handoffs, compressed=compressed), key="timeline")
    st.caption(
        "Colour: the tier holding the ticket. Solid: someone worked on it. Hatched: it sat "
        "in a queue, nobody on it. Dotted: waiting on the user or a vendor (the business "
        "clock pauses). Faint: resolved. A triangle marks a handoff: hover it for the note "
        "handed over."
    )


def _handoff_list(handoffs: pl.DataFrame) -> None:
    """Every handoff with the note handed over, under the chart."""
    if handoffs.is_empty():
        return
    st.subheader("Handoffs and escalation notes")
    st.dataframe(
        handoffs.select(
            pl.col("handed_at").dt.strftime("%Y-%m-%d %H:%M").alias("at"),
            pl.concat_str(
                "kind", pl.lit(" "), "from_tier", pl.lit(" → "), "to_tier", ignore_nulls=True
            ).alias("step"),
            "note",
            pl.concat_str("from_group", pl.lit(" → "), "to_group", ignore_nulls=True).alias(
                "groups"
            ),
            pl.col("pickup_minutes").round(0).alias("picked up after (min)"),
            pl.col("has_complete_note").alias("note complete"),
            pl.col("note_source").alias("note from"),
        ),
        hide_index=True,
        column_config={"note": st.column_config.TextColumn(width="large")},
    )


def render() -> None:
    ctx = get_context()
    snap = ctx.snapshot
    st.title("Ticket timeline")
    ticket_id = _search(snap)
    if ticket_id is None:
        st.info("Type a ticket id (or part of one) to see its timeline.")
        return
    ticket = data.ticket(snap, ticket_id)
    assert ticket is not None
    events = data.ticket_events(snap, ticket_id)
    st.subheader(
        f"{md(ticket_id)} · {md(ticket['partner'])} · {md(ticket.get('client') or 'no client')}",
        anchor=False,
    )
    st.caption(
        f"{md(ticket.get('category') or 'no category')} · "
        f"{md(ticket.get('priority') or 'no priority')} · state {md(ticket['state'])} · "
        f"path {md(ticket.get('entry_tier') or '?')} → highest "
        f"{md(ticket.get('highest_tier') or '?')} → resolved at "
        f"{md(ticket.get('resolving_tier') or '-')}"
    )
    in_scope = events.filter(pl.col("is_in_scope"))
    queue_minutes = in_scope.filter(pl.col("status_class") == "queue")["minutes"].sum()
    cols = st.columns(6)
    cols[0].metric("Events", f"{events.height}")
    cols[1].metric("Handoffs", f"{int(in_scope['is_handoff'].sum())}")
    cols[2].metric("Escalations", f"{ticket.get('n_escalations') or 0}")
    cols[3].metric("Time in queue", f"{queue_minutes:,.0f} min")
    cols[4].metric(
        "Business time",
        f"{in_scope['business_minutes'].sum():,.0f} min",
        help=f"Minutes inside the working hours of the ticket's calendar "
        f"({md(ticket.get('calendar') or 'none: wall-clock time')}), up to the resolution.",
    )
    cols[5].metric(
        "Paused (waiting)",
        f"{in_scope.filter(pl.col('is_paused'))['business_minutes'].sum():,.0f} min",
        help="Business minutes the ticket waited on the user or a vendor: not charged "
        "to the tier holding it.",
    )
    flags = _flags(ticket)
    st.markdown(
        "**KPI flags:** "
        + (" ".join(f":orange-badge[{md(f)}]" for f in flags) if flags else "none")
    )
    handoffs = data.ticket_handoffs(snap, ticket_id)
    if events.height:
        _chart(in_scope if in_scope.height else events, handoffs)
    _handoff_list(handoffs)
    escalations = data.ticket_escalations(snap, ticket_id)
    if escalations.height:
        st.subheader("Escalations")
        st.dataframe(escalations, hide_index=True)
    st.subheader("Events and notes")
    st.dataframe(
        events.select(
            pl.col("event_index").alias("#"),
            pl.col("start").dt.strftime("%Y-%m-%d %H:%M").alias("at"),
            pl.col("held_tier").alias("tier"),
            pl.col("held_group").alias("group"),
            pl.col("held_agent").alias("agent"),
            "status",
            pl.col("minutes").round(1).alias("minutes held"),
            pl.col("business_minutes").round(1).alias("business minutes"),
            pl.when(pl.col("is_paused")).then(pl.lit("paused")).otherwise(pl.lit("")).alias(
                "clock"
            ),
            pl.when(pl.col("is_handoff"))
            .then(pl.lit("handoff"))
            .otherwise(pl.lit(""))
            .alias("handoff"),
            "note_kind",
            "note_text",
        ),
        hide_index=True,
    )


if __name__ == "__main__":
    render()
