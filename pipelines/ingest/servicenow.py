"""ServiceNow formats: `servicenow-audit` and `servicenow-incident`.

servicenow-audit: the per-update snapshot log of incidents (one row per update, the
incident's fields as they stood after it; the UCI "Incident management process
enriched event log" is one). Each snapshot row is one canonical event:

    ticket_id = number          event_at = sys_updated_at     seq = sys_mod_count
    group = assignment_group    agent = assigned_to           status = incident_state

so one input row = one event row, and the group, agent and state changes are what the
models see when consecutive events differ (a `?` group or agent is "no value", i.e.
unchanged, never a change to a group called `?`). The models order a ticket's events
by (event_at, seq): when sys_mod_count disagrees with sys_updated_at (the UCI log has
a few repeated counters), the time wins. One ticket per incident is derived from its
last snapshot (highest sys_mod_count, then last line).

servicenow-incident: the plain incident list (one row per incident) gives the tickets;
its events are either coarse ones synthesised from its dates (opened -> New, resolved
-> Resolved, closed -> Closed, all in the final assignment group; an incident still
open gets its current state at sys_updated_on), or, when an audit export is read in the
same run, the real timeline from it. A date the incident's state contradicts (a
closed_at left from before a reopen on an incident In Progress, a closed_at on a
Resolved one) is not made an event: it is rejected with its reason (meta.rejects), the
incident itself is loaded. The audit exports:

  - metric_instance export (columns id, definition, value, start): definitions
    "Assignment Group", "Assigned to Duration" and "Incident State Duration";
  - sys_audit export (documentkey, fieldname, newvalue, sys_created_on): fieldnames
    assignment_group, assigned_to, incident_state/state. documentkey is the incident's
    sys_id, so the incident list (with its sys_id column) must come first.

Every audit row is one event (its field set, the others unchanged, the state carried
forward from the ticket's previous state row, or before the first one taken from that
row's old value).
"""

from __future__ import annotations

import duckdb

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.ingest.adapter_sql import col, present, require, value_map
from pipelines.ingest.formats import Staged
from pipelines.ingest.readers import FileInfo, RawTable, read_file

# Numeric incident states (sys_audit stores values, not labels).
STATE_CODES = {
    "1": "New", "2": "In Progress", "3": "On Hold", "4": "Awaiting User Info",
    "5": "Awaiting Evidence", "6": "Resolved", "7": "Closed", "8": "Canceled",
}

_SNAPSHOT_NEEDED = ("number", "incident_state", "sys_mod_count", "sys_updated_at")

# Ticket columns of an incident row: canonical name -> candidate source columns.
_TICKET_FIELDS: dict[str, tuple[str, ...]] = {
    "opened_at": ("opened_at", "sys_created_on"),
    "priority": ("priority",),
    "category": ("category",),
    "subcategory": ("subcategory",),
    "channel": ("contact_type",),
    "resolution_code": ("closed_code", "close_code"),
    "sla_met": ("made_sla",),
    "sla_due_at": ("sla_due", "due_date"),
    "reported_reassignment_count": ("reassignment_count",),
    "reported_reopen_count": ("reopen_count",),
    "client": ("location", "company", "caller_id"),
    "updated_at": ("sys_updated_on", "sys_updated_at"),
}

# Registry of what this run has read, so files can complete each other.
_REGISTRY = "_servicenow_registry"
_SYSIDS = "_servicenow_sysids"


def _ticket_selects(raw: RawTable) -> list[str]:
    out = []
    for canonical, sources in _TICKET_FIELDS.items():
        src = present(raw, *sources)
        out.append(f"{col(src)} as {canonical}")
    knowledge = present(raw, "knowledge")
    # `knowledge` is a flag (a knowledge document was used), not an article id.
    out.append(
        f"case when lower(trim({col(knowledge)})) in ('true', '1', 'yes') "
        "then 'knowledge' end as kb_article_id"
    )
    return out


def read_servicenow_audit(
    con: duckdb.DuckDBPyConnection, info: FileInfo, config: Config, kind: str | None, name: str
) -> dict[str, Staged]:
    del config
    if kind == "tickets":
        raise InputError(f"{info.label}: a ServiceNow audit log holds events; drop --kind tickets")
    raw = read_file(con, info, f"{name}_raw")
    require(raw, info.label, _SNAPSHOT_NEEDED, "a ServiceNow incident snapshot log")
    events, tickets = f"{name}_events", f"{name}_tickets"
    con.execute(
        f"""
        create temp table {events} as
        select number as ticket_id, sys_updated_at as event_at, sys_mod_count as seq,
            {col(present(raw, "assignment_group"))} as "group",
            {col(present(raw, "assigned_to"))} as agent,
            incident_state as status,
            _line, _raw_line, _reject_reason
        from {raw.table}
        """
    )
    con.execute(
        f"""
        create temp table {tickets} as
        select number as ticket_id, {", ".join(_ticket_selects(raw))},
            first_line as _line,
            'derived from the last snapshot of ' || number || ' (line ' || _line || ')'
                as _raw_line,
            null::varchar as _reject_reason
        from (
            select *, min(_line) over (partition by number) as first_line
            from {raw.table}
            where _reject_reason is null and nullif(trim(number), '') is not null
        )
        qualify row_number() over (
            partition by number
            order by try_cast(sys_mod_count as bigint) desc nulls last, _line desc
        ) = 1
        """
    )
    con.execute(f"drop table {raw.table}")
    ignored = tuple(
        c for c in raw.columns
        if c not in {*_SNAPSHOT_NEEDED, "assignment_group", "assigned_to", "knowledge"}
        and not any(c in s for s in _TICKET_FIELDS.values())
    )
    return {"tickets": Staged("tickets", tickets), "events": Staged("events", events, ignored)}


def _registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create temp table if not exists {_REGISTRY} (role varchar, tbl varchar)")
    con.execute(f"create temp table if not exists {_SYSIDS} (sys_id varchar, number varchar)")


def _registered(con: duckdb.DuckDBPyConnection, role: str) -> list[str]:
    return [str(r[0]) for r in con.execute(
        f"select tbl from {_REGISTRY} where role = ?", [role]
    ).fetchall()]


def read_servicenow_incident(
    con: duckdb.DuckDBPyConnection, info: FileInfo, config: Config, kind: str | None, name: str
) -> dict[str, Staged]:
    del config
    _registry(con)
    raw = read_file(con, info, f"{name}_raw")
    if "definition" in raw.columns and "value" in raw.columns:
        return _read_metric_instances(con, info, raw, kind, name)
    if "fieldname" in raw.columns and "documentkey" in raw.columns:
        return _read_sys_audit(con, info, raw, kind, name)
    require(raw, info.label, ("number",), "a ServiceNow incident list (nor a metric_instance "
            "or sys_audit export)")
    return _read_incident_list(con, info, raw, kind, name)


def _read_incident_list(
    con: duckdb.DuckDBPyConnection, info: FileInfo, raw: RawTable, kind: str | None, name: str
) -> dict[str, Staged]:
    tickets = f"{name}_tickets"
    con.execute(
        f"""
        create temp table {tickets} as
        select number as ticket_id, {", ".join(_ticket_selects(raw))},
            _line, _raw_line, _reject_reason
        from {raw.table}
        """
    )
    if "sys_id" in raw.columns:
        con.execute(
            f"insert into {_SYSIDS} select sys_id, number from {raw.table} "
            "where _reject_reason is null and sys_id is not null"
        )
        for audit in _registered(con, "audit"):  # audit files read earlier: fix their ids
            con.execute(
                f"""update {audit} set ticket_id = s.number from {_SYSIDS} s
                    where {audit}.ticket_id = s.sys_id"""
            )
    staged = {"tickets": Staged("tickets", tickets)}
    if kind == "tickets" or _registered(con, "audit"):
        con.execute(f"drop table {raw.table}")
        return staged
    state = col(present(raw, "incident_state", "state"))
    group = col(present(raw, "assignment_group"))
    agent = col(present(raw, "assigned_to"))
    stamps = [(c, s) for c, s in (("opened_at", "New"), ("resolved_at", "Resolved"),
                                  ("closed_at", "Closed")) if c in raw.columns]
    if not stamps:
        raise InputError(f"{info.label}: the incident list has no opened_at, resolved_at or "
                         "closed_at column to place its events")
    label = value_map(state, STATE_CODES)
    phase = _phase_sql(label, col(present(raw, "active")))
    parts = [
        f"""select number as ticket_id, {c} as event_at, '{i}' as seq,
                {group if s != "New" else "null::varchar"} as "group",
                {agent if s != "New" else "null::varchar"} as agent,
                '{s}' as status, _line, _raw_line,
                coalesce(_reject_reason, {_stale_reason(c, s, phase, label)}) as _reject_reason
            from {raw.table} where nullif(trim({c}), '') is not null
                and nullif(trim({c}), '?') is not null"""
        for i, (c, s) in enumerate(stamps)
    ]
    # An incident still open gets its current state at its last update.
    if "sys_updated_on" in raw.columns:
        parts.append(
            f"""select number, sys_updated_on, '9', {group}, {agent},
                    {label}, _line, _raw_line, _reject_reason
                from {raw.table}
                where {phase} = 'open' and nullif(trim({label}), '') is not null"""
        )
    events = f"{name}_events"
    con.execute(f"create temp table {events} as {' union all '.join(parts)}")
    con.execute(f"insert into {_REGISTRY} values ('synthetic', '{events}')")
    con.execute(f"drop table {raw.table}")
    staged["events"] = Staged("events", events)
    return staged


def _phase_sql(state: str, active: str) -> str:
    """Where an incident row says the incident stands: 'open', 'resolved', 'done'
    (closed or canceled), or null when it says nothing (no state, no active flag)."""
    s = f"lower(trim({state}))"
    return f"""(case
        when {s} in ('closed', 'canceled', 'cancelled') then 'done'
        when {s} = 'resolved' then 'resolved'
        when nullif({s}, '') is not null then 'open'
        when lower(trim({active})) in ('true', '1', 'yes') then 'open'
    end)"""


def _stale_reason(column: str, status: str, phase: str, state: str) -> str:
    """SQL for why a date is not made an event: the incident's state contradicts it
    (a resolution date on an open incident, a closure date on one not closed); null
    when it does not. The reason names the column, the value, the state and the fix."""
    contradicts = {"Resolved": "'open'", "Closed": "'open', 'resolved'"}.get(status)
    if contradicts is None:
        return "null::varchar"
    return f"""case when {phase} in ({contradicts}) then
            '{column} ''' || trim({column}) || ''' contradicts the incident state '''
            || coalesce(trim({state}), 'active') || ''': not made a {status} event (a date '
            || 'left from before a reopen); the incident is loaded as it stands. Fix: '
            || 'nothing to do, or export {column} empty for incidents not {status.lower()}'
        end"""


def _audit_events(
    con: duckdb.DuckDBPyConnection, raw: RawTable, name: str, *, ticket: str, at: str,
    field: str, new: str, old: str | None, seq: str,
) -> str:
    """One event per audit row: the row's own field set, the state carried forward."""
    f = f"lower(trim({field}))"
    is_state = f"{f} in ('incident_state', 'state', 'incident state duration')"
    state_new = value_map(f"case when {is_state} then {new} end", STATE_CODES)
    state_old = value_map(f"case when {is_state} then {old or 'null'} end", STATE_CODES)
    events = f"{name}_events"
    con.execute(
        f"""
        create temp table {events} as
        select ticket_id, event_at, seq, "group", agent,
            coalesce(
                last_value(state_new ignore nulls) over so_far,
                first_value(state_old ignore nulls) over whole,
                first_value(state_new ignore nulls) over whole
            ) as status,
            _line, _raw_line, _reject_reason
        from (
            select {ticket} as ticket_id, {at} as event_at, {seq} as seq,
                case when {f} in ('assignment_group', 'assignment group') then {new} end
                    as "group",
                case when {f} in ('assigned_to', 'assigned to duration') then {new} end
                    as agent,
                {state_new} as state_new, {state_old} as state_old,
                _line, _raw_line, _reject_reason
            from {raw.table}
        )
        window
            so_far as (partition by ticket_id order by _line
                       rows between unbounded preceding and current row),
            whole as (partition by ticket_id order by _line
                      rows between unbounded preceding and unbounded following)
        """
    )
    con.execute(f"insert into {_REGISTRY} values ('audit', '{events}')")
    for synthetic in _registered(con, "synthetic"):  # the real timeline replaces them
        con.execute(f"delete from {synthetic} where ticket_id in "
                    f"(select ticket_id from {events})")
    return events


def _read_metric_instances(
    con: duckdb.DuckDBPyConnection, info: FileInfo, raw: RawTable, kind: str | None, name: str
) -> dict[str, Staged]:
    if kind == "tickets":
        raise InputError(f"{info.label}: a metric_instance export holds events")
    require(raw, info.label, ("id", "start"), "a ServiceNow metric_instance export")
    events = _audit_events(
        con, raw, name, ticket="id", at="start", field="definition", new="value", old=None,
        seq="null::varchar",
    )
    con.execute(f"drop table {raw.table}")
    return {"events": Staged("events", events)}


def _read_sys_audit(
    con: duckdb.DuckDBPyConnection, info: FileInfo, raw: RawTable, kind: str | None, name: str
) -> dict[str, Staged]:
    if kind == "tickets":
        raise InputError(f"{info.label}: a sys_audit export holds events")
    require(raw, info.label, ("newvalue", "sys_created_on"), "a ServiceNow sys_audit export")
    known = con.execute(f"select count(*) from {_SYSIDS}").fetchone()
    if not known or not known[0]:
        raise InputError(
            f"{info.label}: sys_audit rows name incidents by sys_id (documentkey); give the "
            "incident list, exported with its sys_id column, before this file"
        )
    ticket = (
        f"coalesce((select s.number from {_SYSIDS} s where s.sys_id = documentkey), "
        "documentkey)"
    )
    events = _audit_events(
        con, raw, name, ticket=ticket, at="sys_created_on", field="fieldname", new="newvalue",
        old=present(raw, "oldvalue"), seq=col(present(raw, "record_checkpoint")),
    )
    con.execute(f"drop table {raw.table}")
    return {"events": Staged("events", events)}
