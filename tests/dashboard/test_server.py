"""The launcher's head start (dashboards/server.py) and the server options that keep
per-run work off the browser's path (pipelines/serve.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboards import server
from dashboards.pages import PAGES, VIEWS
from pipelines.presentation import queries
from pipelines.serve import APP, streamlit_command


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_served_dashboard_neither_watches_files_nor_rewrites_scripts(tmp_path: Path):
    command = streamlit_command(tmp_path / "t.duckdb", 8501)
    assert _option(command, "--server.fileWatcherType") == "none"
    assert _option(command, "--runner.magicEnabled") == "false"
    assert command.index("--runner.magicEnabled") < command.index("--")  # Streamlit's, not ours


def test_no_script_relies_on_streamlit_magic():
    """With magic off, a value standing alone on a line would no longer be drawn:
    every such line of the app's scripts is a call (drawn by itself) or a docstring."""
    for script in [APP, *(VIEWS / file for file, _, _ in PAGES.values())]:
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call):
                is_text = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                assert is_text, f"{script.name}:{node.lineno} relies on magic"


def test_the_launcher_opens_the_snapshot_a_new_session_serves(
    sample_db: Path, snapshot: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("TIERLENS_DB", raising=False)
    monkeypatch.setattr(
        "sys.argv",
        ["server.py", "run", str(APP), "--server.port", "1", "--", "--db", str(sample_db)],
    )
    assert server.open_snapshot() == snapshot
    misses = queries._connection.cache_info().misses
    queries.cursor(snapshot)  # what the app's first query asks for: already open
    assert queries._connection.cache_info().misses == misses


def test_the_launcher_starts_without_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No database, or a pointer naming nothing: no head start, and no error (the app
    explains it to the visitor)."""
    monkeypatch.delenv("TIERLENS_DB", raising=False)
    monkeypatch.setattr(
        "sys.argv", ["server.py", "run", str(APP), "--", "--db", str(tmp_path / "x")]
    )
    assert server.open_snapshot() is None
    (tmp_path / "x.serving").mkdir()
    (tmp_path / "x.serving" / "current.json").write_text("{not json", encoding="utf-8")
    assert server.open_snapshot() is None
