"""The `eventlog` format: a process-mining event log, one row per status change.

Reference: the Volvo IT incident log of the BPI Challenge 2013 (its column names
are the defaults below). Each row becomes a canonical event; each case becomes a
ticket whose partner is the organisation of its first event, and whose priority,
category and client are those of its last event. Status and sub-status are joined
as `Status/Sub Status` (e.g. `Accepted/Wait - User`) and mapped by the status map.

Every row of the file is an event row, loaded or rejected; the ticket rows are
derived from them (one per case), so the file's accounting is the events'.
"""

from __future__ import annotations

import duckdb
from pydantic import BaseModel, ConfigDict

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.ingest.formats import Staged
from pipelines.ingest.readers import FileInfo, quote_ident, read_file

IMPACT_TO_PRIORITY = {"major": "P1", "critical": "P1", "high": "P2", "medium": "P3", "low": "P4"}


class EventLogColumns(BaseModel):
    """Which column of the log holds what (header names, case-insensitive)."""

    model_config = ConfigDict(frozen=True)

    case_id: str = "sr number"
    timestamp: str = "change date+time"
    status: str = "status"
    sub_status: str | None = "sub status"
    group: str = "involved st"
    tier: str | None = "st level"
    agent: str | None = "resource"
    partner: str | None = "involved org line 3"
    priority: str | None = "sr latest impact"
    category: str | None = "product"
    client: str | None = "country"


def _col(name: str | None) -> str:
    return quote_ident(name) if name else "null"


def read_eventlog(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    config: Config,
    kind: str | None,
    name: str,
    columns: EventLogColumns | None = None,
) -> dict[str, Staged]:
    del config
    if kind == "tickets":
        raise InputError(f"{info.label}: an event log holds events; drop --kind tickets")
    cols = columns or EventLogColumns()
    raw = read_file(con, info, f"{name}_raw")
    wanted = [c for c in cols.model_dump().values() if c]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise InputError(
            f"{info.label}: not an event log of the expected shape: missing column(s) "
            f"{', '.join(repr(c) for c in missing)} (found: {', '.join(raw.header)})"
        )
    status = (
        f"{_col(cols.status)} || coalesce('/' || {_col(cols.sub_status)}, '')"
        if cols.sub_status
        else _col(cols.status)
    )
    impact_map = "map {" + ", ".join(f"'{k}': '{v}'" for k, v in IMPACT_TO_PRIORITY.items()) + "}"
    events, tickets = f"{name}_events", f"{name}_tickets"
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
    con.execute(
        f"""
        create temp table {tickets} as
        select
            {_col(cols.case_id)} as ticket_id,
            arg_min({_col(cols.partner)}, _line) as partner,
            arg_max({_col(cols.client)}, _line) as client,
            coalesce(
                {impact_map}[lower(trim(arg_max({_col(cols.priority)}, _line)))],
                arg_max({_col(cols.priority)}, _line)
            ) as priority,
            arg_max({_col(cols.category)}, _line) as category,
            min(_line) as _line,
            'derived from the events of case ' || {_col(cols.case_id)} as _raw_line,
            null::varchar as _reject_reason
        from {raw.table}
        where _reject_reason is null and nullif(trim({_col(cols.case_id)}), '') is not null
        group by {_col(cols.case_id)}
        """
    )
    con.execute(f"drop table {raw.table}")
    return {"tickets": Staged("tickets", tickets), "events": Staged("events", events)}
