"""The dashboard's pages: key (URL path) -> file in dashboards/views, title, icon."""

from __future__ import annotations

from pathlib import Path

VIEWS = Path(__file__).resolve().parent / "views"
DEFAULT_PAGE = "scorecard"  # served at the root URL
PAGES: dict[str, tuple[str, str, str]] = {
    "scorecard": ("scorecard.py", "Scorecard", ":material/speed:"),
    "trends": ("trends.py", "Trends", ":material/show_chart:"),
    "partners": ("partners.py", "Partner comparison", ":material/compare_arrows:"),
    "flow": ("flow.py", "Escalation flow", ":material/account_tree:"),
    "agents": ("agents.py", "Agents and groups", ":material/groups:"),
    "timeline": ("timeline.py", "Ticket timeline", ":material/timeline:"),
    "review": ("review.py", "Weekly review", ":material/rate_review:"),
    "quality": ("quality.py", "Data quality", ":material/fact_check:"),
}
