"""The filters every snapshot read takes: one frozen value (weeks and dimension
values), so a cache key built from it includes every filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipelines.metrics import DIMENSIONS

# Filter name (URL parameter and kpi_query dimension) -> label in the sidebar: the
# filterable dimensions of the metric layer.
FILTER_DIMS: dict[str, str] = {d.name: d.label for d in DIMENSIONS if d.filterable}


@dataclass(frozen=True, init=False)
class Filters:
    """Weeks (first and last week_start, inclusive) and multi-select dimension
    values, keyword arguments named after FILTER_DIMS (`Filters(partner=("Acme",))`);
    no value for a dimension means "all"."""

    since: date | None
    until: date | None
    chosen: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(
        self, since: date | None = None, until: date | None = None, **chosen: Sequence[str]
    ) -> None:
        unknown = [n for n in chosen if n not in FILTER_DIMS]
        if unknown:
            raise TypeError(f"no filter {', '.join(unknown)}; filters: {', '.join(FILTER_DIMS)}")
        object.__setattr__(self, "since", since)
        object.__setattr__(self, "until", until)
        object.__setattr__(
            self,
            "chosen",
            tuple((n, tuple(chosen[n])) for n in FILTER_DIMS if chosen.get(n)),
        )

    def get(self, name: str) -> tuple[str, ...]:
        """The values chosen for `name` (empty: all)."""
        if name not in FILTER_DIMS:
            raise KeyError(f"no filter {name!r}")
        return dict(self.chosen).get(name, ())

    def selected(self) -> dict[str, tuple[str, ...]]:
        """The dimension filters that restrict something, in FILTER_DIMS order."""
        return dict(self.chosen)

    def cache_key(self) -> tuple[object, ...]:
        return (self.since, self.until, self.chosen)

    def with_weeks(self, since: date | None, until: date | None) -> Filters:
        return Filters(since, until, **dict(self.chosen))

    def without(self, *names: str) -> Filters:
        kept = {n: v for n, v in self.chosen if n not in names}
        return Filters(self.since, self.until, **kept)

    def describe(self) -> str:
        parts = [f"{FILTER_DIMS[n].lower()} {', '.join(v)}" for n, v in self.chosen]
        return "; ".join(parts) if parts else "all tickets"


def week_window(week: date, n_weeks: int) -> tuple[date, date]:
    """The n_weeks weeks ending with `week` (inclusive)."""
    return week - timedelta(weeks=n_weeks - 1), week
