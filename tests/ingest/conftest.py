"""Fixtures for the ingest tests (helpers live in ingest_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_helpers import write


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture
def make(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def _make(name: str, content: str | bytes) -> Path:
        return write(tmp_path / name, content)

    return _make
