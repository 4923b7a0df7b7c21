"""Small exports in the sources' real shapes, written for the adapter tests, and the
comparison of two databases (their raw rows and their KPIs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.kpis import kpi_table
from pipelines.models.runner import run_build

START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
GROUP_IDS = {"360001": "Service Desk", "360002": "Network L2"}


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ZendeskTicket:
    """One ticket's updates, as the Incremental Ticket Event export gives them."""

    ticket_id: int
    records: list[dict] = field(default_factory=list)
    states: list[tuple[datetime, str]] = field(default_factory=list)  # status after each


def zendesk_ticket(ticket_id: int, steps: list[str], mid_life: bool, offset_min: int,
                   next_id: list[int]) -> ZendeskTicket:
    """Updates of one ticket: a Create (new, Service Desk) unless the window starts
    mid-life (status open before it), then one update per step: a status
    ('open', 'pending', 'solved', ...), 'group' (to the other group), 'comment',
    'private' (an internal comment) or 'assign'."""
    t = ZendeskTicket(ticket_id)
    status, group = ("open", "360001") if mid_life else (None, "360001")
    at = START + timedelta(minutes=offset_min)
    if not mid_life:
        steps = ["create", *steps]
    for step in steps:
        child: list[dict] = []
        if step == "create":
            status = "new"
            child = [{"event_type": "Create", "status": "new"},
                     {"event_type": "Create", "group_id": int(group)}]
        elif step == "group":
            old, group = group, ("360002" if group == "360001" else "360001")
            child = [{"event_type": "Change", "group_id": int(group), "previous_value": int(old)}]
        elif step in ("comment", "private"):
            child = [{"event_type": "Comment", "body": f"note {next_id[0]}",
                      "public": step == "comment"}]
        elif step == "assign":
            child = [{"event_type": "Change", "assignee_id": 8000 + next_id[0] % 3,
                      "previous_value": None}]
        else:
            child = [{"event_type": "Change", "status": step, "previous_value": status}]
            status = step
        t.records.append({
            "id": next_id[0], "ticket_id": ticket_id, "created_at": iso(at),
            "updater_id": 7001, "via": "Web form", "event_type": "Audit",
            "child_events": child,
        })
        t.states.append((at, status))
        next_id[0] += 1
        at += timedelta(minutes=17)
    return t


def zendesk_tickets_page(tickets: list[ZendeskTicket], upto: set[int]) -> dict:
    """tickets.json as exported right after the updates whose ids are in `upto`: each
    ticket updated by one of them, with its status and updated_at then."""
    out = []
    for t in tickets:
        seen = [(r, s) for r, s in zip(t.records, t.states, strict=True) if r["id"] in upto]
        if not seen:
            continue
        (at, status) = seen[-1][1]
        out.append({
            "id": t.ticket_id, "created_at": iso(START - timedelta(days=1)),
            "updated_at": iso(at), "type": "incident", "subject": "s", "priority": "normal",
            "status": status, "requester_id": 7001, "organization_id": 9001,
            "via": {"channel": "web"}, "due_at": None,
        })
    return {"tickets": out, "end_of_stream": True}


def zendesk_groups_page() -> dict:
    return {"groups": [{"id": int(k), "name": v, "deleted": False}
                       for k, v in GROUP_IDS.items()]}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def ingest_runs(db: Path, runs: list[list[Path]], fmt: str, config: Config | None = None,
                ) -> None:
    for files in runs:
        run_ingest(files, db, config or Config(), fmt=fmt)


EVENT_DATA = "ticket_id, event_at, seq, group_name, tier, agent, status, note_kind, note_text"
TICKET_DATA = ("ticket_id, partner, client, opened_at, priority, category, channel, "
               "sla_due_at, updated_at")


def raw_rows(db: Path, seq: bool = True) -> tuple[list[tuple], list[tuple], int]:
    """The data of raw.events and raw.tickets (no lineage), sorted, and the rejects.
    seq=False for a source without one (seq is then the line number in its file)."""
    cols = EVENT_DATA if seq else EVENT_DATA.replace(" seq,", "")
    con = duckdb.connect(str(db), read_only=True)
    try:
        events = con.execute(f"select {cols} from raw.events order by all").fetchall()
        tickets = con.execute(f"select {TICKET_DATA} from raw.tickets order by all").fetchall()
        rejects = con.execute("select count(*) from meta.rejects").fetchone()
    finally:
        con.close()
    return events, tickets, int(rejects[0]) if rejects else 0


def kpis(db: Path, config: Config | None = None) -> list[dict]:
    config = config or Config()
    run_build(db, config)
    frame = kpi_table(db, config, by="partner")
    return frame.sort(["partner", "metric"]).to_dicts()


VOLVO_HEADER = ("\ufeffSR Number,Change Date+Time,Status,Sub Status,Involved ST,ST Level,"
                "Resource,Involved Org line 3,SR Latest Impact,Product,Country")
VOLVO_PATHS = {
    # (status, sub status, group, tier) steps of a case
    "l1": [("Accepted", "In Progress", "V30", "L1"), ("Completed", "Resolved", "V30", "L1")],
    "escalated": [("Queued", "Awaiting Assignment", "V30", "L1"),
                  ("Accepted", "In Progress", "V30", "L1"),
                  ("Queued", "Awaiting Assignment", "G97", "L2"),
                  ("Accepted", "Wait - User", "G97", "L2"),
                  ("Completed", "Resolved", "G97", "L2")],
    "bounced": [("Accepted", "In Progress", "V30", "L1"), ("Accepted", "Assigned", "G97", "L2"),
                ("Accepted", "In Progress", "V30", "L1"), ("Completed", "Closed", "V30", "L1")],
}


def volvo_rows(cases: list[tuple[str, int, str]]) -> list[tuple[datetime, str]]:
    """Rows of a BPIC 2013-shaped log: per case (path, start minute, org at the start);
    the org line, impact and product change during the case, as they do in the log."""
    out = []
    for n, (path, start, org) in enumerate(cases):
        at = START + timedelta(minutes=start)
        steps = VOLVO_PATHS[path]
        for i, (st, sub, group, tier) in enumerate(steps):
            late = i >= len(steps) // 2
            org_now = "Org line C" if late else org
            impact = "High" if late else "Medium"
            row = (f"1-{500 + n},{at.strftime('%Y-%m-%dT%H:%M:%S')}+01:00,{st},{sub},{group},"
                   f"{tier},res-{i % 2},{org_now},{impact},PROD{i},{'fr' if late else 'se'}")
            out.append((at, row))
            at += timedelta(minutes=11)
    return sorted(out)


def write_csv(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path
