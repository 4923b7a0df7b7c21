"""One bad ticket cannot block a build: it is quarantined, the rest is published.

Small timelines worked out by hand (tests/models/timelines.py): rows go into raw.*
as an adapter could leave them, then the real build runs on the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Config
from pipelines.errors import BuildError
from pipelines.models.graph import SQL_DIR
from pipelines.models.runner import run_build
from pipelines.serving import read_pointer
from tests.models.timelines import Ev, Ticket, load

ACCEPTED_PRIORITY = "accepted_values priority in ('P1', 'P2', 'P3', 'P4')"


def _resolved_at_l1(ticket_id: str, **kw) -> Ticket:
    return Ticket(
        ticket_id, [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved", "ann")], **kw
    )


def _escalated(ticket_id: str, **kw) -> Ticket:
    return Ticket(
        ticket_id,
        [
            Ev(0, "SD-L1", "L1", "New"),
            Ev(10, "Apps-L2", "L2", "Assigned"),
            Ev(30, "Apps-L2", "L2", "Resolved", "bob"),
        ],
        **kw,
    )


def _four() -> list[Ticket]:
    return [_resolved_at_l1("A"), _resolved_at_l1("B"), _escalated("C"), _escalated("D")]


def _quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select ticket_id, model, test, detail from meta.quarantine order by all"
    ).fetchall()


def _kpi_weekly(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select * from analytics.kpi_weekly order by all").fetchall()


def test_a_ticket_failing_a_test_is_quarantined_and_the_rest_published(tmp_path: Path):
    """5 tickets, E with a priority no adapter should let through (P9): 4 published,
    E quarantined naming the staging model and its test, and the KPIs of the 4 are
    exactly those of the same 4 built alone."""
    db = tmp_path / "five.duckdb"
    load(db, [*_four(), _escalated("E", priority="P9")])
    summary = run_build(db, Config())
    assert summary.quarantined_tickets == 1
    assert (summary.resolved_tickets, summary.open_tickets) == (4, 0)

    alone = tmp_path / "four.duckdb"
    load(alone, _four())
    assert run_build(alone, Config()).quarantined_tickets == 0

    with (
        duckdb.connect(str(db), read_only=True) as con,
        duckdb.connect(str(alone), read_only=True) as ref,
    ):
        assert _quarantine(con) == [("E", "stg_tickets", ACCEPTED_PRIORITY, "priority=P9")]
        assert con.execute("select build_id from meta.quarantine").fetchall() == [(1,)]
        tickets = con.execute("select ticket_id from analytics.fct_tickets order by 1")
        assert tickets.fetchall() == [("A",), ("B",), ("C",), ("D",)]
        for table in ("fct_escalations", "kpi_facts", "int_ticket_events"):
            found = con.execute(f"select count(*) from analytics.{table} where ticket_id = 'E'")
            assert found.fetchall() == [(0,)], table
        # Every loaded ticket is accounted for: 5 = 4 published + 1 quarantined.
        loaded = con.execute(
            "select count(*) from (select ticket_id from raw.tickets "
            "union select ticket_id from raw.events)"
        ).fetchall()[0][0]
        published = con.execute("select count(*) from analytics.fct_tickets").fetchall()[0][0]
        quarantined = con.execute(
            "select count(distinct ticket_id) from meta.quarantine"
        ).fetchall()[0][0]
        assert (loaded, published, quarantined) == (5, 4, 1)
        # escalation_rate: C and D of the 4 L1 tickets (E's escalation is not counted).
        rate = con.execute(
            "select numerator, denominator from analytics.kpi_weekly "
            "where metric = 'escalation_rate' and dimension = 'overall'"
        ).fetchall()
        assert rate == [(2.0, 4.0)]
        assert _kpi_weekly(con) == _kpi_weekly(ref)

    # The snapshot readers use carries the list too.
    pointer = read_pointer(db)
    assert pointer is not None and pointer.build_id == 1
    with duckdb.connect(str(pointer.snapshot), read_only=True) as snap:
        assert _quarantine(snap) == [("E", "stg_tickets", ACCEPTED_PRIORITY, "priority=P9")]


def test_fixing_the_input_brings_the_ticket_back(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    load(db, [*_four(), _escalated("E", priority="P9")])
    run_build(db, Config())
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.tickets set priority = 'P2' where ticket_id = 'E'")
    assert run_build(db, Config()).quarantined_tickets == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert _quarantine(con) == []
        assert con.execute("select count(*) from analytics.fct_tickets").fetchall() == [(5,)]


def test_an_event_failing_a_staging_test_quarantines_its_ticket(tmp_path: Path):
    """A note kind the canonical ingest would refuse ('sms'), as an adapter left it."""
    db = tmp_path / "t.duckdb"
    bad = Ticket(
        "E",
        [
            Ev(0, "SD-L1", "L1", "New", note_kind="sms", note_text="hi"),
            Ev(5, "SD-L1", "L1", "Resolved", "ann"),
        ],
    )
    load(db, [*_four(), bad])
    assert run_build(db, Config()).quarantined_tickets == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert _quarantine(con) == [
            (
                "E",
                "stg_events",
                "accepted_values note_kind in ('public', 'internal', 'escalation')",
                "note_kind=sms",
            )
        ]
        assert con.execute("select count(*) from analytics.fct_tickets").fetchall() == [(4,)]


def _sql_with(tmp_path: Path, model: str, tag: str) -> Path:
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    path = next(sql.glob(f"*/{model}.sql"))
    path.write_text(f"-- test {tag}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return sql


def test_a_mart_test_quarantines_every_ticket_it_names(tmp_path: Path):
    """A test on fct_tickets that C and D (the escalated ones) break: both are
    quarantined with the test and their values; A and B are published."""
    db = tmp_path / "t.duckdb"
    load(db, _four())
    sql = _sql_with(tmp_path, "fct_tickets", "expression: n_escalations = 0")
    summary = run_build(db, Config(), sql_dir=sql)
    assert summary.quarantined_tickets == 2
    with duckdb.connect(str(db), read_only=True) as con:
        assert _quarantine(con) == [
            ("C", "fct_tickets", "expression n_escalations = 0", "n_escalations=1"),
            ("D", "fct_tickets", "expression n_escalations = 0", "n_escalations=1"),
        ]
        assert con.execute("select count(*) from analytics.fct_escalations").fetchall() == [(0,)]
        rate = con.execute(
            "select numerator, denominator from analytics.kpi_weekly "
            "where metric = 'l1_resolution_rate' and dimension = 'overall'"
        ).fetchall()
        assert rate == [(2.0, 2.0)]


def test_a_relationships_failure_quarantines_the_child_rows_ticket(tmp_path: Path):
    """A test that every ticket has an escalation: A and B (resolved at L1) break it."""
    db = tmp_path / "t.duckdb"
    load(db, _four())
    spec = "ticket_id -> fct_escalations.ticket_id"
    sql = _sql_with(tmp_path, "fct_tickets", f"relationships: {spec}")
    run_build(db, Config(), sql_dir=sql)
    with duckdb.connect(str(db), read_only=True) as con:
        assert _quarantine(con) == [
            ("A", "fct_tickets", f"relationships {spec}", "ticket_id=A"),
            ("B", "fct_tickets", f"relationships {spec}", "ticket_id=B"),
        ]
        tickets = con.execute("select ticket_id from analytics.fct_tickets order by 1")
        assert tickets.fetchall() == [("C",), ("D",)]


def test_a_ticket_breaking_a_test_on_several_rows_is_listed_once_per_test(tmp_path: Path):
    """kpi_facts has several rows per ticket: a test only A's facts pass."""
    db = tmp_path / "t.duckdb"
    load(db, _four())
    sql = _sql_with(tmp_path, "kpi_facts", "expression: ticket_id = 'A'")
    run_build(db, Config(), sql_dir=sql)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select ticket_id, detail from meta.quarantine order by 1").fetchall()
        n_facts = dict(
            con.execute("select ticket_id, count(*) from build_1.kpi_facts group by 1").fetchall()
        )
        assert con.execute("select ticket_id from analytics.fct_tickets").fetchall() == [("A",)]
    assert [r[0] for r in rows] == ["B", "C", "D"]
    assert n_facts == {"A": n_facts["A"]}  # the others' facts are gone
    # B has the facts of A (both resolved at L1 alike), C and D more (escalations).
    assert rows[0][1] == f"{n_facts['A']} rows, e.g. ticket_id=B"


def test_a_failure_without_tickets_stops_the_build(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    load(db, [*_four(), _escalated("E", priority="P9")])
    sql = _sql_with(tmp_path, "kpi_weekly", "expression: value is null")
    with pytest.raises(BuildError, match="kpi_weekly: expression value is null"):
        run_build(db, Config(), sql_dir=sql)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from meta.builds").fetchall() == [(0,)]
        assert _quarantine(con) == []  # rolled back with the build


def test_a_test_every_rerun_still_fails_stops_the_build(tmp_path: Path):
    """A unique key of another grain (not a ticket's) is structural."""
    db = tmp_path / "t.duckdb"
    load(db, _four())
    sql = _sql_with(tmp_path, "fct_tickets", "unique: partner")
    with pytest.raises(BuildError, match="fct_tickets: unique partner"):
        run_build(db, Config(), sql_dir=sql)


def test_a_ticket_opened_after_its_first_event_starts_its_clock_at_that_event(tmp_path: Path):
    """The tickets file in local time (UTC+1) while events are in UTC: opened_at is
    an hour after the first event. The clock starts at the first event: resolved 5
    min after it (not -55), escalated 10 min after it. Opened before its first event
    (F, opened at 0, events from 10), opened_at wins: 15 min to resolve (not 5)."""
    db = tmp_path / "t.duckdb"
    late = _resolved_at_l1("L", opened_minute=60)
    late_escalated = _escalated("M", opened_minute=60)
    future = _resolved_at_l1("Y", opened_minute=75 * 365 * 24 * 60)  # in 2099
    early = Ticket("F", [Ev(10, "SD-L1", "L1", "New"), Ev(15, "SD-L1", "L1", "Resolved", "ann")])
    load(db, [late, late_escalated, future, early])
    assert run_build(db, Config()).quarantined_tickets == 0
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select ticket_id, minutes_to_resolve, minutes_to_escalate "
            "from analytics.fct_tickets order by 1"
        ).fetchall()
    assert rows == [("F", 15.0, None), ("L", 5.0, None), ("M", 30.0, 10.0), ("Y", 5.0, None)]


def test_a_ticket_without_events_is_kept_with_no_timeline(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    load(db, [*_four(), Ticket("N", [])])
    summary = run_build(db, Config())
    assert (summary.quarantined_tickets, summary.resolved_tickets) == (0, 4)
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "select state, n_events, n_handoffs, n_reopens, is_pingpong, is_reopened, "
            "is_escalated, resolved_at from analytics.fct_tickets where ticket_id = 'N'"
        ).fetchone()
        assert row == ("no events", 0, 0, 0, False, False, False, None)
        facts = con.execute("select count(*) from analytics.kpi_facts where ticket_id = 'N'")
        assert facts.fetchall() == [(0,)]  # in no rate, and not in the backlog


def test_too_many_failing_tickets_stop_the_build_instead(tmp_path: Path):
    """Quarantine is for a few bad tickets: 21 of 100 failing (above 20 and 5%) is a
    problem with the input or the settings, so the build stops and publishes nothing."""
    db = tmp_path / "t.duckdb"
    good = [_resolved_at_l1(f"G{i:02d}") for i in range(79)]
    bad = [_escalated(f"B{i:02d}", priority="P9") for i in range(21)]
    load(db, [*good, *bad])
    with pytest.raises(BuildError, match=r"on 21 of 100 tickets: more than 5%"):
        run_build(db, Config())
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from meta.builds").fetchall() == [(0,)]
        assert _quarantine(con) == []


def test_twenty_failing_tickets_are_still_quarantined(tmp_path: Path):
    db = tmp_path / "t.duckdb"
    good = [_resolved_at_l1(f"G{i:02d}") for i in range(80)]
    bad = [_escalated(f"B{i:02d}", priority="P9") for i in range(20)]
    load(db, [*good, *bad])
    run_build(db, Config())
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(distinct ticket_id) from meta.quarantine").fetchall() \
            == [(20,)]
