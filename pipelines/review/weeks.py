"""Week arguments: `2024-03-04` (any day of the week) or ISO `2024-W10`."""

from __future__ import annotations

from datetime import date, timedelta

from pipelines.errors import TierlensError


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
