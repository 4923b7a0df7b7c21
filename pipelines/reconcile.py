"""Data quality: the source's own counters against what Tierlens derives, and the
values the models could not place (unmapped groups, unknown statuses, rejected rows).

Reconciliation compares, per ticket whose source reports the counter:

  reassignments  reported_reassignment_count  vs  group changes (is_handoff)
  reopens        reported_reopen_count        vs  reopens (is_reopen)

each derived two ways: over the ticket's whole timeline ("all events", what a source
counter such as ServiceNow's counts) and up to its final resolution ("in scope", the
n_handoffs / n_reopens of fct_tickets that the KPIs use). It also lists the tickets
the last build quarantined (meta.quarantine) and accounts for every loaded ticket:
loaded = published in fct_tickets + quarantined. All functions read the last
committed build of the main file and return polars frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pipelines.db import connect, require_database
from pipelines.errors import TierlensError

COUNTERS = {
    "reassignments": ("reported_reassignment_count", "is_handoff"),
    "reopens": ("reported_reopen_count", "is_reopen"),
}


@dataclass(frozen=True)
class Reconciliation:
    summary: pl.DataFrame  # counter, scope, n_tickets, n_agree, share_agree, ...
    examples: pl.DataFrame  # counter, ticket_id, reported, derived_all, derived_in_scope


def _connect(db: Path | str) -> duckdb.DuckDBPyConnection:
    con = connect(require_database(db), read_only=True)
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'analytics' "
        "and table_name in ('fct_tickets', 'int_ticket_events')"
    ).fetchall()
    if row[0][0] < 2:
        con.close()
        raise TierlensError(f"{db}: no built models (run tierlens build first)")
    return con


def _per_ticket_sql() -> str:
    cols = []
    for name, (reported, _flag) in COUNTERS.items():
        cols.append(f"t.{reported} as {name}_reported")
        cols.append(f"coalesce(e.{name}_all, 0) as {name}_all")
        cols.append(f"coalesce(e.{name}_in_scope, 0) as {name}_in_scope")
    derived = ", ".join(
        f"count(*) filter (where {flag}) as {name}_all, "
        f"count(*) filter (where {flag} and is_in_scope) as {name}_in_scope"
        for name, (_, flag) in COUNTERS.items()
    )
    return f"""
        select t.ticket_id, {", ".join(cols)}
        from analytics.fct_tickets t
        left join (
            select ticket_id, {derived} from analytics.int_ticket_events group by ticket_id
        ) e using (ticket_id)
    """


def per_ticket(db: Path | str) -> pl.DataFrame:
    """One row per ticket: each counter as reported, derived over all events and in scope."""
    con = _connect(db)
    try:
        return con.sql(_per_ticket_sql() + " order by t.ticket_id").pl()
    finally:
        con.close()


def reconcile(db: Path | str, n_examples: int = 10) -> Reconciliation:
    """Share of tickets whose reported counters agree with the derived ones, and up to
    `n_examples` disagreeing tickets per counter (largest gaps first)."""
    con = _connect(db)
    try:
        parts, examples = [], []
        for name, (_, _flag) in COUNTERS.items():
            rep, all_, scope = f"{name}_reported", f"{name}_all", f"{name}_in_scope"
            parts.append(
                f"""select '{name}' as counter, count(*) as n_tickets,
                        count(*) filter (where {rep} = {all_}) as n_agree_all,
                        count(*) filter (where {rep} = {scope}) as n_agree_in_scope,
                        count(*) filter (where {rep} > {all_}) as n_reported_higher,
                        count(*) filter (where {rep} < {all_}) as n_reported_lower,
                        sum({rep})::bigint as total_reported, sum({all_})::bigint as total_all,
                        sum({scope})::bigint as total_in_scope
                    from per_ticket where {rep} is not null"""
            )
            examples.append(
                f"""select * from (
                        select '{name}' as counter, ticket_id, {rep} as reported,
                            {all_} as derived_all, {scope} as derived_in_scope
                        from per_ticket where {rep} is not null and {rep} <> {all_}
                        order by abs({rep} - {all_}) desc, ticket_id limit {int(n_examples)})"""
            )
        con.execute(f"create temp table per_ticket as {_per_ticket_sql()}")
        summary = con.sql(
            f"""select *, round(n_agree_all / nullif(n_tickets, 0), 4) as share_agree_all,
                    round(n_agree_in_scope / nullif(n_tickets, 0), 4) as share_agree_in_scope
                from ({" union all ".join(parts)}) order by counter desc"""
        ).pl()
        ex = con.sql(" union all ".join(examples) + " order by counter desc").pl()
        return Reconciliation(summary, ex)
    finally:
        con.close()


def unmapped_groups(db: Path | str) -> pl.DataFrame:
    """Groups no tier rule matched and whose events carry no tier label either (a
    source tier label, as in the Volvo log, makes the tier map unnecessary)."""
    con = _connect(db)
    try:
        return con.sql(
            """select g.partner, g.group_name, g.n_events,
                   count(*) filter (where e.event_tier is null) as n_events_without_tier,
                   count(distinct e.ticket_id) as n_tickets
               from analytics.int_group_tiers g
               left join analytics.int_ticket_events e
                   on e.group_name = g.group_name and e.partner = g.partner
               where g.mapped_tier is null
               group by all
               having count(*) filter (where e.event_tier is null) > 0
               order by g.n_events desc, g.group_name"""
        ).pl()
    finally:
        con.close()


def unknown_statuses(db: Path | str) -> pl.DataFrame:
    """Source statuses the status map does not know (their events have no class)."""
    con = _connect(db)
    try:
        return con.sql(
            """select example_status as status, n_events from analytics.int_status_classes
               where status_class is null order by n_events desc, status"""
        ).pl()
    finally:
        con.close()


def reject_reasons(db: Path | str, limit: int = 20) -> pl.DataFrame:
    """Rejected input rows by reason (quoted values blanked), with a first example."""
    con = _connect(db)
    try:
        return con.sql(
            f"""select regexp_replace(reason, '''[^'']*''', '''…''', 'g') as reason,
                    count(*) as n_rows, arg_min(reason, line) as example,
                    arg_min(source_file, line) as file, min(line) as first_line
                from meta.rejects group by 1 order by n_rows desc, reason limit {int(limit)}"""
        ).pl()
    finally:
        con.close()


def quarantined(db: Path | str) -> pl.DataFrame:
    """The tickets the last build left out: ticket, model, test, detail."""
    con = _connect(db)
    try:
        return con.sql(
            "select ticket_id, model, test, detail from meta.quarantine "
            "order by ticket_id, model, test"
        ).pl()
    finally:
        con.close()


def ticket_accounting(db: Path | str) -> dict[str, int]:
    """Loaded tickets (in raw.tickets or raw.events), those in the last build's
    fct_tickets and those it quarantined: loaded = published + quarantined."""
    con = _connect(db)
    try:
        row = con.execute(
            """select
                (select count(*) from (
                    select ticket_id from raw.tickets union select ticket_id from raw.events
                )) as loaded,
                (select count(*) from analytics.fct_tickets) as published,
                (select count(distinct ticket_id) from meta.quarantine) as quarantined"""
        ).fetchall()[0]
    finally:
        con.close()
    return dict(zip(("loaded", "published", "quarantined"), map(int, row), strict=True))


def _table(frame: pl.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for c in frame.columns:
        table.add_column(c, justify="right" if frame[c].dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(Text("" if v is None else f"{v:,}" if isinstance(v, int) else str(v))
                        for v in row))  # values from the data: text, never markup
    return table


def print_data_quality(db: Path | str, console: Console, n_examples: int = 5) -> None:
    """The `tierlens reconcile` report."""
    counts = ticket_accounting(db)
    unbuilt = counts["loaded"] - counts["published"] - counts["quarantined"]
    console.print(
        f"tickets: {counts['loaded']:,} loaded = {counts['published']:,} in the build "
        f"+ {counts['quarantined']:,} quarantined"
        + (f" + {unbuilt:,} loaded since the build (run tierlens build)" if unbuilt else ""),
        highlight=False,
    )
    held = quarantined(db)
    if held.height:
        console.print(_table(held, f"quarantined tickets (failed a data test): {held.height}"))
        console.print("fix these rows in the export, ingest it again and rebuild", highlight=False)
    rec = reconcile(db, n_examples)
    if rec.summary["n_tickets"].sum() == 0:
        console.print("reconciliation: the source reports no counters of its own")
    else:
        pct = "{}%"
        shown = rec.summary.select(
            pl.col("counter"), pl.col("n_tickets").alias("tickets"),
            pl.format(pct, (pl.col("share_agree_all") * 100).round(1)).alias("agree"),
            pl.format(pct, (pl.col("share_agree_in_scope") * 100).round(1)).alias("agree*"),
            pl.col("n_reported_higher").alias("src>"), pl.col("n_reported_lower").alias("src<"),
            pl.col("total_reported").alias("sum src"), pl.col("total_all").alias("sum derived"),
            pl.col("total_in_scope").alias("sum derived*"),
        )
        console.print(_table(shown, "reconciliation: source counters vs derived"))
        if rec.examples.height:
            console.print(_table(rec.examples, "tickets that disagree (all events)"))
        console.print("agree/derived: over all events; *: up to the final resolution (as the "
                      "KPIs count); src>/src<: the source's count is higher/lower", soft_wrap=True)
    for frame, title, empty in (
        (unmapped_groups(db), "groups with no tier (add them to tier_map)", "no unmapped groups"),
        (unknown_statuses(db), "statuses the status map does not know", "no unknown statuses"),
        (reject_reasons(db), "rejected rows by reason (meta.rejects)", "no rejected rows"),
    ):
        console.print(_table(frame.head(20), f"{title}: {frame.height}") if frame.height
                      else empty)
