"""Paths and a query helper for the adapter tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
