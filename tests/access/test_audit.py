"""The access log: journal first, stored when the database is free, each event
once, never rewritten."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.access import audit
from pipelines.config import Config
from pipelines.db import connect
from pipelines.models.runner import run_build
from tests.dashboard.conftest import build_sample


def _stored(db: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select event_id, event, identity, scope, detail from meta.access_log order by all"
        ).fetchall()
    finally:
        con.close()


def test_an_event_waits_in_the_journal_while_a_build_holds_the_database(tmp_path: Path):
    db = build_sample(tmp_path, 120, 3)
    first = audit.AccessEvent(event="signed_in", identity="a@x.example", scope="admin")
    assert audit.record(db, first) == "stored"
    holder = subprocess.Popen(  # another process (an ingest, a build) holds the file
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('locked', flush=True); "
            "time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        second = audit.AccessEvent(
            event="denied", identity="m@y.example", detail="no Tierlens scope is granted"
        )
        assert audit.record(db, second, wait_seconds=0.2) == "queued"
    finally:
        holder.wait(timeout=15)
    assert [r[0] for r in _stored(db)] == [first.event_id]
    journal = audit.read_journal(audit.journal_path(db))
    assert journal["event_id"].to_list() == [first.event_id, second.event_id]
    run_build(db, Config())  # stores the waiting event, and only that one
    run_build(db, Config())
    stored = _stored(db)
    assert sorted(r[0] for r in stored) == sorted([first.event_id, second.event_id])
    assert (second.event_id, "denied", "m@y.example", None, "no Tierlens scope is granted") in (
        stored
    )


def test_a_torn_line_in_the_journal_loses_no_other_event(tmp_path: Path):
    path = tmp_path / "x.duckdb.access.jsonl"
    good = audit.AccessEvent(event="report", identity="ops (command line)", scope="partner:A")
    path.write_text('{"event_id": "abc", "occ\n' + good.model_dump_json() + "\n")
    assert audit.read_journal(path)["event_id"].to_list() == [good.event_id]


def test_the_merged_log_is_newest_first_each_event_once(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    events = [audit.AccessEvent(event="signed_in", identity=f"p{i}@x.example") for i in range(3)]
    con = connect(db)
    try:
        audit.insert(con, audit.read_journal(audit.journal_path(db)))  # nothing yet
        for event in events:
            audit.record(db, event) if event is not events[1] else None
        stored = audit.stored(con)
    finally:
        con.close()
    merged = audit.merged(stored, db)
    assert merged["identity"].to_list() == ["p2@x.example", "p0@x.example"]
