"""The `mapped` format: any CSV / JSON Lines / Parquet export described by a mapping
file (see mapping_file.py for its keys, mappings/ for examples).

    tierlens ingest --format mapped --mapping mappings/connectwise_tickets.toml export.csv

Each row of the file is one row of the mapping's kind (tickets, or events); with
kind = "both" each row is an event and one ticket per ticket_id is derived from its
rows (opened_at from the first row in time, the other ticket fields from the last).
Rows that set no status carry the ticket's status in time order (carry.py). Columns
are renamed, cut by regex, value-mapped and their timestamps normalised here;
validation and loading are the shared ones, so a value that still does not parse is
rejected with its reason, never dropped.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import duckdb

from pipelines.config import Config
from pipelines.db import quote_ident
from pipelines.errors import InputError
from pipelines.ingest import carry
from pipelines.ingest.adapter_sql import order_ts, value_map
from pipelines.ingest.formats import FormatReader, Staged
from pipelines.ingest.mapping_file import ColumnSpec, Mapping, load_mapping
from pipelines.ingest.readers import FileInfo, RawTable, read_file, sql_str
from pipelines.ingest.schema import CONTRACTS, MISSING_TOKENS
from pipelines.ingest.validate import DAY_MONTH_RE, ISO_RE, timestamp_sql

_ISO_PARTS = ["y", "mo", "d", "h", "mi", "s", "fr", "tz"]
_DM_PARTS = ["a", "b", "y", "h", "mi", "s", "fr", "ap", "tz"]
UNKNOWN_STATUS = (
    "status unknown: no row of ticket {ticket} at or before this one sets a status (in "
    "this run or stored), and [events] initial_status is not set in the mapping"
)
_TIMESTAMPS = {r.name for c in CONTRACTS.values() for r in c.columns if r.type == "timestamp"}


def mapped_reader(mapping: Path | str | Mapping) -> FormatReader:
    """The `mapped` format's reader bound to this mapping (a file, or one loaded)."""
    loaded = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    return partial(read_mapped, mapping=loaded)


def _parts(names: list[str]) -> str:
    return "[" + ", ".join(sql_str(n) for n in names) + "]"


def _timestamp(v: str, mapping: Mapping, config: Config) -> str:
    """SQL: the value as ISO 8601 UTC when the mapping says how to read it, else as is
    (then the shared rules and settings read it)."""
    ts = mapping.timestamps
    zone = sql_str(ts.timezone or config.ingest.source_timezone)
    if ts.format != "auto":
        parsed = f"timezone({zone}, try_strptime(trim({v}), {sql_str(ts.format)}))"
    elif ts.timezone is None and ts.date_order == "auto":
        return v
    else:
        order = ts.date_order if ts.date_order in ("dmy", "mdy") else None
        c = f"trim({v})"
        iso = f"regexp_extract({c}, {sql_str(ISO_RE)}, {_parts(_ISO_PARTS)})"
        dm = f"regexp_extract({c}, {sql_str(DAY_MONTH_RE)}, {_parts(_DM_PARTS)})"
        parsed = timestamp_sql(c, iso, dm, order, ts.timezone or config.ingest.source_timezone)
    utc = f"strftime(timezone('UTC', {parsed}), '%Y-%m-%dT%H:%M:%S') || '+00:00'"
    if ts.format == "auto":
        return f"coalesce({utc}, {v})"
    # never hand a value the format refused to the shared rules: they might read it
    # another way; it is rejected with the format in its reason instead
    missing = ", ".join(sql_str(t) for t in MISSING_TOKENS)
    return (
        f"coalesce({utc}, case when {v} is null or trim({v}) in ({missing}) then {v} "
        f"else 'not in the format {ts.format.replace(chr(39), chr(39) * 2)}: ' || {v} end)"
    )


def _column(raw: RawTable, field: str, spec: ColumnSpec, mapping: Mapping, config: Config,
            label: str) -> str:
    for needed in (spec.column, *spec.join, spec.when_column):
        if needed and needed not in raw.columns:
            raise InputError(
                f"{label}: the mapping's column {needed!r} (for {field}) is not in the file "
                f"(found: {', '.join(raw.header)})"
            )
    v = quote_ident(spec.column)
    for more in spec.join:  # e.g. Status + "/" + Sub Status; a blank part is left out
        part = f"nullif(trim({quote_ident(more)}), '')"
        v = f"{v} || coalesce({sql_str(spec.separator)} || {part}, '')"
    if spec.pattern:
        v = f"nullif(regexp_extract({v}, {sql_str(spec.pattern)}, 1), '')"
    if spec.when_column:
        whens = ", ".join(sql_str(w.strip().lower()) for w in spec.when)
        v = f"case when lower(trim({quote_ident(spec.when_column)})) in ({whens}) then {v} end"
    v = value_map(v, mapping.values.get(field, {}))
    if field in _TIMESTAMPS:
        v = _timestamp(v, mapping, config)
    return v


def read_mapped(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    config: Config,
    kind: str | None,
    name: str,
    mapping: Mapping | None = None,
) -> dict[str, Staged]:
    if mapping is None:
        raise InputError(f"{info.label}: the mapped format needs a mapping file (--mapping FILE)")
    src_kind = mapping.source.kind
    if kind is not None and src_kind != "both" and kind != src_kind:
        raise InputError(f"{info.label}: the mapping describes {src_kind}, not {kind}")
    raw = read_file(con, info, f"{name}_raw")
    exprs = {f: _column(raw, f, s, mapping, config, info.label)
             for f, s in mapping.columns.items()}
    exprs.update({f: sql_str(v) for f, v in mapping.constants.items() if f not in exprs})
    used = {c for s in mapping.columns.values() for c in (s.column, *s.join, s.when_column) if c}
    ignored = tuple(c for c in raw.columns if c not in used)

    def select(fields: tuple[str, ...]) -> str:
        return ", ".join(f"{exprs[f]} as {quote_ident(f)}" for f in fields if f in exprs)

    out: dict[str, Staged] = {}
    if src_kind == "tickets":
        tickets = f"{name}_tickets"
        con.execute(
            f"""create temp table {tickets} as
                select {select(CONTRACTS["tickets"].names)}, _line, _raw_line, _reject_reason
                from {raw.table}"""
        )
        out["tickets"] = Staged("tickets", tickets, ignored)
    else:
        event_fields = tuple(f for f in CONTRACTS["events"].names if f in exprs)
        ev = f"{name}_ev"
        con.execute(
            f"""create temp table {ev} as
                select {select(event_fields)}, _line, _raw_line, _reject_reason,
                    {select(tuple(f for f in CONTRACTS["tickets"].names
                                  if f in exprs and f not in event_fields)) or "null as _none"}
                from {raw.table}"""
        )
        events = f"{name}_events"
        others = ", ".join(quote_ident(f) for f in event_fields if f != "status")
        if mapping.events.fill_status and "status" in mapping.columns:
            _stage_for_carry(con, ev, events, others, "seq" in event_fields, config)
            carry.register(con, "mapped", events)
            # the status in force: from this run's files and the events stored before
            carry.refill(con, "mapped", "select ticket_id, event_at, seq, status, null "
                         "from raw.events", UNKNOWN_STATUS, mapping.events.initial_status)
        else:
            con.execute(
                f"""create temp table {events} as
                    select {others}, "status", _line, _raw_line, _reject_reason
                    from {ev}"""
            )
        out["events"] = Staged("events", events, ignored)
        if src_kind == "both" and kind != "events":
            out["tickets"] = Staged("tickets", _derive_tickets(con, ev, exprs, name, config))
        con.execute(f"drop table {ev}")
    con.execute(f"drop table {raw.table}")
    return out


def _stage_for_carry(
    con: duckdb.DuckDBPyConnection, ev: str, events: str, others: str, has_seq: bool,
    config: Config,
) -> None:
    """The staged events with what carry.refill needs: the status the row sets, its
    time and sequence (the seq column, else the line, as validation reads them)."""
    missing = ", ".join(sql_str(t) for t in MISSING_TOKENS)
    seq = "coalesce(try_cast(trim(seq) as bigint), _line)" if has_seq else "_line"
    con.execute(
        f"""create temp table {events} as
            select {others}, null::varchar as status,
                case when trim(status) not in ({missing}) then status end as status_set,
                _line, _raw_line, _reject_reason as _parse_reason, _reject_reason,
                {order_ts(con, ev, "event_at", config)} as _ts, {seq} as _seq
            from {ev}"""
    )


def _derive_tickets(
    con: duckdb.DuckDBPyConnection, ev: str, exprs: dict[str, str], name: str, config: Config
) -> str:
    """One ticket per ticket_id: opened_at from its first row in time, the rest from
    its last (ties: file order)."""
    fields = [f for f in CONTRACTS["tickets"].names if f in exprs and f != "ticket_id"]
    key = f"({order_ts(con, ev, 'event_at', config)}, _line)"
    aggs = [
        f"{'arg_min' if f == 'opened_at' else 'arg_max'}({quote_ident(f)}, {key}) "
        f"filter (where {quote_ident(f)} is not null) as {quote_ident(f)}"
        for f in fields
    ]
    tickets = f"{name}_tickets"
    con.execute(
        f"""create temp table {tickets} as
            select ticket_id, {", ".join(aggs) + "," if aggs else ""}
                min(_line) as _line,
                'derived from the rows of ticket ' || ticket_id as _raw_line,
                null::varchar as _reject_reason
            from {ev}
            where _reject_reason is null and nullif(trim(ticket_id), '') is not null
            group by ticket_id"""
    )
    return tickets
