"""Serving snapshots: what the dashboard reads, in a file nobody writes to.

DuckDB lets one process write a database file, or many processes read it, never
both. The dashboard must keep answering while `tierlens ingest` or `tierlens
build` writes the main file, so it never opens that file. Instead, after every
successful build, `publish_snapshot` copies what the dashboard needs into a new
file next to it and then swaps a small pointer file atomically:

    tierlens.duckdb.serving/
        build_7.duckdb     the previous snapshot (kept for sessions still on it)
        build_8.duckdb     the snapshot of build 8
        current.json       {"build_id": 8, "snapshot": "build_8.duckdb", ...}

A snapshot is complete before the pointer names it, and it is never written
again, so any number of dashboard processes can open it read-only. Snapshots
older than the previous one are deleted.

The pointer is the one commit point for readers: the dashboard, `tierlens kpis`,
`export` and `report` all read the snapshot it names (`open_snapshot`), so they
always agree on the current build. A build killed after committing the main file
but before swapping the pointer leaves every reader on the previous build; the
next build first publishes the committed one (`repair_publish`).

The snapshot keeps the schema names of the main file (analytics, config, meta)
and the SQL macros, so `pipelines.kpis.kpi_query` runs on it unchanged. It copies
published models as they are (`COPIED_MARTS`) and computes nothing: a table made
for the dashboard alone is a model of the build's serving layer (sql/serving/),
with its data tests, such as the trimmed timeline `ticket_events` and the
escalation-flow page's aggregates `tier_paths` and `pingpong_pairs`. It also
copies the weekly review's tables (meta.review_samples, meta.review_sample_items,
meta.review_verdicts and analytics.review_candidates), and meta.quarantine (the
tickets the build left out).

Review samples are drawn after a build, so `tierlens review sample` also writes
each sample to `<db>.serving/samples/<file>.parquet` (see `sample_file`): the
dashboard sees a new sample without waiting for the next build.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import duckdb

from pipelines.access.settings import Access
from pipelines.access.snapshot import ensure_scoped
from pipelines.db import is_worn, quote_ident, require_database, scalar
from pipelines.errors import TierlensError
from pipelines.pause import pause_at
from pipelines.sql_files import SQL_DIR, macros_sql

SERVING_SUFFIX = ".serving"
POINTER_NAME = "current.json"
SNAPSHOT_ALIAS = "tierlens_snapshot"
MAX_REJECTS = 10_000

# Analytics tables copied as they are; small ones in the order that lets DuckDB
# skip row groups for the dashboard's usual lookups (one dimension, one ticket).
# kpi_facts (about 20 rows per ticket) is not sorted: at a million tickets sorting
# it would double the publish time for no faster query (its filters scan it all).
# Every KPI grouping reads kpi_fact_cells; kpi_facts is for the cases behind a KPI.
COPIED_MARTS: dict[str, str | None] = {
    "kpi_weekly": "dimension, dimension_value, week_start",
    "kpi_fact_cells": None,
    "kpi_facts": None,
    "kpi_targets": "metric, partner",
    "fct_tickets": "ticket_id",
    "fct_escalations": "ticket_id, event_index",
    "review_candidates": "week_start, escalation_id",
    "ticket_events": "ticket_id, event_index",
    "tier_paths": "week_start, partner",
    "ticket_paths": "ticket_id",
    "source_coverage": "week_start, partner",
    "pingpong_pairs": "week_start, partner",
    "dq_counter_checks": "ticket_id, counter",
    "dq_unmapped_groups": "partner, group_name",
    "dq_unknown_statuses": "status_key",
}

# The weekly review's own tables (written by `tierlens review` and the dashboard).
REVIEW_TABLES: tuple[str, ...] = ("review_samples", "review_sample_items", "review_verdicts")
# Build metadata copied as it is.
META_TABLES: tuple[str, ...] = ("batches", "builds", "quarantine", "notices", "access_log")
SAMPLES_DIR = "samples"


@dataclass(frozen=True)
class Pointer:
    """What `current.json` says: the snapshot the dashboard should serve."""

    build_id: int
    snapshot: Path
    built_at: str
    last_batch_id: int | None


def in_keys(column: str, keys: str) -> str:
    """Null-safe membership of `column` in the one-column table `keys` (of the
    same column name: inside the subqueries the bare name is the keys' column)."""
    return (
        f"(coalesce({column} in (select {column} from {keys}), false) or ({column} is null and "
        f"exists (select 1 from {keys} where {column} is null)))"
    )


@dataclass(frozen=True)
class SnapshotDelta:
    """What `publish_snapshot` needs to refresh the previous snapshot instead of
    copying everything: the build it was made from, and for each table refreshed
    `by` a key, the key column, the table of keys whose rows changed and the table
    of their rows now (what the build merged: reading them there spares a scan of
    the whole published table)."""

    base_build: int
    by: dict[str, tuple[str, str, str]]


def serving_dir(db_path: Path | str) -> Path:
    path = Path(db_path)
    return path.with_name(path.name + SERVING_SUFFIX)


def snapshot_path(db_path: Path | str, build_id: int) -> Path:
    return serving_dir(db_path) / f"build_{build_id}.duckdb"


def main_db_for(snapshot: Path | str) -> Path:
    """The main database a snapshot was published from (inverse of `serving_dir`)."""
    directory = Path(snapshot).parent
    if not directory.name.endswith(SERVING_SUFFIX):
        raise TierlensError(f"{snapshot}: not a serving snapshot (expected in *{SERVING_SUFFIX}/)")
    return directory.with_name(directory.name[: -len(SERVING_SUFFIX)])


def samples_dir(db_path: Path | str) -> Path:
    """Where `tierlens review sample` publishes samples for the dashboard."""
    return serving_dir(db_path) / SAMPLES_DIR


def sample_file(db_path: Path | str, sample_id: str) -> Path:
    """The published sample's Parquet file (the id made safe as a file name)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)
    return samples_dir(db_path) / f"{safe}.parquet"


def read_pointer(db_path: Path | str) -> Pointer | None:
    """The current snapshot, or None when no build has published one (or the
    pointer names a file that is gone)."""
    pointer = serving_dir(db_path) / POINTER_NAME
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
        snap = pointer.parent / str(data["snapshot"])
        found = Pointer(
            build_id=int(data["build_id"]),
            snapshot=snap,
            built_at=str(data.get("built_at", "")),
            last_batch_id=data.get("last_batch_id"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if snap.exists() else None


def sql_str(value: str) -> str:
    """A SQL string literal (a path may hold an apostrophe: `it's.duckdb`)."""
    return "'" + value.replace("'", "''") + "'"


def open_snapshot(db_path: Path | str) -> tuple[duckdb.DuckDBPyConnection, Pointer]:
    """A read-only connection to the snapshot `current.json` names (what the
    dashboard serves), or a TierlensError saying how to get one."""
    for _ in range(3):  # a build may prune the snapshot between reading and opening
        pointer = read_pointer(db_path)
        if pointer is None:
            path = require_database(db_path)
            raise TierlensError(f"{path}: no build yet. Run `tierlens build --db {path}` first.")
        snapshot = pointer.snapshot
        try:
            return duckdb.connect(str(snapshot), read_only=True), pointer
        except duckdb.Error as exc:
            error = exc
    raise TierlensError(f"{snapshot}: cannot open the published build ({error})")


def _copy_tables(con: duckdb.DuckDBPyConnection, src: str, dst: str, catalog: str) -> None:
    for schema in ("analytics", "config", "meta"):
        con.execute(f"create schema {dst}.{schema}")
    for name in COPIED_MARTS:
        _copy_mart(con, src, dst, name)
    _copy_small(con, src, dst, catalog)


def _copy_mart(con: duckdb.DuckDBPyConnection, src: str, dst: str, name: str) -> None:
    order = COPIED_MARTS[name]
    order_by = f" order by {order}" if order else ""
    con.execute(
        f"create table {dst}.analytics.{name} as select * from {src}.analytics.{name}{order_by}"
    )


def _copy_small(con: duckdb.DuckDBPyConnection, src: str, dst: str, catalog: str) -> None:
    """The config, meta and review tables (small: the rejects are capped)."""
    config_tables = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = 'config' and table_type = 'BASE TABLE'",
        [catalog],
    ).fetchall()
    for (name,) in config_tables:
        table = quote_ident(name)
        con.execute(f"create table {dst}.config.{table} as select * from {src}.config.{table}")
    for name in META_TABLES:
        con.execute(f"create table {dst}.meta.{name} as select * from {src}.meta.{name}")
    for name in REVIEW_TABLES:
        con.execute(f"create table {dst}.meta.{name} as select * from {src}.meta.{name}")
    con.execute(
        f"create table {dst}.meta.rejects as select * from {src}.meta.rejects "
        f"order by batch_id desc, line limit {MAX_REJECTS}"
    )
    con.execute(
        f"create table {dst}.meta.rejects_summary as "
        f"select batch_id, reason, count(*) as n_rows from {src}.meta.rejects group by all"
    )


def _refresh_tables(
    con: duckdb.DuckDBPyConnection, src: str, dst: str, catalog: str, delta: SnapshotDelta
) -> None:
    """Bring a copy of the previous snapshot up to this build: the rows of the keys
    an incremental build refreshed, every other copied table whole (and so a
    refreshed one whose deleted rows reach WORN_SHARE: the build's connection
    checkpoints without a vacuum: see pipelines/db.py)."""
    for name in COPIED_MARTS:
        if name in delta.by and not is_worn(con, "analytics", name, dst):
            column, keys, rows = delta.by[name]
            con.execute(f"delete from {dst}.analytics.{name} where {in_keys(column, keys)}")
            con.execute(f"insert into {dst}.analytics.{name} select * from {rows}")
        else:
            con.execute(f"drop table {dst}.analytics.{name}")
            _copy_mart(con, src, dst, name)
    for schema in ("config", "meta"):
        con.execute(f"drop schema {dst}.{schema} cascade")
        con.execute(f"create schema {dst}.{schema}")
    _copy_small(con, src, dst, catalog)


def _create_macros(con: duckdb.DuckDBPyConnection, src: str, dst: str, sql_dir: Path) -> None:
    macros = macros_sql(sql_dir)
    if not macros:
        return
    con.execute(f"use {dst}")
    try:
        con.execute(macros)
    finally:
        con.execute(f"use {src}")


def _write_pointer(directory: Path, pointer: dict[str, object]) -> None:
    tmp = directory / f".{POINTER_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(pointer, indent=2), encoding="utf-8")
    os.replace(tmp, directory / POINTER_NAME)


def _remove_snapshot(path: Path) -> None:
    """The snapshot and the scoped snapshots made from it (pipelines.access.snapshot)."""
    scoped = path.parent.glob(f"{path.stem}.scope-*{path.suffix}")
    for found in (path, *scoped):
        for candidate in (found, found.with_name(found.name + ".wal")):
            candidate.unlink(missing_ok=True)


class SnapshotCopy:
    """The previous snapshot copied to the next build's snapshot path, and written
    to disk, on a thread of its own while an incremental build computes: the copy
    (590 MB at 1M tickets) was most of publishing a refresh, and varied with the
    disk (1.3-3.1 s). The previous snapshot is never written to, so copying it
    early is safe; `publish_snapshot` waits for the copy, or removes it when the
    build it was made for does not publish a refresh of that snapshot."""

    def __init__(self, source: Path, target: Path) -> None:
        self.source, self.target = source, target
        self._error: OSError | None = None
        # waited for (the snapshot's file from then on) or removed: nothing more to do
        self._settled = False
        self._thread = threading.Thread(target=self._copy, name="snapshot-copy", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            _remove_snapshot(self.target)  # a leftover of an interrupted build of this id
            shutil.copyfile(self.source, self.target)
            with self.target.open("rb") as copied:
                os.fsync(copied.fileno())
        except OSError as exc:  # a full disk, say: said by `wait`
            self._error = exc

    def wait(self) -> Path:
        """The copy, once written; the OSError that stopped it otherwise."""
        self._thread.join()
        if self._error is not None:
            with contextlib.suppress(OSError):
                _remove_snapshot(self.target)
            raise self._error
        self._settled = True
        return self.target

    def discard(self) -> None:
        """Remove the copy, unless `wait` handed it over or it is removed already
        (the file at its path may then be another build's snapshot)."""
        self._thread.join()
        if not self._settled:
            self._settled = True
            _remove_snapshot(self.target)


def start_snapshot_copy(db_path: Path | str, build_id: int, base_build: int) -> SnapshotCopy | None:
    """Start copying the current snapshot for build `build_id`, a refresh of build
    `base_build`; None when the current snapshot is not that build's (then
    `publish_snapshot` copies every table)."""
    previous = read_pointer(db_path)
    if previous is None or previous.build_id != base_build:
        return None
    return SnapshotCopy(previous.snapshot, snapshot_path(db_path, build_id))


def _prune(directory: Path, keep: set[int]) -> None:
    """Delete snapshots (and their scoped ones) older than the oldest one kept."""
    oldest = min(keep)
    for path in directory.glob("build_*.duckdb"):
        match = re.fullmatch(r"build_(\d+)\.duckdb", path.name)
        if match and int(match.group(1)) < oldest:
            _remove_snapshot(path)


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    db_path: Path | str,
    build_id: int,
    *,
    sql_dir: Path = SQL_DIR,
    access: Access | None = None,
    delta: SnapshotDelta | None = None,
    copy: SnapshotCopy | None = None,
) -> Path:
    """Copy the published build into `<db>.serving/build_<id>.duckdb`, make the
    snapshot of every scope `access` grants, and point `current.json` at them.
    `con` is a writable connection to `db_path` with the build committed. Returns
    the snapshot's path; a TierlensError when the files cannot be written (the
    readers then stay on the last snapshot).

    After an incremental build (`delta`), when the current snapshot is the one of
    the build it started from, that file is copied (or `copy` has been copying it
    since the build started) and only the refreshed rows are written
    (`_refresh_tables`); the result is the same tables."""
    try:
        return _publish_snapshot(con, db_path, build_id, sql_dir, access, delta, copy)
    # a full disk, a folder in the way, a file DuckDB cannot open: a message, no traceback
    except (OSError, duckdb.Error) as exc:
        raise TierlensError(
            f"build {build_id} is published, but its dashboard snapshot failed: {exc}"
        ) from exc
    finally:
        if copy is not None:  # a copy left unused by a failure before it was reached
            with contextlib.suppress(OSError):
                copy.discard()


def _publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    db_path: Path | str,
    build_id: int,
    sql_dir: Path,
    access: Access | None,
    delta: SnapshotDelta | None,
    copy: SnapshotCopy | None,
) -> Path:
    directory = serving_dir(db_path)
    directory.mkdir(parents=True, exist_ok=True)
    target = snapshot_path(db_path, build_id)
    previous = read_pointer(db_path)
    catalog = str(scalar(con, "select current_database()"))
    src = quote_ident(catalog)
    dst = SNAPSHOT_ALIAS
    base = previous.snapshot if previous else None
    refresh = delta is not None and previous is not None and previous.build_id == delta.base_build
    if copy is not None and refresh and (copy.source, copy.target) == (base, target):
        copy.wait()
    else:
        if copy is not None:
            copy.discard()
        _remove_snapshot(target)  # a leftover of an interrupted publish of this id
        if refresh and base is not None:
            shutil.copyfile(base, target)
    con.execute(f"attach {sql_str(target.as_posix())} as {dst}")
    try:
        con.execute("begin transaction")
        if refresh and delta is not None:
            _refresh_tables(con, src, dst, catalog, delta)
        else:
            _copy_tables(con, src, dst, catalog)
            _create_macros(con, src, dst, sql_dir)
        con.execute("commit")
    except BaseException as exc:
        con.execute("rollback")
        con.execute(f"detach {dst}")
        _remove_snapshot(target)
        if isinstance(exc, duckdb.Error):
            raise TierlensError(
                f"build {build_id} is published, but its dashboard snapshot failed: {exc}"
            ) from exc
        raise
    con.execute(f"checkpoint {dst}")
    con.execute(f"detach {dst}")
    try:
        for scope in access.scopes_in_use() if access else []:
            ensure_scoped(target, scope, access or Access(), sql_dir=sql_dir)
    except BaseException as exc:
        _remove_snapshot(target)
        if isinstance(exc, duckdb.Error):
            raise TierlensError(
                f"build {build_id} is published, but a scoped snapshot failed: {exc}"
            ) from exc
        raise
    # strftime: a timestamptz fetched as a Python object would need pytz.
    build = con.execute(
        "select strftime(built_at, '%Y-%m-%dT%H:%M:%S%z'), last_batch_id "
        "from meta.builds where build_id = ?",
        [build_id],
    ).fetchone()
    pause_at("during_publish")
    _write_pointer(
        directory,
        {
            "build_id": build_id,
            "snapshot": target.name,
            "built_at": build[0] if build else datetime.now(UTC).isoformat(timespec="seconds"),
            "last_batch_id": build[1] if build else None,
        },
    )
    _prune(directory, {build_id} | ({previous.build_id} if previous else set()))
    return target


def _missing_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The copied models the main file's published schema does not have."""
    published = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema = 'analytics'"
        ).fetchall()
    }
    return [name for name in COPIED_MARTS if name not in published]


def repair_publish(
    con: duckdb.DuckDBPyConnection,
    db_path: Path | str,
    *,
    sql_dir: Path = SQL_DIR,
    access: Access | None = None,
) -> int | None:
    """Publish the last committed build if the pointer does not name it yet (a build
    killed between its commit and its publish). Returns the build published, if any.
    A build committed by an older Tierlens may lack a model the snapshot copies (the
    serving models came later): it is left unpublished, and the build about to run
    publishes instead, so the missing table cannot stop every later build."""
    found = scalar(con, "select max(build_id) from meta.builds")
    if found is None:
        return None
    latest = cast(int, found)  # max() of the bigint build_id: DuckDB gives a Python int
    pointer = read_pointer(db_path)
    if pointer is not None and pointer.build_id >= latest:
        return None
    if _missing_marts(con):
        return None
    publish_snapshot(con, db_path, latest, sql_dir=sql_dir, access=access)
    return latest
