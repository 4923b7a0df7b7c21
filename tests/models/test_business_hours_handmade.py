"""Business-hours clocks on hand-worked timelines (docs/metrics.md, "Business time").

Each ticket opens at L1 (SD-L1), is escalated to L2 (Net-L2, "Assigned": a queue
status) at ESCALATED and picked up ("In Progress") at PICKED_UP, then resolved ten
wall minutes later. The business minutes of each handoff are worked out by hand
below from the calendars of CONFIG; wall-clock minutes are the plain difference.

Calendars (hours local to the zone):
- std, Europe/London: Mon-Thu 08:00-18:00, Fri 08:00-17:00; GB-ENG public
  holidays (Good Friday 29 Mar and Easter Monday 1 Apr 2024), and 24 Dec closed.
- sundays, Europe/London: Sun 00:00-24:00 only (31 Mar 2024 has 23 hours).
- split, UTC: Mon 08:00-12:00 and 13:00-17:00.
- night, UTC: Mon-Fri 22:00-06:00 (a shift runs into the next morning).
- changing, UTC: Mon-Fri 09:00-17:00, from 6 Mar 2024 Mon-Fri 10:00-12:00.
- always: 24x7.
Rules, first match wins: priority P1 -> always; client c-sun -> sundays; client
c-split -> split; client c-night -> night; client c-change -> changing; partner
acme -> std. Partner other matches no rule: wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.config import Config
from tests.models.timelines import T0, Ev, Ticket, build

CONFIG = Config.model_validate(
    {
        "calendars": {
            "std": {
                "timezone": "Europe/London",
                "hours": {
                    "mon": "08:00-18:00",
                    "tue": "08:00-18:00",
                    "wed": "08:00-18:00",
                    "thu": "08:00-18:00",
                    "fri": "08:00-17:00",
                },
                "holidays": "GB-ENG",
                "extra_holidays": ["2024-12-24"],
            },
            "sundays": {"timezone": "Europe/London", "hours": {"sun": "00:00-24:00"}},
            "split": {"timezone": "UTC", "hours": {"mon": "08:00-12:00, 13:00-17:00"}},
            "night": {
                "timezone": "UTC",
                "hours": {d: "22:00-06:00" for d in ("mon", "tue", "wed", "thu", "fri")},
            },
            "changing": {
                "timezone": "UTC",
                "hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                "changes": [
                    {
                        "from": "2024-03-06",
                        "hours": {d: "10:00-12:00" for d in ("mon", "tue", "wed", "thu", "fri")},
                    }
                ],
            },
            "always": {"hours": "24x7"},
        },
        "calendar_map": [
            {"priority": "P1", "calendar": "always"},
            {"client": "c-sun", "calendar": "sundays"},
            {"client": "c-split", "calendar": "split"},
            {"client": "c-night", "calendar": "night"},
            {"client": "c-change", "calendar": "changing"},
            {"partner": "acme", "calendar": "std"},
        ],
    }
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def minute(moment: datetime) -> float:
    return (moment - T0).total_seconds() / 60


# ticket -> (escalated, picked up (UTC), business minutes by hand, partner, client, priority)
HANDOFFS: dict[str, tuple[datetime, datetime, float, str, str, str]] = {
    # Fri 8 Mar 16:50 GMT -> Mon 11 Mar 08:05: 10 min on Friday, 5 on Monday
    "weekend": (utc(2024, 3, 8, 16, 50), utc(2024, 3, 11, 8, 5), 15, "acme", "c", "P3"),
    # Thu 28 Mar 17:30 GMT -> Tue 2 Apr 08:30 BST (07:30 UTC): Thursday 30 min, Good
    # Friday and Easter Monday closed, the clocks go forward on Sunday, Tuesday 30 min
    "easter": (utc(2024, 3, 28, 17, 30), utc(2024, 4, 2, 7, 30), 60, "acme", "c", "P3"),
    # Fri 25 Oct 16:00 BST (15:00 UTC) -> Mon 28 Oct 09:00 GMT: the clocks go back on
    # Sunday; Friday 60 min, Monday 60 min
    "autumn": (utc(2024, 10, 25, 15, 0), utc(2024, 10, 28, 9, 0), 120, "acme", "c", "P3"),
    # Sun 31 Mar 00:00 GMT -> Mon 1 Apr 00:00 BST (Sun 23:00 UTC): a 23-hour Sunday
    "spring_day": (utc(2024, 3, 31, 0, 0), utc(2024, 3, 31, 23, 0), 1380, "acme", "c-sun", "P3"),
    # Tue 5 Mar 19:00 -> Wed 6 Mar 07:00 GMT: both outside the hours, nothing between
    "outside": (utc(2024, 3, 5, 19, 0), utc(2024, 3, 6, 7, 0), 0, "acme", "c", "P3"),
    # Wed 6 Mar 07:00 -> 09:00: starts before opening, 08:00-09:00 counts
    "before_opening": (utc(2024, 3, 6, 7, 0), utc(2024, 3, 6, 9, 0), 60, "acme", "c", "P3"),
    # 24 Dec 2024 (Tuesday) is a closure of its own: Mon 23 Dec 17:00 -> Fri 27 Dec
    # 08:30; Monday 60, Christmas and Boxing Day are holidays, Friday 30
    "christmas": (utc(2024, 12, 23, 17, 0), utc(2024, 12, 27, 8, 30), 90, "acme", "c", "P3"),
    # split shift: Mon 4 Mar 11:00 -> 14:00, lunch 12:00-13:00 is not worked
    "split": (utc(2024, 3, 4, 11, 0), utc(2024, 3, 4, 14, 0), 120, "acme", "c-split", "P3"),
    # overnight shift: Mon 21:00 -> Tue 07:00, worked 22:00-06:00
    "overnight": (utc(2024, 3, 4, 21, 0), utc(2024, 3, 5, 7, 0), 480, "acme", "c-night", "P3"),
    # Friday's night shift runs into Saturday: Sat 9 Mar 05:00 -> 12:00, 05:00-06:00
    "saturday_morning": (
        utc(2024, 3, 9, 5, 0),
        utc(2024, 3, 9, 12, 0),
        60,
        "acme",
        "c-night",
        "P3",
    ),
    # new hours from Wed 6 Mar: Tue 16:00 -> Wed 11:00: Tuesday 16-17, Wednesday 10-11
    "changed": (utc(2024, 3, 5, 16, 0), utc(2024, 3, 6, 11, 0), 120, "acme", "c-change", "P3"),
    # P1 -> always (24x7) before the acme rule: business = wall, over the weekend
    "p1_always": (utc(2024, 3, 8, 16, 50), utc(2024, 3, 11, 8, 5), 3795, "acme", "c", "P1"),
    # a partner no rule matches: wall clock
    "no_rule": (utc(2024, 3, 8, 16, 50), utc(2024, 3, 11, 8, 5), 3795, "other", "c", "P3"),
}


def handoff_ticket(ticket_id: str) -> Ticket:
    escalated, picked_up, _, partner, client, priority = HANDOFFS[ticket_id]
    start, esc, pick = minute(escalated) - 5, minute(escalated), minute(picked_up)
    return Ticket(
        ticket_id,
        [
            Ev(start, "SD-L1", "L1", "New"),
            Ev(esc, "Net-L2", "L2", "Assigned"),
            Ev(pick, "Net-L2", "L2", "In Progress"),
            Ev(pick + 10, "Net-L2", "L2", "Resolved"),
        ],
        partner=partner,
        client=client,
        priority=priority,
        opened_minute=start,
    )


# A wait pauses the tier clock: 10 min at L1, then L2 from minute 10 to 100, of
# which 30-90 waiting on the user: 90 wall minutes at L2, 30 not paused.
PAUSED = Ticket(
    "paused",
    [
        Ev(0, "SD-L1", "L1", "New"),
        Ev(10, "Net-L2", "L2", "Assigned"),
        Ev(20, "Net-L2", "L2", "In Progress"),
        Ev(30, "Net-L2", "L2", "Awaiting User"),
        Ev(90, "Net-L2", "L2", "In Progress"),
        Ev(100, "Net-L2", "L2", "Resolved"),
    ],
    partner="other",
)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    db: Path = tmp_path_factory.mktemp("business") / "b.duckdb"
    c = build(db, [handoff_ticket(t) for t in HANDOFFS] + [PAUSED], CONFIG)
    yield c
    c.close()


@pytest.mark.parametrize("ticket_id", list(HANDOFFS))
def test_handoff_delay_in_business_minutes(con, ticket_id):
    escalated, picked_up, business, *_ = HANDOFFS[ticket_id]
    wall, found = con.execute(
        "select pickup_minutes, business_pickup_minutes from analytics.fct_escalations "
        "where ticket_id = ?",
        [ticket_id],
    ).fetchone()
    assert wall == pytest.approx((picked_up - escalated).total_seconds() / 60)
    assert found == pytest.approx(business, abs=1e-6)


def test_the_first_matching_rule_picks_the_calendar(con):
    found = dict(
        con.execute("select ticket_id, calendar from analytics.int_ticket_calendars").fetchall()
    )
    assert found["weekend"] == "std"  # partner acme
    assert found["p1_always"] == "always"  # P1 comes first, although acme matches too
    assert found["split"] == "split"  # the client rule comes before the partner rule
    assert found["no_rule"] is None and found["paused"] is None


def test_a_wait_pauses_the_business_minutes_at_a_tier(con):
    row = con.execute(
        "select minutes_at_l1, minutes_at_l2, business_minutes_at_l1, business_minutes_at_l2 "
        "from analytics.fct_tickets where ticket_id = 'paused'"
    ).fetchone()
    assert row == (10, 90, 10, 30)


def test_durations_of_a_ticket_in_business_minutes(con):
    """'weekend': opened 5 min before the escalation (Fri 16:45), resolved Mon 08:15:
    to escalate 5 business minutes, to resolve 5 + 10 (Fri) + 15 (Mon 08:00-08:15)."""
    row = con.execute(
        "select business_minutes_to_escalate, business_minutes_to_resolve, minutes_to_resolve "
        "from analytics.fct_tickets where ticket_id = 'weekend'"
    ).fetchone()
    assert row[0] == pytest.approx(5) and row[1] == pytest.approx(30)
    assert row[2] == pytest.approx(5 + 3795 + 10)


def test_the_pickup_target_reads_the_clock_the_config_names(tmp_path):
    """'weekend' as a P2 (target 30 min): picked up in 15 business minutes but 3,795
    wall minutes; within target on the business clock (the default), not on the wall."""
    ticket = handoff_ticket("weekend")
    ticket.priority = "P2"
    results = {}
    for clock in ("business", "wall"):
        config = CONFIG.model_copy(
            update={"clocks": CONFIG.clocks.model_copy(update={"pickup_target": clock})}
        )
        c = build(tmp_path / f"{clock}.duckdb", [ticket], config)
        results[clock] = c.execute(
            "select is_picked_up_within_target from analytics.fct_escalations"
        ).fetchone()[0]
        c.close()
    assert results == {"business": True, "wall": False}


def test_a_calendar_rule_that_matches_no_ticket_is_named_at_build(tmp_path):
    import io

    from rich.console import Console

    from pipelines.models.runner import run_build
    from tests.models.timelines import load

    config = CONFIG.model_copy(
        update={
            "calendar_map": [
                *CONFIG.calendar_map,
                CONFIG.calendar_map[-1].model_copy(update={"partner": "Acme Ltd"}),
            ]
        }
    )
    db = tmp_path / "w.duckdb"
    load(db, [handoff_ticket("weekend")])
    out = io.StringIO()
    run_build(db, config, console=Console(file=out, width=300))
    lines = [line for line in out.getvalue().splitlines() if "calendar_map" in line]
    # the P1, c-sun, c-split, c-night and c-change rules match no ticket here either
    assert lines[-1] == (
        "warning: calendar_map.6 (partner 'Acme Ltd' -> std) matches no ticket: check the "
        "names against the export (they are compared exactly)"
    )
    assert len(lines) == 6
