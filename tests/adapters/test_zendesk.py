"""zendesk: incremental ticket events, tickets and groups exports (JSON)."""

from __future__ import annotations

import json

import pytest

from pipelines.config import Config, TierRule
from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from tests.adapters.helpers import FIXTURES, rows

EVENTS = FIXTURES / "zendesk_ticket_events.json"
TICKETS = FIXTURES / "zendesk_tickets.json"
GROUPS = FIXTURES / "zendesk_groups.json"
TIERS = Config(
    tier_map=[TierRule(group="Service Desk", tier="L1"), TierRule(group="Network L2", tier="L2")],
    status_map={"hold": "wait"},
)


@pytest.mark.parametrize("order", [(EVENTS, GROUPS, TICKETS), (GROUPS, TICKETS, EVENTS)])
def test_ticket_events_become_events_with_group_names(db, order):
    result = run_ingest(list(order), db, TIERS, fmt="zendesk")
    # the groups file is a lookup: listed, no rows of its own
    assert [f.skipped for f in result.files if f.file == str(GROUPS)] == [
        "no rows to load (a lookup such as Zendesk groups, or an empty page)"
    ]
    assert sorted((f.kind, f.rows_read, f.rows_loaded) for f in result.files if f.kind) == [
        ("events", 12, 12), ("tickets", 3, 3),
    ]
    assert rows(db, "select seq, group_name, agent, status, note_kind from raw.events "
                    "where ticket_id = '101' order by seq") == [
        (5001, "Service Desk", None, "new", "public"),
        (5002, None, "8001", "open", None),
        (5003, "Network L2", None, "open", "internal"),  # private comment, status carried
        (5004, None, "8002", "open", None),
        (5005, None, None, "solved", "public"),
        (5006, None, None, "closed", None),
    ]
    # the audit shape (field_name/value) and a window starting mid-life (previous value)
    assert rows(db, "select ticket_id, status from raw.events where ticket_id in ('102', '103') "
                    "order by ticket_id, seq") == [
        ("102", "new"), ("102", "pending"), ("102", "open"), ("102", "solved"),
        ("103", "open"), ("103", "solved"),
    ]
    assert rows(db, "select ticket_id, priority, category, channel, client from raw.tickets "
                    "order by 1") == [
        ("101", "P2", "incident", "web", "9001"), ("102", "P1", "question", "email", "9002"),
        ("103", None, None, "api", None),
    ]


def test_zendesk_timeline_feeds_the_models(db):
    run_ingest([EVENTS, GROUPS, TICKETS], db, TIERS, fmt="zendesk")
    run_build(db, TIERS)
    assert rows(db, "select ticket_id, entry_tier, resolving_tier, n_handoffs from "
                    "analytics.fct_tickets order by 1") == [
        ("101", "L1", "L2", 1), ("102", "L1", "L1", 0), ("103", None, None, 0),
    ]


def test_without_groups_the_ids_stay_and_json_lines_work(db, tmp_path):
    page = json.loads(EVENTS.read_text())
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in page["ticket_events"]) + "\n")
    run_ingest([lines], db, fmt="zendesk")
    assert rows(db, "select distinct group_name from raw.events where group_name is not null "
                    "order by 1") == [("360001",), ("360002",)]


def test_not_a_zendesk_file(db, tmp_path):
    bad = tmp_path / "other.json"
    bad.write_text('{"users": [{"id": 1}]}')
    with pytest.raises(InputError, match=r"other\.json: not a Zendesk export"):
        run_ingest([bad], db, fmt="zendesk")
