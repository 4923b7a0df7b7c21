"""The access log: who opened which scope, and when; append-only.

Every sign-in to the dashboard (or refusal) and every scoped report is first
appended to a journal beside the database (`<db>.access.jsonl`, flushed to disk),
then inserted into `meta.access_log` when the database is free. An ingest or a
build may hold the database: the event then waits in the journal, and every build
stores the journal's events that are not in the table yet. Nothing ever updates or
deletes a row of either; an event is identified by its id, so storing twice never
duplicates one. Admins read it on the dashboard's Access log page (the snapshot's
table and the journal, newest first) and with `tierlens access log`.
"""

from __future__ import annotations

import getpass
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.db import DatabaseBusy, connect, register_frame

Event = Literal["signed_in", "denied", "report"]
COLUMNS: tuple[str, ...] = (
    "event_id",
    "occurred_at",
    "event",
    "identity",
    "subject",
    "issuer",
    "scope",
    "detail",
)
SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "event": pl.String(),
    "identity": pl.String(),
    "subject": pl.String(),
    "issuer": pl.String(),
    "scope": pl.String(),
    "detail": pl.String(),
}


class AccessEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    event: Event
    identity: str = Field(min_length=1)
    subject: str | None = None
    issuer: str | None = None
    scope: str | None = None
    detail: str | None = None


def journal_path(db_path: Path | str) -> Path:
    return Path(f"{db_path}.access.jsonl")


def cli_identity() -> str:
    """Who ran a command: the operating-system user."""
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return f"uid {os.getuid()} (command line)"


def _append(path: Path, event: AccessEvent) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(event.model_dump_json() + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_journal(path: Path) -> pl.DataFrame:
    """The journal's events; a line that is not an event (a torn write) is skipped."""
    events = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                events.append(AccessEvent.model_validate_json(line).model_dump())
            except ValidationError:
                continue
    return (
        pl.DataFrame(events, schema=SCHEMA, orient="row") if events else pl.DataFrame(schema=SCHEMA)
    )


def insert(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Add the events not stored yet; returns how many were new."""
    if frame.is_empty():
        return 0
    register_frame(con, "_access_events", frame.select(COLUMNS))
    try:
        before: int = con.execute("select count(*) from meta.access_log").fetchall()[0][0]
        con.execute(
            f"insert into meta.access_log ({', '.join(COLUMNS)}) "
            f"select {', '.join(COLUMNS)} from _access_events "
            "where event_id not in (select event_id from meta.access_log) "
            "qualify row_number() over (partition by event_id) = 1"
        )
        after: int = con.execute("select count(*) from meta.access_log").fetchall()[0][0]
    finally:
        con.unregister("_access_events")
    return after - before


def apply_journal(con: duckdb.DuckDBPyConnection, db_path: Path | str) -> int:
    """Store the journal's events that are not in the database yet (every build)."""
    return insert(con, read_journal(journal_path(db_path)))


def record(db_path: Path | str, event: AccessEvent, *, wait_seconds: float = 1.0) -> str:
    """Journal the event, then store it: 'stored', or 'queued' if the database is busy."""
    _append(journal_path(db_path), event)
    try:
        con = connect(db_path, wait_seconds=wait_seconds)
    except DatabaseBusy:
        return "queued"
    try:
        insert(con, pl.DataFrame([event.model_dump()], schema=SCHEMA, orient="row"))
    finally:
        con.close()
    return "stored"


def merged(stored: pl.DataFrame, db_path: Path | str) -> pl.DataFrame:
    """The stored events and the journal's, each once, newest first."""
    journal = read_journal(journal_path(db_path))
    stored = stored.select(COLUMNS).cast(SCHEMA)  # type: ignore[arg-type]
    both = pl.concat([stored, journal])
    return both.unique("event_id", keep="first").sort("occurred_at", descending=True)


def stored(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """meta.access_log as a frame (a snapshot made before the log existed: empty)."""
    has = con.execute(
        "select count(*) from information_schema.tables where table_catalog = "
        "current_database() and table_schema = 'meta' and table_name = 'access_log'"
    ).fetchall()[0][0]
    if not has:
        return pl.DataFrame(schema=SCHEMA)
    frame: pl.DataFrame = con.sql(f"select {', '.join(COLUMNS)} from meta.access_log").pl()
    return frame
