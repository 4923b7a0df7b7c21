"""A status the status map does not know does not break the chain of known ones.

`Resolved` -> `Reopened by caller` (unknown) -> `In Progress` is a reopen: the unknown
status is reported (reconcile's unknown statuses) and skipped when reading the chain.
The export is hand-written in the canonical events shape and goes through the real
ingest and build; the expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build
from pipelines.reconcile import unknown_statuses
from tests.adapters.helpers import rows

EVENTS = """\
ticket_id,event_at,seq,group,tier,agent,status
R1,2024-03-04 09:00,1,Service Desk,L1,ann,New
R1,2024-03-04 09:05,2,Service Desk,L1,ann,In Progress
R1,2024-03-04 10:00,3,Service Desk,L1,ann,Resolved
R1,2024-03-04 11:00,4,Service Desk,L1,,Reopened by caller
R1,2024-03-04 11:05,5,Service Desk,L1,ann,In Progress
R1,2024-03-04 12:00,6,Service Desk,L1,ann,Resolved
R1,2024-03-04 13:00,7,Service Desk,L1,,Closed
R2,2024-03-04 09:00,1,Service Desk,L1,bob,New
R2,2024-03-04 10:00,2,Service Desk,L1,bob,Resolved
R2,2024-03-04 10:30,3,Service Desk,L1,,Closure review by QA
R2,2024-03-04 11:00,4,Service Desk,L1,,Closed
R3,2024-03-04 09:00,1,Service Desk,L1,cat,New
R3,2024-03-04 09:30,2,Service Desk,L1,cat,Resolved
R3,2024-03-04 09:45,3,Service Desk,L1,,Closed by system
"""


def test_an_unknown_status_neither_hides_a_reopen_nor_ends_a_resolution(tmp_path: Path):
    export = tmp_path / "events.csv"
    export.write_text(EVENTS, encoding="utf-8")
    db = tmp_path / "s.duckdb"
    run_ingest([export], db, Config(), fmt="canonical", kind="events")
    run_build(db, Config())
    # R1: Resolved 10:00 -> (unknown) -> In Progress 11:05: one reopen; finally resolved at
    #     12:00 (the Resolved after the last open status).
    # R2: Resolved 10:00 -> (unknown) -> Closed: no reopen; the unknown status does not
    #     interrupt the resolution, which stays 10:00.
    # R3: Resolved 09:30 -> (unknown, last): the last known status is Resolved: resolved.
    assert rows(db, "select ticket_id, state, n_reopens, strftime(resolved_at, '%H:%M') "
                    "from analytics.fct_tickets order by 1") == [
        ("R1", "resolved", 1, "12:00"), ("R2", "resolved", 0, "10:00"),
        ("R3", "resolved", 0, "09:30"),
    ]
    # the reopen is on R1's In Progress at 11:05 (event 5), after the unknown one
    assert rows(db, "select ticket_id, event_index, status from analytics.int_ticket_events "
                    "where is_reopen") == [("R1", 5, "In Progress")]
    # 1 reopened of 3 resolved tickets
    reopen = kpi_table(db, Config()).filter(metric="reopen_rate").row(0, named=True)
    assert (reopen["numerator"], reopen["denominator"]) == (1, 3)
    # the unknown statuses are still reported, with their number of events
    assert sorted(unknown_statuses(db).rows()) == [
        ("Closed by system", 1), ("Closure review by QA", 1), ("Reopened by caller", 1),
    ]
