"""The DuckDB file: connecting, and the raw/meta tables that ingest writes.

Schemas:
  raw       canonical tickets and events, with lineage (_batch_id, _source_file, _line)
  meta      ingest batches and rejects, builds, the tickets the last build quarantined
  config    lookup tables written from tierlens.toml at build time
  analytics views over the last complete build (what readers query)
  build_N   the tables of build N (analytics points at exactly one of them)
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    import polars as pl

from pipelines.environment import lock_wait_seconds
from pipelines.errors import TierlensError

DEFAULT_DB = "tierlens.duckdb"

TICKET_COLUMNS: dict[str, str] = {
    "ticket_id": "varchar not null",
    "partner": "varchar not null",
    "client": "varchar",
    "opened_at": "timestamptz",
    "priority": "varchar",
    "category": "varchar",
    "subcategory": "varchar",
    "channel": "varchar",
    "resolution_code": "varchar",
    "kb_article_id": "varchar",
    "sla_due_at": "timestamptz",
    "sla_met": "boolean",
    "reported_reassignment_count": "integer",
    "reported_reopen_count": "integer",
    "first_contact_resolved": "boolean",
    # the export's own time of the row: the newer row wins a merge (ingest/load.py);
    # added last, so databases made before it get it by `alter table`
    "updated_at": "timestamptz",
}

EVENT_COLUMNS: dict[str, str] = {
    "ticket_id": "varchar not null",
    "event_at": "timestamptz not null",
    "seq": "bigint not null",
    "group_name": "varchar",
    "tier": "varchar",
    "agent": "varchar",
    "status": "varchar",
    "note_kind": "varchar",
    "note_text": "varchar",
}

LINEAGE_COLUMNS: dict[str, str] = {
    "_batch_id": "bigint not null",
    "_source_file": "varchar not null",
    "_line": "bigint not null",
}

# Natural key of an event: two rows agreeing on all of these are the same change.
EVENT_NATURAL_KEY: tuple[str, ...] = (
    "ticket_id",
    "event_at",
    "group_name",
    "tier",
    "agent",
    "status",
    "note_kind",
    "note_text",
)


def _columns_sql(*groups: dict[str, str]) -> str:
    return ",\n    ".join(f"{name} {kind}" for g in groups for name, kind in g.items())


DDL = f"""
create schema if not exists raw;
create schema if not exists meta;
create schema if not exists config;
create schema if not exists analytics;
create sequence if not exists meta.batch_ids start 1;
create table if not exists meta.batches (
    batch_id bigint primary key,
    source varchar not null,
    kind varchar not null,
    file_path varchar not null,
    content_hash varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    rows_new bigint not null
);
create table if not exists meta.rejects (
    batch_id bigint not null,
    source_file varchar not null,
    line bigint,
    raw_line varchar,
    reason varchar not null
);
create table if not exists meta.notices (
    batch_id bigint not null,
    source_file varchar not null,
    line bigint,
    notice varchar not null
);
create table if not exists meta.builds (
    build_id bigint primary key,
    built_at timestamptz not null,
    schema_name varchar not null,
    models integer not null,
    tests integer not null,
    last_batch_id bigint
);
-- what an incremental build compares with (pipelines/models/incremental.py)
create table if not exists meta.build_state (
    build_id bigint primary key,
    sql_fingerprint varchar not null,
    config_fingerprint varchar not null,
    mode varchar not null
);
create table if not exists meta.build_verdicts (verdict_id varchar);
-- tickets an ingest changed in rows of earlier batches (a Zendesk groups file)
create table if not exists meta.touched_tickets (batch_id bigint not null, ticket_id varchar);
create table if not exists meta.quarantine (
    build_id bigint not null,
    ticket_id varchar not null,
    model varchar not null,
    test varchar not null,
    detail varchar
);
-- who opened which scope, and when (pipelines/access/audit.py): rows are only ever added
create table if not exists meta.access_log (
    event_id varchar primary key,
    occurred_at timestamptz not null,
    event varchar not null,
    identity varchar not null,
    subject varchar,
    issuer varchar,
    scope varchar,
    detail varchar
);
create table if not exists meta.review_verdicts (
    verdict_id varchar primary key,
    escalation_id varchar not null,
    ticket_id varchar not null,
    sample_id varchar,
    reviewer varchar not null,
    reviewed_at timestamptz not null,
    should_escalate varchar not null,
    timing varchar,
    l1_need varchar,
    l1_need_text varchar,
    kb_article_to_write varchar
);
create table if not exists meta.review_samples (
    sample_id varchar primary key,
    week_start date not null,
    partner varchar,
    seed bigint not null,
    n_requested integer not null,
    n_drawn integer not null,
    population integer not null,
    created_at timestamptz not null
);
create table if not exists meta.review_sample_items (
    sample_id varchar not null,
    position integer not null,
    escalation_id varchar not null,
    ticket_id varchar not null,
    stratum varchar not null,
    is_suspicious boolean not null,
    suspicion_reasons varchar,
    stratum_population integer not null,
    stratum_sample integer not null,
    weight double not null,
    primary key (sample_id, escalation_id)
);
create table if not exists raw.tickets (
    {_columns_sql({k: v for k, v in TICKET_COLUMNS.items() if k != "updated_at"}, LINEAGE_COLUMNS)}
);
alter table raw.tickets add column if not exists updated_at timestamptz;
create table if not exists raw.events (
    {_columns_sql(EVENT_COLUMNS, LINEAGE_COLUMNS)}
);
"""


# How long a command waits for another process's hold on the database file to end
# (DuckDB allows one writer, or many readers, per file at a time): None reads
# TIERLENS_LOCK_WAIT (default 15 s) at each connect, so a bad value is an error
# message rather than a failed import.
LOCK_WAIT_SECONDS: float | None = None


class DatabaseBusy(TierlensError):
    """Another process holds the database file."""


def require_database(path: Path | str) -> Path:
    """The database file, or a TierlensError saying how to create one."""
    found = Path(path)
    if not found.exists():
        raise TierlensError(
            f"{found}: no such database. Run `tierlens ingest DATA --db {found}` and "
            f"`tierlens build --db {found}` first."
        )
    return found


def connect(
    path: Path | str = DEFAULT_DB,
    *,
    read_only: bool = False,
    wait_seconds: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database file, creating the raw/meta tables on a writable connection.

    While another process holds the file (a build, an ingest, the dashboard storing a
    verdict), wait up to `wait_seconds` (default TIERLENS_LOCK_WAIT, 15 s), then
    raise DatabaseBusy naming the process; any other failure to open the file is a
    TierlensError with DuckDB's reason."""
    if wait_seconds is not None:
        wait = wait_seconds
    else:
        wait = lock_wait_seconds() if LOCK_WAIT_SECONDS is None else LOCK_WAIT_SECONDS
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            text = " ".join(str(exc).split())
            if "lock" not in text.lower():
                raise TierlensError(f"{path}: cannot open the database ({text})") from None
            if time.monotonic() >= deadline:
                holder = re.search(r"held in (.+?)(?: See also|$)", text)
                by = f" ({holder.group(1).strip().rstrip('.')})" if holder else ""
                raise DatabaseBusy(
                    f"{path} is in use by another process{by}, still after {wait:g} s. "
                    "An ingest or a build holds the database until it ends: run this "
                    "again when it has finished (TIERLENS_LOCK_WAIT sets how long to wait)."
                ) from None
            time.sleep(0.2)
        except duckdb.Error as exc:
            first = " ".join(str(exc).split())
            raise TierlensError(f"{path}: cannot open the database ({first})") from None
    if not read_only:
        con.execute("set max_vacuum_tasks = 0")  # see WORN_SHARE
        con.execute(DDL)
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> object:
    """The single value of a one-row query (fetches the whole result: DuckDB 2
    refuses new work on a connection with an unfinished result)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


# Tierlens patches tables in place (an ingest replaces changed tickets' rows, a
# refresh the refreshed rows of its models: deleted, then the new ones appended)
# and its writable connections checkpoint without DuckDB's vacuum (`connect`). A
# vacuum merges row groups whose deleted rows leave room: for the scattered deletes
# of a patch (1% of a table), it rewrote a few row groups to reclaim a fraction of
# a percent, and was most of a refresh's commit (1M tickets: 1.4 s, 0.5 s
# without); skipped by one writer, it fell to the next one's checkpoint. A table
# keeps its deleted rows instead, until they are this share of its stored rows:
# then the writer patching it writes it whole (none left).
WORN_SHARE = 0.2


def quote_ident(name: str) -> str:
    """`name` as an SQL identifier, quoted (a file may be `it's "q".duckdb`)."""
    return '"' + name.replace('"', '""') + '"'


def deleted_share(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None
) -> float:
    """The share of `[catalog.]schema.table`'s stored rows that are deleted ones
    (DuckDB counts them in `estimated_size` until a vacuum or a rewrite drops them);
    0 for a table that does not exist. Ask before the transaction appends to the
    table: `estimated_size` leaves out rows it has not committed."""
    catalog = catalog if catalog is not None else str(scalar(con, "select current_database()"))
    stored = scalar(
        con,
        "select estimated_size from duckdb_tables() "
        "where database_name = ? and schema_name = ? and table_name = ?",
        [catalog, schema, table],
    )
    if not isinstance(stored, int) or stored <= 0:
        return 0.0
    quoted = ".".join(quote_ident(part) for part in (catalog, schema, table))
    live: int = con.execute(f"select count(*) from {quoted}").fetchall()[0][0]
    return max(0.0, (stored - live) / stored)


def is_worn(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, catalog: str | None = None
) -> bool:
    """Whether the table's deleted rows reach WORN_SHARE: its patcher writes it whole."""
    return deleted_share(con, schema, table, catalog) >= WORN_SHARE


def rewrite_if_worn(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Write `schema.table` whole, in the caller's transaction (before it appends
    to the table), when its deleted rows reach WORN_SHARE. Its definition,
    constraints included, is kept: every row is deleted (a row group with no live
    row is dropped at the checkpoint) and inserted again. True when it did."""
    if not is_worn(con, schema, table):
        return False
    name = f"{schema}.{table}"
    con.execute(f"create or replace temp table _tl_rewrite as select * from {name}")
    con.execute(f"delete from {name}")
    con.execute(f"insert into {name} select * from _tl_rewrite")
    con.execute("drop table _tl_rewrite")
    return True


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """`frame` as the view `name`, for one scan, through the Arrow C stream
    interface: `con.register(name, frame)` converts it with pyarrow, whose import is
    half a second of every build. A column of nulls alone (polars' Null type, which
    the stream exports without the validity bitmap DuckDB requires) comes as text."""
    import polars as pl

    nulls = [c for c, dtype in frame.schema.items() if dtype == pl.Null]
    if nulls:
        frame = frame.with_columns(pl.col(nulls).cast(pl.String))
    con.register(name, frame.__arrow_c_stream__())


def polars_frame(rel: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    """The relation as an eager polars frame, read through the Arrow C stream
    interface: the same frame as `rel.pl()`, which imports pyarrow and numpy first
    (a tenth of a second of every `tierlens kpis`)."""
    import polars as pl

    return pl.DataFrame(rel)
