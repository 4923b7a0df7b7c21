"""Carrying a ticket's status to the events that set none, in time order.

Exports that record only changes (Zendesk ticket events, field-history logs read
with `mapped`) leave most events without a status: the ticket's status then is the
one in force at that time. This is worked out over every staged events table of
the run at once (a ticket's updates may sit in several files, in any order) and
from what earlier runs stored, always by time (then the source's sequence), never
by file order.

A staged table taking part has the columns ticket_id, status (filled here),
status_set (the status the row itself sets, or null), _ts (its parsed time),
_seq (its sequence), _line, _parse_reason (a reason the adapter found) and
_reject_reason (filled here). `points` gives further known statuses as
(ticket_id, time, seq, status, prior): `status` in force from that point on, and
`prior` the one in force just before it (a change's previous value), or null.

For each row: its own status, else the last known status at or before it, else the
status just before the first known point after it, else `initial` (if any). A row
left without one is rejected with `unknown` as its reason, never guessed.
"""

from __future__ import annotations

import duckdb

from pipelines.ingest.readers import sql_str

_REGISTRY = "_carry_tables"
_FILL = "_carry_fill"


def register(con: duckdb.DuckDBPyConnection, source: str, table: str) -> None:
    """Make `table` (staged for `source`) take part in this run's refills."""
    con.execute(f"create temp table if not exists {_REGISTRY} (source varchar, tbl varchar)")
    con.execute(f"insert into {_REGISTRY} values ({sql_str(source)}, {sql_str(table)})")


def tables(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """The staged tables of `source` in this run that still exist (not yet loaded)."""
    con.execute(f"create temp table if not exists {_REGISTRY} (source varchar, tbl varchar)")
    rows = con.execute(
        f"""select r.tbl from {_REGISTRY} r
            where r.source = ? and exists (select 1 from duckdb_tables() t
                                           where t.temporary and t.table_name = r.tbl)""",
        [source],
    ).fetchall()
    return [str(r[0]) for r in rows]


def refill(
    con: duckdb.DuckDBPyConnection,
    source: str,
    points: str | None,
    unknown: str,
    initial: str | None = None,
) -> None:
    """(Re)compute status and _reject_reason of every staged table of `source`."""
    staged = tables(con, source)
    if not staged:
        return
    rows = " union all ".join(
        f"select {sql_str(t)} as _tbl, _line, ticket_id, _ts, _seq, status_set from {t}"
        for t in staged
    )
    own = " union all ".join(
        f"select ticket_id, _ts, _seq, status_set, null::varchar from {t} "
        "where status_set is not null and _ts is not null"
        for t in staged
    )
    pts = own if points is None else f"{own} union all select * from ({points})"
    first = "rows between unbounded preceding and current row"
    rest = "rows between current row and unbounded following"
    order = "partition by ticket_id order by point_at nulls last, seq nulls last, k"
    con.execute(
        f"""
        create or replace temp table {_FILL} as
        with staged as ({rows}),
        pts (ticket_id, point_at, seq, status, prior) as (
            select t, a, s, st, max(p) from ({pts}) x(t, a, s, st, p)
            where t in (select ticket_id from staged)
            group by all  -- the same point from two places: its prior if one knows it
        ),
        u as (
            select ticket_id, point_at, seq, 0 as k, status, {{'b': prior}} as nxt,
                null::varchar as _tbl, null::bigint as _line, null::varchar as status_set
            from pts
            union all
            select ticket_id, _ts, _seq, 1, null, null, _tbl, _line, status_set from staged
        )
        select _tbl, _line, status from (
            select k, _tbl, _line, coalesce(
                    status_set,
                    last_value(status ignore nulls) over ({order} {first}),
                    (first_value(nxt ignore nulls) over ({order} {rest})).b,
                    {sql_str(initial) if initial is not None else "null"}) as status
            from u)
        where k = 1
        """
    )
    reason = sql_str(unknown)
    for t in staged:
        con.execute(
            f"""update {t} set status = f.status,
                    _reject_reason = coalesce(_parse_reason, case
                        when f.status is null and {t}._ts is not null
                            and nullif(trim({t}.ticket_id), '') is not null
                        then replace({reason}, '{{ticket}}', {t}.ticket_id) end)
                from {_FILL} f
                where f._tbl = {sql_str(t)} and f._line = {t}._line"""
        )
    con.execute(f"drop table {_FILL}")
