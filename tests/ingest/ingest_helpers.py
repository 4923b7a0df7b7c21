"""Helpers for the ingest tests: write small files and query the DB as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

TICKETS_HEADER = (
    "ticket_id,partner,client,opened_at,priority,category,subcategory,channel,"
    "resolution_code,kb_article_id,sla_due_at,sla_met,reported_reassignment_count,"
    "reported_reopen_count,first_contact_resolved"
)
EVENTS_HEADER = "ticket_id,event_at,seq,group,tier,agent,status,note_kind,note_text"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql`, every value as text (timestamps in UTC), to compare with literals."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        rel = con.sql(sql)
        cols = ", ".join(f'"{c}"::varchar' for c in rel.columns)
        return con.sql(f"select {cols} from ({sql})").fetchall()
    finally:
        con.close()


def count(db: Path, table: str) -> int:
    return int(query(db, f"select count(*) from {table}")[0][0])
