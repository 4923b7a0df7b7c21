"""The run as a whole: atomicity, idempotence, overlap dedupe, lineage, accounting."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import EVENTS_HEADER, count, query

from pipelines.db import connect
from pipelines.errors import InputError
from pipelines.ingest import load
from pipelines.ingest.job import run_ingest

TABLES = ("raw.tickets", "raw.events", "meta.batches", "meta.rejects")


def _snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(query(db, f"select * from {t}"), key=str) for t in TABLES}


def _event(ticket: str, at: str, status: str, agent: str = "ann", note: str = "") -> str:
    return f"{ticket},{at},,SD,L1,{agent},{status},,{note}\n"


def test_file_error_in_second_file_rolls_back_everything(make, db: Path) -> None:
    first = make("tickets_1.csv", "ticket_id,client\nT0,Old\n")
    run_ingest([first], db_path=db)
    before = _snapshot(db)

    good = make("tickets_2.csv", "ticket_id,client\nT1,Acme\nT0,New\n")
    bad = make("events.csv", "ticket_id,event_at,status,status\nT1,2024-01-01,New,New\n")
    with pytest.raises(InputError, match="appears twice"):
        run_ingest([good, bad], db_path=db)
    assert _snapshot(db) == before
    assert query(db, "select client from raw.tickets") == [("Old",)]


def test_crash_mid_load_leaves_no_partial_rows(make, db: Path, monkeypatch) -> None:
    tickets = make("tickets.csv", "ticket_id,client\nT1,Acme\n")
    events = make("events.csv", EVENTS_HEADER + "\n" + _event("T1", "2024-01-01 10:00", "New")
                  + "T1,never,,SD,L1,ann,New,,\n")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    # The tickets batch is fully loaded, the events rows and rejects are inserted,
    # then recording the events batch crashes.
    real = load.record_batch
    calls = []

    def crash_on_second(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 2:
            boom()
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "record_batch", crash_on_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_ingest([tickets, events], db_path=db)
    assert len(calls) == 2
    assert not db.exists()  # a failed first ingest leaves no database behind

    connect(db).close()  # an existing (empty) database: rolled back to exactly that
    calls.clear()
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_ingest([tickets, events], db_path=db)
    assert len(calls) == 2
    for table in TABLES:
        assert count(db, table) == 0, table


def test_reingest_same_file_is_a_no_op(make, db: Path) -> None:
    path = make("events.csv", EVENTS_HEADER + "\n" + _event("T1", "2024-01-01 10:00", "New")
                + _event("T1", "2024-01-01 11:00", "Closed") + "T1,x,,SD,L1,ann,New,,\n")
    first = run_ingest([path], db_path=db)
    before = _snapshot(db)
    second = run_ingest([path], db_path=db)
    assert _snapshot(db) == before
    assert first.files[0].batch_id is not None
    assert second.files[0].already_loaded_batch == first.files[0].batch_id
    assert (second.rows_read, second.rows_loaded, second.rows_rejected) == (0, 0, 0)
    assert count(db, "raw.events") == 2
    assert count(db, "meta.rejects") == 1


def test_overlapping_exports_never_double_count(make, db: Path) -> None:
    t1 = make("tickets_jan.csv", "ticket_id,priority,category\nT1,high,network\nT2,low,email\n")
    t2 = make("tickets_feb.csv", "ticket_id,priority,category\n"
              "T2,medium,email\nT3,P1,vpn\nT3,P2,vpn-fixed\n")
    e1 = make("events_jan.csv", EVENTS_HEADER + "\n"
              + _event("T1", "2024-01-01 10:00", "New")
              + _event("T1", "2024-01-01 10:05", "In Progress", agent="")
              + _event("T2", "2024-01-02 09:00", "New"))
    e2 = make("events_feb.csv", EVENTS_HEADER + "\n"
              + _event("T1", "2024-01-01 10:05", "In Progress", agent="")  # null agent: same
              + _event("T2", "2024-01-02 09:00", "New")
              + _event("T2", "2024-01-02 09:30", "Closed", note="done")
              + _event("T2", "2024-01-02 09:30", "Closed", note="done"))  # repeated in file
    first = run_ingest([t1, e1], db_path=db)
    assert [f.rows_new for f in first.files] == [2, 3]
    second = run_ingest([t2, e2], db_path=db)
    tickets, events = second.files
    assert (tickets.rows_read, tickets.rows_loaded, tickets.rows_new) == (3, 3, 1)
    assert (events.rows_read, events.rows_loaded, events.rows_new) == (4, 4, 1)
    assert count(db, "raw.events") == 4
    # latest batch wins; within a file the last row wins
    assert query(db, "select ticket_id, priority, category, _batch_id, _line from raw.tickets "
                     "order by 1") == [
        ("T1", "P2", "network", str(first.files[0].batch_id), "2"),
        ("T2", "P3", "email", str(tickets.batch_id), "2"),
        ("T3", "P2", "vpn-fixed", str(tickets.batch_id), "4"),
    ]


def test_repeated_event_in_a_first_file_is_stored_once(make, db: Path) -> None:
    """Into an empty database: the repeated row (line 3 = line 2) is loaded but not
    inserted; the first occurrence keeps its line."""
    path = make("events.csv", EVENTS_HEADER + "\n"
                + _event("T1", "2024-01-01 10:00", "New")
                + _event("T1", "2024-01-01 10:00", "New")
                + _event("T1", "2024-01-01 11:00", "Closed"))
    events = run_ingest([path], db_path=db).files[0]
    assert (events.rows_read, events.rows_loaded, events.rows_new) == (3, 3, 2)
    assert query(db, "select _line, status from raw.events order by _line") == [
        ("2", "New"), ("4", "Closed"),
    ]


def test_lineage_of_a_row(make, db: Path) -> None:
    path = make("events.csv", EVENTS_HEADER + "\n" + _event("T1", "2024-01-01 10:00", "New")
                + _event("T9", "2024-01-01 10:00", "New")
                + _event("T1", "2024-01-01 11:00", "Closed"))
    result = run_ingest([path], db_path=db)
    batch = result.files[0].batch_id
    assert query(db, "select _batch_id, _source_file, _line, seq from raw.events "
                     "where ticket_id = 'T9'") == [(str(batch), str(path), "3", "3")]


def test_file_path_recorded_as_given(make, db: Path, monkeypatch, tmp_path: Path) -> None:
    make("tickets.csv", "ticket_id\nT1\n")
    monkeypatch.chdir(tmp_path)
    run_ingest([Path("tickets.csv")], db_path=db, source="servicedesk")
    assert query(db, "select source, kind, file_path, rows_read, rows_loaded, rows_rejected, "
                     "rows_new, length(content_hash) from meta.batches") == [
        ("servicedesk", "tickets", "tickets.csv", "1", "1", "0", "1", "64"),
    ]
    assert query(db, "select _source_file from raw.tickets") == [("tickets.csv",)]


def test_planted_bad_lines_accounted(make, db: Path) -> None:
    lines = [
        _event("T1", "2024-01-01 10:00", "New"),
        _event("T1", "2024-01-01 10:01", "Assigned"),
        "T1,31/31/2024 10:00,,SD,L1,ann,New,,\n",                # line 4
        _event("T2", "2024-01-01 10:03", "New"),
        ",2024-01-01 10:04,,SD,L1,ann,New,,\n",                  # line 6
        _event("T2", "2024-01-01 10:05", "Assigned"),
        _event("T3", "2024-01-01 10:06", "New"),
        "T3,2024-01-01 10:07,x1,SD,L1,ann,New,shouty,\n",       # line 9
        _event("T3", "2024-01-01 10:08", "Closed"),
        _event("T4", "2024-01-01 10:09", "New"),
    ]
    path = make("events.csv", EVENTS_HEADER + "\n" + "".join(lines))
    result = run_ingest([path], db_path=db)
    f = result.files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_rejected, f.rows_new) == (10, 7, 3, 7)
    assert f.rows_read == f.rows_loaded + f.rows_rejected
    assert query(db, "select line, raw_line, reason from meta.rejects order by line") == [
        ("4", lines[2].rstrip("\n"), "unparseable timestamp '31/31/2024 10:00' in event_at"),
        ("6", lines[4].rstrip("\n"), "missing ticket_id"),
        ("9", lines[7].rstrip("\n"),
         "seq is not a whole number: 'x1'; unknown note_kind value 'shouty' "
         "(expected public/internal/escalation)"),
    ]
    assert count(db, "raw.events") == 7
    assert [r.count for r in f.reject_reasons] == [1, 1, 1]


def test_same_bytes_twice_in_one_run(make, db: Path) -> None:
    a = make("a/tickets.csv", "ticket_id\nT1\n")
    b = make("b/tickets.csv", "ticket_id\nT1\n")
    result = run_ingest([a, b], db_path=db)
    assert result.files[1].already_loaded_batch == result.files[0].batch_id
    assert count(db, "meta.batches") == 1
