"""Timestamps: formats, day/month order detection, time zones."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import EVENTS_HEADER, query

from pipelines.config import Config, IngestSettings
from pipelines.errors import InputError
from pipelines.ingest.job import run_ingest


def _events(*stamps: str) -> str:
    return EVENTS_HEADER + "\n" + "".join(
        f"T{i},{s},,SD,L1,ann,New,,\n" for i, s in enumerate(stamps)
    )


def _config(**ingest: str) -> Config:
    return Config(ingest=IngestSettings(**ingest))


def _stamps(db: Path) -> list[str]:
    return [r[0] for r in query(db, "select event_at from raw.events order by ticket_id")]


def test_iso_forms(make, db: Path) -> None:
    path = make("events.csv", _events(
        "2024-03-05T10:15:30Z", "2024-03-05 10:15", "2024-03-05T10:15:30.250+02:00",
        "2024-3-5 9:05:00", "2024-03-05 10:15:00 -0500", "2024-03-05",
    ))
    run_ingest([path], db_path=db)
    assert _stamps(db) == [
        "2024-03-05 10:15:30+00", "2024-03-05 10:15:00+00", "2024-03-05 08:15:30.25+00",
        "2024-03-05 09:05:00+00", "2024-03-05 15:15:00+00", "2024-03-05 00:00:00+00",
    ]


def test_day_first_detected(make, db: Path) -> None:
    # 29/02 can only be day-first, so 01/03 is the first of March.
    path = make("events.csv", _events("29/02/2016 01:16", "1/3/2016 9:05", "01-03-2016 10:00:07"))
    result = run_ingest([path], db_path=db)
    assert result.files[0].date_order == "dmy"
    assert _stamps(db) == [
        "2016-02-29 01:16:00+00", "2016-03-01 09:05:00+00", "2016-03-01 10:00:07+00",
    ]


def test_month_first_detected(make, db: Path) -> None:
    path = make("events.csv", _events("2/29/2016 13:05", "3/1/2016 1:05 PM", "03/01/2016 12:30 am"))
    result = run_ingest([path], db_path=db)
    assert result.files[0].date_order == "mdy"
    assert _stamps(db) == [
        "2016-02-29 13:05:00+00", "2016-03-01 13:05:00+00", "2016-03-01 00:30:00+00",
    ]


def test_ambiguous_dates_ask_for_the_setting(make, db: Path) -> None:
    path = make("events.csv", _events("01/02/2016 10:00", "03/04/2016 11:00"))
    with pytest.raises(InputError, match=r"events\.csv: column event_at has only ambiguous "
                       r"day/month dates .*ingest\.date_order.*tierlens\.toml"):
        run_ingest([path], db_path=db)


def test_configured_order_overrides_detection(make, db: Path) -> None:
    path = make("events.csv", _events("01/02/2016 10:00", "03/04/2016 11:00", "13/01/2016 10:00"))
    result = run_ingest([path], db_path=db, config=_config(date_order="mdy"))
    assert _stamps(db) == ["2016-01-02 10:00:00+00", "2016-03-04 11:00:00+00"]
    assert result.files[0].rows_rejected == 1  # 13/01 is no date month-first
    assert query(db, "select line, reason from meta.rejects") == [
        ("4", "unparseable timestamp '13/01/2016 10:00' in event_at"),
    ]


def test_mixed_orders_are_an_error(make, db: Path) -> None:
    path = make("events.csv", _events("13/01/2016 10:00", "01/13/2016 10:00"))
    with pytest.raises(InputError, match=r"mixed day-first and month-first dates in "
                       r".*events\.csv column event_at"):
        run_ingest([path], db_path=db)


def test_one_bad_value_under_the_detected_order_is_a_reject(make, db: Path) -> None:
    path = make("events.csv", _events("29/02/2016 01:16", "31/31/2024 10:00", "30/02/2016 10:00"))
    result = run_ingest([path], db_path=db)
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert query(db, "select line, reason from meta.rejects order by line") == [
        ("3", "unparseable timestamp '31/31/2024 10:00' in event_at"),
        ("4", "unparseable timestamp '30/02/2016 10:00' in event_at"),
    ]


def test_naive_times_read_in_source_zone_offsets_exact(make, db: Path) -> None:
    path = make("events.csv", _events(
        "2024-07-01 12:00",           # Paris summer time, UTC+2
        "2024-01-15 12:00",           # Paris winter time, UTC+1
        "2024-07-01T12:00:00+05:30",  # explicit offset: exact
        "2024-07-01T12:00:00Z",       # UTC
        "15/01/2024 08:30",           # day-first, naive, winter
    ))
    run_ingest([path], db_path=db, config=_config(source_timezone="Europe/Paris"))
    assert _stamps(db) == [
        "2024-07-01 10:00:00+00", "2024-01-15 11:00:00+00", "2024-07-01 06:30:00+00",
        "2024-07-01 12:00:00+00", "2024-01-15 07:30:00+00",
    ]


def test_ticket_timestamps_share_the_file_order(make, db: Path) -> None:
    # opened_at proves day-first; sla_due_at alone would be ambiguous.
    path = make("tickets.csv",
                "ticket_id,opened_at,sla_due_at\nT1,25/12/2023 10:00,02/01/2024 10:00\n")
    run_ingest([path], db_path=db)
    assert query(db, "select opened_at, sla_due_at from raw.tickets") == [
        ("2023-12-25 10:00:00+00", "2024-01-02 10:00:00+00"),
    ]
