"""The `eventlog` format: a process-mining event log, one row per status change.

Reference: the Volvo IT incident log of the BPI Challenge 2013, whose column names
are the defaults; another log names its columns in the `[eventlog]` section of
tierlens.toml (config.EventlogColumns). Each row becomes a canonical event; each
case becomes a ticket whose partner is the organisation of its first event in time,
and whose priority, category and client are those of its last event in time (ties:
file order). Status and sub-status are joined as `Status/Sub Status` (e.g.
`Accepted/Wait - User`) and mapped by the status map.

A case may sit in several overlapping exports, loaded in one run or several, in any
order: what each export says of a case (its first and last event and their values)
is kept in raw.eventlog_cases (created here), so the ticket is always that of the
case's first and last event over everything loaded, never of the last file read.

Every row of the file is an event row, loaded or rejected; the ticket rows are
derived from them (one per case), so the file's accounting is the events'.
"""

from __future__ import annotations

import duckdb

from pipelines.config import Config, EventlogColumns
from pipelines.db import quote_ident
from pipelines.errors import InputError
from pipelines.ingest.adapter_sql import order_ts
from pipelines.ingest.formats import Staged
from pipelines.ingest.readers import FileInfo, read_file, sql_str

IMPACT_TO_PRIORITY = {"major": "P1", "critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}
CASES = "raw.eventlog_cases"
# Kept for callers that passed the columns directly: the [eventlog] section's model.
EventLogColumns = EventlogColumns


def _col(name: str | None) -> str:
    return quote_ident(name) if name else "null::varchar"


def _merge_cases(con: duckdb.DuckDBPyConnection, new: str) -> None:
    """Fold the file's cases (`new`) into raw.eventlog_cases: the earlier first event
    gives the partner, the later last event the other fields (a tie keeps the stored)."""
    con.execute(
        f"""create table if not exists {CASES} (
                ticket_id varchar, first_at timestamptz, partner varchar,
                last_at timestamptz, client varchar, priority varchar, category varchar)"""
    )
    first = "(s.ticket_id is null or n.first_at < s.first_at)"
    last = "(s.ticket_id is null or n.last_at > s.last_at)"
    con.execute(
        f"""create temp table {new}_merged as
            select n.ticket_id,
                case when {first} then n.first_at else s.first_at end as first_at,
                case when {first} then n.partner else s.partner end as partner,
                case when {last} then n.last_at else s.last_at end as last_at,
                case when {last} then n.client else s.client end as client,
                case when {last} then n.priority else s.priority end as priority,
                case when {last} then n.category else s.category end as category
            from {new} n left join {CASES} s on s.ticket_id = n.ticket_id"""
    )
    con.execute(f"delete from {CASES} where ticket_id in (select ticket_id from {new})")
    con.execute(f"insert into {CASES} select * from {new}_merged")
    con.execute(f"drop table {new}_merged")


def read_eventlog(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    config: Config,
    kind: str | None,
    name: str,
    columns: EventlogColumns | None = None,
) -> dict[str, Staged]:
    if kind == "tickets":
        raise InputError(f"{info.label}: an event log holds events; drop --kind tickets")
    cols = columns or config.eventlog
    raw = read_file(con, info, f"{name}_raw")
    wanted = [c for c in cols.model_dump().values() if c]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise InputError(
            f"{info.label}: not an event log of the expected shape: missing column(s) "
            f"{', '.join(repr(c) for c in missing)} (found: {', '.join(raw.header)}); "
            "name the log's columns in the [eventlog] section of tierlens.toml "
            "(see docs/configuration.md)"
        )
    status = (
        f"{_col(cols.status)} || coalesce('/' || {_col(cols.sub_status)}, '')"
        if cols.sub_status
        else _col(cols.status)
    )
    impact_map = "map {" + ", ".join(
        f"{sql_str(k)}: {sql_str(v)}" for k, v in IMPACT_TO_PRIORITY.items()
    ) + "}"
    events, tickets, cases = f"{name}_events", f"{name}_tickets", f"{name}_cases"
    con.execute(
        f"""
        create temp table {events} as
        select
            {_col(cols.case_id)} as ticket_id,
            {_col(cols.timestamp)} as event_at,
            {_col(cols.group)} as "group",
            {_col(cols.tier)} as tier,
            {_col(cols.agent)} as agent,
            {status} as status,
            _line, _raw_line, _reject_reason
        from {raw.table}
        """
    )
    at = order_ts(con, raw.table, _col(cols.timestamp), config)
    key = f"({at}, _line)"
    con.execute(
        f"""
        create temp table {cases} as
        select {_col(cols.case_id)} as ticket_id, min({at}) as first_at,
            arg_min({_col(cols.partner)}, {key}) as partner, max({at}) as last_at,
            arg_max({_col(cols.client)}, {key}) as client,
            arg_max({_col(cols.priority)}, {key}) as priority,
            arg_max({_col(cols.category)}, {key}) as category
        from {raw.table}
        where _reject_reason is null and nullif(trim({_col(cols.case_id)}), '') is not null
            and {at} is not null
        group by {_col(cols.case_id)}
        """
    )
    _merge_cases(con, cases)
    priority = f"coalesce({impact_map}[lower(trim(c.priority))], c.priority)"
    con.execute(
        f"""
        create temp table {tickets} as
        select c.ticket_id, c.partner, c.client, {priority} as priority, c.category,
            n._line,
            'derived from the events of case ' || c.ticket_id as _raw_line,
            null::varchar as _reject_reason
        from {CASES} c join (select ticket_id, min(_line) as _line from {events}
                             group by ticket_id) n on n.ticket_id = c.ticket_id
        where c.ticket_id in (select ticket_id from {cases})
        """
    )
    con.execute(f"drop table {cases}")
    con.execute(f"drop table {raw.table}")
    return {"tickets": Staged("tickets", tickets), "events": Staged("events", events)}
