"""The sidebar filters: the widgets that set the Filters value every data function
takes (pipelines.presentation.filters), and how Streamlit's caches hash it.

The widgets are bound to the URL query string (`bind="query-params"`), so a
filtered view is a link: `?partner=Acme&priority=P1&weeks=2025-03-03&weeks=2025-03-24`.
They live in the entry script, so they persist across pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import streamlit as st

from pipelines.presentation.filters import FILTER_DIMS, Filters

WEEKS_KEY = "weeks"
# The query parameters the sidebar's widgets are bound to: they follow the widgets,
# and Streamlit refuses to set or clear them any other way.
BOUND_KEYS: frozenset[str] = frozenset({WEEKS_KEY, *FILTER_DIMS})


# st.cache_data hashes a Filters by its fields.
HASH_FUNCS = {Filters: Filters.cache_key}


def _week_label(value: str) -> str:
    start = date.fromisoformat(value)
    return f"{start:%d %b %Y}"


def sidebar_filters(weeks: Sequence[date], options: Mapping[str, Sequence[str]]) -> Filters:
    """Draw the filters in the sidebar and return what they select."""
    sidebar = st.sidebar
    sidebar.header("Filters")
    week_values = [w.isoformat() for w in weeks]
    since = until = None
    if len(week_values) >= 2:
        first, last = sidebar.select_slider(
            "Weeks (resolved in)",
            options=week_values,
            value=(week_values[0], week_values[-1]),
            format_func=_week_label,
            key=WEEKS_KEY,
            bind="query-params",
            help="Tickets count in the week of their final resolution.",
        )
        since, until = date.fromisoformat(first), date.fromisoformat(last)
    elif week_values:
        since = until = weeks[0]
        sidebar.caption(f"One week of data: {_week_label(week_values[0])}")
    chosen: dict[str, tuple[str, ...]] = {}
    for name, label in FILTER_DIMS.items():
        values = sidebar.multiselect(
            label,
            options=list(options.get(name, ())),
            key=name,
            bind="query-params",
            placeholder="All",
        )
        chosen[name] = tuple(sorted(values))
    sidebar.caption(
        "Filters are in the page address: copy it to share this view. The group filter "
        "matches the group that held the case (entry group for ticket KPIs, escalating "
        "group for escalation KPIs)."
    )
    return Filters(since=since, until=until, **chosen)
