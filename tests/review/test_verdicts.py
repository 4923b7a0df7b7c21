"""Verdicts: supersession, export/import round trip, and nothing lost while the
database is busy."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.models.runner import run_build
from pipelines.review import verdicts
from pipelines.review.sampling import create_sample
from pipelines.review.store import sample_items
from tests.models.timelines import Ev, Ticket, build


def _db(tmp_path):
    tickets = [
        Ticket(
            "T1",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "SD-L1", "L1", "In Progress", "ann"),
                Ev(10, "Apps-L2", "L2", "Assigned"),
                Ev(40, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(100, "Apps-L2", "L2", "Resolved", "bob"),
            ],
        ),
        Ticket(
            "T2",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(5, "Apps-L2", "L2", "Assigned"),
                Ev(9, "Apps-L2", "L2", "In Progress", "bob"),
                Ev(12, "Apps-L2", "L2", "Resolved", "bob"),
            ],
        ),
    ]
    db = tmp_path / "v.duckdb"
    build(db, tickets).close()
    return db


def _v(escalation, decision, hour, **kw):
    return verdicts.Verdict(
        escalation_id=escalation,
        ticket_id=escalation.split("#")[0],
        reviewer="maria",
        reviewed_at=datetime(2024, 3, 11, hour, tzinfo=UTC),
        should_escalate=decision,
        **kw,
    )


def test_later_verdict_supersedes_and_history_is_kept(tmp_path):
    db = _db(tmp_path)
    sample = create_sample(db, None, n=5, seed=1)
    assert set(sample.items["escalation_id"]) == {"T1#3", "T2#2"}
    assert (
        verdicts.record(db, _v("T1#3", "no", 9, timing="too early", l1_need="kb article"))
        == "stored"
    )
    assert verdicts.record(db, _v("T1#3", "yes", 10)) == "stored"
    assert verdicts.record(db, _v("T2#2", "no", 9)) == "stored"
    run_build(db, Config())
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from meta.review_verdicts").fetchall() == [(3,)]
    items = sample_items(con, sample.sample_id)
    latest = dict(zip(items["escalation_id"], items["should_escalate"], strict=True))
    assert latest == {"T1#3": "yes", "T2#2": "no"}
    assert con.execute(
        "select ticket_id from analytics.fct_tickets where is_unnecessary order by 1"
    ).fetchall() == [("T2",)]


def test_export_import_round_trip(tmp_path):
    db = _db(tmp_path)
    for v in (_v("T1#3", "no", 9, l1_need_text="needs the VPN runbook"), _v("T2#2", "unsure", 10)):
        verdicts.record(db, v)
    out = tmp_path / "verdicts.jsonl"
    assert verdicts.export(db, out) == 2
    other = tmp_path / "other"
    other.mkdir()
    db2 = _db(other)
    assert verdicts.import_file(db2, out) == (2, 2)
    assert verdicts.import_file(db2, out) == (2, 0)  # idempotent
    def rows(path):
        con = duckdb.connect(str(path), read_only=True)
        return con.execute(
            "select * exclude (reviewed_at), epoch(reviewed_at) "
            "from meta.review_verdicts order by 1"
        ).fetchall()

    assert rows(db) == rows(db2)


def test_bad_import_line_names_file_and_line(tmp_path):
    db = _db(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_v("T1#3", "no", 9).model_dump_json() + "\n" + '{"escalation_id": "x"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2: not a verdict"):
        verdicts.import_file(db, bad)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from meta.review_verdicts").fetchall() == [(0,)]


def test_verdict_waits_in_the_journal_while_another_process_writes(tmp_path):
    db = _db(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('locked', flush=True); "
            "time.sleep(4)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    assert verdicts.record(db, _v("T1#3", "no", 9), wait_seconds=0.5) == "queued"
    assert time.monotonic() - started < 3
    holder.wait(timeout=10)
    assert verdicts.journal_path(db).read_text().count("T1#3") == 1
    run_build(db, Config())  # every build applies the journal first
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute(
        "select escalation_id, should_escalate from meta.review_verdicts"
    ).fetchall() == [("T1#3", "no")]
