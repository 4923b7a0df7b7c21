"""The hostile files of issue 11, each with its counts worked out by hand.

Before the fix, a quote that never closes on line 100 swallowed the rest of the
file (read 99 of 387, exit 0), one Latin-1 byte re-decoded a whole UTF-8 file, a
tickets file with fewer columns erased stored columns, and a folder skipped
supported files without a word.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from ingest_helpers import EVENTS_HEADER, query, write

from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest
from pipelines.ingest.mapped import mapped_reader
from tests.adapters.helpers import FIXTURES, MAPPINGS

N_EVENTS = 387


def _events(damage: dict[int, str] | None = None) -> str:
    """387 events, one a ticket and minute; `damage` replaces the note of a data row
    (1-based) by raw text written after `public,`."""
    lines = [EVENTS_HEADER]
    for i in range(1, N_EVENTS + 1):
        note = (damage or {}).get(i, f"note {i}")
        lines.append(f"T{i:03d},2024-05-0{1 + i % 7} {8 + i % 9:02d}:{i % 60:02d},{i},SD,L1,"
                     f"ann,New,public,{note}")
    return "\n".join(lines) + "\n"


def _counts(result) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    (f,) = [f for f in result.files if not f.skipped]
    return f.rows_read, f.rows_loaded, f.rows_rejected


def test_unclosed_quote_on_line_100_is_rejected_alone(make, db: Path) -> None:
    # data row 99 is line 100; its note opens a quote that never closes
    path = make("events.csv", _events({99: '"24 monitor flickers'}))
    assert _counts(run_ingest([path], db_path=db)) == (387, 386, 1)
    assert query(db, "select line from meta.rejects") == [("100",)]
    # the rows after it are all there, with their own values
    assert query(db, "select count(*), max(ticket_id) from raw.events") == [("386", "T387")]
    assert query(db, "select note_text from raw.events where ticket_id = 'T100'") == [
        ("note 100",)
    ]


def test_quote_inside_a_value_is_text(make, db: Path) -> None:
    path = make("events.csv", _events({99: '24" monitor flickers', 200: 'a 5"x7" photo'}))
    assert _counts(run_ingest([path], db_path=db)) == (387, 387, 0)
    assert query(db, "select note_text from raw.events where ticket_id in ('T099', 'T200') "
                     "order by 1") == [('24" monitor flickers',), ('a 5"x7" photo',)]


def test_note_with_line_breaks_and_a_damaged_line_after_it(make, db: Path) -> None:
    # row 10: a note over three lines (one record); row 11: an unclosed quote
    path = make("events.csv", _events({10: '"line one\nline, two\nline ""three"""',
                                       11: '"never closed'}))
    assert _counts(run_ingest([path], db_path=db)) == (387, 386, 1)
    # row 11 starts on line 14: header + 9 rows + the three lines of row 10
    assert query(db, "select line from meta.rejects") == [("14",)]
    assert query(db, "select note_text, _line from raw.events where ticket_id = 'T010'") == [
        ('line one\nline, two\nline "three"', "11")
    ]


def test_stray_latin1_byte_is_read_on_its_line_only(make, db: Path) -> None:
    text = "ticket_id,partner,client\nT1,Acme,Müller AG Zürich\nT2,Acme,Ørsted\n"
    data = text.encode().replace("Müller AG Zürich".encode(), "Müller AG Zürich".encode("latin-1"))
    path = make("tickets.csv", data)
    result = run_ingest([path], db_path=db)
    assert _counts(result) == (2, 2, 0)
    assert result.files[0].recoded_lines == 1
    assert query(db, "select ticket_id, client from raw.tickets order by 1") == [
        ("T1", "Müller AG Zürich"), ("T2", "Ørsted"),  # the UTF-8 value stays UTF-8
    ]
    assert query(db, "select line from meta.notices") == [("2",)]


def test_partial_tickets_file_never_erases(make, db: Path) -> None:
    full = make("full.csv", "ticket_id,partner,priority,opened_at,client\n"
                            "T1,Acme,P1,2024-05-01 08:00,Initech\nT2,Globex,P3,2024-05-01 09:00,\n")
    run_ingest([full], db_path=db)
    partial = make("partial.csv", "ticket_id,client\nT1,Hooli\nT2,Umbrella\nT3,Wayne\n")
    result = run_ingest([partial], db_path=db)
    assert result.files[0].rows_new == 1
    assert query(db, "select ticket_id, partner, priority, strftime(opened_at, '%H:%M'), "
                     "client from raw.tickets order by 1") == [
        ("T1", "Acme", "P1", "08:00", "Hooli"),
        ("T2", "Globex", "P3", "09:00", "Umbrella"),
        ("T3", "default", None, None, "Wayne"),  # new: as the file says
    ]


def test_newer_export_wins_by_its_own_timestamp(make, db: Path) -> None:
    new = make("new.csv", "ticket_id,priority,client,updated_at\n"
                          "T1,P1,Acme,2024-05-10 10:00\nT2,P2,,2024-05-10 10:00\n")
    old = make("old.csv", "ticket_id,priority,client,updated_at\n"
                          "T1,P4,Old Co,2024-05-01 10:00\nT2,P4,Filled,2024-05-01 10:00\n")
    run_ingest([new], db_path=db)
    run_ingest([old], db_path=db)  # loaded later, but older: loses, fills T2's blank
    assert query(db, "select ticket_id, priority, client, strftime(updated_at, '%d') "
                     "from raw.tickets order by 1") == [
        ("T1", "P1", "Acme", "10"), ("T2", "P2", "Filled", "10"),
    ]


def test_json_lines_keys_in_any_case(make, db: Path) -> None:
    path = make("tickets.jsonl", '{"Ticket_ID": "T1", "Partner": "Acme"}\n'
                                 '{"ticket_id": "T2", "partner": "Globex"}\n'
                                 '{"TICKET_ID": "T3", "ticket_id": "T4"}\n')
    assert _counts(run_ingest([path], db_path=db)) == (3, 2, 1)
    assert query(db, "select ticket_id, partner from raw.tickets order by 1") == [
        ("T1", "Acme"), ("T2", "Globex"),
    ]
    (reason,) = query(db, "select reason from meta.rejects")[0]
    assert "are the same column ticket_id" in reason


@pytest.mark.parametrize("fmt", ["servicenow-audit", "halopsa_audit"])
def test_adapters_reject_an_unclosed_quote_alone(tmp_path: Path, db: Path, fmt: str) -> None:
    name = "servicenow_audit" if fmt == "servicenow-audit" else fmt
    lines = (FIXTURES / f"{name}.csv").read_text().splitlines()
    # the last field of data row 2 opens a quote that never closes
    head, _, last = lines[2].rpartition(",")
    lines[2] = f'{head},"{last}'
    path = write(tmp_path / f"{name}.csv", "\n".join(lines) + "\n")
    kind_fmt = fmt if fmt == "servicenow-audit" else mapped_reader(MAPPINGS / f"{fmt}.toml")
    result = run_ingest([path], db_path=db, fmt=kind_fmt)
    events = next(f for f in result.files if f.kind == "events")
    assert events.rows_read == len(lines) - 1
    assert query(db, "select line from meta.rejects where reason like '%quote%'") == [("3",)]


def test_eventlog_unclosed_quote_loses_no_case(tmp_path: Path, db: Path) -> None:
    header = ("SR Number,Change Date+Time,Status,Sub Status,Involved ST,ST Level,Resource,"
              "Involved Org line 3,SR Latest Impact,Product,Country")
    rows = [f"1-{i // 3},2012-01-{1 + i // 3:02d} 0{i % 3}:00:00,Accepted,In Progress,G{i % 2},"
            f"{1 + i % 2},R{i},Org A,Medium,PROD{i},se" for i in range(30)]
    rows[10] = rows[10].replace("PROD10", '"PROD10')  # 1-3's second event
    path = write(tmp_path / "log.csv", header + "\n" + "\n".join(rows) + "\n")
    result = run_ingest([path], db_path=db, fmt="eventlog")
    events = next(f for f in result.files if f.kind == "events")
    assert (events.rows_read, events.rows_loaded, events.rows_rejected) == (30, 29, 1)
    assert query(db, "select count(distinct ticket_id) from raw.events") == [("10",)]


def test_zendesk_pages_gzipped_utf16_and_empty(tmp_path: Path, db: Path) -> None:
    page = json.loads((FIXTURES / "zendesk_ticket_events.json").read_text())
    pretty = json.dumps(page, indent=2)
    gz = tmp_path / "page1.json.gz"
    gz.write_bytes(gzip.compress(pretty.encode()))
    u16 = write(tmp_path / "page1_utf16.json", pretty.encode("utf-16"))
    last = write(tmp_path / "page2.json", '{"ticket_events": [], "end_of_stream": true}')
    result = run_ingest([gz, last], db_path=db, fmt="zendesk")
    (events,) = [f for f in result.files if f.kind == "events"]
    assert events.rows_read == len(page["ticket_events"])
    assert [f.skipped for f in result.files if f.file == str(last)] == [
        "no rows to load (a lookup such as Zendesk groups, or an empty page)"
    ]
    again = run_ingest([u16], db_path=tmp_path / "u16.duckdb", fmt="zendesk")
    assert again.files[0].rows_read == len(page["ticket_events"])


def test_unclosed_quote_cannot_swallow_the_next_record(make, db: Path) -> None:
    # Found by the property test: row 1's open quote, joined with row 2's first line,
    # would close at row 2's `"""` with exactly the header's fields. Row 2's first
    # line has a whole record's delimiters, so the join is refused: row 1 is
    # rejected alone and row 2 (a note holding a quote and a line break) loads.
    path = make("events.csv", EVENTS_HEADER + "\n"
                "T1,2024-05-01 08:00,1,SD,L1,ann,New,public,\"broken note\n"
                "T2,2024-05-01 08:01,2,SD,L1,ann,New,public,\"\"\"\n0\"\n")
    assert _counts(run_ingest([path], db_path=db)) == (2, 1, 1)
    assert query(db, "select line from meta.rejects") == [("2",)]
    assert query(db, "select ticket_id, note_text from raw.events") == [("T2", '"\n0')]


def test_failed_first_ingest_leaves_no_database(make, db: Path) -> None:
    # found by the no-traceback net: a Parquet-named file read by the Zendesk adapter
    path = make("random.parquet", b"\x00")
    with pytest.raises(InputError, match=r"random\.parquet: a Parquet file, not text"):
        run_ingest([path], db_path=db, fmt="zendesk")
    assert not db.exists()
    # a database that existed is kept as it was
    good = make("tickets.csv", "ticket_id,client\nT1,Acme\n")
    run_ingest([good], db_path=db)
    with pytest.raises(InputError):
        run_ingest([path], db_path=db, fmt="zendesk")
    assert query(db, "select ticket_id from raw.tickets") == [("T1",)]


def test_unreadable_updated_at_keeps_the_ticket(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client,updated_at\nT1,Acme,32-03-2016 15:00\n"
                               "T2,Globex,2024-05-01 10:00\n")
    assert _counts(run_ingest([path], db_path=db)) == (2, 2, 0)
    assert query(db, "select ticket_id, client, updated_at is null from raw.tickets "
                     "order by 1") == [("T1", "Acme", "true"), ("T2", "Globex", "false")]


def test_a_row_whose_time_cannot_be_read_does_not_replace_a_timed_one(make, db: Path) -> None:
    """Found by the ServiceNow split property test: an older snapshot whose
    sys_updated_at is damaged, loaded after the newest one, replaced it. A row with
    no readable time cannot show it is newer: it only fills blanks. A file without
    the column still wins as the later batch."""
    timed = make("timed.csv", "ticket_id,priority,client,updated_at\nT1,P1,,2016-03-09 09:15\n")
    damaged = make("damaged.csv", "ticket_id,priority,client,updated_at\nT1,P4,Acme,32-03-2016\n")
    untimed = make("untimed.csv", "ticket_id,priority\nT1,P2\n")
    run_ingest([timed], db_path=db)
    run_ingest([damaged], db_path=db)
    assert query(db, "select priority, client, strftime(updated_at, '%d') from raw.tickets") == [
        ("P1", "Acme", "09")
    ]
    run_ingest([untimed], db_path=db)
    assert query(db, "select priority, client from raw.tickets") == [("P2", "Acme")]
