"""A serving snapshot that holds only one scope's rows.

A signed-in partner or client never reads the full snapshot: their session reads
`build_<id>.scope-<digest>.duckdb`, made from the full one, in which every table
holds only their rows. No URL, widget or bug in a page can reach rows that are not
in the file. The rules, table by table:

- a table with the scope's column (`partner` or `client`): its rows;
- a table with `ticket_id`: the rows of the scope's tickets;
- kpi_targets and the config tables naming partners or clients: the rows for the
  scope's partners (and client) and the defaults; the calendars its tickets use;
- kpi_weekly: recomputed from the scope's kpi_fact_cells by the model's own SQL, so an
  "overall" row is the scope's overall, never everyone's;
- anything else (ingest batches, rejected lines, notices, the quarantine, the access
  log, the unknown-status counts): empty. A table nobody classified stays empty:
  the rules fail closed.

A partner scope also gets `analytics.peer_kpis`: every other partner's weekly KPI
values with no name (unless `[access] peer_comparison = "none"`). A client scope's
agent names (every column named like `*agent`, and the reviewers) become
pseudonyms unless `[access] client_agent_names = "shown"`.

The build publishes one per scope in use; the dashboard makes a missing one on
first use (a scope added to the config after the build). A file is complete before
it gets its name, and is never written again.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from pathlib import Path

import duckdb

from pipelines.access.pseudonyms import fingerprint, pseudonymise, read_key
from pipelines.access.scopes import Scope
from pipelines.access.settings import Access
from pipelines.db import quote_ident
from pipelines.sql_files import SQL_DIR, macros_sql

FORMAT = 1  # bump when the rules change: older scoped files are then rebuilt
SCHEMAS = ("analytics", "config", "meta")
SCOPE_TABLE = "meta.scope"
PEER_TABLE = "analytics.peer_kpis"
# Tables kept for the scope's partners (and the rows for every partner: partner null).
PARTNER_KEYED = frozenset({"kpi_targets", "targets", "tier_rules", "calendar_rules"})
RECOMPUTED = {"kpi_weekly": Path("marts") / "kpi_weekly.sql"}
COPIED_WHOLE = frozenset({"builds"})  # build metadata: no data of anybody
ALWAYS_EMPTY = frozenset({"dq_unknown_statuses"})  # counts over every partner's events
# The calendars the scope's tickets use or its calendar rules name.
CALENDAR_KEYED = frozenset({"calendars", "calendar_days", "calendar_intervals"})


def scoped_path(full: Path, scope: Scope, access: Access) -> Path:
    """Where the scope's snapshot of `full` lives (the name changes with the rules,
    the settings and the pseudonym key, so a change is never served stale)."""
    key = fingerprint(read_key(access.pseudonym_key_file)) if _pseudonymised(scope, access) else "-"
    text = f"{FORMAT}|{scope}|{access.peer_comparison}|{access.client_agent_names}|{key}"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return full.with_name(f"{full.stem}.scope-{digest}{full.suffix}")


def _pseudonymised(scope: Scope, access: Access) -> bool:
    return scope.kind == "client" and access.client_agent_names == "pseudonymised"


def ensure_scoped(
    full: Path | str, scope: Scope, access: Access, *, sql_dir: Path = SQL_DIR
) -> Path:
    """The snapshot of `full` for `scope`, made if it is not there yet; admin: `full`."""
    full = Path(full)
    if scope.is_admin:
        return full
    target = scoped_path(full, scope, access)
    if target.exists():
        return target
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        _write(full, tmp, scope, access, sql_dir)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return target


def _columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], list[str]]:
    rows = con.execute(
        "select table_schema, table_name, list(column_name order by ordinal_position) "
        "from information_schema.columns where table_catalog = ? group by all",
        [catalog],
    ).fetchall()
    return {(schema, table): list(cols) for schema, table, cols in rows}


def _where(schema: str, table: str, columns: list[str], scope: Scope) -> str:
    """The rows of `schema.table` the scope keeps, as a SQL condition."""
    if table in COPIED_WHOLE:
        return "true"
    if table in ALWAYS_EMPTY:
        return "false"
    if table in CALENDAR_KEYED:  # a calendar's name may name a partner or a client
        return (
            "calendar in (select calendar from analytics.fct_tickets "
            "union all select calendar from config.calendar_rules)"
        )
    if schema == "config" and table not in PARTNER_KEYED:
        return "true"  # lookups from tierlens.toml (settings: see _scrub_settings)
    scoped_tickets = "ticket_id in (select ticket_id from analytics.fct_tickets)"
    if table in ("review_sample_items", "review_verdicts"):
        kept = "sample_id in (select sample_id from meta.review_samples)"
        return f"{scoped_tickets} and {kept}"
    if table in PARTNER_KEYED:
        cond = "(partner is null or partner in (select partner from analytics.fct_tickets))"
        if "client" in columns and scope.kind == "client":
            cond += " and (client is null or client = $name)"
        return cond
    if scope.column in columns:
        return f"{scope.column} = $name"
    if "ticket_id" in columns:
        return scoped_tickets
    return "false"


# fct_tickets first: the other filters read the scope's tickets from it (and the
# samples and calendar rules before the tables kept by them).
def _order(tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    def rank(item: tuple[str, str]) -> tuple[int, str, str]:
        schema, table = item
        first = {"fct_tickets": 0, "review_samples": 1, "calendar_rules": 1}.get(table, 2)
        return (first, schema, table)

    return sorted(tables, key=rank)


def _write(full: Path, target: Path, scope: Scope, access: Access, sql_dir: Path) -> None:
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach {_literal(full.as_posix())} as src (read_only)")
        columns = _columns(con, "src")
        catalog = con.execute("select current_database()").fetchall()[0][0]
        for schema in SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
        params = {"name": scope.name}
        for schema, table in _order([k for k in columns if k[0] in SCHEMAS]):
            if table in RECOMPUTED or (schema, table) == ("meta", "scope"):
                continue
            cond = _where(schema, table, columns[(schema, table)], scope)
            sql = (
                f"create table {schema}.{quote_ident(table)} as select * from "
                f"src.{schema}.{quote_ident(table)} where {cond}"
            )
            con.execute(sql, params if "$name" in cond else None)
        _scrub_settings(con)
        if _pseudonymised(scope, access):
            agents = _agent_columns(_columns(con, catalog))
            pseudonymise(con, agents, read_key(access.pseudonym_key_file))
        macros = macros_sql(sql_dir)
        if macros:
            con.execute(macros)
        con.execute("set search_path = 'analytics,main'")
        for table, path in RECOMPUTED.items():
            model = (sql_dir / path).read_text(encoding="utf-8")
            con.execute(f"create table analytics.{table} as\n{model}")
        con.execute("reset search_path")
        _peers(con, scope, access)
        con.execute(
            f"create table {SCOPE_TABLE} as select $scope as scope, $kind as kind, "
            "$name as name, $agents as agent_names, $peers as peer_comparison",
            {
                "scope": str(scope),
                "kind": scope.kind,
                "name": scope.name,
                "agents": "pseudonymised" if _pseudonymised(scope, access) else "shown",
                "peers": access.peer_comparison if scope.kind == "partner" else "none",
            },
        )
        con.execute("detach src")
        con.execute("checkpoint")
    finally:
        con.close()


def _scrub_settings(con: duckdb.DuckDBPyConnection) -> None:
    """The default partner's name is another partner's name unless it is the scope's."""
    con.execute(
        "update config.settings set default_partner = null where default_partner not in "
        "(select partner from analytics.fct_tickets)"
    )


def _agent_columns(columns: dict[tuple[str, str], list[str]]) -> dict[str, tuple[str, ...]]:
    """Every column holding a person's name: `*agent`, and the reviewers."""
    found: dict[str, tuple[str, ...]] = {}
    for (schema, table), cols in columns.items():
        names = tuple(c for c in cols if c.endswith("agent") or c == "reviewer")
        if names:
            found[f"{schema}.{quote_ident(table)}"] = names
    return found


def _peers(con: duckdb.DuckDBPyConnection, scope: Scope, access: Access) -> None:
    """The other partners' weekly KPIs with no name: a partner's comparison points.
    A peer is `Peer <n>`, numbered in an order drawn at random for each file, so its
    weeks can be added up but its number says nothing about who it is and does not
    follow it from one build to the next."""
    keep = scope.kind == "partner" and access.peer_comparison == "distribution"
    con.execute(
        f"create table {PEER_TABLE} as select 'Peer ' || dense_rank() over "
        "(order by sha256(dimension_value || $salt)) as peer, week_start, metric, stat, "
        "value, numerator, denominator, sample, ci_low, ci_high from src.analytics.kpi_weekly "
        f"where dimension = 'partner' and dimension_value <> $name and {str(keep).lower()} "
        "order by week_start, metric, value, sample",
        {"name": scope.name, "salt": secrets.token_hex(16)},
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def require_keys(access: Access) -> None:
    """A TierlensError now (before a build starts) if a granted scope needs the
    pseudonym key and it cannot be read."""
    if any(_pseudonymised(scope, access) for scope in access.scopes_in_use()):
        read_key(access.pseudonym_key_file)
