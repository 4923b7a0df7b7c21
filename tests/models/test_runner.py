"""The build runner: dependency order from the SQL, data tests, atomic publish."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Config
from pipelines.errors import BuildError
from pipelines.models.data_tests import parse_tests
from pipelines.models.graph import SQL_DIR, discover
from pipelines.models.runner import run_build
from tests.models.timelines import Ev, Ticket, build, load

TICKETS = [
    Ticket("A", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved", "ann")]),
    Ticket(
        "B",
        [
            Ev(0, "SD-L1", "L1", "New"),
            Ev(5, "Apps-L2", "L2", "Assigned"),
            Ev(9, "Apps-L2", "L2", "Resolved", "bob"),
        ],
    ),
]


def test_dependencies_are_read_from_the_sql():
    models = {m.name: m for m in discover()}
    assert models["fct_escalations"].depends_on == {
        "fct_tickets",
        "int_escalations",
        "int_source_capabilities",
    }
    assert models["stg_events"].depends_on == frozenset()
    order = [m.name for m in discover()]
    for model in models.values():
        for dep in model.depends_on:
            assert order.index(dep) < order.index(model.name)


def test_every_model_has_data_tests():
    for model in discover():
        assert parse_tests(model.name, model.sql), f"{model.name} declares no data test"


def test_cycle_is_reported(tmp_path):
    for layer in ("staging", "intermediate", "marts"):
        (tmp_path / layer).mkdir()
    (tmp_path / "staging" / "a.sql").write_text("select * from b")
    (tmp_path / "staging" / "b.sql").write_text("select * from a")
    with pytest.raises(BuildError, match="cycle"):
        discover(tmp_path)


def _copy_sql(tmp_path: Path) -> Path:
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    return sql


def _with_model(tmp_path: Path, relative: str, text: str) -> Path:
    """A copy of the models in which the file `relative` (under sql/) reads `text`."""
    sql = _copy_sql(tmp_path)
    (sql / relative).write_text(text)
    return sql


BROKEN_KPI_WEEKLY = ("marts/kpi_weekly.sql", "select no_such_column from kpi_facts")
# the schemas of the builds in the database (published, or left by a failed build)
BUILD_SCHEMAS = (
    "select schema_name from information_schema.schemata "
    "where schema_name like 'build%' order by all"
)


def test_failing_data_test_keeps_the_published_build(tmp_path):
    """A failing test on a model without tickets (kpi_weekly) is structural."""
    db = tmp_path / "t.duckdb"
    build(db, TICKETS).close()
    sql = _copy_sql(tmp_path)
    model = sql / "marts" / "kpi_weekly.sql"
    model.write_text(
        "-- test expression: metric <> 'escalation_rate' or value = 0\n" + model.read_text()
    )
    with pytest.raises(BuildError) as err:
        run_build(db, Config(), sql_dir=sql)
    message = str(err.value)
    # B is escalated: 1 of 2 L1 tickets overall and in the partner, client, category,
    # priority and group the two share (6 rows), and 1 of 1 for B's agent bob.
    assert "kpi_weekly: expression metric <> 'escalation_rate' or value = 0: 6 (and more)" in (
        message
    )
    assert "dimension='overall', dimension_value='all', metric='escalation_rate'" in message
    assert "value='0.5'" in message
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select build_id from meta.builds").fetchall() == [(1,)]
    assert con.execute("select count(*) from analytics.fct_tickets").fetchall() == [(2,)]
    assert con.execute(BUILD_SCHEMAS).fetchall() == [("build_1",)]


def test_broken_model_names_itself(tmp_path):
    db = tmp_path / "t.duckdb"
    load(db, TICKETS)
    sql = _with_model(tmp_path, *BROKEN_KPI_WEEKLY)
    with pytest.raises(BuildError, match=r"model kpi_weekly \(kpi_weekly.sql\) failed"):
        run_build(db, Config(), sql_dir=sql)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from meta.builds").fetchall() == [(0,)]


def test_a_failed_full_build_keeps_the_quarantine_and_removes_its_models(tmp_path):
    """Build 1 quarantines Q (priority P9). A full build whose kpi_weekly is broken
    has committed every model before it, each on its own: it fails, and leaves the
    published build, its quarantine list and the schemas as they were."""
    db = tmp_path / "t.duckdb"
    load(db, TICKETS)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into raw.tickets (ticket_id, partner, priority, _batch_id, _source_file, "
            "_line) values ('Q', 'acme', 'P9', 1, 'tickets.csv', 9)"
        )
    assert run_build(db, Config()).quarantined_tickets == 1

    def state() -> tuple[list, list, list]:
        with duckdb.connect(str(db), read_only=True) as con:
            return (
                con.execute("select build_id, ticket_id, model from meta.quarantine").fetchall(),
                con.execute("select build_id from meta.builds").fetchall(),
                con.execute(BUILD_SCHEMAS).fetchall(),
            )

    published = ([(1, "Q", "stg_tickets")], [(1,)], [("build_1",)])
    assert state() == published
    sql = _with_model(tmp_path, *BROKEN_KPI_WEEKLY)
    with pytest.raises(BuildError, match=r"model kpi_weekly \(kpi_weekly.sql\) failed"):
        run_build(db, Config(), sql_dir=sql, full=True)
    assert state() == published
    # the next build makes its list afresh: Q is still set aside, by build 2
    assert run_build(db, Config(), full=True).quarantined_tickets == 1
    assert state() == ([(2, "Q", "stg_tickets")], [(1,), (2,)], [("build_2",)])


def test_a_model_cannot_take_the_name_of_the_quarantine_list(tmp_path):
    db = tmp_path / "t.duckdb"
    load(db, TICKETS)
    sql = _with_model(tmp_path, "marts/quarantined_tickets.sql", "select 1 as ticket_id")
    with pytest.raises(BuildError, match=r"quarantined_tickets.sql: quarantined_tickets is the"):
        run_build(db, Config(), sql_dir=sql)


def test_rebuild_replaces_the_previous_build(tmp_path):
    db = tmp_path / "t.duckdb"
    build(db, TICKETS).close()

    def schemas() -> list[tuple[str]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(BUILD_SCHEMAS).fetchall()

    # nothing changed: an incremental build, on the tables of build 1
    summary = run_build(db, Config())
    assert (summary.build_id, summary.mode, schemas()) == (2, "incremental", [("build_1",)])
    summary = run_build(db, Config(), full=True)
    assert (summary.build_id, summary.mode, schemas()) == (3, "full", [("build_3",)])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from analytics.fct_tickets").fetchall() == [(2,)]


def test_partner_targets_override_status(tmp_path):
    from pipelines.config import Target

    tickets = [
        Ticket(f"P{i}", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved", "ann")])
        for i in range(20)
    ]
    config = Config(
        min_sample=5,
        partner_targets={
            "acme": {"l1_resolution_rate": Target(green_min=1.01, label="impossible")}
        },
    )
    con = build(tmp_path / "t.duckdb", tickets, config=config)
    rows = con.execute(
        """select dimension, value, target, status from analytics.kpi_weekly
           where metric = 'l1_resolution_rate' order by dimension"""
    ).fetchall()
    statuses = {r[0]: (r[1], r[2], r[3]) for r in rows if r[0] in ("overall", "partner")}
    assert statuses == {
        "overall": (1.0, ">= 70%", "green"),
        "partner": (1.0, "impossible", "amber"),
    }
