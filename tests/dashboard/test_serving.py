"""Serving snapshots: what a build publishes, and a dashboard that keeps
answering from its snapshot while an ingest and a build run in the same process."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pytest

from dashboards import data
from pipelines.config import Config
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from pipelines.serving import read_pointer, serving_dir

from .conftest import app_test, build_sample

# The columns of the trimmed timeline (sql/serving/ticket_events.sql) the timeline
# and review pages read.
TIMELINE_COLUMNS: tuple[str, ...] = (
    "ticket_id",
    "event_index",
    "event_at",
    "group_name",
    "held_group",
    "held_tier",
    "held_agent",
    "status",
    "status_class",
    "note_kind",
    "note_text",
    "is_in_scope",
    "is_handoff",
    "is_tier_change",
    "is_tier_rise",
    "is_tier_drop",
    "is_reopen",
    "minutes_held",
    "business_minutes_held",
    "is_paused",
)


def test_build_publishes_a_complete_snapshot(sample_db: Path, snapshot: str):
    pointer = json.loads((serving_dir(sample_db) / "current.json").read_text())
    assert pointer["snapshot"] == Path(snapshot).name
    assert set(pointer) == {"build_id", "snapshot", "built_at", "last_batch_id"}
    con = duckdb.connect(snapshot, read_only=True)
    try:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select schema_name, table_name from duckdb_tables()"
            ).fetchall()
        }
        assert {
            "analytics.kpi_weekly",
            "analytics.kpi_facts",
            "analytics.fct_tickets",
            "analytics.fct_escalations",
            "analytics.kpi_targets",
            "analytics.dq_counter_checks",
            "analytics.dq_unmapped_groups",
            "analytics.dq_unknown_statuses",
            "analytics.ticket_events",
            "analytics.tier_paths",
            "analytics.pingpong_pairs",
            "config.targets",
            "config.metrics",
            "meta.batches",
            "meta.rejects",
            "meta.builds",
        } <= tables
        columns = [r[0] for r in con.execute("describe analytics.ticket_events").fetchall()]
        assert tuple(columns) == TIMELINE_COLUMNS
        # The macros came along: kpi_query runs on the snapshot.
        assert con.execute("select wilson_low(5, 10)").fetchone()[0] == pytest.approx(
            0.2366, abs=1e-4
        )
        # Every resolved ticket has exactly one tier path.
        paths, resolved = con.execute(
            "select (select sum(n_tickets) from analytics.tier_paths), "
            "(select count(*) from analytics.fct_tickets where state = 'resolved' "
            "and n_events > 0)"
        ).fetchone()
        assert paths == resolved
    finally:
        con.close()


def test_pingpong_pairs_count_a_b_a(tmp_path: Path):
    from tests.models.timelines import Ev, Ticket, build

    tickets = [
        Ticket(
            "PP1",
            [
                Ev(0, "SD-L1", "L1", "New"),
                Ev(10, "Net-L2", "L2", "Queued"),
                Ev(20, "SD-L1", "L1", "In Progress"),
                Ev(30, "Net-L2", "L2", "Queued"),
                Ev(40, "Net-L2", "L2", "Resolved"),
            ],
        ),
        Ticket("OK1", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved")]),
    ]
    db = tmp_path / "t.duckdb"
    build(db, tickets).close()
    pointer = read_pointer(db)
    assert pointer is not None
    con = duckdb.connect(str(pointer.snapshot), read_only=True)
    try:
        pairs = con.execute(
            "select group_a, group_b, n_tickets, n_bounces from analytics.pingpong_pairs order by 1"
        ).fetchall()
        # SD -> Net -> SD, then Net -> SD -> Net: two pairs, one ticket each.
        assert pairs == [("Net-L2", "SD-L1", 1, 1), ("SD-L1", "Net-L2", 1, 1)]
        paths = dict(
            con.execute(
                "select path, sum(n_tickets) from analytics.tier_paths group by 1"
            ).fetchall()
        )
        assert paths == {"L1 > L2 > L1 > L2": 1, "L1": 1}
    finally:
        con.close()


def test_a_build_of_an_older_tierlens_left_unpublished_does_not_block_builds(tmp_path: Path):
    """Build 1 committed, its publish killed, by a Tierlens without the serving
    models (no analytics.tier_paths): the next build skips publishing it and
    publishes itself, with the serving models."""
    from tests.models.timelines import Ev, Ticket, build

    db = tmp_path / "t.duckdb"
    build(
        db, [Ticket("A", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved")])]
    ).close()
    with duckdb.connect(str(db)) as con:
        con.execute("drop view analytics.tier_paths")
    (serving_dir(db) / "current.json").unlink()
    assert run_build(db, Config()).build_id == 2
    pointer = read_pointer(db)
    assert pointer is not None and pointer.build_id == 2
    with duckdb.connect(str(pointer.snapshot), read_only=True) as con:
        paths = con.execute("select path, n_tickets from analytics.tier_paths").fetchall()
    assert paths == [("L1", 1)]


def test_old_snapshots_are_pruned(tmp_path: Path):
    from tests.models.timelines import Ev, Ticket, build

    db = tmp_path / "t.duckdb"
    build(
        db, [Ticket("A", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved")])]
    ).close()
    run_build(db, Config())
    run_build(db, Config())
    names = sorted(p.name for p in serving_dir(db).glob("build_*.duckdb"))
    assert names == ["build_2.duckdb", "build_3.duckdb"]  # current and previous
    assert read_pointer(db).build_id == 3


def test_app_keeps_its_snapshot_while_ingest_and_build_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    db = build_sample(tmp_path, 300, 11)
    first = read_pointer(db)
    assert first is not None
    at = app_test(db, monkeypatch).run()
    assert not at.exception
    snap = str(first.snapshot)
    count_sql = "select count(*) from analytics.fct_tickets"
    before = data.cursor(snap).execute(count_sql).fetchone()[0]

    more = tmp_path / "more"
    write_sample(more, n_tickets=600, seed=12)
    errors: list[BaseException] = []

    def ingest_and_build() -> None:
        try:
            run_ingest([more], db_path=db, config=Config(), source="more")
            run_build(db, Config())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=ingest_and_build)
    writer.start()
    answers = []
    while writer.is_alive():  # the dashboard keeps querying during the write
        answers.append(data.cursor(snap).execute(count_sql).fetchone()[0])
    writer.join()
    assert not errors, errors
    assert answers and set(answers) == {before}

    second = read_pointer(db)
    assert second is not None and second.build_id == first.build_id + 1
    after = duckdb.connect(str(second.snapshot), read_only=True)
    assert after.execute(count_sql).fetchone()[0] > before
    after.close()

    # The open session still serves its build, says a newer one exists, and reloads.
    at.run()
    assert not at.exception
    assert any("newer build is available" in i.value for i in at.info)
    assert f"Build {first.build_id}," in at.sidebar.caption[-1].value
    at.button(key="reload_build").click().run()
    assert not any("newer build" in i.value for i in at.info)
    assert f"Build {second.build_id}," in at.sidebar.caption[-1].value
