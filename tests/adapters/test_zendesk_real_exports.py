"""zendesk: issue 12 reproductions, on small hand-written exports in Zendesk's shape
(records without the Unix `timestamp`, as a field-sorted or re-paged export has them)."""

from __future__ import annotations

import pytest

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from tests.adapters.exports import write_json
from tests.adapters.helpers import rows


def update(uid: int, ticket: int, at: str, *child: dict) -> dict:
    return {"id": uid, "ticket_id": ticket, "created_at": f"2024-03-04T{at}:00Z",
            "event_type": "Audit", "child_events": list(child)}


def status(new: str, old: str | None = None) -> dict:
    return {"event_type": "Change" if old else "Create", "status": new,
            **({"previous_value": old} if old else {})}


COMMENT = {"event_type": "Comment", "body": "any news?", "public": True}
ASSIGN = {"event_type": "Change", "assignee_id": 8001, "previous_value": None}
# ticket 7: new 09:00, open 09:15, comment 10:00, solved 11:00, comment 12:00
UPDATES = [
    update(1, 7, "09:00", status("new"), {"event_type": "Create", "group_id": 360001}),
    update(2, 7, "09:15", status("open", "new")),
    update(3, 7, "10:00", COMMENT),
    update(4, 7, "11:00", status("solved", "open")),
    update(5, 7, "12:00", COMMENT),
]
BY_TIME = [(1, "new"), (2, "open"), (3, "open"), (4, "solved"), (5, "solved")]


def ticket(status_now: str, updated: str = "2024-03-04T12:00:00Z") -> dict:
    return {"tickets": [{"id": 7, "created_at": "2024-03-04T09:00:00Z", "updated_at": updated,
                         "status": status_now, "subject": "VPN", "priority": "normal"}]}


def statuses(db) -> list[tuple]:
    return rows(db, "select seq, status from raw.events where ticket_id = '7' order by seq")


def test_a_field_sorted_export_is_read_in_time_order(db, tmp_path):
    # newest first, as an export sorted by another field gives them: the old reading
    # carried 'solved' back to 10:00 and 'open' forward to 12:00 (a close and reopen)
    page = write_json(tmp_path / "events.json", {"ticket_events": UPDATES[::-1]})
    tickets = write_json(tmp_path / "tickets.json", ticket("solved"))
    run_ingest([page, tickets], db, fmt="zendesk")
    assert statuses(db) == BY_TIME
    run_build(db, Config())
    assert rows(db, "select state, n_reopens from analytics.fct_tickets") == [("resolved", 0)]


@pytest.mark.parametrize("two_runs", [False, True])
def test_a_comment_on_the_next_page_takes_the_status_of_the_earlier_one(db, tmp_path,
                                                                        two_runs):
    first = write_json(tmp_path / "page1.json", {"ticket_events": UPDATES[:2]})
    second = write_json(tmp_path / "page2.json",
                        {"ticket_events": [update(3, 7, "10:00", COMMENT, ASSIGN)]})
    if two_runs:
        run_ingest([first], db, fmt="zendesk")
        result = run_ingest([second], db, fmt="zendesk")
    else:
        result = run_ingest([second, first], db, fmt="zendesk")  # later page read first
    assert result.rows_rejected == 0
    assert statuses(db) == [(1, "new"), (2, "open"), (3, "open")]


def test_without_earlier_updates_the_status_comes_from_tickets_json(db, tmp_path):
    page = write_json(tmp_path / "page2.json",
                      {"ticket_events": [update(3, 7, "10:00", COMMENT)]})
    alone = run_ingest([page], db, fmt="zendesk")
    assert alone.rows_rejected == 1  # accounted for, with the way out in its reason
    assert rows(db, "select line, reason from meta.rejects") == [(1, (
        "status unknown: this update of ticket 7 changes no status, and no earlier update "
        "nor a later change nor tickets.json says it (add the earlier pages or the tickets "
        "export to the run)"))]
    db2 = tmp_path / "with_tickets.duckdb"
    tickets = write_json(tmp_path / "tickets.json", ticket("pending", "2024-03-04T10:00:00Z"))
    run_ingest([page, tickets], db2, fmt="zendesk")
    assert statuses(db2) == [(3, "pending")]


def test_a_deleted_ticket_is_cancelled_and_in_no_rate(db, tmp_path):
    page = write_json(tmp_path / "events.json", {"ticket_events": UPDATES[:3]})
    tickets = write_json(tmp_path / "tickets.json", ticket("deleted", "2024-03-04T10:30:00Z"))
    result = run_ingest([page, tickets], db, fmt="zendesk")
    assert result.rows_rejected == 0
    assert statuses(db)[-1] == (9223372036854775807, "deleted")
    run_build(db, Config())
    assert rows(db, "select state from analytics.fct_tickets") == [("cancelled",)]


def test_fivetran_on_hold_is_a_wait():
    assert Config().status_map["on-hold"] == "wait"
    assert Config().status_map["deleted"] == "cancelled"


def test_groups_in_a_later_run_name_the_stored_events_without_duplicates(db, tmp_path):
    page = write_json(tmp_path / "events.json", {"ticket_events": UPDATES})
    again = write_json(tmp_path / "events_again.json", {"ticket_events": UPDATES[2:]})
    groups = write_json(tmp_path / "groups.json",
                        {"groups": [{"id": 360001, "name": "Service Desk"}]})
    run_ingest([page], db, fmt="zendesk")
    assert rows(db, "select group_name from raw.events where seq = 1") == [("360001",)]
    run_ingest([groups, again], db, fmt="zendesk")  # overlapping page, then the names
    assert rows(db, "select count(*), count(*) filter (group_name = 'Service Desk'), "
                    "count(*) filter (group_name = '360001') from raw.events") == [(5, 1, 0)]
    # a rename in Zendesk renames the stored events too
    renamed = write_json(tmp_path / "groups2.json",
                         {"groups": [{"id": 360001, "name": "L1 Desk"}]})
    run_ingest([renamed], db, fmt="zendesk")
    assert rows(db, "select group_name from raw.events where seq = 1") == [("L1 Desk",)]
