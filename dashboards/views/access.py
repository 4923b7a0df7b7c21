"""Access log (admins only): who signed in, with which scope, and who was refused."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context

EVENTS = {"signed_in": "Signed in", "denied": "Refused", "report": "Scoped report"}


def render() -> None:
    ctx = get_context()
    st.title("Access log")
    st.caption(
        "Every sign-in to the dashboard, every refusal and every scoped report, newest "
        "first. Entries are only ever added (see docs/deployment.md)."
    )
    log = data.access_log(ctx.snapshot)
    if log.is_empty():
        st.info("Nobody has signed in yet (with no login configured, nobody needs to).")
        return
    cols = st.columns(3)
    cols[0].metric("People", log["identity"].n_unique())
    cols[1].metric("Sign-ins", log.filter(pl.col("event") == "signed_in").height)
    cols[2].metric("Refusals", log.filter(pl.col("event") == "denied").height)
    shown = log.with_columns(pl.col("event").replace(EVENTS)).rename(
        {"occurred_at": "when (UTC)", "detail": "why refused"}
    )
    st.dataframe(shown, hide_index=True, key="access_log")


if __name__ == "__main__":
    render()
