"""Every read of a serving snapshot the dashboard and the report make, without
Streamlit: plain functions, snapshot path (and filters) in, frame out.

It reads the serving snapshot that `tierlens build` publishes (see
pipelines/serving.py), never the main database file, so an ingest or build
running at the same time cannot block or disturb it. One read-only connection
per snapshot file and a cursor per thread. Nothing is cached here: the dashboard
(dashboards/data.py) wraps these functions in Streamlit's caches; the report
calls them as they are.

KPIs are aggregated by pipelines.kpis.kpi_query, the same SQL as `tierlens kpis`;
the pre-aggregated analytics.kpi_weekly answers when it can (no filter, or a
single value of a single dimension).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from pipelines import data_quality
from pipelines.db import polars_frame
from pipelines.kpis import OUTPUT_COLUMNS, kpi_query
from pipelines.metrics import DIMENSIONS, coverage_sql, fact_model
from pipelines.metrics.sql import NONE_VALUE, filter_param
from pipelines.presentation.filters import FILTER_DIMS, Filters
from pipelines.review.actions import (
    CONTEXT_COLUMNS,
    VERDICT_SCHEMA,
    action_rows,
    empty_verdicts,
    with_verdicts,
)
from pipelines.review.estimate import Agreement, Estimate, agreement, stratified_rate
from pipelines.review.sampling import PUBLISHED_SAMPLE_SQL
from pipelines.review.verdicts import journal_path
from pipelines.review.weeks import LAST_COMPLETE_WEEK_SQL
from pipelines.serving import Pointer, main_db_for, read_pointer, samples_dir

KPI_COLUMNS = (*OUTPUT_COLUMNS, "sample")


# ---------------------------------------------------------------- finding a build


@dataclass(frozen=True)
class Located:
    """Where the dashboard stands: a snapshot to serve, or why there is none."""

    db_path: Path
    state: Literal["ok", "missing_db", "no_build"]
    pointer: Pointer | None = None


def locate(db_path: Path | str) -> Located:
    path = Path(db_path)
    pointer = read_pointer(path)
    if pointer is not None:
        return Located(path, "ok", pointer)
    if not path.exists():
        return Located(path, "missing_db")
    return Located(path, "no_build")


# ---------------------------------------------------------------- connections


@functools.lru_cache(maxsize=4)
def _connection(snapshot: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(snapshot, read_only=True)


_local = threading.local()


def cursor(snapshot: str) -> duckdb.DuckDBPyConnection:
    """This thread's cursor on the snapshot's shared read-only connection."""
    con = _connection(snapshot)
    cursors: dict[tuple[str, int], duckdb.DuckDBPyConnection] = _local.__dict__.setdefault(
        "cursors", {}
    )
    key = (snapshot, id(con))
    if key not in cursors:
        cursors[key] = con.cursor()
    return cursors[key]


def _frame(snapshot: str, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    return polars_frame(cursor(snapshot).sql(sql, params=params or {}))


def _where(
    filters: Filters,
    columns: dict[str, str],
    *,
    week_column: str | None = "week_start",
) -> tuple[str, dict[str, Any]]:
    """A parameterised WHERE clause for a table whose filter columns are `columns`
    (filter name -> column)."""
    clauses = ["true"]
    params: dict[str, Any] = {}
    if week_column and filters.since is not None:
        clauses.append(f"{week_column} >= $since")
        params["since"] = filters.since
    if week_column and filters.until is not None:
        clauses.append(f"{week_column} <= $until")
        params["until"] = filters.until
    for name, values in filters.selected().items():
        if name in columns:
            clauses.append(
                f"list_contains(${filter_param(name)}, coalesce({columns[name]}, '{NONE_VALUE}'))"
            )
            params[filter_param(name)] = list(values)
    return " and ".join(clauses), params


# filter name -> column: in fct_tickets (as the resolved-tickets fact model maps each
# dimension) and in the serving aggregates (named like kpi_facts' columns)
TICKET_FILTER_COLUMNS = {
    d.name: fact_model("resolved_tickets").columns.get(d.name, d.column)
    for d in DIMENSIONS
    if d.name in FILTER_DIMS
}
AGGREGATE_FILTER_COLUMNS = {d.name: d.column for d in DIMENSIONS if d.name in FILTER_DIMS}


# ---------------------------------------------------------------- build facts


def build_info(snapshot: str) -> dict[str, Any]:
    row = _frame(
        snapshot,
        """
        select
            (select max(build_id) from meta.builds) as build_id,
            (select strftime(max(built_at), '%Y-%m-%d %H:%M UTC') from meta.builds) as built_at,
            (select count(*) from analytics.fct_tickets) as n_tickets,
            (select count(*) from analytics.fct_tickets where state = 'resolved') as n_resolved,
            (select strftime(max(resolved_at), '%Y-%m-%d %H:%M UTC')
                from analytics.fct_tickets) as data_until
        """,
    )
    return row.to_dicts()[0]


def weeks(snapshot: str) -> list[date]:
    """Every reporting week with resolved tickets, oldest first."""
    frame = _frame(
        snapshot,
        "select distinct week_start from analytics.kpi_weekly "
        "where dimension = 'overall' and week_start is not null order by week_start",
    )
    return frame["week_start"].to_list()


def last_complete_week(snapshot: str) -> date | None:
    """The week the scorecard, the report and `review sample` open on by default
    (pipelines.review.weeks.LAST_COMPLETE_WEEK_SQL)."""
    frame = _frame(snapshot, LAST_COMPLETE_WEEK_SQL)
    return frame["week"][0] if frame.height else None


def filter_options(snapshot: str) -> dict[str, list[str]]:
    """The values each sidebar filter offers."""
    frame = _frame(
        snapshot,
        "select distinct dimension, dimension_value from analytics.kpi_weekly "
        "where list_contains($dimensions, dimension) order by dimension, dimension_value",
        {"dimensions": list(FILTER_DIMS)},
    )
    grouped = frame.group_by("dimension").agg(pl.col("dimension_value"))
    found = dict(
        zip(grouped["dimension"].to_list(), grouped["dimension_value"].to_list(), strict=True)
    )
    return {name: found.get(name, []) for name in FILTER_DIMS}


# ---------------------------------------------------------------- KPIs


def _fast_path(filters: Filters, split: str | None) -> tuple[str, str | None] | None:
    """(dimension, value) of kpi_weekly rows answering this query, if any."""
    selected = filters.selected()
    if not selected:
        return (split or "overall", None)
    if split is None and len(selected) == 1:
        ((name, values),) = selected.items()
        if len(values) == 1:
            return (name, values[0])
    return None


def _kpi_sql(by: list[str], filters: Filters) -> tuple[str, dict[str, Any], list[str]]:
    """kpi_query over the facts with the filters; with one partner selected the
    partner's own targets apply, as in kpi_weekly. Returns sql, params and the
    columns to drop."""
    by = list(by)
    drop: list[str] = []
    if len(filters.get("partner")) == 1 and "partner" not in by:
        by.append("partner")
        drop.append("partner")
    selected = filters.selected()
    sql = kpi_query(by, filters=list(selected))
    params: dict[str, Any] = {"since": filters.since, "until": filters.until}
    params |= {filter_param(n): list(v) for n, v in selected.items()}
    return sql, params, drop


def weekly_kpis(snapshot: str, filters: Filters, split: str | None = None) -> pl.DataFrame:
    """One row per week (week_start), metric and, with `split`, split value
    (column split): value, numerator, denominator, ci_low, ci_high, target,
    status, sample. Weeks only; the backlog (no week) is in `backlog`."""
    fast = _fast_path(filters, split)
    if fast is not None:
        dimension, value = fast
        split_col = "dimension_value as split, " if split else ""
        return _frame(
            snapshot,
            f"""
            select week_start, {split_col}{", ".join(KPI_COLUMNS)}
            from analytics.kpi_weekly
            where dimension = $dimension
                and ($value::varchar is null or dimension_value = $value)
                and week_start is not null
                and ($since::date is null or week_start >= $since)
                and ($until::date is null or week_start <= $until)
            """,
            {
                "dimension": dimension,
                "value": value,
                "since": filters.since,
                "until": filters.until,
            },
        )
    by = ["week", *([split] if split else [])]
    sql, params, drop = _kpi_sql(by, filters)
    frame = _frame(snapshot, sql, params).drop(drop)
    renames = {"week": "week_start"} | ({split: "split"} if split else {})
    return frame.rename(renames).filter(pl.col("week_start").is_not_null())


def kpis(snapshot: str, filters: Filters, by: tuple[str, ...]) -> pl.DataFrame:
    """KPIs over the filtered weeks, grouped by `by` (names of pipelines.kpis
    DIMENSIONS other than week)."""
    sql, params, drop = _kpi_sql(list(by), filters)
    return _frame(snapshot, sql, params).drop(drop)


def peer_rates(snapshot: str, filters: Filters) -> pl.DataFrame:
    """A partner scope's unnamed peers (analytics.peer_kpis): each peer's rate KPIs
    over the filtered weeks (peer, metric, numerator, denominator, value). Only the
    weeks apply: the peers' rows are per partner and week, not per client or group."""
    return _frame(
        snapshot,
        """
        select peer, metric, sum(numerator) as numerator, sum(denominator) as denominator,
            sum(numerator) / nullif(sum(denominator), 0) as value
        from analytics.peer_kpis
        where stat in ('rate', 'share')
            and ($since::date is null or week_start >= $since)
            and ($until::date is null or week_start <= $until)
        group by peer, metric
        having sum(denominator) > 0
        order by metric, peer
        """,
        {"since": filters.since, "until": filters.until},
    )


CASES_LIMIT = 5000  # rows listed behind a number (the count is always exact)


@dataclass(frozen=True)
class TierMove:
    """A link of the escalation flow: from one tier to the next at a step of the path."""

    step: int
    from_tier: str
    to_tier: str

    def __str__(self) -> str:  # as the address carries it: 1:L1:L2
        return f"{self.step}:{self.from_tier}:{self.to_tier}"

    @classmethod
    def parse(cls, text: str) -> TierMove | None:
        step, _, rest = text.partition(":")
        from_tier, _, to_tier = rest.partition(":")
        if not (step.isdigit() and from_tier and to_tier) or int(step) < 1:
            return None
        return cls(int(step), from_tier, to_tier)


def kpi_cases(
    snapshot: str, filters: Filters, metric: str, *, numerator_only: bool = True
) -> tuple[pl.DataFrame, int]:
    """The cases behind `metric` under `filters` (the KPI's own facts, so the list
    is exactly what the number counts): with `numerator_only`, those counted in the
    numerator (escalated tickets, for the escalation rate); for a median or a p90,
    every case, longest first. Returns at most CASES_LIMIT rows, and how many there
    are in all."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    params["metric"] = metric
    params["numerator_only"] = numerator_only
    frame = _frame(
        snapshot,
        f"""
        select
            facts.ticket_id, facts.escalation_id, facts.week_start, facts.partner,
            facts.client, facts.category, facts.priority, facts.group_name, facts.agent,
            facts.numerator, facts.denominator, facts.measure,
            count(*) over () as n_cases
        from analytics.kpi_facts as facts
        inner join config.metric_facts as metric_facts on metric_facts.fact = facts.fact
        where metric_facts.metric = $metric
            and not metric_facts.is_base
            and {where}
            and (
                not $numerator_only
                or metric_facts.stat not in ('rate', 'share', 'count')
                or coalesce(facts.numerator, 0) > 0
            )
        order by facts.measure desc nulls last, facts.week_start, facts.ticket_id,
            facts.escalation_id
        limit {CASES_LIMIT}
        """,
        params,
    )
    total = int(frame["n_cases"][0]) if frame.height else 0
    return frame.drop("n_cases"), total


def coverage(snapshot: str, filters: Filters) -> dict[str, bool]:
    """What the filtered tickets' exports can measure (source_coverage's has_*
    columns, true when any filtered ticket's source carries it); see
    pipelines.metrics.not_measurable."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    found = _frame(snapshot, coverage_sql(where), params)
    return {c: bool(v) for c, v in found.row(0, named=True).items()}


def tier_moves(snapshot: str, filters: Filters) -> pl.DataFrame:
    """The escalation-flow Sankey's links as a table: step, from_tier, to_tier and
    n_tickets (tickets whose path goes from_tier -> to_tier at that step)."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    return _frame(
        snapshot,
        f"""
        select step, tiers[step] as from_tier, tiers[step + 1] as to_tier,
            count(*) as n_tickets
        from (
            select tiers, unnest(range(1, len(tiers))) as step
            from analytics.ticket_paths
            where {where}
        )
        group by all
        order by n_tickets desc, step, from_tier, to_tier
        """,
        params,
    )


def path_tickets(
    snapshot: str, filters: Filters, *, path: str | None = None, move: TierMove | None = None
) -> tuple[pl.DataFrame, int]:
    """The resolved tickets behind the escalation flow under `filters`: those whose
    tier path is `path`, or that make `move` (step, from tier, to tier). At most
    CASES_LIMIT rows, and how many there are in all."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    if path is not None:
        where += " and path = $path"
        params["path"] = path
    if move is not None:
        where += " and tiers[$step] = $from_tier and tiers[$step + 1] = $to_tier"
        params.update(step=move.step, from_tier=move.from_tier, to_tier=move.to_tier)
    frame = _frame(
        snapshot,
        f"""
        select ticket_id, week_start, partner, client, category, priority,
            group_name, path, count(*) over () as n_cases
        from analytics.ticket_paths
        where {where}
        order by week_start, ticket_id
        limit {CASES_LIMIT}
        """,
        params,
    )
    total = int(frame["n_cases"][0]) if frame.height else 0
    return frame.drop("n_cases"), total


def resolved_tickets(snapshot: str, filters: Filters) -> int:
    """Tickets resolved in the filtered weeks."""
    where, params = _where(filters, TICKET_FILTER_COLUMNS)
    sql = f"select count(*) as n from analytics.fct_tickets where state = 'resolved' and {where}"
    return int(_frame(snapshot, sql, params)["n"][0])


def backlog(snapshot: str, filters: Filters) -> int:
    """Open tickets now (not limited to the weeks)."""
    where, params = _where(filters, TICKET_FILTER_COLUMNS, week_column=None)
    frame = _frame(
        snapshot,
        f"select count(*) as n from analytics.fct_tickets where state = 'open' and {where}",
        params,
    )
    return int(frame["n"][0])


def targets(snapshot: str) -> dict[str, dict[str, float | None]]:
    """Global targets by metric: green_min, green_max, red_below, red_above, label."""
    frame = _frame(snapshot, "select * from config.targets where partner is null")
    return {row.pop("metric"): row for row in frame.drop("partner").to_dicts()}


def min_sample(snapshot: str) -> int:
    return int(_frame(snapshot, "select min_sample from config.settings")["min_sample"][0])


DEFAULT_MIN_GAP = 0.05  # [comparison] min_gap, for a snapshot built before it existed


def min_gap(snapshot: str) -> float:
    """[comparison] min_gap of the build: the smallest gap between two partners'
    rates that the partner comparison calls a difference."""
    try:
        frame = _frame(snapshot, "select min_gap from config.settings")
    except duckdb.BinderException:  # a snapshot of a build before [comparison]
        return DEFAULT_MIN_GAP
    return float(frame["min_gap"][0])


# ---------------------------------------------------------------- escalation flow


def tier_paths(snapshot: str, filters: Filters) -> pl.DataFrame:
    """path, n_steps, n_tickets over the filtered resolved tickets, most common first."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    return _frame(
        snapshot,
        f"""
        select path, any_value(n_steps) as n_steps, sum(n_tickets)::bigint as n_tickets
        from analytics.tier_paths where {where}
        group by path order by n_tickets desc, path
        """,
        params,
    )


def pingpong_pairs(snapshot: str, filters: Filters, limit: int = 15) -> pl.DataFrame:
    """group_a, group_b, n_tickets, n_bounces: tickets that went A -> B -> A."""
    where, params = _where(filters, AGGREGATE_FILTER_COLUMNS)
    return _frame(
        snapshot,
        f"""
        select group_a, group_b, sum(n_tickets)::bigint as n_tickets,
               sum(n_bounces)::bigint as n_bounces
        from analytics.pingpong_pairs where {where}
        group by all order by n_tickets desc, group_a, group_b limit {int(limit)}
        """,
        params,
    )


# ---------------------------------------------------------------- agents and groups


def pickup_by_group(snapshot: str, filters: Filters) -> pl.DataFrame:
    """Per receiving group: escalations received, median and p90 minutes to pick
    up, share never picked up. The group filter matches the receiving group."""
    columns = {**TICKET_FILTER_COLUMNS, "group": "to_group"}
    where, params = _where(filters, columns)
    return _frame(
        snapshot,
        f"""
        select
            coalesce(to_group, '{NONE_VALUE}') as "group",
            count(*) as escalations_received,
            quantile_cont(pickup_minutes, 0.5) as pickup_median_min,
            quantile_cont(pickup_minutes, 0.9) as pickup_p90_min,
            avg(is_never_picked_up::int) as never_picked_up
        from analytics.fct_escalations where {where}
        group by all order by pickup_median_min desc nulls last
        """,
        params,
    )


def escalated_tickets(
    snapshot: str, filters: Filters, who: Literal["agent", "group"], name: str, limit: int = 200
) -> pl.DataFrame:
    """The escalations an agent or group made, newest first, for click-through."""
    column = "escalating_agent" if who == "agent" else "from_group"
    where, params = _where(filters, {**TICKET_FILTER_COLUMNS, "group": "from_group"})
    params["who"] = name
    return _frame(
        snapshot,
        f"""
        select ticket_id, strftime(escalated_at, '%Y-%m-%d %H:%M') as escalated_at,
               from_tier || ' → ' || to_tier as step, to_group, category, priority,
               round(pickup_minutes) as pickup_min, has_complete_note as complete_note,
               is_bounceback as bounced_back
        from analytics.fct_escalations
        where {where} and coalesce({column}, '{NONE_VALUE}') = $who
        order by escalated_at desc limit {int(limit)}
        """,
        params,
    )


# ---------------------------------------------------------------- one ticket


def find_tickets(snapshot: str, text: str, limit: int = 10) -> list[str]:
    """Ticket ids containing `text` (case-insensitive), shortest first."""
    frame = _frame(
        snapshot,
        f"""
        select ticket_id from analytics.fct_tickets
        where contains(lower(ticket_id), lower($text))
        order by length(ticket_id), ticket_id limit {int(limit)}
        """,
        {"text": text.strip()},
    )
    return frame["ticket_id"].to_list()


def ticket(snapshot: str, ticket_id: str) -> dict[str, Any] | None:
    """The ticket's row of fct_tickets (timestamps as text), or None."""
    frame = _frame(
        snapshot,
        "select columns(*)::varchar from analytics.fct_tickets where ticket_id = $id",
        {"id": ticket_id},
    )
    return frame.to_dicts()[0] if frame.height else None


def ticket_events(snapshot: str, ticket_id: str) -> pl.DataFrame:
    """The ticket's events in order, each with the moment the next one starts."""
    return _frame(
        snapshot,
        """
        select
            event_index,
            event_at as start,
            coalesce(lead(event_at) over (order by event_index), event_at) as "end",
            held_group, held_tier, held_agent, status, status_class,
            note_kind, note_text, is_in_scope, is_handoff, is_tier_rise, is_tier_drop,
            is_reopen, coalesce(minutes_held, 0) as minutes,
            coalesce(business_minutes_held, 0) as business_minutes, is_paused
        from analytics.ticket_events where ticket_id = $id
        order by event_index
        """,
        {"id": ticket_id},
    )


def ticket_escalations(snapshot: str, ticket_id: str) -> pl.DataFrame:
    return _frame(
        snapshot,
        """
        select escalation_number as "#", from_tier || ' → ' || to_tier as step,
               from_group, to_group, escalating_agent,
               strftime(escalated_at, '%Y-%m-%d %H:%M') as escalated_at,
               round(pickup_minutes, 1) as pickup_min, is_bounceback, is_reescalation,
               is_tier_skip, is_never_picked_up, has_complete_note
        from analytics.fct_escalations where ticket_id = $id order by escalation_number
        """,
        {"id": ticket_id},
    )


def ticket_handoffs(snapshot: str, ticket_id: str) -> pl.DataFrame:
    """Every handoff of the ticket up to its resolution, in order: event_index,
    handed_at, kind (escalation, de-escalation or handoff), from_tier, to_tier,
    from_group, to_group, escalation_number, pickup_minutes, has_complete_note and
    the note handed over: an escalation's escalation note (fct_escalations), else
    the note written on the handoff itself; note_source says which."""
    return _frame(
        snapshot,
        """
        with events as (
            select *,
                lag(held_group) over (order by event_index) as from_group,
                lag(held_tier) over (order by event_index) as from_tier
            from analytics.ticket_events where ticket_id = $id
        )
        select
            events.event_index,
            events.event_at as handed_at,
            case when events.is_tier_rise then 'escalation'
                when events.is_tier_drop then 'de-escalation'
                else 'handoff' end as kind,
            events.from_tier,
            events.held_tier as to_tier,
            events.from_group,
            events.held_group as to_group,
            escalations.escalation_number,
            escalations.pickup_minutes,
            escalations.has_complete_note,
            coalesce(escalations.escalation_note, events.note_text) as note,
            case when escalations.escalation_note is not null then 'escalation note'
                when events.note_text is not null then events.note_kind || ' note'
                end as note_source
        from events
        left join analytics.fct_escalations as escalations
            on escalations.ticket_id = $id and escalations.event_index = events.event_index
        where events.is_in_scope
            and (events.is_handoff or events.is_tier_rise or events.is_tier_drop)
        order by events.event_index
        """,
        {"id": ticket_id},
    )


# ---------------------------------------------------------------- data quality


def batches(snapshot: str, limit: int = 20) -> pl.DataFrame:
    return _frame(
        snapshot,
        f"""
        select batch_id, source, kind, file_path,
               strftime(started_at, '%Y-%m-%d %H:%M') as started,
               rows_read, rows_loaded, rows_rejected, rows_new
        from meta.batches order by batch_id desc limit {int(limit)}
        """,
    )


def reject_reasons(snapshot: str) -> pl.DataFrame:
    """Rejected rows by reason (all batches), most frequent first."""
    return _frame(
        snapshot,
        """
        select regexp_replace(reason, '''[^'']*''', '''…''', 'g') as reason,
               sum(n_rows)::bigint as rows
        from meta.rejects_summary group by 1 order by rows desc limit 50
        """,
    )


def reject_examples(snapshot: str, limit: int = 50) -> pl.DataFrame:
    return _frame(
        snapshot,
        f"""
        select batch_id, source_file, line, reason, left(raw_line, 200) as raw_line
        from meta.rejects order by batch_id desc, line limit {int(limit)}
        """,
    )


def unmapped_groups(snapshot: str) -> pl.DataFrame:
    """Groups with no tier: the query `tierlens reconcile` runs (pipelines.data_quality)."""
    return data_quality.unmapped_groups(cursor(snapshot))


def unknown_statuses(snapshot: str) -> pl.DataFrame:
    return data_quality.unknown_statuses(cursor(snapshot))


def notices(snapshot: str) -> pl.DataFrame:
    """Lines loaded with a notice: the query `tierlens reconcile` runs."""
    return data_quality.notices(cursor(snapshot))


QUARANTINE_COLUMNS = ("ticket_id", "model", "test", "detail")


def quarantine(snapshot: str) -> pl.DataFrame:
    """The tickets the build left out because they failed a data test: ticket,
    model, test and the offending values (empty for snapshots published before
    quarantine existed)."""
    found = _frame(
        snapshot,
        "select count(*) as n from information_schema.tables "
        "where table_schema = 'meta' and table_name = 'quarantine'",
    )
    if not int(found["n"][0]):
        return pl.DataFrame(schema={c: pl.String for c in QUARANTINE_COLUMNS})
    return _frame(
        snapshot,
        f"select {', '.join(QUARANTINE_COLUMNS)} from meta.quarantine "
        "order by ticket_id, model, test",
    )


def reconciliation(snapshot: str, filters: Filters) -> pl.DataFrame:
    """For each source counter: tickets reporting it, agree / disagree / not measurable
    and the share agreeing; the frame `tierlens reconcile` prints (pipelines.data_quality),
    under the filters."""
    where, params = _where(filters, TICKET_FILTER_COLUMNS, week_column=None)
    summary = data_quality.counter_summary(cursor(snapshot), where, params)
    return data_quality.summary_view(summary)


def counter_support(snapshot: str, filters: Filters) -> pl.DataFrame:
    """Which counters each source can support (its events can show what they count)."""
    where, params = _where(filters, TICKET_FILTER_COLUMNS, week_column=None)
    return data_quality.support_view(data_quality.source_support(cursor(snapshot), where, params))


def reconciliation_examples(snapshot: str, filters: Filters, limit: int = 50) -> pl.DataFrame:
    """Measurable tickets whose source counters disagree with the derived counts."""
    where, params = _where(filters, TICKET_FILTER_COLUMNS, week_column=None)
    return data_quality.disagreements(cursor(snapshot), limit, where, params)


def previous_week(week: date) -> date:
    return week - timedelta(weeks=1)


# ---------------------------------------------------------------- weekly review
#
# Samples are drawn after a build and verdicts are written while the app runs, so
# the review page reads three places besides the snapshot (which has the review
# tables as of its build): the samples `tierlens review sample` publishes to
# `<db>.serving/samples/*.parquet`, and the verdict journal `<db>.verdicts.jsonl`
# that every verdict reaches first. None of them is the main database file.


def has_review_tables(snapshot: str) -> bool:
    """Snapshots published before the review page existed lack its tables."""
    frame = _frame(
        snapshot,
        "select count(*) as n from information_schema.tables where (table_schema, table_name) "
        "in (('meta', 'review_samples'), ('meta', 'review_sample_items'), "
        "('meta', 'review_verdicts'), ('analytics', 'review_candidates'))",
    )
    return int(frame["n"][0]) == 4


def review_db(snapshot: str) -> Path:
    """The main database this snapshot was published from (verdicts go there)."""
    return main_db_for(snapshot)


def file_key(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """Name, size and mtime of each file: a cache key that changes with the files."""
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


def read_samples(files: tuple[tuple[str, int, int], ...]) -> pl.DataFrame:
    if not files:
        return pl.DataFrame()
    return pl.concat([pl.read_parquet(name) for name, _, _ in files], how="diagonal_relaxed")


def published_sample_items(snapshot: str) -> pl.DataFrame:
    folder = samples_dir(review_db(snapshot))
    return read_samples(file_key(sorted(folder.glob("*.parquet"))))


SAMPLE_LIST_SCHEMA: dict[str, pl.DataType] = {
    "sample_id": pl.String(),
    "week_start": pl.Date(),
    "partner": pl.String(),
    "n_drawn": pl.Int32(),
    "population": pl.Int32(),
    "created_at": pl.Datetime("us", "UTC"),
}
SAMPLE_LIST_COLUMNS = tuple(SAMPLE_LIST_SCHEMA)


def snapshot_samples(snapshot: str) -> pl.DataFrame:
    if not has_review_tables(snapshot):
        return pl.DataFrame(schema=SAMPLE_LIST_SCHEMA)
    return _frame(
        snapshot,
        f"select {', '.join(SAMPLE_LIST_COLUMNS)} from meta.review_samples",
    )


def merge_samples(published: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The sample list from the published sample items and the snapshot's samples
    (a sample published since the build wins)."""
    frames = [stored]
    if published.height:
        frames.insert(
            0,
            published.group_by("sample_id").agg(
                week_start=pl.col("week_start").first(),
                partner=pl.col("sample_partner").first(),
                n_drawn=pl.len().cast(pl.Int32),
                population=pl.col("sample_population").first(),
                created_at=pl.col("created_at").first(),
            ),
        )
    # polars types cast()'s mapping key as str | selector | dtype, and Mapping's key is
    # invariant, so a dict[str, DataType] (which cast takes) is refused: ignore[arg-type]
    typed = [f.select(SAMPLE_LIST_COLUMNS).cast(SAMPLE_LIST_SCHEMA) for f in frames]  # type: ignore[arg-type]
    return (
        pl.concat(typed)
        .unique("sample_id", keep="first", maintain_order=True)
        .sort(["week_start", "created_at", "sample_id"], descending=True)
    )


def review_samples(snapshot: str) -> pl.DataFrame:
    """Every review sample (published since the build, or in the snapshot), newest
    week first: sample_id, week_start, partner, n_drawn, population, created_at."""
    return merge_samples(published_sample_items(snapshot), snapshot_samples(snapshot))


def snapshot_sample_items(snapshot: str, sample_id: str) -> pl.DataFrame:
    if not has_review_tables(snapshot):
        return pl.DataFrame()
    return _frame(snapshot, PUBLISHED_SAMPLE_SQL, {"sample_id": sample_id})


def published_items_of(published: pl.DataFrame, sample_id: str) -> pl.DataFrame | None:
    """The sample's published items in review order, or None when it was not published."""
    mine = published.filter(pl.col("sample_id") == sample_id) if published.height else published
    return mine.sort("position") if mine.height else None


def review_sample_items(snapshot: str, sample_id: str) -> pl.DataFrame:
    """The sample's escalations in review order, with what the review page shows
    (columns of pipelines.review.sampling.PUBLISHED_SAMPLE_SQL)."""
    found = published_items_of(published_sample_items(snapshot), sample_id)
    return found if found is not None else snapshot_sample_items(snapshot, sample_id)


def snapshot_verdicts(snapshot: str) -> pl.DataFrame:
    if not has_review_tables(snapshot):
        return empty_verdicts()
    return _frame(snapshot, f"select {', '.join(VERDICT_SCHEMA)} from meta.review_verdicts")


def journal_verdicts(files: tuple[tuple[str, int, int], ...]) -> pl.DataFrame:
    if not files or files[0][1] == 0:
        return empty_verdicts()
    read_schema = {**VERDICT_SCHEMA, "reviewed_at": pl.String()}
    return pl.read_ndjson(files[0][0], schema=read_schema, ignore_errors=True).with_columns(
        reviewed_at=pl.col("reviewed_at").str.to_datetime(time_zone="UTC", time_unit="us")
    )


def journal_key(snapshot: str) -> tuple[tuple[str, int, int], ...]:
    """file_key of the verdict journal next to the snapshot's main database."""
    return file_key([journal_path(review_db(snapshot))])


def merge_verdicts(journal: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """The journal's verdicts and the snapshot's, each verdict once (journal first)."""
    # cast() takes a dict[str, DataType]; its Mapping key annotation refuses it (see above)
    stored = stored.cast(VERDICT_SCHEMA)  # type: ignore[arg-type]
    return pl.concat([journal.cast(VERDICT_SCHEMA), stored]).unique(  # type: ignore[arg-type]
        "verdict_id", keep="first", maintain_order=True
    )


def review_verdicts(snapshot: str) -> pl.DataFrame:
    """Every verdict row (the history): the snapshot's meta.review_verdicts and the
    journal, each verdict once. See pipelines.review.actions.latest for the
    standing one per escalation."""
    return merge_verdicts(journal_verdicts(journal_key(snapshot)), snapshot_verdicts(snapshot))


def reviewed_items(snapshot: str, sample_id: str) -> pl.DataFrame:
    """The sample's items with their standing verdict and is_unnecessary."""
    return with_verdicts(review_sample_items(snapshot, sample_id), review_verdicts(snapshot))


def review_context(snapshot: str) -> pl.DataFrame:
    if not has_review_tables(snapshot):
        return pl.DataFrame(
            schema={c: pl.Date if c == "week_start" else pl.String for c in REVIEW_CONTEXT_COLUMNS}
        )
    return _frame(
        snapshot,
        f"select {', '.join(REVIEW_CONTEXT_COLUMNS)} from analytics.review_candidates",
    )


REVIEW_CONTEXT_COLUMNS = (*CONTEXT_COLUMNS, "partner")


def merge_actions(
    published: pl.DataFrame,
    stored_context: pl.DataFrame,
    verdicts: pl.DataFrame,
    partners: tuple[str, ...] = (),
) -> pl.DataFrame:
    """Action rows of the standing verdicts over the review context of the published
    items and the snapshot, only the `partners`' escalations when any are given."""
    frames = [stored_context]
    if published.height:
        frames.insert(0, published.select(REVIEW_CONTEXT_COLUMNS))
    context = pl.concat(frames, how="vertical_relaxed")
    if partners:
        context = context.filter(pl.col("partner").is_in(list(partners)))
    return action_rows(verdicts, context)


def review_actions(snapshot: str, partners: tuple[str, ...] = ()) -> pl.DataFrame:
    """Action rows (pipelines.review.actions.action_rows) of every standing verdict,
    only the `partners`' escalations when any are given."""
    return merge_actions(
        published_sample_items(snapshot),
        review_context(snapshot),
        review_verdicts(snapshot),
        partners,
    )


RULES_METRIC = "unnecessary_escalation_rate_rules"


@dataclass(frozen=True)
class ReviewFindings:
    """What one reviewed sample says: its items with verdicts, the weighted
    estimate, rules-vs-reviewers agreement and the rules' own figure that week."""

    sample: dict[str, Any]
    items: pl.DataFrame
    estimate: Estimate
    agreement: Agreement
    rules: dict[str, Any]  # value, ci_low, ci_high, numerator, denominator (or None)

    @property
    def n_reviewed(self) -> int:
        return int(self.items["should_escalate"].is_not_null().sum())

    def figures(self) -> pl.DataFrame:
        """figure, value, ci_low, ci_high: the rules' rate and the reviewed estimate."""
        est = self.estimate
        return pl.DataFrame(
            {
                "figure": ["Rules (all escalated tickets)", "Reviewed sample (weighted)"],
                "value": [self.rules.get("value"), est.value],
                "ci_low": [self.rules.get("ci_low"), est.ci_low],
                "ci_high": [self.rules.get("ci_high"), est.ci_high],
            },
            schema={f: pl.Float64 for f in ("value", "ci_low", "ci_high")} | {"figure": pl.String},
        ).select("figure", "value", "ci_low", "ci_high")


def sample_row(samples: pl.DataFrame, sample_id: str) -> dict[str, Any] | None:
    """The sample's row of the sample list (review_samples), or None."""
    mine = samples.filter(pl.col("sample_id") == sample_id)
    return None if mine.is_empty() else mine.row(0, named=True)


def sample_week(sample: dict[str, Any]) -> Filters:
    """The filters of the sample's week and partner."""
    week = sample["week_start"]
    partners = (sample["partner"],) if sample["partner"] else ()
    return Filters(since=week, until=week, partner=partners)


def findings(sample: dict[str, Any], items: pl.DataFrame, weekly: pl.DataFrame) -> ReviewFindings:
    """What the reviewed `items` of `sample` say, beside the rules' figure in `weekly`
    (weekly_kpis of the sample's week)."""
    rule_rows = weekly.filter(pl.col("metric") == RULES_METRIC).to_dicts()
    return ReviewFindings(
        sample=sample,
        items=items,
        estimate=stratified_rate(items),
        agreement=agreement(items),
        rules=rule_rows[0] if rule_rows else {},
    )


def review_findings(snapshot: str, sample_id: str) -> ReviewFindings | None:
    """The findings of one sample, or None when there is no such sample."""
    sample = sample_row(review_samples(snapshot), sample_id)
    if sample is None:
        return None
    items = reviewed_items(snapshot, sample_id)
    return findings(sample, items, weekly_kpis(snapshot, sample_week(sample)))
