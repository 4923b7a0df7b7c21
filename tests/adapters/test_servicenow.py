"""servicenow-audit and servicenow-incident on small hand-made exports."""

from __future__ import annotations

import pytest

from pipelines.config import Config, TierRule
from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.reconcile import reconcile
from tests.adapters.helpers import FIXTURES, rows

TIERS = Config(tier_map=[TierRule(group="Service Desk", tier="L1"),
                         TierRule(pattern="L2", tier="L2")])


def test_audit_snapshots_become_one_event_each_and_quirks_are_read(db):
    result = run_ingest([FIXTURES / "servicenow_audit.csv"], db, TIERS, fmt="servicenow-audit")
    by_kind = {f.kind: f for f in result.files}
    # 11 snapshot rows: 10 loaded, 1 rejected (day 32); tickets derived, one per incident
    assert (by_kind["events"].rows_read, by_kind["events"].rows_loaded) == (11, 10)
    assert by_kind["events"].rows_rejected == 1
    assert "unparseable timestamp '32-03-2016 15:00'" in by_kind["events"].reject_reasons[0].example
    assert by_kind["events"].date_order == "dmy"
    assert by_kind["tickets"].rows_loaded == 2
    # '?' group is "no value": the ticket stays with Service Desk until Network L2
    assert rows(db, "select seq, group_name, agent, status, strftime(event_at, '%d %H:%M') "
                    "from raw.events where ticket_id = 'INC0000001' and seq <= 2 order by seq") == [
        (0, "Service Desk", None, "New", "29 01:23"),
        (1, None, "Agent A", "Active", "29 08:05"),
        (2, "Network L2", "Agent B", "Active", "01 09:00"),
    ]
    assert rows(db, "select ticket_id, priority, channel, resolution_code, kb_article_id, "
                    "sla_met, reported_reassignment_count, reported_reopen_count, client "
                    "from raw.tickets order by 1") == [
        ("INC0000001", "P3", "Phone", "code 5", "knowledge", True, 1, 1, "Location 7"),
        ("INC0000002", "P1", "Phone", "code 6", None, False, 2, 0, "Location 8"),
    ]


def test_audit_handoffs_and_reopens_reconcile_with_the_source_counters(db):
    run_ingest([FIXTURES / "servicenow_audit.csv"], db, TIERS, fmt="servicenow-audit")
    run_build(db, TIERS)
    assert rows(db, "select ticket_id, n_handoffs, n_reopens, entry_tier from "
                    "analytics.fct_tickets order by 1") == [
        ("INC0000001", 1, 1, "L1"), ("INC0000002", 0, 0, "L1"),
    ]
    rec = reconcile(db)
    summary = {r["counter"]: r for r in rec.summary.iter_rows(named=True)}
    reassign = summary["reassignments"]
    assert (reassign["n_tickets"], reassign["n_agree_all"]) == (2, 1)
    assert (summary["reopens"]["n_tickets"], summary["reopens"]["n_agree_all"]) == (2, 2)
    assert rec.examples.rows() == [("reassignments", "INC0000002", 2, 0, 0)]


def test_audit_refuses_other_files_and_kind_tickets(db, tmp_path):
    with pytest.raises(InputError, match=r"servicenow_audit\.csv: a ServiceNow audit log holds"):
        run_ingest([FIXTURES / "servicenow_audit.csv"], db, kind="tickets",
                   fmt="servicenow-audit")
    with pytest.raises(InputError, match=r"missing column.*'sys_mod_count'"):
        run_ingest([FIXTURES / "servicenow_incidents.csv"], db, fmt="servicenow-audit")


def test_incident_list_alone_gives_coarse_events(db):
    run_ingest([FIXTURES / "servicenow_incidents.csv"], db, fmt="servicenow-incident")
    assert rows(db, "select ticket_id, status, group_name from raw.events "
                    "order by 1, event_at, seq") == [
        ("INC0010001", "New", None), ("INC0010001", "Resolved", "Network L2"),
        ("INC0010001", "Closed", "Network L2"),
        ("INC0010002", "New", None), ("INC0010002", "In Progress", "Service Desk"),
        ("INC0010003", "New", None), ("INC0010003", "Resolved", "Service Desk"),
    ]


def test_incident_list_with_metric_instances_gives_the_real_timeline(db):
    result = run_ingest(
        [FIXTURES / "servicenow_incidents.csv", FIXTURES / "servicenow_metric_instance.csv"],
        db, TIERS, fmt="servicenow-incident",
    )
    assert {(f.file.rsplit("/", 1)[-1], f.kind, f.rows_loaded) for f in result.files} == {
        ("servicenow_incidents.csv", "tickets", 3),
        ("servicenow_incidents.csv", "events", 4),  # INC0010002/3 keep their coarse events
        ("servicenow_metric_instance.csv", "events", 8),
    }
    assert rows(db, "select group_name, agent, status from raw.events "
                    "where ticket_id = 'INC0010001' order by event_at, seq, _line") == [
        (None, None, "New"), ("Service Desk", None, "New"), (None, "David Loo", "New"),
        (None, None, "In Progress"), ("Network L2", None, "In Progress"),
        (None, "Beth Anglin", "In Progress"), (None, None, "Resolved"), (None, None, "Closed"),
    ]
    run_build(db, TIERS)
    assert rows(db, "select n_handoffs, entry_tier, resolving_tier from analytics.fct_tickets "
                    "where ticket_id = 'INC0010001'") == [(1, "L1", "L2")]
