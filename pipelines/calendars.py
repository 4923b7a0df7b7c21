"""Business-hours calendars: the `[calendars.NAME]` and `[[calendar_map]]` sections of
tierlens.toml, and the working intervals they give.

A calendar is a time zone, weekly working hours (one or more ranges a day; a range
that ends at or before it starts runs past midnight into the next day), public
holidays from the `holidays` package, the desk's own closures, and dated changes
of the weekly hours. `working_intervals` turns one into the intervals it works, in
UTC, day by day over a date range (config.calendar_intervals, with the business
minutes before each); `days_frame` regroups them by UTC day (config.calendar_days),
the table the SQL reads: a moment's business clock is an equality join to its day
and the macro business_clock (int_ticket_events, fct_tickets). Nothing here loops
over tickets: the loop is over days of a calendar.

A ticket's calendar is the first `[[calendar_map]]` rule whose partner, client and
priority (those it names) match the ticket's; a ticket no rule matches, and a
"24x7" calendar, keep wall-clock time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:  # imported where used: loading tierlens.toml needs neither
    import polars as pl
    from holidays import HolidayBase

DAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24x7"
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# minutes after local midnight: [start, end); end > 1440 runs into the next day
Range = tuple[int, int]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _minute(hours: str, minutes: str, text: str, *, end: bool) -> int:
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and (m or not end)):
        raise ValueError(f"{text!r}: not a time of day (HH:MM, 00:00 to 24:00)")
    return 60 * h + m


def parse_ranges(value: str | list[str]) -> tuple[Range, ...]:
    """'08:00-12:00, 13:00-17:00' (or a list of ranges) -> ((480, 720), (780, 1020)).
    A range ending at or before its start runs overnight: '22:00-06:00' -> (1320, 1800)."""
    texts = value if isinstance(value, list) else [t for t in value.split(",") if t.strip()]
    ranges = []
    for text in texts:
        m = _RANGE.match(text)
        if not m:
            raise ValueError(f"{text!r}: a range is HH:MM-HH:MM, e.g. 08:00-18:00")
        start = _minute(m.group(1), m.group(2), text, end=False)
        end = _minute(m.group(3), m.group(4), text, end=True)
        if end <= start:
            end += 1440  # overnight: into the next day
        ranges.append((start, end))
    ranges.sort()
    for (_, end_a), (start_b, _) in itertools.pairwise(ranges):
        if start_b < end_a:
            raise ValueError(f"ranges overlap on one day: {value!r}")
    return tuple(ranges)


Hours = Literal["24x7"] | dict[str, str | list[str]]


def _check_hours(value: Hours) -> Hours:
    if value == ALWAYS:
        return value
    if not isinstance(value, dict):
        raise ValueError('hours are "24x7" or a table of days: { mon = "08:00-18:00", ... }')
    for day, ranges in value.items():
        if day not in DAY_KEYS:
            raise ValueError(f"{day!r} is not a day; use {', '.join(DAY_KEYS)}")
        parse_ranges(ranges)
    return value


class CalendarChange(_Strict):
    """New weekly hours from a date on (the days before keep the earlier hours)."""

    from_: date = Field(alias="from")
    hours: Hours

    _hours = field_validator("hours")(_check_hours)


class Calendar(_Strict):
    timezone: str | None = Field(None, description="IANA zone; default: reporting_timezone")
    hours: Hours
    holidays: str | list[str] | None = Field(
        None, description='public holidays of a country or subdivision: "GB-ENG", "US-CA"'
    )
    extra_holidays: list[date] = Field(default_factory=list)
    changes: list[CalendarChange] = Field(default_factory=list)

    _hours = field_validator("hours")(_check_hours)

    @field_validator("holidays")
    @classmethod
    def _known_country(cls, value: str | list[str] | None) -> str | list[str] | None:
        for code in [value] if isinstance(value, str) else value or []:
            _holiday_calendar(code, [2024])
        return value

    @field_validator("changes")
    @classmethod
    def _in_order(cls, value: list[CalendarChange]) -> list[CalendarChange]:
        days = [c.from_ for c in value]
        if days != sorted(set(days)):
            raise ValueError("changes must be in date order, one per date")
        return value

    @property
    def is_always(self) -> bool:
        return self.hours == ALWAYS and all(c.hours == ALWAYS for c in self.changes)


class CalendarRule(_Strict):
    """[[calendar_map]]: tickets of this partner / client / priority (those given)
    use `calendar`. A rule naming none of them matches every ticket."""

    partner: str | None = None
    client: str | None = None
    priority: str | None = None
    calendar: str


def _holiday_calendar(code: str, years: list[int]) -> HolidayBase:
    import holidays as holiday_data

    country, _, subdiv = code.partition("-")
    try:
        return holiday_data.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError as exc:
        raise ValueError(f"{code!r}: no public holidays known for this country") from exc
    except ValueError as exc:  # an unknown subdivision
        raise ValueError(f"{code!r}: {exc}") from exc


def closed_days(calendar: Calendar, first: date, last: date) -> set[date]:
    """The public holidays and extra closures between first and last."""
    years = list(range(first.year, last.year + 1))
    codes = [calendar.holidays] if isinstance(calendar.holidays, str) else calendar.holidays or []
    days = {d for code in codes for d in _holiday_calendar(code, years)}
    return {d for d in days | set(calendar.extra_holidays) if first <= d <= last}


def _weekly(hours: Hours) -> dict[int, tuple[Range, ...]]:
    """weekday (0 = Monday) -> ranges."""
    if hours == ALWAYS:
        return dict.fromkeys(range(7), ((0, 1440),))
    assert isinstance(hours, dict)
    return {i: parse_ranges(hours[key]) if key in hours else () for i, key in enumerate(DAY_KEYS)}


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Local wall time `minute` minutes after `day`'s midnight (past 24:00: the next
    days), as an aware UTC datetime."""
    extra, minute = divmod(minute, 1440)
    local_day = day + timedelta(days=extra)
    local = datetime.combine(local_day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def working_intervals(
    calendar: Calendar, first: date, last: date, default_zone: str
) -> list[tuple[datetime, datetime]]:
    """[start, end) in UTC of every working period of the days first..last (local
    dates; a range running past midnight belongs to the day it starts), merged
    where they touch."""
    zone = ZoneInfo(calendar.timezone or default_zone)
    closed = closed_days(calendar, first, last)
    plans = [(date.min, _weekly(calendar.hours))] + [
        (c.from_, _weekly(c.hours)) for c in calendar.changes
    ]
    out: list[tuple[datetime, datetime]] = []
    for day in _days(first, last):
        if day in closed:
            continue
        weekly = next(plan for since, plan in reversed(plans) if since <= day)
        for start, end in weekly[day.weekday()]:
            begin, finish = _utc(day, start, zone), _utc(day, end, zone)
            if finish <= begin:  # a range inside a skipped DST hour
                continue
            if out and begin <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], finish))
            else:
                out.append((begin, finish))
    return out


def intervals_frame(
    calendars: dict[str, Calendar], first: date, last: date, default_zone: str
) -> pl.DataFrame:
    """config.calendar_intervals: calendar, start_at, end_at (UTC), and
    minutes_before (business minutes of the calendar's earlier intervals), for every
    calendar that is not 24x7."""
    import polars as pl

    rows = [
        {"calendar": name, "start_at": start, "end_at": end}
        for name, calendar in calendars.items()
        if not calendar.is_always
        for start, end in working_intervals(calendar, first, last, default_zone)
    ]
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "calendar": pl.String,
        "start_at": pl.Datetime("us", "UTC"),
        "end_at": pl.Datetime("us", "UTC"),
    }
    frame = pl.DataFrame(rows, schema=schema)
    minutes = (pl.col("end_at") - pl.col("start_at")).dt.total_microseconds() / 60e6
    return frame.sort("calendar", "start_at").with_columns(
        minutes_before=(minutes.cum_sum().over("calendar") - minutes).cast(pl.Float64)
    )


MINUTES_PER_DAY = 1440


def days_frame(intervals: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """config.calendar_days: per calendar and UTC day (days since 1970-01-01), the
    business minutes before the day starts and the day's working periods as two
    lists of epoch minutes (starts, ends), clipped to the day. Every day of
    first..last has a row, closed days too (empty lists), so that any moment of the
    range finds its day by an equality join: business minutes at a moment = the
    minutes before its day + the overlap of its day's periods with the time before
    it (macro business_clock)."""
    import polars as pl

    epoch_day = date(1970, 1, 1)
    day_range = pl.int_range(
        (first - epoch_day).days, (last - epoch_day).days + 1, eager=True
    ).alias("day")
    start = pl.col("start_at").dt.epoch("s") / 60
    end = pl.col("end_at").dt.epoch("s") / 60
    pieces = (
        intervals.select("calendar", start=start, end=end)
        .with_columns(
            day=pl.int_ranges(
                (pl.col("start") // MINUTES_PER_DAY).cast(pl.Int64),
                ((pl.col("end") - 1e-9) // MINUTES_PER_DAY).cast(pl.Int64) + 1,
            )
        )
        .explode("day")
        .with_columns(
            start=pl.max_horizontal("start", pl.col("day") * MINUTES_PER_DAY),
            end=pl.min_horizontal("end", (pl.col("day") + 1) * MINUTES_PER_DAY),
        )
        .filter(pl.col("end") > pl.col("start"))
    )
    per_day = pieces.group_by("calendar", "day").agg(
        pl.col("start").sort().alias("starts"),
        pl.col("end").sort().alias("ends"),
        minutes=(pl.col("end") - pl.col("start")).sum(),
    )
    calendars = intervals.select("calendar").unique()
    grid = calendars.join(day_range.to_frame(), how="cross")
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "calendar": pl.String,
        "day": pl.Int64,
        "minutes_before": pl.Float64,
        "starts": pl.List(pl.Float64),
        "ends": pl.List(pl.Float64),
    }
    if grid.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        grid.join(per_day, on=["calendar", "day"], how="left")
        .sort("calendar", "day")
        .with_columns(
            minutes=pl.col("minutes").fill_null(0.0),
            starts=pl.col("starts").fill_null(pl.lit([], dtype=pl.List(pl.Float64))),
            ends=pl.col("ends").fill_null(pl.lit([], dtype=pl.List(pl.Float64))),
        )
        .with_columns(
            minutes_before=(pl.col("minutes").cum_sum().over("calendar") - pl.col("minutes"))
        )
        .select(list(schema))
        .cast(pl.Schema(schema))
    )
