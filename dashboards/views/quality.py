"""Data quality: quarantined tickets, ingest batches, rejects, unmapped groups and
statuses, and the reconciliation of derived counts against the source's own counters."""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_ticket
from pipelines.presentation.filters import Filters
from pipelines.presentation.safe_text import md


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Data quality")
    st.caption(f"As of build {ctx.build_id}.")
    if ctx.scope.is_admin:
        loading(snap)
    else:  # a scoped snapshot holds none of it: it is about every partner's files
        st.info(
            "Ingest files, rejected lines, quarantined tickets and unmapped groups or "
            "statuses concern every partner's exports: your administrator sees them."
        )
    reconciliation(snap, filters)


def loading(snap: str) -> None:
    """What the loading left out or could not map (admins only)."""
    st.subheader("Quarantined tickets")
    quarantined = data.quarantine(snap)
    if quarantined.is_empty():
        st.success("No ticket was quarantined: every loaded ticket is in this build.")
    else:
        n = quarantined["ticket_id"].n_unique()
        st.warning(
            f"{n:,} ticket{'s' if n != 1 else ''} failed a data test and "
            f"{'are' if n != 1 else 'is'} left out of every figure of this build. "
            "Fix the rows in the export (the test and the values say what is wrong), "
            "ingest it again and rebuild."
        )
        st.dataframe(quarantined, hide_index=True, key="quarantine")
    st.subheader("Last ingest batches")
    st.dataframe(data.batches(snap), hide_index=True)
    left, right = st.columns(2)
    with left:
        st.subheader("Rejected rows by reason")
        reasons = data.reject_reasons(snap)
        if reasons.is_empty():
            st.success("No row was rejected.")
        else:
            st.dataframe(reasons, hide_index=True)
    with right:
        st.subheader("Unmapped groups and statuses")
        groups = data.unmapped_groups(snap)
        statuses = data.unknown_statuses(snap)
        if groups.is_empty():
            st.success("Every group maps to a tier.")
        else:
            st.warning(f"{groups.height} groups match no tier rule (add them to tier_map).")
            st.dataframe(groups, hide_index=True)
        if statuses.is_empty():
            st.success("Every status maps to a class.")
        else:
            st.warning(f"{statuses.height} statuses are unknown (add them to status_map).")
            st.dataframe(statuses, hide_index=True)
    with st.expander("Rejected rows (latest)"):
        st.dataframe(data.reject_examples(snap), hide_index=True)
    noticed = data.notices(snap)
    if not noticed.is_empty():
        st.subheader("Lines loaded with a notice")
        st.caption(
            "These lines were loaded, but had something worth checking: bytes that are "
            "not UTF-8 (usually a value written by an older tool in Latin-1) were read "
            "as Windows-1252 on that line only. Check a few of the lines in the file."
        )
        st.dataframe(noticed, hide_index=True, key="notices")


def reconciliation(snap: str, filters: Filters) -> None:
    """Derived counts against the source's own counters, for the session's tickets."""
    st.subheader("Reconciliation with the source's counters")
    st.caption(
        "Where the export reports reassignment and reopen counts, do they agree with the "
        "handoffs and reopens derived from the events? Agree / disagree count over the "
        "ticket's whole life (as the source counts); * up to the final resolution (as the "
        "KPIs count). A counter the export's events cannot show (a plain incident list has "
        "no timeline) is not measurable, never a share of agreement. The same figures as "
        f"`tierlens reconcile` ({md(filters.describe())}, all weeks)."
    )
    st.markdown("**Counters each source can support**")
    st.dataframe(data.counter_support(snap, filters), hide_index=True, key="counter_support")
    recon = data.reconciliation(snap, filters)
    st.dataframe(recon, hide_index=True, key="reconciliation")
    for row in recon.iter_rows(named=True):
        if row["tickets"] and not row["tickets"] - row["not measurable"]:
            counter = str(row["counter"])
            st.info(
                f"{md(counter[:1].upper() + counter[1:])}: not measurable from this export "
                f"({row['tickets']:,} tickets report it; there is no agreement share)."
            )
    examples = data.reconciliation_examples(snap, filters)
    if examples.is_empty():
        st.success("No disagreement under these filters.")
    else:
        st.markdown("**Tickets that disagree** (select one to open its timeline)")
        event = st.dataframe(
            examples,
            hide_index=True,
            key="recon_examples",
            on_select="rerun",
            selection_mode="single-row",
        )
        if event is not None and event.selection.rows:
            open_ticket(examples["ticket_id"][event.selection.rows[0]])


if __name__ == "__main__":
    render()
