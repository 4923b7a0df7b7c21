"""Bad and unusual inputs: each gives a clear error, or loads correctly."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest
from ingest_helpers import EVENTS_HEADER, count, query, write

from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest

TICKETS = "ticket_id,client,priority\nT1,Acme,P1\nT2,Globex,high\n"


def test_missing_file(tmp_path: Path, db: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=r"nope\.csv: no such file$"):
        run_ingest([missing], db_path=db)


def test_empty_file(make, db: Path) -> None:
    path = make("tickets.csv", "")
    with pytest.raises(InputError, match=r"tickets\.csv: empty file, no rows"):
        run_ingest([path], db_path=db)


def test_header_only_file_is_empty(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client,priority\n")
    with pytest.raises(InputError, match=r"tickets\.csv: empty file, no rows"):
        run_ingest([path], db_path=db)


def test_semicolon_delimited_file_loads(make, db: Path) -> None:
    path = make("tickets.csv", 'ticket_id;client;priority\nT1;"Acme; Inc";P1\nT2;Globex;2\n')
    result = run_ingest([path], db_path=db)
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    assert query(db, "select ticket_id, client, priority from raw.tickets order by 1") == [
        ("T1", "Acme; Inc", "P1"), ("T2", "Globex", "P2"),
    ]


def test_tab_and_pipe_delimited_files_load(make, db: Path) -> None:
    tsv = make("tickets_a.tsv", "ticket_id\tclient\nT1\tAcme\n")
    piped = make("tickets_b.csv", "ticket_id|client\nT2|Globex\n")
    run_ingest([tsv, piped], db_path=db)
    assert query(db, "select ticket_id, client from raw.tickets order by 1") == [
        ("T1", "Acme"), ("T2", "Globex"),
    ]


def test_utf8_bom_file_loads_with_right_first_column(make, db: Path) -> None:
    path = make("tickets.csv", "\ufeffticket_id,client\nT1,Zoé\n".encode())
    result = run_ingest([path], db_path=db)
    assert result.files[0].kind == "tickets"  # detected from the first column name
    assert result.files[0].ignored_columns == []
    assert query(db, "select ticket_id, client from raw.tickets") == [("T1", "Zoé")]


def test_latin1_file_keeps_accents(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client,category\nT1,Société Générale,réseau\n"
                .encode("latin-1"))
    run_ingest([path], db_path=db)
    assert query(db, "select client, category from raw.tickets") == [
        ("Société Générale", "réseau"),
    ]


def test_duplicated_header_names_the_columns(make, db: Path) -> None:
    path = make("events.csv", "ticket_id,event_at,status,agent,tier,group,status\n"
                "T1,2024-01-01 10:00,New,ann,L1,SD,Open\n")
    with pytest.raises(
        InputError,
        match=r"events\.csv: column 'status' appears twice in the header \(columns 3 and 7\)",
    ):
        run_ingest([path], db_path=db)


def test_missing_required_column(make, db: Path) -> None:
    path = make("events.csv", "ticket_id,event_at,agent\nT1,2024-01-01 10:00,ann\n")
    with pytest.raises(InputError, match=r"events\.csv: missing required column status"):
        run_ingest([path], db_path=db)


def test_kind_cannot_be_told(make, db: Path) -> None:
    path = make("export.csv", "a,b\n1,2\n")
    with pytest.raises(InputError, match=r"export\.csv: cannot tell whether .* --kind"):
        run_ingest([path], db_path=db)


def test_wrong_type_column_rejects_rows_with_line_numbers(make, db: Path) -> None:
    path = make(
        "tickets.csv",
        "ticket_id,reported_reopen_count,sla_met,priority\n"
        "T1,0,yes,P1\n"
        "T2,two,no,P2\n"
        "T3,1,TRUE,3\n"
        "T4,-1,maybe,1.5\n",
    )
    result = run_ingest([path], db_path=db)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert query(db, "select line, reason from meta.rejects order by line") == [
        ("3", "reported_reopen_count is not a whole number: 'two'"),
        # every failed check, in the contract's column order
        ("5", "unknown priority value '1.5' (add it to [priority_map] in tierlens.toml); "
              "sla_met is not true/false (or yes/no, 1/0): 'maybe'; "
              "reported_reopen_count is negative: '-1'"),
    ]
    assert query(db, "select ticket_id, reported_reopen_count, sla_met from raw.tickets "
                     "order by 1") == [("T1", "0", "true"), ("T3", "1", "true")]


def test_event_at_unparseable_everywhere_is_a_file_error(make, db: Path) -> None:
    path = make("events.csv", f"{EVENTS_HEADER}\nT1,abc,,SD,L1,ann,New,,\nT1,,,SD,L1,ann,New,,\n"
                "T1,soon,,SD,L1,ann,New,,\n")
    with pytest.raises(
        InputError,
        match=r"events\.csv: column event_at: no value parses as a timestamp "
              r"\(first: 'abc' on line 2\)",
    ):
        run_ingest([path], db_path=db)


def test_gzipped_csv_loads(tmp_path: Path, db: Path) -> None:
    path = write(tmp_path / "tickets.csv.gz", gzip.compress(TICKETS.encode()))
    result = run_ingest([path], db_path=db)
    assert result.rows_loaded == 2
    assert count(db, "raw.tickets") == 2


def test_quoted_newline_keeps_later_line_numbers(make, db: Path) -> None:
    path = make(
        "events.csv",
        f"{EVENTS_HEADER}\n"
        'T1,2024-01-01 10:00,,SD,L1,ann,New,public,"line one\nline two"\n'
        "T1,2024-01-01 10:05,,SD,L1,ann,Assigned,public,\n"
        "T1,bad time,,SD,L1,ann,Assigned,public,\n",
    )
    run_ingest([path], db_path=db)
    assert query(db, "select _line, note_text from raw.events order by _line") == [
        ("2", "line one\nline two"), ("4", None),
    ]
    assert query(db, "select line, raw_line from meta.rejects") == [
        ("5", "T1,bad time,,SD,L1,ann,Assigned,public,"),
    ]


def test_spaces_around_values_are_trimmed_and_rejects_keep_their_text(make, db: Path) -> None:
    path = make(
        "events.csv",
        f"{EVENTS_HEADER}\n"
        " T1 , 2024-01-01 10:00 ,, SD , L1 , ann , New ,public,  hello  \n"
        'T1,2024-01-01 10:05,,SD,L1," ann ",Assigned,public,"a, b"\n'
        "T1 , not a time ,,SD,L1,ann,Assigned,public,\n",
    )
    run_ingest([path], db_path=db)
    assert query(db, "select ticket_id, group_name, agent, status, note_text from raw.events "
                     "order by _line") == [
        ("T1", "SD", "ann", "New", "hello"),
        ("T1", "SD", "ann", "Assigned", "a, b"),
    ]
    assert query(db, "select line, raw_line from meta.rejects") == [
        ("4", "T1 , not a time ,,SD,L1,ann,Assigned,public,"),
    ]


def test_row_with_wrong_field_count_is_rejected(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client\nT1,Acme\nT2,Globex,extra\n")
    run_ingest([path], db_path=db)
    assert query(db, "select line, reason from meta.rejects") == [
        ("3", "line has 3 fields but the header has 2"),
    ]


def test_missing_value_tokens_become_null(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client,category,channel,priority,partner\n"
                "T1,?,NULL,N/A, null ,\n")
    run_ingest([path], db_path=db)
    assert query(db, "select client, category, channel, priority, partner from raw.tickets") == [
        (None, None, None, None, "default"),
    ]


def test_priority_forms(make, db: Path) -> None:
    rows = ["P1", "p2", "3", "4 - Low", "1 - Critical", "critical", "High", "medium",
            "Moderate", "low"]
    body = "".join(f"T{i},{v}\n" for i, v in enumerate(rows))
    run_ingest([make("tickets.csv", "ticket_id,priority\n" + body)], db_path=db)
    got = dict(query(db, "select ticket_id, priority from raw.tickets"))
    assert [got[f"T{i}"] for i in range(len(rows))] == [
        "P1", "P2", "P3", "P4", "P1", "P1", "P2", "P3", "P3", "P4",
    ]


def test_jsonl_loads_and_rejects_bad_lines(make, db: Path) -> None:
    path = make(
        "events.jsonl",
        '{"ticket_id": "T1", "event_at": "2024-01-01T10:00:00Z", "status": "New", "seq": 5}\n'
        "\n"
        "{not json\n"
        '{"ticket_id": "T1", "event_at": "2024-01-01T11:00:00Z", "status": "Closed",'
        ' "group": "SD", "colour": "red"}\n',
    )
    result = run_ingest([path], db_path=db)
    f = result.files[0]
    assert (f.kind, f.rows_read, f.rows_loaded, f.rows_rejected) == ("events", 3, 2, 1)
    assert f.ignored_columns == ["colour"]
    assert query(db, "select line, raw_line, reason from meta.rejects") == [
        ("3", "{not json", "not valid JSON"),
    ]
    assert query(db, "select seq, event_at, group_name, _line from raw.events order by seq") == [
        ("4", "2024-01-01 11:00:00+00", "SD", "4"), ("5", "2024-01-01 10:00:00+00", None, "1"),
    ]


def test_parquet_loads_with_row_numbers(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "tickets.parquet"
    con = duckdb.connect()
    con.execute(
        f"""copy (select * from (values ('T1', 'Acme', 1), ('T2', 'Globex', 7),
                                        ('T3', 'Initech', 2)) t(ticket_id, client, priority))
            to '{path}' (format parquet)"""
    )
    con.close()
    result = run_ingest([path], db_path=db)
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert query(db, "select line, raw_line, reason from meta.rejects") == [
        ("2", '{"ticket_id":"T2","client":"Globex","priority":7}',
         "unknown priority value '7' (add it to [priority_map] in tierlens.toml)"),
    ]
    assert query(db, "select ticket_id, priority, _line from raw.tickets order by 1") == [
        ("T1", "P1", "1"), ("T3", "P2", "3"),
    ]


def test_unreadable_parquet(make, db: Path) -> None:
    path = make("tickets.parquet", b"this is not parquet at all")
    with pytest.raises(InputError, match=r"tickets\.parquet: not a readable Parquet file"):
        run_ingest([path], db_path=db)


def test_folder_takes_data_files_tickets_first(tmp_path: Path, db: Path) -> None:
    folder = tmp_path / "export"
    write(folder / "a_events.csv", f"{EVENTS_HEADER}\nT1,2024-01-01 10:00,,SD,L1,ann,New,,\n")
    write(folder / "b_tickets.csv", TICKETS)
    write(folder / "planted.json", '{"n_tickets": 2}')
    write(folder / "README.md", "# not data\n")
    write(folder / "c_events.jsonl.gz", "")
    (folder / "c_events.jsonl.gz").write_bytes(gzip.compress(
        b'{"ticket_id": "T2", "event_at": "2024-01-02 09:00", "status": "New"}\n'))
    write(folder / "notes.txt", "not data\n")
    (folder / "old").mkdir()
    result = run_ingest([folder], db_path=db)
    assert [(f.file, f.kind, f.rows_loaded) for f in result.files if not f.skipped] == [
        (str(folder / "b_tickets.csv"), "tickets", 2),
        (str(folder / "a_events.csv"), "events", 1),
        (str(folder / "c_events.jsonl.gz"), "events", 1),
    ]
    # every entry of the folder is listed, with why it was not read
    skipped = {Path(f.file).name: f.skipped for f in result.files if f.skipped}
    assert set(skipped) == {"README.md", "planted.json", "notes.txt", "old"}
    assert "read only when named" in skipped["planted.json"]
    assert "not read recursively" in skipped["old"]
    assert "not a data file" in skipped["README.md"]
    assert query(db, "select kind, file_path from meta.batches order by batch_id") == [
        ("tickets", str(folder / "b_tickets.csv")), ("events", str(folder / "a_events.csv")),
        ("events", str(folder / "c_events.jsonl.gz")),
    ]


def test_kind_option_overrides_detection(make, db: Path) -> None:
    path = make("data.csv", "ticket_id,client\nT1,Acme\n")
    with pytest.raises(InputError, match=r"data\.csv: missing required columns event_at, status"):
        run_ingest([path], db_path=db, kind="events")
    with pytest.raises(InputError, match="--kind must be tickets or events"):
        run_ingest([path], db_path=db, kind="things")
