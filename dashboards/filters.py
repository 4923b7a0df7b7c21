"""The sidebar filters: one frozen value every data function takes (so every
cache key includes every filter), and the widgets that set it.

The widgets are bound to the URL query string (`bind="query-params"`), so a
filtered view is a link: `?partner=Acme&priority=P1&weeks=2025-03-03&weeks=2025-03-24`.
They live in the entry script, so they persist across pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import streamlit as st

# Filter name (URL parameter and kpi_query dimension) -> label in the sidebar.
FILTER_DIMS: dict[str, str] = {
    "partner": "Partner",
    "client": "Client",
    "category": "Category",
    "priority": "Priority",
    "group": "Group",
}
WEEKS_KEY = "weeks"


@dataclass(frozen=True)
class Filters:
    """Weeks (first and last week_start, inclusive) and multi-select dimension
    values; an empty tuple means "all"."""

    since: date | None = None
    until: date | None = None
    partner: tuple[str, ...] = ()
    client: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    group: tuple[str, ...] = field(default=())

    def selected(self) -> dict[str, tuple[str, ...]]:
        """The dimension filters that restrict something, in FILTER_DIMS order."""
        return {name: getattr(self, name) for name in FILTER_DIMS if getattr(self, name)}

    def cache_key(self) -> tuple[object, ...]:
        return (self.since, self.until, *(getattr(self, n) for n in FILTER_DIMS))

    def with_weeks(self, since: date | None, until: date | None) -> Filters:
        return replace(self, since=since, until=until)

    def without(self, *names: str) -> Filters:
        return replace(self, **{n: () for n in names})

    def describe(self) -> str:
        parts = [f"{FILTER_DIMS[n].lower()} {', '.join(v)}" for n, v in self.selected().items()]
        return "; ".join(parts) if parts else "all tickets"


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


def week_window(week: date, n_weeks: int) -> tuple[date, date]:
    """The n_weeks weeks ending with `week` (inclusive)."""
    return week - timedelta(weeks=n_weeks - 1), week
