"""The database file as commands find it: missing (they say how to create it, and
never create an empty one), or held by another process (they wait for it, then say
so plainly). Never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import pipelines.db as db_module
from pipelines.cli import app
from pipelines.db import DatabaseBusy, connect

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.duckdb"
    connect(path).close()
    return path


def test_busy_database_is_named_with_its_holder(db: Path) -> None:
    holder = _hold(db, 30)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as caught:
            connect(db, wait_seconds=0.6)
        assert time.monotonic() - started >= 0.6  # it waited before giving up
        message = str(caught.value)
        assert f"{db} is in use by another process" in message
        assert f"PID {holder.pid}" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_short_hold_is_waited_out(db: Path) -> None:
    holder = _hold(db, 1.0)
    try:
        con = connect(db, wait_seconds=20)  # the holder exits after a second
        assert con.execute("select count(*) from raw.events").fetchone() == (0,)
        con.close()
    finally:
        holder.wait()


def test_command_on_a_busy_database_exits_2_with_a_message(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "LOCK_WAIT_SECONDS", 0.3)
    holder = _hold(db, 30)
    try:
        result = CliRunner().invoke(app, ["build", "--db", str(db)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "is in use by another process" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["kpis"],
        ["export", "out.parquet"],
        ["reconcile"],
        ["review", "sample"],
        ["review", "estimate", "S1"],
        ["report", "--out", "week.html"],
    ],
)
def test_missing_database_is_named_and_not_created(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nope.duckdb"
    result = CliRunner().invoke(app, [*command, "--db", str(missing)])
    assert result.exit_code == 2, result.output
    assert f"{missing}: no such database" in " ".join(result.output.split())
    assert not missing.exists()
    assert "Traceback" not in result.output
