"""The `zendesk` format: Zendesk Support's incremental exports, as JSON.

Three kinds of file, told apart by their content (a response page of the API, a JSON
array of records, or JSON Lines of records):

  - ticket events (`GET /api/v2/incremental/ticket_events?include=comment_events`,
    key `ticket_events`): one record per ticket update, with `child_events`. Each
    record becomes one canonical event: event_at = created_at (or the Unix
    `timestamp`), seq = its id, and the status, group_id and assignee_id that its
    Create/Change child events set (both shapes are read: `{"field_name": "status",
    "value": "open"}` as in ticket audits, and `{"status": "open", "previous_value":
    "new"}` as in the incremental export). An update that does not change the status
    takes the ticket's status at that time, in time order (created_at, then id) over
    every page of this run and of earlier runs (raw.zendesk_statuses): the last one
    set at or before it, else the next change's previous value, else tickets.json's
    status as of its updated_at; otherwise it is rejected (carry.py). A Comment child
    event makes the event a note: `public` (or `comment_public`) true -> note_kind
    public, false -> internal, with its body.
  - tickets (`GET /api/v2/incremental/tickets/cursor`, key `tickets`): one ticket
    each; priority urgent/high/normal/low -> P1..P4, type -> category,
    via.channel -> channel, organization_id -> client. A `deleted` ticket gets a
    `deleted` event at its updated_at (a cancelled status: in no rate).
  - groups (`GET /api/v2/groups`, key `groups`): a lookup, not data, kept in
    raw.zendesk_groups: group ids in the events become group names in any file order
    and over runs (stored events of Zendesk files are renamed in place when the
    groups arrive), so the tier map can match names; without it, it matches the ids.
"""

from __future__ import annotations

from dataclasses import replace

import duckdb

from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.ingest import carry
from pipelines.ingest.formats import Staged
from pipelines.ingest.readers import FileInfo, read_file, sql_str

# The adapter's own lookups, kept across runs (created here, not in db.py): group
# names by id, every status the exports state (a change, or a ticket's status as of
# its updated_at), and which files were Zendesk events (whose stored events take
# group names when the groups arrive in a later run).
GROUPS = "raw.zendesk_groups"
STATUSES = "raw.zendesk_statuses"
FILES = "raw.zendesk_files"
SNAPSHOT_SEQ = 9223372036854775807  # a ticket's status at updated_at: after its updates
UNKNOWN_STATUS = (
    "status unknown: this update of ticket {ticket} changes no status, and no earlier "
    "update nor a later change nor tickets.json says it (add the earlier pages or the "
    "tickets export to the run)"
)


def _records(con: duckdb.DuckDBPyConnection, info: FileInfo, name: str) -> tuple[str, str]:
    """Temp table (_line, _raw_line, _reject_reason, r json) of the file's records, and
    which records they are (ticket_events, tickets, groups)."""
    recs = f"{name}_recs"
    whole = None  # the text file, when it is one JSON document
    if info.text is not None:
        row = con.execute(
            "select json_valid(content) from read_text(?)", [str(info.text.path)]
        ).fetchone()
        if row and row[0]:
            whole = info.text
    if whole is not None:
        con.execute(
            f"""
            create temp table {recs}_doc as
            select case when json_type(content) = 'ARRAY' then null
                   else coalesce(
                       case when json_exists(content, '$.ticket_events') then 'ticket_events' end,
                       case when json_exists(content, '$.tickets') then 'tickets' end,
                       case when json_exists(content, '$.groups') then 'groups' end)
                   end as what,
                json_extract(content, '$[*]') as arr, json_type(content) = 'ARRAY' as is_arr,
                content
            from read_text({sql_str(str(whole.path))})
            """
        )
        con.execute(
            f"""alter table {recs}_doc add column items json[];
                update {recs}_doc set items = case when is_arr then arr
                    when what = 'ticket_events' then json_extract(content, '$.ticket_events[*]')
                    when what = 'tickets' then json_extract(content, '$.tickets[*]')
                    when what = 'groups' then json_extract(content, '$.groups[*]')
                    else [content::json] end"""
        )
        what_row = con.execute(f"select what from {recs}_doc").fetchone()
        con.execute(
            f"""
            create temp table {recs} as
            select unnest(range(1, len(items) + 1)) as _line,
                unnest(items)::varchar as _raw_line, null::varchar as _reject_reason,
                unnest(items) as r
            from {recs}_doc
            """
        )
        con.execute(f"drop table {recs}_doc")
        what = what_row[0] if what_row else None
    else:  # JSON Lines: one record a line (read_file checks each line)
        # whatever the file is named: Zendesk data is JSON, a line that is not is rejected
        raw = read_file(con, replace(info, format="jsonl"), f"{recs}_lines")
        con.execute(
            f"""create temp table {recs} as
                select _line, _raw_line, _reject_reason,
                    case when _reject_reason is null then _raw_line::json end as r
                from {raw.table}"""
        )
        con.execute(f"drop table {raw.table}")
        what = None
    if what is None:  # records given bare: tell them apart by their keys
        row = con.execute(
            f"""select bool_or(json_exists(r, '$.child_events')),
                       bool_or(json_exists(r, '$.subject') or json_exists(r, '$.requester_id')),
                       bool_or(json_exists(r, '$.name') and not json_exists(r, '$.ticket_id'))
                from {recs}"""
        ).fetchone()
        if row and row[0]:
            what = "ticket_events"
        elif row and row[1]:
            what = "tickets"
        elif row and row[2]:
            what = "groups"
    if what is None:
        raise InputError(
            f"{info.label}: not a Zendesk export (expected ticket_events, tickets or groups "
            "records, e.g. a page of /api/v2/incremental/ticket_events)"
        )
    return recs, what


def _s(obj: str, key: str) -> str:
    return f"json_extract_string({obj}, '{key}')"


def _child(field: str, part: str = "value") -> str:
    """SQL: list of the values (or previous values) that Create/Change child events
    set for `field`, in order."""
    keyed = _s("c", field) if part == "value" else _s("c", "previous_value")
    pick = (
        f"case when {_s('c', 'field_name')} = '{field}' then {_s('c', part)} "
        f"when json_exists(c, '$.{field}') then {keyed} end"
    )
    changes = f"list_filter(ch, lambda c: {_s('c', 'event_type')} in ('Create', 'Change'))"
    return f"list_filter(list_transform({changes}, lambda c: {pick}), lambda x: x is not null)"


def _events(con: duckdb.DuckDBPyConnection, recs: str, name: str) -> str:
    """Staged events of the file; their status is filled by _refresh (carry.py)."""
    events = f"{name}_events"
    comments = f"list_filter(ch, lambda c: {_s('c', 'event_type')} = 'Comment')"
    public = f"coalesce({_s('c', 'public')}, {_s('c', 'comment_public')}) = 'true'"
    epoch = f"try_cast({_s('r', 'timestamp')} as bigint)"
    created = _s("r", "created_at")
    con.execute(
        f"""
        create temp table {events} as
        select {_s("r", "ticket_id")} as ticket_id,
            coalesce({created},
                     strftime(to_timestamp({epoch}), '%Y-%m-%dT%H:%M:%SZ')) as event_at,
            {_s("r", "id")} as seq,
            {_child("group_id")}[-1] as group_id,
            {_child("group_id")}[-1] as "group",
            {_child("assignee_id")}[-1] as agent,
            null::varchar as status,
            {_child("status")}[-1] as status_set,
            {_child("status", "previous_value")}[1] as status_before,
            case when len({comments}) = 0 then null
                 when list_bool_or(list_transform({comments}, lambda c: {public}))
                     then 'public'
                 else 'internal' end as note_kind,
            {_s(comments + "[1]", "body")} as note_text,
            _line, _raw_line, _reject_reason as _parse_reason, _reject_reason,
            coalesce(try_cast({created} as timestamptz), to_timestamp({epoch})) as _ts,
            try_cast({_s("r", "id")} as bigint) as _seq
        from (select *, json_extract(r, '$.child_events[*]') as ch from {recs})
        """
    )
    # the changes are facts of the ticket, whatever file or run holds its other updates
    con.execute(
        f"""insert into {STATUSES}
            select distinct ticket_id, _ts, _seq, status_set, status_before from {events} n
            where status_set is not null and _ts is not null and _parse_reason is null
                and not exists (select 1 from {STATUSES} s where s.ticket_id = n.ticket_id
                    and s.status_at = n._ts and s.seq is not distinct from n._seq
                    and s.status = n.status_set)"""
    )
    return events


def _tickets(con: duckdb.DuckDBPyConnection, recs: str, name: str) -> dict[str, Staged]:
    """Staged tickets; each one's status (as of updated_at) becomes a known status,
    and a deleted ticket gets a `deleted` event at its updated_at (cancelled)."""
    tickets = f"{name}_tickets"
    con.execute(
        f"""
        create temp table {tickets} as
        select {_s("r", "id")} as ticket_id, {_s("r", "created_at")} as opened_at,
            {_s("r", "priority")} as priority,
            {_s("r", "type")} as category, {_s("r", "$.via.channel")} as channel,
            {_s("r", "organization_id")} as client, {_s("r", "due_at")} as sla_due_at,
            {_s("r", "updated_at")} as updated_at, lower(trim({_s("r", "status")})) as _status,
            _line, _raw_line, _reject_reason
        from {recs}
        """
    )
    at = "try_cast(updated_at as timestamptz)"
    con.execute(
        f"""insert into {STATUSES}
            select distinct ticket_id, {at}, {SNAPSHOT_SEQ}, _status, _status from {tickets} n
            where _status is not null and _status <> 'deleted' and {at} is not null
                and _reject_reason is null
                and not exists (select 1 from {STATUSES} s where s.ticket_id = n.ticket_id
                    and s.status_at = {at} and s.seq = {SNAPSHOT_SEQ} and s.status = n._status)"""
    )
    out = {"tickets": Staged("tickets", tickets)}
    deleted = con.execute(
        f"select count(*) from {tickets} where _status = 'deleted' and _reject_reason is null"
    ).fetchone()
    if deleted and deleted[0]:
        gone = f"{name}_deleted"
        con.execute(
            f"""create temp table {gone} as
                select ticket_id, updated_at as event_at, '{SNAPSHOT_SEQ}' as seq,
                    'deleted' as status, _line,
                    'derived from the tickets record of ticket ' || ticket_id
                        || ' (status deleted in Zendesk)' as _raw_line,
                    null::varchar as _reject_reason
                from {tickets} where _status = 'deleted' and _reject_reason is null"""
        )
        out["events"] = Staged("events", gone)
    return out


def _zendesk_batches() -> str:
    return (f"select batch_id from meta.batches where content_hash in "
            f"(select content_hash from {FILES})")


def _groups(con: duckdb.DuckDBPyConnection, recs: str) -> None:
    """Group names into the lookup; stored events of Zendesk files that hold a group's
    id (or its former name) take its name, in place: the same event loaded before and
    after the groups is then the same row, never two."""
    new = "_zendesk_new_groups"
    con.execute(
        f"""create or replace temp table {new} as
            select id, arg_max(name, _line) as name from (
                select {_s('r', 'id')} as id, {_s('r', 'name')} as name, _line from {recs})
            where id is not null and name is not null group by id"""
    )
    mine = f"_batch_id in ({_zendesk_batches()})"
    # the tickets whose stored events change: the next build refreshes them
    # (pipelines/models/incremental.py); numbered after every batch so far
    touched = (
        "insert into meta.touched_tickets select distinct "
        "(select coalesce(max(batch_id), 0) + 1 from meta.batches), e.ticket_id "
        "from raw.events e "
    )
    con.execute(
        touched + f"""join {GROUPS} g on e.group_name = g.name join {new} n on g.id = n.id
            where g.name <> n.name and e.{mine}"""
    )
    con.execute(
        f"""update raw.events set group_name = n.name
            from {new} n join {GROUPS} g on g.id = n.id
            where raw.events.group_name = g.name and g.name <> n.name and {mine}"""
    )
    con.execute(f"delete from {GROUPS} where id in (select id from {new})")
    con.execute(f"insert into {GROUPS} select id, name from {new}")
    con.execute(touched + f"join {GROUPS} g on e.group_name = g.id where e.{mine}")
    con.execute(
        f"""update raw.events set group_name = g.name from {GROUPS} g
            where raw.events.group_name = g.id and {mine}"""
    )
    con.execute(f"drop table {new}")


def _refresh(con: duckdb.DuckDBPyConnection) -> None:
    """Group names and statuses of every events file staged in this run so far."""
    for tbl in carry.tables(con, "zendesk"):
        con.execute(
            f"""update {tbl} set "group" = coalesce(
                    (select g.name from {GROUPS} g where g.id = {tbl}.group_id), group_id)"""
        )
    carry.refill(con, "zendesk", f"select * from {STATUSES}", UNKNOWN_STATUS)


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""create table if not exists {GROUPS} (id varchar, name varchar);
            create table if not exists {STATUSES} (
                ticket_id varchar, status_at timestamptz, seq bigint, status varchar,
                prior varchar);
            create table if not exists {FILES} (content_hash varchar)"""
    )


def read_zendesk(
    con: duckdb.DuckDBPyConnection, info: FileInfo, config: Config, kind: str | None, name: str
) -> dict[str, Staged]:
    del config
    _ensure_tables(con)
    recs, what = _records(con, info, name)
    try:  # (a failing statement aborts the run's transaction: the drop is then moot)
        if what == "groups":
            _groups(con, recs)
            _refresh(con)
            return {}
        row = con.execute(f"select count(*) from {recs}").fetchone()
        if not row or not row[0]:  # a valid empty page (e.g. the last of a paged export)
            return {}
        if kind is not None and kind != ("events" if what == "ticket_events" else "tickets"):
            raise InputError(f"{info.label}: this file holds Zendesk {what}; drop --kind {kind}")
        if what == "tickets":
            out = _tickets(con, recs, name)
            _refresh(con)
            return out
        events = _events(con, recs, name)
        con.execute(f"insert into {FILES} values ({sql_str(info.content_hash)})")
        carry.register(con, "zendesk", events)
        _refresh(con)
        return {"events": Staged("events", events)}
    finally:
        con.execute(f"drop table if exists {recs}")
