"""Tickets behind a number: the cases a KPI counts, under the sidebar's filters (and
one week, when a tile or a trend point was clicked), or the tickets behind a path
or a link of the escalation flow; select one to open its timeline.

The list reads the KPI's own facts (analytics.kpi_facts), so its length is the
number's numerator (or its cases, for a median): the same figure, one level down.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from dashboards import data
from dashboards.context import get_context, open_ticket
from dashboards.links import match_names, match_week, own, publish, seed
from pipelines.csv_safe import neutralise_formulas
from pipelines.metrics import METRICS, metric, not_measurable
from pipelines.presentation.filters import Filters
from pipelines.presentation.format import fmt_value, label, unit
from pipelines.presentation.queries import TierMove
from pipelines.presentation.safe_text import md

KPI_KEY = "kpi"
WEEK_KEY = "week"
CASES_KEY = "cases"
PATH_KEY = "path"  # /tickets?path=L1 > L2: the tickets that took a tier path
MOVE_KEY = "move"  # /tickets?move=1:L1:L2: the tickets on a link of the flow
ALL_WEEKS = "all"
CASES = {"numerator": "Counted in the number", "all": "Every case it is computed on"}
SHOWN_STATS = ("rate", "share", "count", "median", "p90")


def _kpi(names: list[str]) -> str:
    seed(
        "tickets_kpi",
        lambda values: next(iter(match_names(values[:1], names, "KPI")), None),
        names[0],
        valid=lambda v: v in names,
        param=KPI_KEY,
    )
    chosen: str = st.selectbox("KPI", names, format_func=label, key="tickets_kpi")
    publish(KPI_KEY, [chosen])
    return chosen


def _week(weeks: list[date]) -> date | None:
    options: list[str] = [ALL_WEEKS, *(w.isoformat() for w in weeks)]

    def from_link(values: list[str]) -> str | None:
        found = match_week(values[0], weeks)
        return found.isoformat() if found else None

    seed("tickets_week", from_link, ALL_WEEKS, valid=lambda v: v in options, param=WEEK_KEY)
    chosen: str = st.selectbox(
        "Week",
        options,
        format_func=lambda v: "Every week in the filter"
        if v == ALL_WEEKS
        else f"week of {date.fromisoformat(v):%d %b %Y}",
        key="tickets_week",
    )
    publish(WEEK_KEY, [] if chosen == ALL_WEEKS else [chosen])
    return None if chosen == ALL_WEEKS else date.fromisoformat(chosen)


def _cases() -> bool:
    seed(
        "tickets_cases",
        lambda values: values[0] if values[0] in CASES else None,
        "numerator",
        valid=CASES.__contains__,
        param=CASES_KEY,
    )
    chosen: str = st.radio(
        "Cases", list(CASES), format_func=CASES.__getitem__, horizontal=True, key="tickets_cases"
    )
    publish(CASES_KEY, [] if chosen == "numerator" else [chosen])
    return chosen == "numerator"


def _flow_cases(snap: str, filters: Filters, path: str | None, move: TierMove | None) -> None:
    """The tickets behind a path or a move of the escalation flow."""
    own(PATH_KEY, MOVE_KEY)
    if move is not None:
        what = f"moved from {md(move.from_tier)} to {md(move.to_tier)} at step {move.step}"
    else:
        what = f"took the tier path {md(path or '')}"
    cases, total = data.path_tickets(snap, filters, path=path, move=move)
    st.markdown(f"**{total:,}** resolved tickets {what} ({md(filters.describe())}).")
    if total > cases.height:
        st.caption(f"The first {cases.height:,} are listed.")
    _case_table(cases.rename({"group_name": "entry group"}))


def _case_table(table: pl.DataFrame) -> None:
    """The cases, a selected row opening its ticket's timeline, and a download of
    them whose text cells a spreadsheet cannot run as formulas (csv_safe)."""
    if table.is_empty():
        return
    table = table.select([c for c in table.columns if table[c].null_count() < table.height])
    st.download_button(
        "Download these tickets (CSV)",
        neutralise_formulas(table).write_csv(),
        file_name="tierlens-tickets.csv",
        mime="text/csv",
        key="cases_csv",
    )
    st.caption("Select a ticket to open its timeline.")
    event = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="case_table"
    )
    if event.selection.rows:
        open_ticket(str(table["ticket_id"][event.selection.rows[0]]))


def render() -> None:
    ctx = get_context()
    snap, filters = ctx.snapshot, ctx.filters
    st.title("Tickets behind a number")
    path = next(iter(st.query_params.get_all(PATH_KEY)), None)
    moved = next(iter(st.query_params.get_all(MOVE_KEY)), None)
    if path is not None or moved is not None:
        move = TierMove.parse(moved) if moved is not None else None
        if moved is not None and move is None:
            st.warning(f"The link's move “{md(moved)}” is not step:from:to (e.g. 1:L1:L2).")
            return
        _flow_cases(snap, filters, path, move)
        return
    names = [m.name for m in METRICS if m.stat in SHOWN_STATS]
    left, middle = st.columns(2)
    with left:
        name = _kpi(names)
    weeks = [
        w
        for w in data.weeks(snap)
        if (filters.since is None or w >= filters.since)
        and (filters.until is None or w <= filters.until)
    ]
    with middle:
        week = _week(weeks)
    declared = metric(name)
    counted_only = _cases() if declared.stat in ("rate", "share", "count") else False
    scoped = filters.with_weeks(week, week) if week else filters
    cases, total = data.kpi_cases(snap, scoped, name, numerator_only=counted_only)
    when = f"the week of {week:%d %b %Y}" if week else "the filtered weeks"
    st.caption(f"{md(declared.description)} ({md(scoped.describe())}, {when}.)")
    if total == 0:
        why = not_measurable(name, data.coverage(snap, scoped))
        if why:
            st.info(f"{md(label(name))} is not measurable from this source: {md(why)}.")
        else:
            st.info(f"No case of {md(label(name))} under these filters in {when}.")
        return
    figures = data.kpis(snap, scoped, ())
    row = figures.filter(pl.col("metric") == name)
    if row.height:
        value = row["value"][0]
        shown = fmt_value(value, unit(name)) if value is not None else "n/a"
        if declared.stat in ("rate", "share") and counted_only:
            st.markdown(
                f"**{total:,}** cases counted in {md(label(name))} = {shown} "
                f"({row['numerator'][0]:,.0f} of {row['denominator'][0]:,.0f})."
            )
        else:
            st.markdown(f"**{total:,}** cases; {md(label(name))} = {shown}.")
    if total > cases.height:
        st.caption(f"The first {cases.height:,} are listed.")
    table = cases.select(
        "ticket_id",
        "escalation_id",
        pl.col("week_start").alias("week"),
        "partner",
        "client",
        "category",
        "priority",
        pl.col("group_name").alias("group"),
        "agent",
        pl.col("measure").round(1).alias(f"value ({unit(name) or 'measure'})"),
    )
    _case_table(table)


if __name__ == "__main__":
    render()
