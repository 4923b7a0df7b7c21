"""The page address is the view: every filter, the week, the KPI and the selection
are query parameters, so a copied address opens the same view for anyone.

    /scorecard?weeks=2025-03-03&weeks=2025-03-24&partner=Acme&week=2025-03-17
    /tickets?kpi=escalation_rate&week=2025-03-17&partner=Acme
    /timeline?ticket=INC0012345

A widget that a link can set is drawn in three steps: `seed` before it (on the
widget's first draw in a visit, take its value from the address, matched leniently:
any day of a week, any letter case of a name), the widget itself with that key and
no default, and `publish` after it (the address now says what the widget shows).
When a value in a link matches nothing, the visitor is told, never silently shown
something else. At the end of each run, `end_run` drops the parameters no widget on
the page owns (another page's KPI, say), so the address never says more than the
page shows.

Tierlens syncs the address itself rather than with Streamlit's
`bind="query-params"`: that wrote the formatted label into the address
(`weeks=10+Mar+2025`), dropped an unknown or mis-cased value without a word, and
refused to let a page set a bound parameter when opening another page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import streamlit as st

from pipelines.presentation.safe_text import md

NOTES_KEY = "_link_notes"
OWNED_KEY = "_link_owned"  # the parameters this run's widgets own
PENDING_KEY = "_link_pending"  # widget values to set on the next run (before the widgets)


def begin_run() -> None:
    """Before anything is drawn: no parameter is owned yet; apply the values a page
    asked for when it opened another one (`open_with`)."""
    st.session_state[OWNED_KEY] = set()
    for key, value in st.session_state.pop(PENDING_KEY, {}).items():
        st.session_state[key] = value


def own(*keys: str) -> None:
    """Keep these parameters in the address this run (a page's own, not a widget's)."""
    st.session_state.setdefault(OWNED_KEY, set()).update(keys)


def end_run() -> None:
    """After the page ran: drop the parameters nothing on this page owns."""
    owned = st.session_state.get(OWNED_KEY, set())
    for key in [k for k in st.query_params if k not in owned]:
        del st.query_params[key]


def note(text: str) -> None:
    """Tell the visitor about their link (text already made safe for Markdown)."""
    found: list[str] = st.session_state.setdefault(NOTES_KEY, [])
    if text not in found:
        found.append(text)


def show_notes() -> None:
    """The notes about this session's link, until the visitor dismisses them."""
    found: list[str] = st.session_state.get(NOTES_KEY, [])
    if not found:
        return
    box = st.container(border=True)
    for text in found:
        box.warning(text, icon=":material/link_off:")
    if box.button("Dismiss", key="dismiss_link_notes"):
        st.session_state[NOTES_KEY] = []
        st.rerun()


def seed(
    key: str,
    parse: Callable[[list[str]], Any],
    default: Any,
    *,
    valid: Callable[[Any], bool] = lambda _: True,
    param: str | None = None,
) -> None:
    """Before drawing the widget `key`: on its first draw in this visit, its value
    from the address (`parse` of the values of `param`, default `key`; None: not
    usable), else `default`; a value no longer valid (the options changed) goes back
    to `default`. Pages give their widgets their own keys (two pages' `week` widgets
    hold different things) and share the parameter name."""
    param = param or key
    own(param)
    if key in st.session_state:
        if not valid(st.session_state[key]):
            st.session_state[key] = default
        return
    given = st.query_params.get_all(param)
    value = parse(given) if given else None
    st.session_state[key] = default if value is None else value


def publish(key: str, values: Sequence[str]) -> None:
    """After drawing the widget: the address holds its value (none: the default)."""
    own(key)
    wanted = list(values)
    if st.query_params.get_all(key) == wanted:
        return
    if wanted:
        st.query_params[key] = wanted
    elif key in st.query_params:
        del st.query_params[key]


def open_with(page: Any, params: dict[str, list[str]], widgets: dict[str, Any]) -> None:
    """Open `page` with these parameters, setting these widgets (sidebar filters
    included) on arrival: Streamlit forbids changing a drawn widget's value, so
    they are applied by `begin_run` on the next run."""
    st.session_state[PENDING_KEY] = widgets
    st.switch_page(page, query_params=params)


# ---------------------------------------------------------------- matching values


def match_names(values: list[str], options: Sequence[str], what: str) -> list[str]:
    """The options the link names: exactly, else ignoring letter case; a value that
    matches none is noted."""
    by_lower: dict[str, str] = {}
    for option in options:
        by_lower.setdefault(option.casefold(), option)
    found: list[str] = []
    for value in values:
        hit = value if value in options else by_lower.get(value.strip().casefold())
        if hit is None:
            note(f"The link's {what} “{md(value)}” matches no {what} in this build: ignored.")
        elif hit not in found:
            found.append(hit)
    return found


def parse_day(value: str) -> date | None:
    """A day as the address writes it (2025-03-03), as ISO weeks (2025-W10), or as
    the dashboard's label (10 Mar 2025, links shared before this format)."""
    text = value.strip().replace("+", " ")
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    year, sep, number = text.upper().partition("-W")
    if sep and year.isdigit() and number.isdigit():
        try:
            return date.fromisocalendar(int(year), int(number), 1)
        except ValueError:
            return None
    try:
        return datetime.strptime(text, "%d %b %Y").date()
    except ValueError:
        return None


def match_week(value: str, weeks: Sequence[date]) -> date | None:
    """The week (of `weeks`, their first days) holding the day `value` names."""
    day = parse_day(value)
    if day is not None:
        for week in weeks:
            if week <= day < week + timedelta(days=7):
                return week
    note(f"The link's week “{md(value)}” is not a week of this build: ignored.")
    return None
