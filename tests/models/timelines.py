"""Build a real DuckDB file from small hand-written timelines, for the model tests.

Rows go straight into raw.* (as the ingest would leave them), then the real
`tierlens build` runs on the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.config import Config
from pipelines.db import connect
from pipelines.models.runner import run_build

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday


def at(minutes: float) -> datetime:
    """The moment `minutes` after 09:00 UTC on Monday 4 March 2024."""
    return T0 + timedelta(minutes=minutes)


@dataclass
class Ev:
    """One event: minutes after T0, then the group/tier/agent/status after it."""

    minute: float
    group: str | None
    tier: str | None
    status: str
    agent: str | None = None
    note_kind: str | None = None
    note_text: str | None = None
    seq: int | None = None


@dataclass
class Ticket:
    ticket_id: str
    events: list[Ev]
    partner: str = "acme"
    category: str | None = "software"
    priority: str | None = "P3"
    client: str | None = "client-a"
    opened_minute: float | None = 0
    resolution_code: str | None = None
    kb_article_id: str | None = None
    sla_met: bool | None = None
    first_contact_resolved: bool | None = None
    extra: dict = field(default_factory=dict)


def load(
    db: Path, tickets: list[Ticket], *, source: str = "handmade", shuffle: bool = False
) -> None:
    con = connect(db)
    con.execute(
        "insert into meta.batches values "
        "(1, ?, 'events', 'handmade.csv', 'x', now(), now(), 0, 0, 0, 0)",
        [source],
    )
    line = 1
    rows = []
    for t in tickets:
        for i, e in enumerate(t.events):
            line += 1
            rows.append(
                (
                    t.ticket_id,
                    at(e.minute),
                    e.seq if e.seq is not None else i,
                    e.group,
                    e.tier,
                    e.agent,
                    e.status,
                    e.note_kind,
                    e.note_text,
                    1,
                    "handmade.csv",
                    line,
                )
            )
    if shuffle:
        rows = rows[::-1]
    con.executemany("insert into raw.events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.executemany(
        "insert into raw.tickets values (?, ?, ?, ?, ?, ?, null, 'phone', ?, ?, null, ?, "
        "null, null, ?, 1, 'handmade.csv', 1, null)",
        [
            (
                t.ticket_id,
                t.partner,
                t.client,
                at(t.opened_minute) if t.opened_minute is not None else None,
                t.priority,
                t.category,
                t.resolution_code,
                t.kb_article_id,
                t.sla_met,
                t.first_contact_resolved,
            )
            for t in tickets
        ],
    )
    con.close()


def build(
    db: Path, tickets: list[Ticket], config: Config | None = None, **kw
) -> duckdb.DuckDBPyConnection:
    load(db, tickets, **kw)
    run_build(db, config or Config())
    return duckdb.connect(str(db), read_only=True)


def kpi(
    con: duckdb.DuckDBPyConnection, metric: str, dimension: str = "overall", value: str = "all"
):
    """(numerator, denominator, value) of a metric over all weeks, from the facts."""
    row = con.execute(
        """
        select sum(f.numerator), sum(f.denominator),
               kpi_value(m.stat, f.numerator, f.denominator, f.measure, m.is_base)
        from analytics.kpi_facts f join config.metric_facts m on m.fact = f.fact
        where m.metric = ?
        group by m.stat
        """,
        [metric],
    ).fetchone()
    return row
