"""The sidebar filters: the widgets that set the Filters value every data function
takes (pipelines.presentation.filters), and how Streamlit's caches hash it.

The filters are in the page address (dashboards.links), so a filtered view is a
link: `?partner=Acme&priority=P1&weeks=2025-03-03&weeks=2025-03-24` (one `weeks`
value: that week alone; any day of a week names it). They live in the entry
script, so they persist across pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial

import streamlit as st

from dashboards.links import match_names, match_week, publish, seed
from pipelines.presentation.filters import FILTER_DIMS, Filters

WEEKS_KEY = "weeks"
FILTER_KEYS: frozenset[str] = frozenset({WEEKS_KEY, *FILTER_DIMS})


# st.cache_data hashes a Filters by its fields.
HASH_FUNCS = {Filters: Filters.cache_key}


def _week_label(value: date) -> str:
    return f"{value:%d %b %Y}"


def _weeks_from_link(values: list[str], weeks: Sequence[date]) -> tuple[date, date] | None:
    found = [w for w in (match_week(v, weeks) for v in values[:2]) if w is not None]
    if not found:
        return None
    return (min(found), max(found))


def _all_offered(values: object, offered: Sequence[str]) -> bool:
    return isinstance(values, list) and all(v in offered for v in values)


def week_range(weeks: Sequence[date]) -> tuple[date | None, date | None]:
    """The weeks slider (bound to `weeks=`): first and last week chosen."""
    if not weeks:
        return None, None
    if len(weeks) == 1:
        st.sidebar.caption(f"One week of data: {_week_label(weeks[0])}")
        return weeks[0], weeks[0]
    everything = (weeks[0], weeks[-1])
    # Not links.seed: Streamlit tells a range select_slider from its `value`, so the
    # range is given there (without it, the two weeks the browser sent back were read
    # as one, the first: the range went back to every week on the next run, and the
    # slider was redrawn on every run). The address sets it on the widget's first draw;
    # a week no longer offered (a newer build) puts Streamlit back on every week.
    start = everything
    if WEEKS_KEY not in st.session_state:
        given = st.query_params.get_all(WEEKS_KEY)
        start = (_weeks_from_link(given, weeks) if given else None) or everything
    picked = st.sidebar.select_slider(
        "Weeks (resolved in)",
        options=list(weeks),
        value=start,
        format_func=_week_label,
        key=WEEKS_KEY,
        help="Tickets count in the week of their final resolution.",
    )
    first, last = picked  # a range: the value is a pair
    shown = [] if (first, last) == everything else sorted({first.isoformat(), last.isoformat()})
    publish(WEEKS_KEY, shown)
    return first, last


def sidebar_filters(weeks: Sequence[date], options: Mapping[str, Sequence[str]]) -> Filters:
    """Draw the filters in the sidebar and return what they select."""
    sidebar = st.sidebar
    sidebar.header("Filters")
    since, until = week_range(weeks)
    chosen: dict[str, tuple[str, ...]] = {}
    for name, label in FILTER_DIMS.items():
        offered = list(options.get(name, ()))
        seed(
            name,
            partial(match_names, options=offered, what=label.lower()),
            [],
            valid=partial(_all_offered, offered=offered),
        )
        values = sidebar.multiselect(label, options=offered, key=name, placeholder="All")
        chosen[name] = tuple(sorted(values))
        publish(name, list(chosen[name]))
    sidebar.caption(
        "Filters are in the page address: copy it to share this view. The group filter "
        "matches the group that held the case (entry group for ticket KPIs, escalating "
        "group for escalation KPIs)."
    )
    return Filters(since=since, until=until, **chosen)
