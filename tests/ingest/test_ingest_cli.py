"""`tierlens ingest` through the CLI: messages and exit codes, never a traceback."""

from __future__ import annotations

from pathlib import Path

from ingest_helpers import EVENTS_HEADER, count
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, ["ingest", *args])


def test_missing_file_exit_2_without_traceback(tmp_path: Path, db: Path) -> None:
    result = _invoke(str(tmp_path / "missing.csv"), "--db", str(db))
    assert result.exit_code == 2
    assert "missing.csv: no such file" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_file_error_exit_2(make, db: Path) -> None:
    path = make("events.csv", "ticket_id,event_at,status,status\nT1,2024-01-01,New,New\n")
    result = _invoke(str(path), "--db", str(db))
    assert result.exit_code == 2
    assert "column 'status' appears twice in the header (columns 3 and 4)" in result.output
    assert "Traceback" not in result.output


def test_report_and_strict(make, db: Path) -> None:
    path = make("events.csv", EVENTS_HEADER + "\n"
                "T1,2024-01-01 10:00,,SD,L1,ann,New,,\n"
                "T1,whenever,,SD,L1,ann,Closed,,\n")
    result = _invoke(str(path), "--db", str(db), "--strict", "--source", "sn")
    assert result.exit_code == 1
    assert "1 rows rejected" in result.output
    assert "unparseable timestamp 'whenever' in event_at" in result.output
    assert count(db, "raw.events") == 1  # --strict reports; the good rows are kept

    again = _invoke(str(path), "--db", str(db))
    assert again.exit_code == 0
    assert "already loaded in batch 1" in again.output


def test_clean_file_exit_0(make, db: Path) -> None:
    path = make("tickets.csv", "ticket_id,client,colour\nT1,Acme,red\n")
    result = _invoke(str(path), "--db", str(db), "--strict")
    assert result.exit_code == 0, result.output
    assert "ignored columns: colour" in result.output
    assert count(db, "raw.tickets") == 1
