"""servicenow-incident: dates the incident's state contradicts are not events.

A plain incident list exported from a real instance carries `closed_at` on incidents
that were closed, then reopened and are active again (8 of 67 in one export): the
state says In Progress, the date says closed. Such a date is rejected with its reason
(the incident itself is loaded) instead of becoming a Closed event and then a reopen.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from tests.adapters.helpers import rows
from tests.cli_run import tierlens

# The list as ServiceNow writes it (List v2 > Export > CSV, field names as headers,
# every value quoted, numeric states when exported as values).
COLUMNS = ("number", "incident_state", "active", "assignment_group", "assigned_to",
           "opened_at", "resolved_at", "closed_at", "sys_updated_on", "reassignment_count",
           "reopen_count")
ROWS = (
    ("INC0020001", "2", "true", "Network L2", "Beth Anglin", "2022-09-20 08:00:00",
     "2022-09-30 10:00:00", "2022-10-01 10:00:00", "2023-01-10 09:00:00", "1", "1"),
    ("INC0020002", "6", "false", "Service Desk", "David Loo", "2022-10-10 09:00:00",
     "2022-11-02 12:00:00", "2022-10-15 16:00:00", "2022-11-02 12:00:00", "0", "1"),
    ("INC0020003", "7", "false", "Service Desk", "Fred Luddy", "2022-10-11 09:00:00",
     "2022-10-11 09:30:00", "2022-10-14 09:30:00", "2022-10-14 09:30:00", "0", "0"),
    ("INC0020004", "2", "true", "Network L2", "", "2022-12-01 08:00:00",
     "", "", "2022-12-05 10:00:00", "2", "0"),
)
INCIDENTS = "".join(",".join(f'"{v}"' for v in row) + "\n" for row in (COLUMNS, *ROWS))


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "incident.csv"
    path.write_text(INCIDENTS, encoding="utf-8")
    return path


def test_contradicted_dates_are_rejected_with_a_reason_not_made_events(tmp_path, db):
    result = run_ingest([_export(tmp_path)], db, Config(), fmt="servicenow-incident")
    by_kind = {f.kind: f for f in result.files}
    assert by_kind["tickets"].rows_loaded == 4
    # events read: 0001 New, Resolved, Closed, In Progress; 0002 New, Resolved, Closed;
    # 0003 New, Resolved, Closed; 0004 New, In Progress = 12. Rejected: 0001's resolved_at
    # and closed_at (it is In Progress) and 0002's closed_at (it is Resolved, not closed).
    assert (by_kind["events"].rows_read, by_kind["events"].rows_loaded,
            by_kind["events"].rows_rejected) == (12, 9, 3)
    assert rows(db, "select ticket_id, status, strftime(event_at, '%Y-%m-%d') from raw.events "
                    "order by ticket_id, event_at") == [
        ("INC0020001", "New", "2022-09-20"), ("INC0020001", "In Progress", "2023-01-10"),
        ("INC0020002", "New", "2022-10-10"), ("INC0020002", "Resolved", "2022-11-02"),
        ("INC0020003", "New", "2022-10-11"), ("INC0020003", "Resolved", "2022-10-11"),
        ("INC0020003", "Closed", "2022-10-14"),
        ("INC0020004", "New", "2022-12-01"), ("INC0020004", "In Progress", "2022-12-05"),
    ]
    assert rows(db, "select line, reason from meta.rejects order by line, reason") == [
        (2, "closed_at '2022-10-01 10:00:00' contradicts the incident state 'In Progress': "
            "not made a Closed event (a date left from before a reopen); the incident is "
            "loaded as it stands. Fix: nothing to do, or export closed_at empty for "
            "incidents not closed"),
        (2, "resolved_at '2022-09-30 10:00:00' contradicts the incident state 'In Progress': "
            "not made a Resolved event (a date left from before a reopen); the incident is "
            "loaded as it stands. Fix: nothing to do, or export resolved_at empty for "
            "incidents not resolved"),
        (3, "closed_at '2022-10-15 16:00:00' contradicts the incident state 'Resolved': "
            "not made a Closed event (a date left from before a reopen); the incident is "
            "loaded as it stands. Fix: nothing to do, or export closed_at empty for "
            "incidents not closed"),
    ]
    run_build(db, Config())
    assert rows(db, "select ticket_id, state, n_reopens from analytics.fct_tickets "
                    "order by 1") == [
        ("INC0020001", "open", 0), ("INC0020002", "resolved", 0),
        ("INC0020003", "resolved", 0), ("INC0020004", "open", 0),
    ]


def test_the_ingest_output_counts_the_ignored_dates(tmp_path):
    run = tierlens("ingest", "--format", "servicenow-incident", "--db", tmp_path / "t.duckdb",
                   _export(tmp_path), cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert "Traceback" not in run.text
    assert "rejected rows: 3" in run.text
    # grouped by reason with the quoted values blanked, with the first example's line
    assert "2  closed_at '…' contradicts the incident state '…'" in run.text
    assert "incident.csv line 2" in run.text
