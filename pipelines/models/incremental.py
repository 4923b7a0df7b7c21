"""Incremental builds: after an ingest, recompute only the tickets it touched.

A model says in its header how it can be refreshed:

    -- incremental: by ticket_id
        A ticket's rows depend only on that ticket's rows upstream (and on the
        configuration and the lookups below). The build runs the model's own SQL
        over the touched tickets only, then replaces their rows.
    -- incremental: by week_start
        A week's rows depend only on the rows of that week upstream (kpi_weekly).
        The build runs the model's SQL over the weeks the touched tickets were in,
        before or after the change, then replaces those weeks.
    -- incremental: lookup partner, group_name -> mapped_tier
        Rebuilt whole (it is small), and read by a model above: an incremental
        build is valid only while every key that existed before maps to the same
        values. Otherwise the build says why and runs in full.

A model with no declaration is rebuilt whole from the merged tables; if a model
refreshed `by` something reads it, it must come out identical, or the build runs
in full.

How the model's own SQL runs over a slice without a word of it changing: an
in-memory database `tl_delta` is attached, with `tl_delta.raw.tickets` and
`tl_delta.raw.events` holding the touched tickets' raw rows and each refreshed
model's new rows in `tl_delta.main`. With `tl_delta.main` and `tl_delta.raw`
first on the search path, `raw.events` and a bare model name resolve to the slice;
lookups resolve to their new version (`tl_delta.cur`), configuration and meta
tables to the database's own. Only then, in one transaction, are the build's
tables changed (`Run.merge`).

What a build refreshes (`plan`): the tickets with rows in a batch loaded after the
last build, the tickets an ingest changed in place (meta.touched_tickets: a Zendesk
groups file renames groups in earlier batches), and the tickets with review
verdicts the last build did not have. Anything else that changes a build's result
makes the next build a full one: other models or macros (their text is
fingerprinted), another configuration (the seeded config tables are), a build by
an earlier Tierlens, tickets the last build quarantined (only a full build tests
them again), a data test failing on the slice, or more than MAX_SHARE of the
tickets touched (a full build is then as fast). `tierlens build --full` asks for
one.

The property test (tests/models/test_incremental.py): any sequence of ingests, each
followed by an incremental build, gives exactly the tables of one full build.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.db import is_worn, quote_ident
from pipelines.errors import BuildError
from pipelines.models.graph import Model
from pipelines.serving import SnapshotCopy, SnapshotDelta, in_keys
from pipelines.sql_files import macros_sql

DELTA = "tl_delta"
TOUCHED = "_tl_touched"
TICKET_KEY = "ticket_id"
# Above this share of the tickets touched, a full build is about as fast.
MAX_SHARE = 0.3

_DECLARATION = re.compile(r"^\s*--\s*incremental\s*:\s*(.+?)\s*$", re.MULTILINE)
_BY = re.compile(r"^by\s+(\w+)$")
_LOOKUP = re.compile(r"^lookup\s+(\w+(?:\s*,\s*\w+)*)\s*->\s*(\w+(?:\s*,\s*\w+)*)$")


class FullBuildNeeded(Exception):
    """The build cannot be incremental; the message says why."""


@dataclass(frozen=True)
class Refresh:
    """A model's `-- incremental:` declaration."""

    kind: str  # "by" or "lookup"
    key: tuple[str, ...]
    values: tuple[str, ...] = ()


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


def declaration(model: Model) -> Refresh | None:
    found = _DECLARATION.findall(model.sql)
    if not found:
        return None
    if len(found) > 1:
        raise BuildError(f"{model.path}: more than one `-- incremental:` line")
    text = " ".join(found[0].split())
    by = _BY.match(text)
    if by:
        return Refresh("by", (by.group(1),))
    lookup = _LOOKUP.match(text)
    if lookup:
        return Refresh("lookup", _names(lookup.group(1)), _names(lookup.group(2)))
    raise BuildError(
        f"{model.path}: cannot read `-- incremental: {text}`: write `by ticket_id`, "
        "`by <column>` or `lookup <key columns> -> <value columns>`"
    )


def declarations(models: list[Model]) -> dict[str, Refresh | None]:
    """Every model's declaration, or a BuildError when the refresh could not keep one.

    The keys a `by <key>` model refreshes are gathered from the models refreshed by
    ticket_id it reads, as those run (the touched tickets' values, before and after).
    So for each key column, one model (the first) reads models refreshed by
    ticket_id; any other model by the same key reads a model by that key and no
    model by ticket_id: it runs after the first, once every key is known, and its
    rows can change only for those keys."""
    found = {m.name: declaration(m) for m in models}
    first: dict[str, str] = {}
    for model in models:
        column = by_other_key(found[model.name])
        if column is None:
            continue
        readers = [d for d in model.depends_on if by_ticket(found.get(d))]
        same_key = [d for d in model.depends_on if by_other_key(found.get(d)) == column]
        if readers:
            earlier = first.setdefault(column, model.name)
            if earlier != model.name:
                raise BuildError(
                    f"{model.path}: `incremental: by {column}` reads {readers[0]}, refreshed "
                    f"by ticket_id, and so does {earlier} (by {column}): one model by "
                    f"{column} may read models refreshed by ticket_id, the others read it"
                )
        elif not same_key:
            raise BuildError(
                f"{model.path}: `incremental: by {column}` needs a model refreshed by "
                f"ticket_id or by {column} upstream (its rows are found through the "
                "touched tickets)"
            )
    return found


def key_inputs(
    model: Model, refresh: dict[str, Refresh | None], models: dict[str, Model]
) -> tuple[list[str], list[str]]:
    """For a `by <key>` model: the models it reads refreshed by ticket_id or by the
    same key (what a batch of keys filters), and the models refreshed by ticket_id
    those rows come from, directly or through models by the key (the cases, which
    the batches are counted in)."""
    column = by_other_key(refresh[model.name])
    direct = sorted(
        d
        for d in model.depends_on
        if by_ticket(refresh.get(d)) or by_other_key(refresh.get(d)) == column
    )
    sources: set[str] = set()
    for name in direct:
        if by_ticket(refresh.get(name)):
            sources.add(name)
        else:
            sources.update(key_inputs(models[name], refresh, models)[1])
    return direct, sorted(sources)


def by_ticket(refresh: Refresh | None) -> bool:
    return refresh is not None and refresh.kind == "by" and refresh.key == (TICKET_KEY,)


def by_other_key(refresh: Refresh | None) -> str | None:
    """The key column of a `by <key>` declaration other than by ticket_id."""
    if refresh is None or refresh.kind != "by" or by_ticket(refresh):
        return None
    return refresh.key[0]


# ------------------------------------------------------------------ fingerprints


def sql_fingerprint(models: list[Model], sql_dir: Path) -> str:
    """A digest of the models' and macros' text: another text, another build."""
    digest = hashlib.sha256(macros_sql(sql_dir).encode())
    for model in sorted(models, key=lambda m: m.name):
        digest.update(f"\0{model.name}\0{model.sql}".encode())
    return digest.hexdigest()


def config_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of every seeded config table's rows (order-independent)."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = 'config' and table_type = 'BASE TABLE' "
            "order by table_name"
        ).fetchall()
    ]
    digest = hashlib.sha256()
    for name in tables:
        (row,) = con.execute(
            f"select count(*), coalesce(string_agg(md5(t::varchar), ',' order by "
            f"md5(t::varchar)), '') from config.\"{name}\" t"
        ).fetchall()
        digest.update(f"\0{name}\0{row[0]}\0{row[1]}".encode())
    return digest.hexdigest()


def record(
    con: duckdb.DuckDBPyConnection, build_id: int, sql_fp: str, config_fp: str, mode: str
) -> None:
    """What the next build compares with: the fingerprints and the verdicts used."""
    con.execute(
        "insert into meta.build_state values (?, ?, ?, ?)", [build_id, sql_fp, config_fp, mode]
    )
    con.execute("delete from meta.build_verdicts")
    con.execute("insert into meta.build_verdicts select verdict_id from meta.review_verdicts")


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class Plan:
    base_build: int
    schema: str
    touched: int
    tickets: int


def plan(con: duckdb.DuckDBPyConnection, sql_fp: str, config_fp: str) -> Plan:
    """The tickets to refresh since the last build (in the temp table TOUCHED), or
    FullBuildNeeded saying why the build must be a full one."""
    last = con.execute(
        "select b.build_id, b.schema_name, b.last_batch_id, s.sql_fingerprint, "
        "s.config_fingerprint from meta.builds b left join meta.build_state s "
        "using (build_id) order by b.build_id desc limit 1"
    ).fetchall()
    if not last:
        raise FullBuildNeeded("the first build")
    build_id, schema, last_batch, last_sql, last_config = last[0]
    if last_sql is None:
        raise FullBuildNeeded(f"build {build_id} was made by an earlier Tierlens")
    exists = con.execute(
        "select count(*) from information_schema.schemata where catalog_name = "
        "current_database() and schema_name = ?",
        [schema],
    ).fetchall()[0][0]
    if not exists:
        raise FullBuildNeeded(f"the tables of build {build_id} are gone")
    if last_sql != sql_fp:
        raise FullBuildNeeded(f"the models changed since build {build_id}")
    if last_config != config_fp:
        raise FullBuildNeeded(f"the configuration changed since build {build_id}")
    if not con.execute(
        "select count(*) from information_schema.tables where table_catalog = "
        "current_database() and table_schema = ? and table_name = 'int_tickets'",
        [schema],
    ).fetchall()[0][0]:
        raise FullBuildNeeded(f"build {build_id} has no int_tickets to count its tickets")
    since = -1 if last_batch is None else int(last_batch)
    con.execute(
        f"""create or replace temp table {TOUCHED} as
            select ticket_id from raw.tickets where _batch_id > {since}
            union
            select ticket_id from raw.events where _batch_id > {since}
            union
            select ticket_id from meta.touched_tickets where batch_id > {since}
            union
            select ticket_id from meta.review_verdicts
            where verdict_id not in (select verdict_id from meta.build_verdicts)
"""
    )
    held = con.execute("select count(distinct ticket_id) from meta.quarantine").fetchall()[0][0]
    if held:  # their input may have been fixed in place: only a full build can tell
        raise FullBuildNeeded(f"the {held:,} ticket(s) the last build set aside are tested again")
    # int_tickets holds every ticket of the inputs the last build read (none was set
    # aside): with the touched ones it has not seen, every ticket of the inputs now,
    # without a pass over every raw row
    touched, tickets = con.execute(
        f"""select
                (select count(*) from {TOUCHED}),
                (select count(*) from {schema}.int_tickets)
                + (select count(*) from {TOUCHED}
                   where ticket_id not in (select ticket_id from {schema}.int_tickets))"""
    ).fetchall()[0]
    if tickets and touched > MAX_SHARE * tickets:
        raise FullBuildNeeded(
            f"{touched:,} of {tickets:,} tickets changed: a full build is as fast"
        )
    return Plan(int(build_id), str(schema), touched, tickets)


# ------------------------------------------------------------------ the run


def attach_delta(con: duckdb.DuckDBPyConnection) -> None:
    """The slice the `by ticket_id` models run over: the touched tickets' raw rows.

    Everything the run computes goes to this in-memory database (DuckDB lets a
    transaction write to one database only), and `merge` then writes the build's
    tables in one transaction."""
    detach_delta(con)
    con.execute(f"attach ':memory:' as {DELTA}")
    for schema in ("raw", "cur"):
        con.execute(f"create schema {DELTA}.{schema}")
    con.execute(f"create table {DELTA}.main.{TOUCHED} as select * from {TOUCHED}")
    for table in ("tickets", "events"):
        con.execute(
            f"create table {DELTA}.raw.{table} as select * from raw.{table} "
            f"where ticket_id in (select ticket_id from {TOUCHED})"
        )


def detach_delta(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute(
        "select count(*) from duckdb_databases() where database_name = ?", [DELTA]
    ).fetchall()[0][0]
    con.execute("reset search_path")
    if found:
        con.execute(f"detach {DELTA}")


def set_search_path(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """`path`: comma-separated, its catalog names quoted (a file may be `it's.duckdb`)."""
    con.execute("set search_path = '" + path.replace("'", "''") + "'")


def _create(con: duckdb.DuckDBPyConnection, target: str, model: Model, search_path: str) -> None:
    set_search_path(con, search_path)
    try:
        con.execute(f"create table {target} as\n{model.sql}")
    except duckdb.Error as exc:
        raise BuildError(f"model {model.name} ({model.path.name}) failed: {exc}") from exc


def _changed(con: duckdb.DuckDBPyConnection, old: str, new: str, refresh: Refresh | None) -> int:
    """Rows of `old` that `new` changes: for a lookup, keys still present whose
    values differ; for any other model, every difference."""
    if refresh is None or refresh.kind != "lookup":
        sql = (
            f"select count(*) from ((select * from {old} except all select * from {new}) "
            f"union all (select * from {new} except all select * from {old}))"
        )
    else:
        cols = ", ".join(refresh.key + refresh.values)
        keys = ", ".join(refresh.key)
        sql = (
            f"select count(*) from (select {cols} from {old} except select {cols} from {new}) o "
            f"where ({keys}) in (select ({keys}) from {new})"
        )
    return int(con.execute(sql).fetchall()[0][0])


@dataclass
class Run:
    """One incremental build. `model` computes into the in-memory DELTA database
    (reading the build's tables, writing nothing there); `merge` then writes the
    build's tables, in the caller's transaction.

    In DELTA: `main.<model>` the touched tickets' rows of a `by ticket_id` model;
    `cur.<model>` each model as it is after the build (a view joining the untouched
    tickets' rows with the new ones, or the whole table rebuilt); `by_<key>.<model>`
    a `by <key>` model's rows for the keys to refresh, and `main._keys_<key>` the
    keys (the touched tickets' values, before and after)."""

    con: duckdb.DuckDBPyConnection
    catalog: str
    plan: Plan
    models: list[Model]
    refresh: dict[str, Refresh | None]
    # the previous snapshot, being copied for this build's while it computes
    snapshot_copy: SnapshotCopy | None = None

    @property
    def quoted(self) -> str:
        return quote_ident(self.catalog)

    @property
    def build(self) -> str:
        return f"{self.quoted}.{self.plan.schema}"

    def _path(self, *first: str) -> str:
        # config.* and meta.* name the database's own: on the path, or the first
        # catalog on it (the delta one) would be searched for them
        own = [f"{self.quoted}.{schema}" for schema in (self.plan.schema, "main", "config", "meta")]
        return ",".join([*first, f"{DELTA}.cur", *own])

    def slice_path(self) -> str:
        return self._path(f"{DELTA}.main", f"{DELTA}.raw")

    def keys_path(self, column: str) -> str:
        return self._path(f"{DELTA}.by_{column}")

    def whole_path(self) -> str:
        return self._path()

    def _readers(self, name: str) -> list[Refresh]:
        return [
            r
            for m in self.models
            if name in m.depends_on and (r := self.refresh[m.name]) is not None
        ]

    def model(self, model: Model) -> None:
        refresh = self.refresh[model.name]
        if by_ticket(refresh):
            self._by_ticket(model)
        elif refresh is not None and refresh.kind == "by":
            self._by_key(model, refresh.key[0])
        else:
            self._whole(model, refresh)
        self.con.execute("reset search_path")

    def _by_ticket(self, model: Model) -> None:
        con, old, name = self.con, f"{self.build}.{model.name}", model.name
        _create(con, f"{DELTA}.main.{name}", model, self.slice_path())
        touched = f"ticket_id in (select ticket_id from {DELTA}.main.{TOUCHED})"
        con.execute(
            f"create view {DELTA}.cur.{name} as select * from {old} where not {touched} "
            f"union all select * from {DELTA}.main.{name}"
        )
        for r in self._readers(name):
            if r.kind != "by" or r.key == (TICKET_KEY,):
                continue
            column, keys = r.key[0], f"{DELTA}.main._keys_{r.key[0]}"
            con.execute(
                f"create table if not exists {keys} as select {column} from {old} where false"
            )
            con.execute(
                f"insert into {keys} select {column} from {old} where {touched} "
                f"union select {column} from {DELTA}.main.{name} "
                f"except select {column} from {keys}"
            )

    def _by_key(self, model: Model, column: str) -> None:
        con, keys = self.con, f"{DELTA}.main._keys_{column}"
        schema = f"{DELTA}.by_{column}"  # a model by the same key upstream made it
        con.execute(f"create schema if not exists {schema}")
        con.execute(
            f"create table if not exists {keys} as select {column} "
            f"from {self.build}.{model.name} where false"
        )
        for name in model.depends_on:
            if by_ticket(self.refresh.get(name)):
                con.execute(
                    f"create view {schema}.{name} as select * from {DELTA}.cur.{name} "
                    f"where {in_keys(column, keys)}"
                )
        _create(con, f"{schema}.{model.name}", model, self.keys_path(column))
        con.execute(
            f"create view {DELTA}.cur.{model.name} as select * from {self.build}.{model.name} "
            f"where not {in_keys(column, keys)} union all select * from {schema}.{model.name}"
        )

    def _whole(self, model: Model, refresh: Refresh | None) -> None:
        new = f"{DELTA}.cur.{model.name}"
        _create(self.con, new, model, self.whole_path())
        if any(r.kind == "by" for r in self._readers(model.name)):
            changed = _changed(self.con, f"{self.build}.{model.name}", new, refresh)
            if changed:
                raise FullBuildNeeded(
                    f"{model.name} changed for tickets the ingest did not touch "
                    f"({changed:,} rows), so every ticket is rebuilt"
                )

    def test_path(self, model: str) -> str:
        """Where a model's data tests read it: its refreshed rows, or the whole table."""
        refresh = self.refresh[model]
        if by_ticket(refresh):
            return self.slice_path()
        if refresh is not None and refresh.kind == "by":
            return self.keys_path(refresh.key[0])
        return self.whole_path()

    def snapshot_delta(self) -> SnapshotDelta:
        by = {}
        for name, refresh in self.refresh.items():
            if by_ticket(refresh):
                by[name] = (TICKET_KEY, f"{DELTA}.main.{TOUCHED}", f"{DELTA}.main.{name}")
            elif refresh is not None and refresh.kind == "by":
                column = refresh.key[0]
                by[name] = (column, f"{DELTA}.main._keys_{column}", f"{DELTA}.by_{column}.{name}")
        return SnapshotDelta(self.plan.base_build, by)

    def merge(self) -> None:
        """Write the refreshed rows into the build's tables (the caller's transaction)."""
        con = self.con
        con.execute("reset search_path")
        touched = f"ticket_id in (select ticket_id from {DELTA}.main.{TOUCHED})"
        for model in self.models:
            refresh, table = self.refresh[model.name], f"{self.build}.{model.name}"
            # rebuilt whole, or patched; a patched table whose deleted rows add up
            # (see WORN_SHARE) is written whole too
            if (
                refresh is None
                or refresh.kind != "by"
                or is_worn(con, self.plan.schema, model.name, self.catalog)
            ):
                con.execute(
                    f"create or replace table {table} as select * from {DELTA}.cur.{model.name}"
                )
            elif by_ticket(refresh):
                con.execute(f"delete from {table} where {touched}")
                con.execute(f"insert into {table} select * from {DELTA}.main.{model.name}")
            else:
                column = refresh.key[0]
                keys = f"{DELTA}.main._keys_{column}"
                con.execute(f"delete from {table} where {in_keys(column, keys)}")
                con.execute(f"insert into {table} select * from {DELTA}.by_{column}.{model.name}")
