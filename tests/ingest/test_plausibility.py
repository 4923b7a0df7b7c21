"""Plausible timestamps at ingest: the window (ingest.earliest / latest /
sla_due_days_ahead) and real UTC offsets. Every row is loaded or rejected with a reason."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from ingest_helpers import EVENTS_HEADER, query, write

from pipelines.config import Config, ConfigError, IngestSettings, load_config
from pipelines.ingest.job import run_ingest

WINDOW_2030 = "1990-01-01 00:00 to 2031-01-01 00:00 UTC"
OFFSET_RULE = "real offsets: -12:00 to +14:00, minutes 00, 30 or 45"


def _config(**ingest: object) -> Config:
    return Config(ingest=IngestSettings.model_validate(ingest))


def _events(*stamps: str) -> str:
    return EVENTS_HEADER + "\n" + "".join(
        f"T{i},{s},{i},SD,L1,ann,New,,\n" for i, s in enumerate(stamps)
    )


def _rejects(db: Path) -> list[tuple[str, str]]:
    rows = query(db, "select line, reason from meta.rejects order by line::int")
    return [(r[0], r[1]) for r in rows]


def test_six_events_one_loads_five_rejected_with_reasons(make, db: Path) -> None:
    path = make("events.csv", _events(
        "2024-01-01 10:00", "2099-01-01 10:00", "1900-01-01 10:00", "0001-01-01 10:00",
        "2024-01-01 10:00+25:00", "2024-01-01 10:00+05:17",
    ))
    result = run_ingest([path], db_path=db, config=_config(latest="2030-12-31"))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (6, 1, 5)
    assert query(db, "select ticket_id, event_at from raw.events") == [
        ("T0", "2024-01-01 10:00:00+00"),
    ]
    assert _rejects(db) == [
        ("3", f"event_at '2099-01-01 10:00' is after the plausible window {WINDOW_2030} "
              "(to accept it, change ingest.latest in tierlens.toml)"),
        ("4", f"event_at '1900-01-01 10:00' is before the plausible window {WINDOW_2030} "
              "(to accept it, change ingest.earliest in tierlens.toml)"),
        ("5", f"event_at '0001-01-01 10:00' is before the plausible window {WINDOW_2030} "
              "(to accept it, change ingest.earliest in tierlens.toml)"),
        ("6", f"event_at '2024-01-01 10:00+25:00' has a UTC offset no time zone uses "
              f"({OFFSET_RULE})"),
        ("7", f"event_at '2024-01-01 10:00+05:17' has a UTC offset no time zone uses "
              f"({OFFSET_RULE})"),
    ]


def test_window_edges_are_in_utc(make, db: Path) -> None:
    # window: 2024-01-01 00:00 (included) to 2024-02-01 00:00 UTC (excluded)
    path = make("events.csv", _events(
        "2023-12-31T23:59:59Z",        # 1 second early
        "2024-01-01T00:00:00Z",        # first instant: loads
        "2024-01-31T23:59:59Z",        # last second of latest: loads
        "2024-02-01T00:00:00Z",        # first instant after: rejected
        "2024-01-01T00:30:00+01:00",   # 2023-12-31 23:30 UTC: early
        "2024-01-31T20:00:00-05:00",   # 2024-02-01 01:00 UTC: late
        "2024-01-01T01:30:00+01:00",   # 2024-01-01 00:30 UTC: loads
    ))
    result = run_ingest([path], db_path=db, config=_config(earliest="2024-01-01",
                                                           latest="2024-01-31"))
    assert (result.rows_loaded, result.rows_rejected) == (3, 4)
    assert query(db, "select event_at from raw.events order by seq") == [
        ("2024-01-01 00:00:00+00",), ("2024-01-31 23:59:59+00",), ("2024-01-01 00:30:00+00",),
    ]
    window = "2024-01-01 00:00 to 2024-02-01 00:00 UTC"
    assert [(line, reason.split(" is ")[1].split(" the ")[0]) for line, reason in _rejects(db)] \
        == [("2", "before"), ("5", "after"), ("6", "before"), ("7", "after")]
    assert all(window in reason for _, reason in _rejects(db))


def test_sla_due_at_may_lie_ahead_by_its_own_setting(make, db: Path) -> None:
    # event window ends 2024-02-01 00:00; sla_due_at's 30 days later: 2024-03-02 00:00
    path = make("tickets.csv",
                "ticket_id,opened_at,sla_due_at\n"
                "T1,2024-01-31 09:00,2024-03-01 23:59\n"   # loads
                "T2,2024-01-31 09:00,2024-03-02 00:00\n"   # due too late
                "T3,2024-02-15 09:00,2024-02-16 09:00\n"   # opened too late, due fine
                "T4,2024-01-31 09:00,1989-12-31 23:00\n")  # due too early
    result = run_ingest([path], db_path=db, config=_config(latest="2024-01-31",
                                                           sla_due_days_ahead=30))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    assert query(db, "select ticket_id, sla_due_at from raw.tickets") == [
        ("T1", "2024-03-01 23:59:00+00"),
    ]
    due = "1990-01-01 00:00 to 2024-03-02 00:00 UTC"
    assert _rejects(db) == [
        ("3", f"sla_due_at '2024-03-02 00:00' is after the plausible window {due} "
              "(to accept it, change ingest.sla_due_days_ahead in tierlens.toml)"),
        ("4", "opened_at '2024-02-15 09:00' is after the plausible window 1990-01-01 00:00 to "
              "2024-02-01 00:00 UTC (to accept it, change ingest.latest in tierlens.toml)"),
        ("5", f"sla_due_at '1989-12-31 23:00' is before the plausible window {due} "
              "(to accept it, change ingest.earliest in tierlens.toml)"),
    ]


def test_real_offsets_load_and_others_are_rejected(make, db: Path) -> None:
    path = make("events.csv", _events(
        "2024-06-01 12:00+14:00", "2024-06-01 12:00-12:00", "2024-06-01 12:00+05:45",
        "2024-06-01 12:00+0530", "2024-06-01 12:00+05", "2024-06-01 12:00 -09:30",
        "2024-06-01T12:00:00.5Z", "01/06/2024 12:00 PM +01:00",
        "2024-06-01 12:00-13:00", "2024-06-01 12:00+14:30", "2024-06-01 12:00-12:30",
        "2024-06-01 12:00-0015", "2024-06-01 12:00+99", "01/06/2024 12:00 PM +01:17",
    ))
    result = run_ingest([path], db_path=db,
                        config=_config(latest="2030-12-31", date_order="dmy"))
    assert (result.rows_loaded, result.rows_rejected) == (8, 6)
    assert query(db, "select event_at from raw.events order by seq") == [
        ("2024-05-31 22:00:00+00",), ("2024-06-02 00:00:00+00",), ("2024-06-01 06:15:00+00",),
        ("2024-06-01 06:30:00+00",), ("2024-06-01 07:00:00+00",), ("2024-06-01 21:30:00+00",),
        ("2024-06-01 12:00:00.5+00",), ("2024-06-01 11:00:00+00",),
    ]
    assert [line for line, _ in _rejects(db)] == ["10", "11", "12", "13", "14", "15"]
    assert all("has a UTC offset no time zone uses" in r for _, r in _rejects(db))


def test_a_file_of_only_bad_offsets_is_read_and_its_rows_rejected(make, db: Path) -> None:
    # the values are understood (unlike a file of 'abc'): each row gets its reason
    path = make("events.csv", _events("2024-06-01 12:00+15:00", "2024-06-01T12:00:00-0017"))
    result = run_ingest([path], db_path=db, config=_config(latest="2030-12-31"))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 0, 2)
    assert _rejects(db) == [
        ("2", f"event_at '2024-06-01 12:00+15:00' has a UTC offset no time zone uses "
              f"({OFFSET_RULE})"),
        ("3", f"event_at '2024-06-01T12:00:00-0017' has a UTC offset no time zone uses "
              f"({OFFSET_RULE})"),
    ]


def test_default_latest_is_one_day_after_the_start_of_the_run(make, db: Path) -> None:
    # relative to the clock on purpose: the default is "now"; no date is pinned
    before = datetime.now(UTC)
    recent = (before - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ahead = (before + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = make("events_a.csv", _events(recent, ahead))
    second = make("events_b.csv", _events(ahead))
    result = run_ingest([first, second], db_path=db)
    after = datetime.now(UTC)
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    reasons = [r for _, r in _rejects(db)]
    assert all("change ingest.latest" in r for r in reasons)
    # one window for the whole run: both files name the same limit
    ends = {r.split(" to ")[1].split(" UTC")[0] for r in reasons}
    assert len(ends) == 1
    end = datetime.strptime(ends.pop(), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert before + timedelta(days=1) <= end <= after + timedelta(days=1, minutes=1)


def test_window_settings_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path / "tierlens.toml",
                 '[ingest]\nearliest = "2024-02-01"\nlatest = "2024-01-31"\n')
    with pytest.raises(ConfigError, match=r"\n  ingest: latest \(2024-01-31\) is before "
                                          r"earliest \(2024-02-01\)"):
        load_config(path)
    path = write(tmp_path / "tierlens.toml", '[ingest]\nearliest = "the nineties"\n')
    with pytest.raises(ConfigError, match=r"ingest\.earliest: "):
        load_config(path)
    path = write(tmp_path / "tierlens.toml", "[ingest]\nsla_due_days_ahead = -1\n")
    with pytest.raises(ConfigError, match=r"ingest\.sla_due_days_ahead: "):
        load_config(path)
    # a TOML date works as well as a string
    path = write(tmp_path / "tierlens.toml", "[ingest]\nearliest = 2000-01-01\n")
    assert load_config(path).ingest.earliest == date(2000, 1, 1)


# --- generated: any instant in the window with a real offset loads, exactly -------------

EARLIEST, LATEST = date(1990, 1, 1), date(2030, 12, 31)
START = datetime(1990, 1, 1, tzinfo=UTC)
END = datetime(2031, 1, 1, tzinfo=UTC)
REAL_OFFSETS = [m for m in range(-720, 841) if abs(m) % 60 in (0, 30, 45)]


@st.composite
def _stamp(draw: st.DrawFn) -> tuple[str, datetime]:
    """(text, instant): a local time with a real offset, written in one of the forms."""
    local = draw(st.one_of(
        st.datetimes(datetime(1989, 12, 30), datetime(1990, 1, 2)),   # around the edges
        st.datetimes(datetime(2030, 12, 30), datetime(2031, 1, 2)),
        st.datetimes(datetime(1985, 1, 1), datetime(2035, 1, 1)),
        st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31)),
    ))
    minutes = draw(st.sampled_from(REAL_OFFSETS))
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    forms = [f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}", f" {sign}{hh:02d}:{mm:02d}"]
    if mm == 0:
        forms.append(f"{sign}{hh:02d}")
    if minutes == 0:
        forms.append("Z")
    zone = draw(st.sampled_from(forms))
    sep = draw(st.sampled_from(["T", " "]))
    clock = draw(st.sampled_from(["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]))
    if clock == "%H:%M":
        local = local.replace(second=0, microsecond=0)
    elif clock == "%H:%M:%S":
        local = local.replace(microsecond=0)
    text = f"{local.year:04d}-{local:%m-%d}{sep}{local.strftime(clock)}{zone}"
    instant = local.replace(tzinfo=timezone(timedelta(minutes=minutes))).astimezone(UTC)
    return text, instant


def _ingest_stamps(stamps: list[str]) -> tuple[list[tuple[int, datetime]], dict[int, str]]:
    """(seq, event_at) loaded and {seq: reason} rejected, from one real ingest."""
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "events.csv", _events(*stamps))
        db = Path(tmp) / "t.duckdb"
        result = run_ingest([path], db_path=db,
                            config=_config(earliest=EARLIEST, latest=LATEST))
        assert result.rows_read == len(stamps)
        con = duckdb.connect(str(db), read_only=True)
        try:
            loaded = con.execute("select seq::int, event_at from raw.events").fetchall()
            rejected = con.execute("select line::int - 2, reason from meta.rejects").fetchall()
        finally:
            con.close()
    return [(int(s), t) for s, t in loaded], {int(s): str(r) for s, r in rejected}


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_stamp(), min_size=1, max_size=12))
def test_generated_stamps_load_exactly_when_in_the_window(
    stamps: list[tuple[str, datetime]],
) -> None:
    loaded, rejected = _ingest_stamps([s for s, _ in stamps])
    for seq, (text, instant) in enumerate(stamps):
        if START <= instant < END:
            assert (seq, instant) in loaded, (text, rejected.get(seq))
        else:
            assert "the plausible window" in rejected[seq], text
    assert len(loaded) + len(rejected) == len(stamps)


@settings(max_examples=25, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 59),
                          st.booleans()), min_size=1, max_size=12))
def test_generated_offsets_load_only_when_real(offsets: list[tuple[str, int, int, bool]]) -> None:
    stamps = [f"2024-06-01 12:00{sign}{hh:02d}{':' if colon else ''}{mm:02d}"
              for sign, hh, mm, colon in offsets]
    loaded, rejected = _ingest_stamps(stamps)
    got = dict(loaded)
    for seq, (sign, hh, mm, _) in enumerate(offsets):
        minutes = (hh * 60 + mm) * (-1 if sign == "-" else 1)
        if minutes in REAL_OFFSETS:
            assert got[seq] == datetime(2024, 6, 1, 12, tzinfo=UTC) - timedelta(minutes=minutes)
        else:
            assert "has a UTC offset no time zone uses" in rejected[seq], stamps[seq]
