"""The filters every snapshot read takes: one frozen value (weeks and dimension
values), so a cache key built from it includes every filter."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

# Filter name (URL parameter and kpi_query dimension) -> label in the sidebar.
FILTER_DIMS: dict[str, str] = {
    "partner": "Partner",
    "client": "Client",
    "category": "Category",
    "priority": "Priority",
    "group": "Group",
}


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
        # field names only known at run time: mypy can't match them to replace()'s keywords
        cleared: dict[str, Any] = {n: () for n in names}
        return replace(self, **cleared)

    def describe(self) -> str:
        parts = [f"{FILTER_DIMS[n].lower()} {', '.join(v)}" for n, v in self.selected().items()]
        return "; ".join(parts) if parts else "all tickets"


def week_window(week: date, n_weeks: int) -> tuple[date, date]:
    """The n_weeks weeks ending with `week` (inclusive)."""
    return week - timedelta(weeks=n_weeks - 1), week
