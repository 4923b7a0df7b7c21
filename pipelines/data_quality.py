"""The data-quality queries, shared by `tierlens reconcile` and the dashboard's
data-quality page, so both show the same figures from the same SQL.

The figures are models of the build (sql/serving/dq_*.sql, with their data tests),
in the main file and in its serving snapshot: dq_counter_checks (one row per ticket
and counter), dq_unmapped_groups and dq_unknown_statuses. Each function takes an
open connection (or cursor) and, for the ticket-level queries, an optional WHERE
clause over the ticket columns of dq_counter_checks (partner, client, category,
priority, entry_group: the dashboard's filters) with its parameters; it returns a
polars frame.

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
        f"any_value(reported) filter (where counter = '{name}') as {name}_reported, "
        f"any_value(derived_all) filter (where counter = '{name}') as {name}_all, "
        f"any_value(derived_in_scope) filter (where counter = '{name}') as {name}_in_scope, "
        f"any_value(is_measurable) filter (where counter = '{name}') as {name}_measurable"
        for name in COUNTERS
    )
    return (
        f"select ticket_id, any_value(source) as source, {cols} "
        f"from analytics.dq_counter_checks where {where} group by ticket_id"
    )


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
    return _frame(
        con,
        f"""select
                counter,
                count(*) as n_tickets,
                count(*) filter (where is_measurable) as n_measurable,
                count(*) filter (where not is_measurable) as n_not_measurable,
                count(*) filter (where agrees_all) as n_agree_all,
                count(*) filter (where is_measurable and not agrees_all) as n_disagree_all,
                count(*) filter (where agrees_in_scope) as n_agree_in_scope,
                count(*) filter (where is_measurable and reported > derived_all)
                    as n_reported_higher,
                count(*) filter (where is_measurable and reported < derived_all)
                    as n_reported_lower,
                coalesce(sum(reported) filter (where is_measurable), 0)::bigint
                    as total_reported,
                coalesce(sum(derived_all) filter (where is_measurable), 0)::bigint as total_all,
                coalesce(sum(derived_in_scope) filter (where is_measurable), 0)::bigint
                    as total_in_scope,
                round(count(*) filter (where agrees_all)
                    / nullif(count(*) filter (where is_measurable), 0), 4) as share_agree_all,
                round(count(*) filter (where agrees_in_scope)
                    / nullif(count(*) filter (where is_measurable), 0), 4)
                    as share_agree_in_scope
            from analytics.dq_counter_checks
            where ({where}) and reported is not null
            group by counter
            order by counter""",
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
    return _frame(
        con,
        f"""select counter, ticket_id, reported, derived_all, derived_in_scope
            from analytics.dq_counter_checks
            where ({where}) and is_measurable and reported is not null and not agrees_all
            qualify row_number() over (
                partition by counter order by abs(reported - derived_all) desc, ticket_id
            ) <= {int(limit)}
            order by counter desc, abs(reported - derived_all) desc, ticket_id""",
        params,
    )


def source_support(
    con: duckdb.DuckDBPyConnection, where: str = "true", params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Per source and counter: the tickets reporting it, and whether the export can
    support it (its events can show the changes it counts) with the reason if not."""
    why_not = " ".join(f"when '{name}' then '{text}'" for name, text in WHY_NOT.items())
    return _frame(
        con,
        f"""select source, counter, count(reported) as n_reporting,
                bool_or(is_measurable) as measurable,
                case when not bool_or(is_measurable) then case counter {why_not} end end
                    as why_not
            from analytics.dq_counter_checks where {where}
            group by source, counter
            order by source, counter""",
        params,
    )


def unmapped_groups(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Groups no tier rule matches whose events carry no tier label either."""
    return _frame(
        con,
        """select partner, group_name, n_events, n_events_without_tier
           from analytics.dq_unmapped_groups
           order by n_events desc, partner, group_name""",
    )


def unknown_statuses(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Source statuses the status map does not know."""
    return _frame(
        con,
        """select status, n_events from analytics.dq_unknown_statuses
           order by n_events desc, status""",
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
