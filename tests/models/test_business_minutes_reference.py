"""Business minutes from the calendar intervals and the business_clock macro agree,
to the minute, with a straightforward reference written here: every minute of the
window is looked up in the calendar's rules one by one (local time, weekday,
ranges, a range past midnight, holidays, closures, dated changes).

The calendar has a split shift, a Saturday night shift (22:00-06:00), GB-ENG public
holidays (Easter 2024), a closure, new hours from 10 April, and both of London's
clock changes inside the windows. Its range edges avoid the hour the clocks change
(a range starting or ending inside that hour is read at its first occurrence).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import holidays
import numpy as np
import pytest

from pipelines.calendars import Calendar, closed_days, days_frame, intervals_frame
from pipelines.sql_files import macros_sql

CALENDAR = Calendar.model_validate(
    {
        "timezone": "Europe/London",
        "hours": {
            **{d: "08:00-12:00, 13:00-17:30" for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": "22:00-06:00",
        },
        "holidays": "GB-ENG",
        "extra_holidays": ["2024-04-05"],
        "changes": [{"from": "2024-04-10", "hours": {"mon": "09:00-17:00", "sat": "22:00-06:00"}}],
    }
)
WINDOWS = (
    (datetime(2024, 3, 20, tzinfo=UTC), datetime(2024, 4, 20, tzinfo=UTC)),
    (datetime(2024, 10, 15, tzinfo=UTC), datetime(2024, 11, 5, tzinfo=UTC)),
)
N_INTERVALS = 1000


# The same calendar in the reference's own terms: minutes after local midnight.
WEEKDAY = [(480, 720), (780, 1050)]  # 08:00-12:00, 13:00-17:30
SATURDAY_NIGHT = [(1320, 1800)]  # 22:00-06:00 the next morning
CLOSED = {d for d, _ in holidays.country_holidays("GB", subdiv="ENG", years=2024).items()} | {
    date(2024, 4, 5)
}


def reference_ranges(day: date) -> list[tuple[int, int]]:
    if day in CLOSED:
        return []
    if day.weekday() == 5:
        return SATURDAY_NIGHT
    if day >= date(2024, 4, 10):  # the change: Monday 09:00-17:00 only
        return [(540, 1020)] if day.weekday() == 0 else []
    return WEEKDAY if day.weekday() < 5 else []


def working(moment: datetime) -> bool:
    """Is the minute starting at `moment` (UTC) worked? Read from the rules above."""
    local = moment.astimezone(ZoneInfo("Europe/London"))
    minute_of_day = local.hour * 60 + local.minute
    # the day's own ranges, and the previous day's ranges that run past midnight
    return any(
        start <= minute_of_day + offset < end
        for owner, offset in ((local.date(), 0), (local.date() - timedelta(days=1), 1440))
        for start, end in reference_ranges(owner)
    )


def reference_minutes(start: datetime, end: datetime, worked: np.ndarray, origin: datetime) -> int:
    first = int((start - origin).total_seconds() // 60)
    last = int((end - origin).total_seconds() // 60)
    return int(worked[first:last].sum())


@pytest.mark.parametrize("window", WINDOWS, ids=["spring", "autumn"])
def test_business_minutes_match_a_minute_by_minute_reference(window):
    origin, finish = window
    n_minutes = int((finish - origin).total_seconds() // 60)
    worked = np.array([working(origin + timedelta(minutes=m)) for m in range(n_minutes)])
    rng = random.Random(2024)
    pairs = []
    for i in range(N_INTERVALS // len(WINDOWS)):
        a = rng.randrange(n_minutes)
        b = min(n_minutes - 1, a + rng.choice((rng.randrange(600), rng.randrange(9000))))
        pairs.append((i, origin + timedelta(minutes=a), origin + timedelta(minutes=b)))

    con = duckdb.connect()
    con.execute(macros_sql())
    first, last = origin.date() - timedelta(days=2), finish.date() + timedelta(days=2)
    con.register(
        "days", days_frame(intervals_frame({"cal": CALENDAR}, first, last, "UTC"), first, last)
    )
    con.execute("create table pairs (id int, start_at timestamptz, end_at timestamptz)")
    con.executemany("insert into pairs values (?, ?, ?)", pairs)
    # the join and the macro the models use (int_ticket_events, fct_tickets)
    found = dict(
        con.execute(
            """
            with readings as (
                select moments.id, moments.which, business_clock(
                    moments.moment, 'cal', days.minutes_before, days.starts, days.ends
                ) as reading
                from (
                    select id, 'start' as which, start_at as moment from pairs
                    union all
                    select id, 'end', end_at from pairs
                ) as moments
                left join days on days.calendar = 'cal' and days.day = utc_day(moments.moment)
            )
            select id, max(reading) filter (where which = 'end')
                - max(reading) filter (where which = 'start')
            from readings group by id
            """
        ).fetchall()
    )
    con.close()
    expected = {i: reference_minutes(a, b, worked, origin) for i, a, b in pairs}
    assert sum(1 for v in expected.values() if v > 0) > len(pairs) // 3  # not all zero
    wrong = {i: (found[i], expected[i]) for i in expected if round(found[i], 6) != expected[i]}
    assert not wrong, f"{len(wrong)} of {len(pairs)} differ, e.g. {list(wrong.items())[:5]}"


def test_closed_days_are_the_holidays_and_the_closures():
    days = closed_days(CALENDAR, date(2024, 3, 25), date(2024, 4, 7))
    assert days == {date(2024, 3, 29), date(2024, 4, 1), date(2024, 4, 5)}
