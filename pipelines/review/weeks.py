"""Week arguments: `2024-03-04` (any day of the week) or ISO `2024-W10`."""

from __future__ import annotations

from datetime import date, timedelta

from pipelines.errors import TierlensError

# The week every command and page opens on by default (the scorecard, the report,
# `review sample`): the latest week that ended before the last resolution in the
# data (the data's "now") and is not a trickle of late resolutions (at least half
# the median week's resolved tickets); the latest week if none qualifies.
LAST_COMPLETE_WEEK_SQL = """
with weeks as (
    select week_start, count(*) as n_resolved
    from analytics.fct_tickets
    where week_start is not null
    group by week_start
),
data_now as (
    select max(resolved_at)::date as today from analytics.fct_tickets
),
typical as (
    select median(n_resolved) as n_median from weeks
)
select coalesce(
    max(week_start) filter (
        where week_start + interval 7 day <= today and n_resolved >= n_median / 2
    ),
    max(week_start)
)::date as week
from weeks cross join data_now cross join typical
"""


def parse_week(value: str | None, week_start_offset: int = 0) -> date | None:
    """The first day of the week holding `value` (weeks start `week_start_offset` days
    after Monday), or None when no week is given."""
    if value is None:
        return None
    text = value.strip()
    try:
        if "W" in text.upper():
            year, week = text.upper().split("-W")
            day = date.fromisocalendar(int(year), int(week), 1)
        else:
            day = date.fromisoformat(text)
    except ValueError as exc:
        raise TierlensError(
            f"--week: {value!r} is not a week (use YYYY-MM-DD or YYYY-Www)"
        ) from exc
    shift = (day.weekday() - week_start_offset) % 7
    try:
        return day - timedelta(days=shift)
    except OverflowError:  # the week would start before year 1
        raise TierlensError(f"--week: {value!r} is before the first week there is") from None
