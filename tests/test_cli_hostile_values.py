"""Issue 11's reproductions, each through the real command line as a subprocess:
bad TIERLENS_* values, bad --port values, names from the data that look like rich
markup, and a mapping file with a format or pattern DuckDB refuses. Each is one
line naming what to fix (exit 2), or the data printed exactly as it is."""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipelines.config import Config
from pipelines.db import connect
from pipelines.environment import EnvironmentSettingError, lock_wait_seconds
from pipelines.ingest.job import run_ingest
from pipelines.models.runner import run_build
from pipelines.sample.generator import write_sample
from tests.cli_run import one_line_error, tierlens

EVIL = "Evil [/] Corp"
# rich would read these as markup or emoji codes: they must come out as written
EVIL_CLIENT = ":thumbs_up: [bold]Fab[/bold] [link=x]"
EVIL_AGENT = "[/]agent"


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A built database whose partner, client and agent names look like markup;
    returns (database, tickets.csv as loaded)."""
    folder = tmp_path_factory.mktemp("evil")
    data = folder / "data"
    write_sample(data, n_tickets=200, seed=5)
    tickets = (data / "tickets.csv").read_text()
    tickets = tickets.replace(",Acme,", f",{EVIL},").replace(",Fabrikam,", f',"{EVIL_CLIENT}",')
    (data / "tickets.csv").write_text(tickets)
    events = (data / "events.csv").read_text().replace(",acme07,", f",{EVIL_AGENT},")
    (data / "events.csv").write_text(events)
    db = folder / "evil.duckdb"
    run_ingest([data], db_path=db, config=Config(), source="sample")
    run_build(db, Config())
    return db, data / "tickets.csv"


def _column(path: Path, name: str) -> set[str]:
    return {row[name] for row in csv.DictReader(io.StringIO(path.read_text()))}


# ---------------------------------------------------------------- names from the data


def test_kpis_by_partner_prints_markup_like_names_as_written(evil, tmp_path: Path) -> None:
    db, tickets = evil
    assert EVIL in _column(tickets, "partner")
    run = tierlens("kpis", "--db", db, "--by", "partner", cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert f"│ {EVIL} " in run.out

    run = tierlens("kpis", "--db", db, "--by", "partner", "--format", "csv", cwd=tmp_path)
    assert run.code == 0, run.describe()
    printed = {row["partner"] for row in csv.DictReader(io.StringIO(run.out))}
    assert printed == _column(tickets, "partner")


@pytest.mark.parametrize(("by", "name"), [("client", EVIL_CLIENT), ("agent", EVIL_AGENT)])
def test_kpis_by_client_and_agent_print_names_as_written(
    evil, tmp_path: Path, by: str, name: str
) -> None:
    run = tierlens("kpis", "--db", evil[0], "--by", by, cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert f"│ {name} " in run.out  # no emoji, no bold, no link, no error


def test_report_and_review_of_a_markup_like_partner(evil, tmp_path: Path) -> None:
    db = evil[0]
    out = tmp_path / "[red]r[/].html"
    run = tierlens("report", "--db", db, "--partner", EVIL, "--out", out, cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert run.out.strip().endswith(f"to {out}")
    assert EVIL in out.read_text()

    run = tierlens("review", "sample", "--db", db, "--partner", EVIL, "--n", "3", cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert f"partner {EVIL}" in run.out
    assert f"│ {EVIL} |" in run.out  # the stratum column: partner | category | suspicion

    run = tierlens("review", "estimate", "[/]nope", "--db", db, cwd=tmp_path)
    assert one_line_error(run) == (
        f"error: no sample '[/]nope' in {db} (see `tierlens review sample`)"
    )

    run = tierlens("reconcile", "--db", db, cwd=tmp_path)
    assert run.code == 0, run.describe()


def test_ingest_names_a_markup_like_file_as_written(evil, tmp_path: Path) -> None:
    folder = tmp_path / "in[" / "]x"  # in[/]x: a closing tag to rich
    folder.mkdir(parents=True)
    shutil.copy(evil[1], folder / "[bold]tickets.csv")
    run = tierlens("ingest", "in[/]x", "--db", tmp_path / "t.duckdb", cwd=tmp_path)
    assert run.code == 0, run.describe()
    assert "│ in[/]x/[bold]tickets.csv " in run.out  # as given, in the table

    run = tierlens("kpis", "--db", tmp_path / "[/]missing.duckdb", cwd=tmp_path)
    assert one_line_error(run).startswith(f"error: {tmp_path}/[/]missing.duckdb: no such database")


# ---------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIERLENS_LOCK_WAIT", "abc"),
        ("TIERLENS_LOCK_WAIT", "-1"),
        ("TIERLENS_LOCK_WAIT", "nan"),
        ("TIERLENS_LOCK_WAIT", "inf"),
        ("TIERLENS_LOCK_WAIT", "15s"),
        ("TIERLENS_MEMORY_LIMIT", "abc"),
        ("TIERLENS_MEMORY_LIMIT", "4"),  # no unit: DuckDB refuses it mid-ingest
        ("TIERLENS_MEMORY_LIMIT", "10KB"),  # DuckDB runs out of memory at once
        ("TIERLENS_MEMORY_LIMIT", "0%"),
        ("TIERLENS_MEMORY_LIMIT", "1GB'; drop"),
    ],
)
def test_a_bad_environment_value_is_one_line_naming_it(
    evil, tmp_path: Path, name: str, value: str
) -> None:
    run = tierlens("kpis", "--db", evil[0], cwd=tmp_path, env={name: value})
    line = one_line_error(run)
    assert line.startswith(f"error: environment variable {name}={value!r}: expected ")
    assert line.endswith("; fix or unset it")


def test_good_environment_values_are_used(evil, tmp_path: Path) -> None:
    env = {"TIERLENS_LOCK_WAIT": "0", "TIERLENS_MEMORY_LIMIT": "512MB"}
    db = tmp_path / "t.duckdb"
    run = tierlens("ingest", evil[1], "--db", db, cwd=tmp_path, env=env)
    assert run.code == 0, run.describe()
    with connect(db, read_only=True) as con:
        loaded = con.execute("select count(*) from raw.tickets").fetchone()
    assert loaded == (len(evil[1].read_text().strip().splitlines()) - 1,)


# what an environment variable can hold: any text but NUL (and no lone surrogates)
_ENV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))
_NUMBERS = st.floats(allow_nan=False, allow_infinity=False).map(repr)


@settings(max_examples=int(os.environ.get("TIERLENS_FUZZ_EXAMPLES", "60")), deadline=None)
@given(value=st.one_of(_ENV_TEXT, _NUMBERS))
def test_lock_wait_is_a_number_of_seconds_or_a_message(value: str) -> None:
    before = os.environ.get("TIERLENS_LOCK_WAIT")
    os.environ["TIERLENS_LOCK_WAIT"] = value
    try:
        try:
            seconds = lock_wait_seconds()
        except EnvironmentSettingError as exc:
            assert str(exc).startswith(f"environment variable TIERLENS_LOCK_WAIT={value!r}")
            try:
                parsed = float(value)
            except ValueError:
                return
            assert not (math.isfinite(parsed) and 0 <= parsed <= 86_400)
            return
        if value.strip():
            assert seconds == float(value) and 0 <= seconds <= 86_400
        else:
            assert seconds == 15
    finally:
        if before is None:
            del os.environ["TIERLENS_LOCK_WAIT"]
        else:
            os.environ["TIERLENS_LOCK_WAIT"] = before


# ---------------------------------------------------------------- dashboard --port


@pytest.mark.parametrize("port", ["0", "99999", "-1", "65536"])
def test_a_port_out_of_range_is_one_line(evil, tmp_path: Path, port: str) -> None:
    run = tierlens("dashboard", "--db", evil[0], "--port", port, cwd=tmp_path)
    assert one_line_error(run) == (
        f"error: --port {port}: not a port; give a number from 1 to 65535 (default 8501)"
    )


def test_a_port_in_use_is_one_line(evil, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = tierlens("dashboard", "--db", evil[0], "--port", port, cwd=tmp_path)
        assert one_line_error(run).startswith(f"error: --port {port}: the port is already in use")
        run = tierlens("demo", "--db", tmp_path / "demo.duckdb", "--port", port, cwd=tmp_path)
        assert one_line_error(run).startswith(f"error: --port {port}: the port is already in use")
    assert not (tmp_path / "sample_data").exists()  # the demo stopped before its work


# ---------------------------------------------------------------- mapping files

MAPPING = """[source]
kind = "tickets"
[columns]
ticket_id = {ticket_id}
opened_at = "opened_at"
partner = "partner"
[timestamps]
format = {fmt}
"""


@pytest.mark.parametrize(
    ("ticket_id", "fmt", "key", "says"),
    [
        ('"ticket_id"', "'%Q-%m'", "timestamps.format", "bad strptime format '%Q-%m'"),
        ('"ticket_id"', "'%'", "timestamps.format", "bad strptime format '%'"),
        ('"ticket_id"', "'2024-01-01'", "timestamps.format", "it has no % directive"),
        # valid in Python, refused by DuckDB's RE2: look-ahead, back-reference
        ("{ column = 'ticket_id', pattern = '(?=T)(T.*)' }", "'auto'",
         "columns.ticket_id.pattern", "invalid perl operator"),
        ("{ column = 'ticket_id', pattern = '(T)\\1' }", "'auto'",
         "columns.ticket_id.pattern", "invalid escape sequence"),
    ],
)
def test_a_mapping_duckdb_refuses_is_one_line_naming_file_and_key(
    evil, tmp_path: Path, ticket_id: str, fmt: str, key: str, says: str
) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.format(ticket_id=ticket_id, fmt=fmt))
    db = tmp_path / "m.duckdb"
    run = tierlens("ingest", "--format", "mapped", "--mapping", mapping, evil[1], "--db", db,
                   cwd=tmp_path)
    line = one_line_error(run)
    assert line.startswith(f"error: {mapping}: invalid mapping: {key}: ")
    assert says in line
    assert not db.exists()  # refused before anything was opened


def test_a_good_format_still_reads_the_timestamps(evil, tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.format(ticket_id='"ticket_id"', fmt="'%Y-%m-%dT%H:%M:%SZ'"))
    db = tmp_path / "m.duckdb"
    run = tierlens("ingest", "--format", "mapped", "--mapping", mapping, evil[1], "--db", db,
                   cwd=tmp_path)
    assert run.code == 0, run.describe()
    first = next(csv.DictReader(io.StringIO(evil[1].read_text())))
    with connect(db, read_only=True) as con:
        got = con.execute(
            "select strftime(opened_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ') "
            "from raw.tickets where ticket_id = ?", [first["ticket_id"]]
        ).fetchone()
    assert got == (first["opened_at"],)
