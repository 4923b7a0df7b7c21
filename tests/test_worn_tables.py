"""Tables patched in place keep their deleted rows (Tierlens' connections checkpoint
without DuckDB's vacuum) until those reach WORN_SHARE of the stored rows; then the
writer patching the table writes it whole (pipelines/db.py).

The refresh's side of it (build tables and snapshot) is in
tests/models/test_incremental.py, whose property test runs with the share at 0
(every patched table written whole) and at its default."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from hypothesis import given, settings, strategies as st

from pipelines import db
from pipelines.db import connect, deleted_share, is_worn, rewrite_if_worn
from pipelines.ingest.job import run_ingest

TICKETS_HEADER = "ticket_id,partner,client,opened_at,priority,category\n"


def _stored_and_live(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    schema, name = table.split(".")
    stored = con.execute(
        "select estimated_size from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, name],
    ).fetchall()[0][0]
    live = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    return stored, live


def test_a_writable_connection_never_vacuums(tmp_path: Path):
    con = connect(tmp_path / "t.duckdb")
    try:
        assert con.execute("select current_setting('max_vacuum_tasks')").fetchall() == [(0,)]
    finally:
        con.close()


# DuckDB's rows per row group: a row group whose rows are all deleted is dropped at
# the checkpoint, vacuum or not, so its rows are no longer stored at all.
ROW_GROUP = 122_880


def _expected_share(n_rows: int, deleted_in: Callable[[int, int], int]) -> float:
    """Deleted rows over stored rows, row group by row group (rows 0..n-1 in order;
    `deleted_in(lo, hi)` counts the deleted ones in [lo, hi))."""
    stored = deleted = 0
    for lo in range(0, n_rows, ROW_GROUP):
        hi = min(lo + ROW_GROUP, n_rows)
        gone = deleted_in(lo, hi)
        if gone < hi - lo:
            stored, deleted = stored + hi - lo, deleted + gone
    return deleted / stored if stored else 0.0


@settings(max_examples=25, deadline=None)
@given(
    n_rows=st.integers(1, 400_000),
    every=st.one_of(st.none(), st.integers(1, 20)),
    deleted=st.floats(0, 1),
)
def test_the_deleted_share_counts_the_rows_deleted_since_the_table_was_written(
    n_rows: int, every: int | None, deleted: float
):
    """Rows deleted anywhere in the table (every k-th row, or a first block) are
    counted, across commits and checkpoints, until the table is written whole."""
    if every is None:  # the first rows
        gone = int(n_rows * deleted)
        where = f"i < {gone}"
        expected = _expected_share(n_rows, lambda lo, hi: max(0, min(hi, gone) - lo))
    else:  # scattered: every k-th row
        where = f"i % {every} = 0"
        expected = _expected_share(n_rows, lambda lo, hi: (hi - 1) // every - (lo - 1) // every)
    folder = tempfile.TemporaryDirectory()
    con = duckdb.connect(str(Path(folder.name) / "t.duckdb"))
    try:
        con.execute("set max_vacuum_tasks = 0")
        con.execute("create schema s")
        con.execute("create table s.t (i bigint not null, label varchar)")
        con.execute(f"insert into s.t select range, 'row ' || range from range({n_rows})")
        con.execute("checkpoint")
        assert deleted_share(con, "s", "t") == 0
        con.execute(f"delete from s.t where {where}")
        con.execute("checkpoint")
        assert deleted_share(con, "s", "t") == pytest.approx(expected)
        assert is_worn(con, "s", "t") == (expected >= db.WORN_SHARE)
        before = con.execute("select i, label from s.t order by i").fetchall()

        con.execute("begin")
        rewritten = rewrite_if_worn(con, "s", "t")
        con.execute("commit")
        con.execute("checkpoint")
        assert rewritten == (expected >= db.WORN_SHARE)
        if rewritten:
            assert deleted_share(con, "s", "t") == 0
        assert con.execute("select i, label from s.t order by i").fetchall() == before
    finally:
        con.close()
        folder.cleanup()


def test_a_rewrite_keeps_the_table_definition(tmp_path: Path):
    con = connect(tmp_path / "t.duckdb")
    try:
        con.execute(
            "insert into raw.tickets (ticket_id, partner, _batch_id, _source_file, _line) "
            "select 'T' || range, 'acme', 1, 'f.csv', range from range(1000)"
        )
        con.execute("delete from raw.tickets where _line < 500")
        con.execute("checkpoint")
        assert rewrite_if_worn(con, "raw", "tickets")
        con.execute("checkpoint")
        assert _stored_and_live(con, "raw.tickets") == (500, 500)
        with pytest.raises(duckdb.ConstraintException):
            con.execute("insert into raw.tickets (ticket_id, partner) values ('X', 'acme')")
    finally:
        con.close()


def _export(folder: Path, name: str, priority: str, tickets: range) -> Path:
    path = folder / name
    rows = "".join(
        f"T{i},acme,c1,2024-03-04T09:00:00Z,{priority},software\n" for i in tickets
    )
    path.write_text(TICKETS_HEADER + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize("share", [0.0, 0.2, 1.01])
def test_an_ingest_that_replaces_tickets_writes_raw_tickets_whole_once_worn(
    tmp_path: Path, share: float
):
    """Each export replaces 300 other tickets of the first 1,000: raw.tickets keeps
    their old rows until they reach the share, and always holds each ticket's
    latest row."""
    database = tmp_path / "t.duckdb"
    run_ingest([_export(tmp_path, "first.csv", "P3", range(1000))], database, progress=False)
    shares = []
    with mock.patch.object(db, "WORN_SHARE", share):
        for k in range(3):
            run_ingest(
                [_export(tmp_path, f"change_{k}.csv", "P1", range(300 * k, 300 * (k + 1)))],
                database,
                progress=False,
                kind="tickets",
            )
            con = duckdb.connect(str(database), read_only=True)
            try:
                shares.append(round(deleted_share(con, "raw", "tickets"), 4))
                counts = con.execute("select priority, count(*) from raw.tickets group by all")
                assert dict(counts.fetchall()) == {"P1": 300 * (k + 1), "P3": 1000 - 300 * (k + 1)}
            finally:
                con.close()
    # Never written whole: 300 replaced of 1,300 stored, 600 of 1,600, 900 of 1,900.
    # Written whole when the share is reached, before the ingest's own deletes: those
    # then fall on rows its transaction wrote, which are never stored (0).
    expected = {
        0.0: [0.0, 0.0, 0.0],
        0.2: [0.2308, 0.0, 0.2308],
        1.01: [0.2308, 0.375, 0.4737],
    }[share]
    assert shares == expected, shares
