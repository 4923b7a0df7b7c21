"""Writing one validated file into raw.* and meta.*, inside the caller's transaction.

Tickets are upserted by ticket_id: the batch's rows replace any stored row with the
same id (latest batch wins). Within one file a repeated ticket_id keeps its last
row; the earlier rows count as loaded (they were valid) but are superseded.
`rows_new` for tickets = tickets whose id was not stored before.

Events are deduplicated on EVENT_NATURAL_KEY (null-safe): a row equal to a stored
event, or to an earlier row of the same file, counts as loaded but is not inserted.
`rows_new` for events = rows actually inserted.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from pipelines.db import EVENT_COLUMNS, EVENT_NATURAL_KEY, TICKET_COLUMNS, rewrite_if_worn
from pipelines.ingest.readers import sql_str

# DuckDB may use 80% of the RAM by default; a large ingest or build then grows the
# process to many gigabytes (9 GB for a million tickets) where it could spill to
# disk instead. Under 1.5 GB a million tickets peak below 2 GB and ten million
# still complete, since a full build commits each model on its own (a single
# transaction held every new table: int_tickets failed at 10M; docs/performance.md).
# TIERLENS_MEMORY_LIMIT (a DuckDB size, e.g. "6GB") overrides this.
DEFAULT_MEMORY_LIMIT_GB = 1.5


def apply_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """Cap DuckDB's memory at 1.5 GB (or 80% of a smaller RAM), spilling beyond it."""
    limit = os.environ.get("TIERLENS_MEMORY_LIMIT")
    if not limit:
        try:
            ram_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
        except (ValueError, OSError, AttributeError):
            return
        limit = f"{min(DEFAULT_MEMORY_LIMIT_GB, 0.8 * ram_gb):.1f}GB"
    con.execute(f"set memory_limit = {sql_str(limit)}")


@dataclass(frozen=True)
class LoadCounts:
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_new: int


@dataclass(frozen=True)
class BatchInfo:
    batch_id: int
    source: str
    kind: str
    file_path: str
    content_hash: str
    started_at: datetime


def next_batch_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("select nextval('meta.batch_ids')").fetchone()
    assert row is not None
    return int(row[0])


def find_loaded_batch(
    con: duckdb.DuckDBPyConnection, content_hash: str, kind: str | None = None
) -> int | None:
    """The batch that already loaded a file with these bytes (as `kind`, if given)."""
    row = con.execute(
        "select min(batch_id) from meta.batches where content_hash = ? and (? is null or kind = ?)",
        [content_hash, kind, kind],
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def insert_rejects(
    con: duckdb.DuckDBPyConnection, typed: str, batch: BatchInfo, lines: str | None = None
) -> int:
    """Rejected rows to meta.rejects; their text from `lines` (ln, raw) when given."""
    raw, join = "t._raw_line", ""
    if lines is not None:
        raw, join = "coalesce(t._raw_line, l.raw)", f"left join {lines} l on l.ln = t._line"
    con.execute(
        f"""insert into meta.rejects (batch_id, source_file, line, raw_line, reason)
            select {batch.batch_id}, {sql_str(batch.file_path)}, t._line, {raw},
                t._reject_reason
            from (select * from {typed} where _reject_reason is not null) t {join}
            order by t._line"""
    )
    row = con.execute(f"select count(_reject_reason) from {typed}").fetchone()
    return int(row[0]) if row else 0


def insert_notices(
    con: duckdb.DuckDBPyConnection, batch: BatchInfo, lines: Sequence[int], notice: str
) -> None:
    """Lines loaded with a notice (e.g. bytes read as Windows-1252) to meta.notices."""
    con.execute(
        """insert into meta.notices (batch_id, source_file, line, notice)
           select ?, ?, unnest(?::bigint[]), ?""",
        [batch.batch_id, batch.file_path, list(lines), notice],
    )


def _lineage(batch: BatchInfo) -> str:
    return f"{batch.batch_id}, {sql_str(batch.file_path)}, _line"


def upsert_tickets(
    con: duckdb.DuckDBPyConnection,
    typed: str,
    batch: BatchInfo,
    present: Collection[str] | None = None,
) -> int:
    """Merge this batch's rows into the stored tickets; returns the number of new ids.

    A new ticket is inserted as it is. A stored ticket takes the batch's values only
    for the columns the file has (`present`, default all): a column a file lacks
    never overwrites what is stored. When the stored and the new row both carry
    updated_at (the export's own time of the row), the newer wins; a row of a file
    with updated_at whose own time is missing or unreadable loses to a stored row
    with a time; otherwise the later batch wins. A row that loses still fills the
    stored row's blanks. Within
    one file, a repeated ticket_id keeps its newest row (updated_at, then line)."""
    cols = [c for c in TICKET_COLUMNS if c != "ticket_id"]
    given = set(cols if present is None else present)
    latest, merged = f"{typed}_latest", f"{typed}_merged"
    # The new row wins when it is new, when the stored row has no time, or when it is
    # at least as new. A row of a file without updated_at has no time to compare: the
    # later batch wins. A row of a file with the column whose own time is missing or
    # unreadable cannot show it is newer than a stored row that has one: it only
    # fills blanks (a damaged snapshot must not replace a later one).
    unknown = "" if "updated_at" in given else " or l.updated_at is null"
    wins = f"(t.ticket_id is null or t.updated_at is null{unknown} or l.updated_at >= t.updated_at)"

    def pick(c: str) -> str:
        if c not in given:  # the file does not have it: keep what is stored
            return f"case when t.ticket_id is null then l.{c} else t.{c} end"
        return f"case when {wins} then l.{c} else coalesce(t.{c}, l.{c}) end"

    lineage = [
        f"case when {wins} then {v} else t.{c} end as {c}"
        for c, v in (("_batch_id", str(batch.batch_id)),
                     ("_source_file", sql_str(batch.file_path)), ("_line", "l._line"))
    ]
    # the newest row of each ticket: a window, unless no ticket_id repeats (then every
    # row is its ticket's newest, and a view of the good rows is the same rows)
    row = con.execute(
        f"""select count(*) = count(distinct ticket_id) from {typed}
            where _reject_reason is null"""
    ).fetchone()
    repeated = not (row and row[0])
    con.execute(
        f"""create or replace temp view {latest} as
            select * from {typed} where _reject_reason is null"""
        if not repeated else
        f"""create or replace temp table {latest} as
            select * from {typed} where _reject_reason is null
            qualify row_number() over (
                partition by ticket_id order by updated_at desc nulls last, _line desc) = 1"""
    )
    try:
        names = ", ".join(["ticket_id", *cols, "_batch_id", "_source_file", "_line"])
        if not con.execute("select exists (select 1 from raw.tickets)").fetchall()[0][0]:
            # a first load: every row is new, there is nothing to merge with
            row = con.execute(
                f"""insert into raw.tickets ({names})
                    select ticket_id, {", ".join(cols)}, {_lineage(batch)}
                    from {latest} order by _line"""
            ).fetchone()
            return int(row[0]) if row else 0
        con.execute(
            f"""create or replace temp table {merged} as
                select l.ticket_id, {", ".join(f"{pick(c)} as {c}" for c in cols)},
                    {", ".join(lineage)}, t.ticket_id is null as _is_new
                from {latest} l left join raw.tickets t on t.ticket_id = l.ticket_id"""
        )
        row = con.execute(f"select count(*) filter (where _is_new) from {merged}").fetchone()
        new = int(row[0]) if row else 0
        rewrite_if_worn(con, "raw", "tickets")  # the rows replaced before, once they add up
        con.execute(
            f"delete from raw.tickets where ticket_id in (select ticket_id from {merged})"
        )
        con.execute(
            f"""insert into raw.tickets ({names})
                select {names} from {merged} order by _line"""
        )
    finally:
        con.execute(f"drop {'table' if repeated else 'view'} if exists {latest}")
        con.execute(f"drop table if exists {merged}")
    return new


def insert_events(con: duckdb.DuckDBPyConnection, typed: str, batch: BatchInfo) -> int:
    """Insert events not already stored (null-safe natural key); returns rows inserted.

    The exact deduplication (a window over the natural key, an anti-join with the
    stored events) is the most expensive step of a large ingest, and most files
    need neither: when every row's hash of the natural key is distinct, no two rows
    share a key (equal keys have equal hashes), and with no stored events there is
    nothing to join. Those files are inserted as they are, in file order."""
    cols = ", ".join(EVENT_COLUMNS)
    key = ", ".join(EVENT_NATURAL_KEY)
    # _key_hash: each row's hash of the natural key, computed by validation
    row = con.execute(
        f"""select count(*) = count(distinct _key_hash) from {typed}
            where _reject_reason is null"""
    ).fetchone()
    distinct_in_file = bool(row and row[0])
    stored = con.execute("select exists (select 1 from raw.events)").fetchone()
    if distinct_in_file and not (stored and stored[0]):
        row = con.execute(
            f"""insert into raw.events ({cols}, _batch_id, _source_file, _line)
                select {cols}, {_lineage(batch)} from {typed}
                where _reject_reason is null"""
        ).fetchone()
        return int(row[0]) if row else 0
    same = " and ".join(f"e.{k} is not distinct from n.{k}" for k in EVENT_NATURAL_KEY)
    row = con.execute(
        f"""insert into raw.events ({cols}, _batch_id, _source_file, _line)
            select {cols}, {_lineage(batch)} from (
                select * from {typed} where _reject_reason is null
                qualify row_number() over (partition by {key} order by _line) = 1
            ) n
            where not exists (select 1 from raw.events e where {same})
            order by _line"""
    ).fetchone()
    return int(row[0]) if row else 0


def record_batch(
    con: duckdb.DuckDBPyConnection, batch: BatchInfo, counts: LoadCounts
) -> None:
    con.execute(
        """insert into meta.batches (batch_id, source, kind, file_path, content_hash,
               started_at, finished_at, rows_read, rows_loaded, rows_rejected, rows_new)
           values (?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?)""",
        [
            batch.batch_id, batch.source, batch.kind, batch.file_path, batch.content_hash,
            batch.started_at.isoformat(), datetime.now(UTC).isoformat(), counts.rows_read,
            counts.rows_loaded, counts.rows_rejected, counts.rows_new,
        ],
    )


def load_batch(
    con: duckdb.DuckDBPyConnection,
    typed: str,
    batch: BatchInfo,
    lines: str | None = None,
    present: Collection[str] | None = None,
) -> LoadCounts:
    """Rejects to meta.rejects (their text from `lines` when given), good rows to
    raw.<kind> (tickets: merged, only the `present` columns), one row to meta.batches."""
    row = con.execute(f"select count(*) from {typed}").fetchone()
    read = int(row[0]) if row else 0
    rejected = insert_rejects(con, typed, batch, lines)
    if batch.kind == "tickets":
        new = upsert_tickets(con, typed, batch, present)
    else:
        new = insert_events(con, typed, batch)
    counts = LoadCounts(read, read - rejected, rejected, new)
    record_batch(con, batch, counts)
    return counts
