"""What every page needs for one script run: the snapshot this session serves,
the filters, and the pages to link to. The entry script sets it; pages read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import streamlit as st

from dashboards.filters import FILTER_KEYS
from dashboards.links import open_with
from pipelines.access.scopes import ADMIN, Scope
from pipelines.presentation.filters import Filters

_KEY = "_tierlens_context"
OPEN_TICKET_KEY = "_open_ticket"


@dataclass(frozen=True)
class Context:
    snapshot: str
    build_id: int
    filters: Filters
    pages: dict[str, Any] = field(default_factory=dict)
    scope: Scope = ADMIN


def set_context(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def get_context() -> Context:
    ctx: Context = st.session_state[_KEY]  # set by set_context; session_state is untyped
    return ctx


def view_params(drop: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The sidebar's filters as the address carries them (every page keeps them)."""
    return {
        key: st.query_params.get_all(key)
        for key in st.query_params
        if key in FILTER_KEYS and key not in drop
    }


def open_ticket(ticket_id: str) -> None:
    """Go to the timeline page showing `ticket_id`, filters kept, the ticket in the
    page address (a link to it can be shared)."""
    st.session_state[OPEN_TICKET_KEY] = ticket_id
    st.switch_page(
        get_context().pages["timeline"], query_params={**view_params(), "ticket": [ticket_id]}
    )


def open_tickets(kpi: str, week: date | None = None, **narrowed: str) -> None:
    """Go to the list of tickets behind `kpi` (in `week`, else the filtered weeks),
    with the filters kept and narrowed to `narrowed` (a dimension -> one value, e.g.
    the partner whose bar was clicked)."""
    params = {**view_params(drop=tuple(narrowed)), "kpi": [kpi]}
    if week is not None:
        params["week"] = [week.isoformat()]
    for name, value in narrowed.items():
        params[name] = [value]
    widgets = {name: [value] for name, value in narrowed.items()}
    open_with(get_context().pages["tickets"], params, widgets)


def open_flow_tickets(*, path: str | None = None, move: str | None = None) -> None:
    """Go to the tickets that took a tier `path` or made a `move` (step:from:to) of
    the escalation flow, with the filters kept."""
    params = view_params()
    if path is not None:
        params["path"] = [path]
    if move is not None:
        params["move"] = [move]
    st.switch_page(get_context().pages["tickets"], query_params=params)
