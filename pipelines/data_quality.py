"""The data-quality queries, shared by `tierlens reconcile` and the dashboard's
data-quality page, so both show the same figures from the same SQL.

They read tables that are both in a build of the main file and in its serving
snapshot: analytics.fct_tickets, int_group_tiers and int_status_classes. Each
function takes an open connection (or cursor) and, for the ticket-level queries, an
optional WHERE clause over fct_tickets' columns with its parameters (the dashboard's
filters); it returns a polars frame.

Reconciliation compares, per ticket whose source reports the counter:

  reassignments  reported_reassignment_count  vs  group changes
  reopens        reported_reopen_count        vs  reopens

derived over the ticket's whole timeline ("all": what a source counter such as
ServiceNow's counts) and up to its final resolution ("in scope": n_handoffs /
n_reopens, what the KPIs use). A counter is measurable for a ticket only when its
events are a history that can show it (fct_tickets.can_count_*: a plain incident
list, one row per incident, cannot); the others are counted as not measurable,
never as agreeing or disagreeing.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from pipelines.db import polars_frame

# counter -> (reported column, derived over all events, derived in scope, measurable)
COUNTERS: dict[str, tuple[str, str, str, str]] = {
    "reassignments": (
        "reported_reassignment_count", "n_handoffs_all", "n_handoffs", "can_count_reassignments"
    ),
    "reopens": ("reported_reopen_count", "n_reopens_all", "n_reopens", "can_count_reopens"),
}

NOT_MEASURABLE = "not measurable from this export"

# Why a source cannot support a counter, in a manager's words.
WHY_NOT = {
    "reassignments": "its events hold no history of the assignment group (e.g. a plain "
    "incident list, one row per incident): export the audit history too",
    "reopens": "its events hold no history of the status (e.g. a plain incident list, one "
    "row per incident): export the audit history too",
}


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    return polars_frame(con.sql(sql, params=params or {}))


def per_ticket_sql(where: str = "true") -> str:
    """One row per ticket: each counter as reported, derived (all / in scope), and
    whether it is measurable."""
    cols = ", ".join(
        f"{rep} as {name}_reported, {all_} as {name}_all, {scope} as {name}_in_scope, "
        f"{can} as {name}_measurable"
        for name, (rep, all_, scope, can) in COUNTERS.items()
    )
    return f"select ticket_id, source, {cols} from analytics.fct_tickets where {where}"


def per_ticket(
    con: duckdb.DuckDBPyConnection, where: str = "true", params: dict[str, Any] | None = None
) -> pl.DataFrame:
    return _frame(con, per_ticket_sql(where) + " order by ticket_id", params)


def counter_summary(
    con: duckdb.DuckDBPyConnection, where: str = "true", params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Per counter, over the tickets whose source reports it: how many, how many are
    measurable, agree, disagree (over all events; and agree in scope), the share
    agreeing among the measurable ones (null when none is), and the sums."""
    parts = [
        f"""select '{name}' as counter,
                count(*) as n_tickets,
                count(*) filter (where {can}) as n_measurable,
                count(*) filter (where not {can}) as n_not_measurable,
                count(*) filter (where {can} and {rep} = {all_}) as n_agree_all,
                count(*) filter (where {can} and {rep} <> {all_}) as n_disagree_all,
                count(*) filter (where {can} and {rep} = {scope}) as n_agree_in_scope,
                count(*) filter (where {can} and {rep} > {all_}) as n_reported_higher,
                count(*) filter (where {can} and {rep} < {all_}) as n_reported_lower,
                coalesce(sum({rep}) filter (where {can}), 0)::bigint as total_reported,
                coalesce(sum({all_}) filter (where {can}), 0)::bigint as total_all,
                coalesce(sum({scope}) filter (where {can}), 0)::bigint as total_in_scope
            from analytics.fct_tickets where ({where}) and {rep} is not null"""
        for name, (rep, all_, scope, can) in COUNTERS.items()
    ]
    return _frame(
        con,
        f"""select *,
                round(n_agree_all / nullif(n_measurable, 0), 4) as share_agree_all,
                round(n_agree_in_scope / nullif(n_measurable, 0), 4) as share_agree_in_scope
            from ({" union all ".join(parts)}) order by counter""",
        params,
    )


def disagreements(
    con: duckdb.DuckDBPyConnection,
    limit: int = 10,
    where: str = "true",
    params: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """Up to `limit` measurable tickets per counter whose reported count differs from
    the one derived over all events, largest gaps first."""
    parts = [
        f"""select * from (
                select '{name}' as counter, ticket_id, {rep} as reported,
                    {all_} as derived_all, {scope} as derived_in_scope
                from analytics.fct_tickets
                where ({where}) and {can} and {rep} is not null and {rep} <> {all_}
                order by abs({rep} - {all_}) desc, ticket_id limit {int(limit)})"""
        for name, (rep, all_, scope, can) in COUNTERS.items()
    ]
    return _frame(con, " union all ".join(parts) + " order by counter desc", params)


def source_support(
    con: duckdb.DuckDBPyConnection, where: str = "true", params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Per source and counter: the tickets reporting it, and whether the export can
    support it (its events can show the changes it counts) with the reason if not."""
    parts = [
        f"""select source, '{name}' as counter, count({rep}) as n_reporting,
                bool_or({can}) as measurable,
                case when not bool_or({can}) then '{WHY_NOT[name]}' end as why_not
            from analytics.fct_tickets where {where} group by source"""
        for name, (rep, _all, _scope, can) in COUNTERS.items()
    ]
    return _frame(
        con, " union all ".join(parts) + " order by source, counter", params
    )


UNMAPPED_GROUPS_SQL = """
    select partner, group_name, n_events, n_events_without_tier
    from analytics.int_group_tiers
    where mapped_tier is null and n_events_without_tier > 0
    order by n_events desc, partner, group_name
"""


def unmapped_groups(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Groups no tier rule matches whose events carry no tier label either (a source
    tier label, as in the Volvo log, makes the tier map unnecessary)."""
    return _frame(con, UNMAPPED_GROUPS_SQL)


def unknown_statuses(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Source statuses the status map does not know (their events have no class; the
    models skip them when reading the status chain)."""
    return _frame(
        con,
        """select example_status as status, n_events from analytics.int_status_classes
           where status_class is null order by n_events desc, status""",
    )


def _share(n: str, d: str) -> pl.Expr:
    value = (pl.col(n) / pl.col(d) * 100).round(1)
    return (
        pl.when(pl.col(d) > 0)
        .then(pl.format("{}% ({} of {})", value, pl.col(n), pl.col(d)))
        .otherwise(pl.lit(NOT_MEASURABLE))
    )


def summary_view(summary: pl.DataFrame) -> pl.DataFrame:
    """The reconciliation summary as people read it (the CLI and the dashboard show
    this same frame): per counter, tickets reporting it, agree / disagree / not
    measurable, and the share agreeing among the measurable ones, over all events and
    up to the final resolution (*)."""
    return summary.select(
        pl.col("counter"),
        pl.col("n_tickets").alias("tickets"),
        pl.col("n_agree_all").alias("agree"),
        pl.col("n_disagree_all").alias("disagree"),
        pl.col("n_not_measurable").alias("not measurable"),
        _share("n_agree_all", "n_measurable").alias("agree share"),
        _share("n_agree_in_scope", "n_measurable").alias("agree share*"),
        pl.col("n_reported_higher").alias("src>"),
        pl.col("n_reported_lower").alias("src<"),
        pl.col("total_reported").alias("sum src"),
        pl.col("total_all").alias("sum derived"),
        pl.col("total_in_scope").alias("sum derived*"),
    )


def support_view(support: pl.DataFrame) -> pl.DataFrame:
    """Which counters each source can support, as people read it."""
    return support.select(
        pl.col("source"),
        pl.col("counter"),
        pl.col("n_reporting").alias("tickets reporting it"),
        pl.when(pl.col("measurable")).then(pl.lit("yes"))
        .otherwise(pl.format("no: {}", pl.col("why_not"))).alias("measurable"),
    )


def notices(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Lines loaded with a notice (meta.notices, e.g. bytes that are not UTF-8, read
    as Windows-1252 on their line), by file and notice, with the first lines."""
    return polars_frame(con.sql(
        """select source_file as file, notice, count(*) as lines,
                  string_agg(line::varchar, ', ' order by line)
                      filter (where rank <= 5) as first_lines
           from (select *, row_number() over (
                     partition by source_file, notice order by line) as rank
                 from meta.notices)
           group by all order by file, notice"""
    ))
