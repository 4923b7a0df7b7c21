"""The dashboard's pages: key (URL path) -> file in dashboards/views, title, icon."""

from __future__ import annotations

from pathlib import Path

from pipelines.access.scopes import Scope

VIEWS = Path(__file__).resolve().parent / "views"
DEFAULT_PAGE = "scorecard"  # served at the root URL
PAGES: dict[str, tuple[str, str, str]] = {
    "scorecard": ("scorecard.py", "Scorecard", ":material/speed:"),
    "trends": ("trends.py", "Trends", ":material/show_chart:"),
    "partners": ("partners.py", "Partner comparison", ":material/compare_arrows:"),
    "flow": ("flow.py", "Escalation flow", ":material/account_tree:"),
    "agents": ("agents.py", "Agents and groups", ":material/groups:"),
    "tickets": ("tickets.py", "Tickets behind a number", ":material/format_list_bulleted:"),
    "timeline": ("timeline.py", "Ticket timeline", ":material/timeline:"),
    "review": ("review.py", "Weekly review", ":material/rate_review:"),
    "quality": ("quality.py", "Data quality", ":material/fact_check:"),
    "access": ("access.py", "Access log", ":material/shield_person:"),
}

# Pages a scope does not see. The weekly review reads the review journal and the
# published samples beside the database, outside any scoped snapshot; the access
# log is about everybody; a client has no partners to compare.
HIDDEN: dict[str, frozenset[str]] = {
    "admin": frozenset(),
    "partner": frozenset({"review", "access"}),
    "client": frozenset({"review", "access", "partners"}),
}


def pages_for(scope: Scope) -> dict[str, tuple[str, str, str]]:
    """The pages `scope` may open, in menu order."""
    return {key: page for key, page in PAGES.items() if key not in HIDDEN[scope.kind]}
