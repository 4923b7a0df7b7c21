"""What every page needs for one script run: the snapshot this session serves,
the filters, and the pages to link to. The entry script sets it; pages read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from dashboards.filters import BOUND_KEYS
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


def open_ticket(ticket_id: str) -> None:
    """Go to the timeline page showing `ticket_id`, filters kept, the ticket in the
    page address (a link to it can be shared). The sidebar's widgets keep their
    values across pages and write their own query parameters; Streamlit refuses to
    set or clear those here (BOUND_KEYS), so only the others are passed on."""
    st.session_state[OPEN_TICKET_KEY] = ticket_id
    kept = {
        key: st.query_params.get_all(key)
        for key in st.query_params
        if key not in BOUND_KEYS and key != "ticket"
    }
    st.switch_page(get_context().pages["timeline"], query_params={**kept, "ticket": ticket_id})
