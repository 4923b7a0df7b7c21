"""Model discovery: layers, dependencies read from the SQL, and schema-qualified
references to models refused (see the docstring of pipelines/models/graph.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.config import Config
from pipelines.errors import BuildError
from pipelines.models.graph import LAYERS, discover
from pipelines.models.runner import run_build
from tests.models.timelines import Ev, Ticket, load


def _sql_dir(tmp_path: Path, models: dict[str, str]) -> Path:
    """A tiny sql/ folder: {"marts/b": "select ..."} -> sql/marts/b.sql."""
    sql = tmp_path / "sql"
    for layer in LAYERS:
        (sql / layer).mkdir(parents=True)
    for name, text in models.items():
        (sql / f"{name}.sql").write_text(text, encoding="utf-8")
    return sql


def test_a_bare_reference_is_a_dependency_across_layers(tmp_path: Path):
    """s (serving) reads m (marts) reads a (staging): built a, m, s, whatever the
    file order; raw, config and meta are inputs, not models."""
    sql = _sql_dir(
        tmp_path,
        {
            "staging/a": "select * from raw.events",
            "marts/m": "with r as (select * from a) select * from r join config.settings on true",
            "serving/s": "select * from m join meta.quarantine using (ticket_id)",
        },
    )
    models = discover(sql)
    assert [(m.name, m.layer, set(m.depends_on)) for m in models] == [
        ("a", "staging", set()),
        ("m", "marts", {"a"}),
        ("s", "serving", {"m"}),
    ]


@pytest.mark.parametrize(
    "reference",
    ["analytics.a", "build_7.a", "main.a", '"Analytics"."a"', "analytics.not_a_model"],
)
def test_a_schema_qualified_model_reference_is_refused(tmp_path: Path, reference: str):
    sql = _sql_dir(
        tmp_path,
        {"staging/a": "select 1 as x", "marts/b": f"select x from {reference}"},
    )
    with pytest.raises(BuildError) as err:
        discover(sql)
    message = str(err.value)
    assert "\n" not in message
    shown = reference.replace('"', "")
    assert message.startswith(f"{sql / 'marts' / 'b.sql'}: reads {shown}: ")
    assert "bare name" in message


def test_a_reference_in_another_database_is_refused(tmp_path: Path):
    sql = _sql_dir(tmp_path, {"staging/a": "select * from other.raw.events"})
    with pytest.raises(BuildError, match=r"a\.sql: reads other\.raw\.events: "):
        discover(sql)


def test_the_build_refuses_a_model_reading_the_published_build(tmp_path: Path):
    """A mart reading analytics.fct_tickets would read the previous build: the build
    stops before running any model, naming the file and the reference."""
    import shutil

    from pipelines.models.graph import SQL_DIR

    db = tmp_path / "t.duckdb"
    load(db, [Ticket("A", [Ev(0, "SD-L1", "L1", "New"), Ev(5, "SD-L1", "L1", "Resolved")])])
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    (sql / "marts" / "fct_open.sql").write_text(
        "-- test unique: ticket_id\n"
        "select ticket_id from analytics.fct_tickets where state = 'open'\n"
    )
    with pytest.raises(BuildError, match=r"fct_open\.sql: reads analytics\.fct_tickets: "):
        run_build(db, Config(), sql_dir=sql)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from meta.builds").fetchall() == [(0,)]


def test_a_cte_named_like_a_model_is_refused(tmp_path: Path):
    """`with a as (select * from a)` would read the model a and hide the edge."""
    sql = _sql_dir(
        tmp_path,
        {"staging/a": "select 1 as x", "marts/b": "with a as (select * from a) select x from a"},
    )
    with pytest.raises(BuildError, match=r"b\.sql: the CTE a has the name of a model"):
        discover(sql)
