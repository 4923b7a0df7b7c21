"""The lean reference: the three KPIs of the pandas baseline in one DuckDB query.

    python -m benchmarks.lean tickets.csv events.csv [--json out.json]

This is the practical limit for these figures: an in-memory DuckDB connection, one
SQL statement over DuckDB's parallel `read_csv` of the two exports (only the columns
the figures need), one sort of the events by ticket, time and seq shared by the
timeline's window functions (and a small one of the tier changes), no validation
and nothing stored beyond the query's own intermediate results. It follows the
definitions of `benchmarks/pandas_baseline.py` (docs/metrics.md) exactly and prints
the same JSON: {metric: {"numerator": k, "denominator": n, "value": k / n}, "_seconds": s}.

- tier of an event: a clear label (`L1`..`L4`), else the tier map of its group,
  else the lowest tier of an ambiguous label (`L2/L3` -> L2); the held tier is the
  last known one (forward fill);
- status class: the default status map, exact keys (as the baseline);
- final resolution: the first event of the last run of resolved/closed events;
  events after it are out of scope; a resolved ticket is one whose last event is
  resolved/closed;
- rises and drops of the held tier, reopens (resolved/closed -> queue/work/wait),
  the entry tier (the first known held tier);
- L1 resolution and escalation rates over resolved tickets entering at L1
  (counted once per row of tickets.csv, as the baseline's join does), bounceback
  rate over the escalations of resolved tickets: the next tier change is a drop.

The tier map and the status map are the product's defaults
(`pipelines.config.Config()`), passed as small lists. Labels, groups and statuses
are cleaned once per distinct value (stripped of what Python's strip() removes, as
the baseline) and joined back; the tier rules are applied to the distinct group
names only (exact names before patterns, then rule order, as the baseline), with
DuckDB's regular expressions as Tierlens does (RE2: `\\b` is ASCII-only, Python's
is Unicode, which matters only for a non-ASCII letter next to a match). No Python
touches a row.

Why it is the limit: everything Tierlens does beyond this query (exact line numbers
and raw text of every row, validation with rejects and reasons, dedupe, lineage,
one transaction, 46 KPIs by week and six dimensions with intervals, data tests, a
serving snapshot) is measured as a ratio to it in docs/performance.md, next to
the floor (`benchmarks/floor.py`: reading the files into tables, no figures at all).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from benchmarks.script_cli import script_main

# Python's str.strip() removes every character for which str.isspace() holds (all
# of them are below U+3001); DuckDB's trim() only spaces unless told which.
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# Python's \s in the baseline's ambiguous-label pattern is that same set
_WS_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
CLEAR = "L[1-4]"
AMBIGUOUS = f"L[1-4](?:{_WS_CLASS}*/{_WS_CLASS}*L?[1-4])+"

QUERY = """
with
status_map as (
    select unnest($status_keys) as status_key, unnest($status_classes) as status_class
),
rules as (
    select
        unnest(range(len($rule_tiers))) as rule_order,
        unnest($rule_patterns) as pattern,
        unnest($rule_groups) as group_exact,
        unnest($rule_tiers) as tier
),
events as materialized (
    select ticket_id, event_at, seq, "group" as raw_group, tier as raw_label, status as raw_status
    from read_csv(
        $events, header = true, all_varchar = true,
        types = {'event_at': 'TIMESTAMPTZ', 'seq': 'BIGINT'}
    )
),
pairs as (
    -- the distinct (group, tier label) pairs, cleaned once each
    select
        raw_group,
        raw_label,
        nullif(nullif(trim(raw_group, $ws), ''), '?') as group_name,
        nullif(nullif(upper(trim(raw_label, $ws)), ''), '?') as label
    from (select distinct raw_group, raw_label from events)
),
group_tiers as (
    -- the tier map, applied to the distinct group names: exact names, then patterns
    select
        g.group_name,
        coalesce(
            arg_min(r.tier, r.rule_order) filter (
                where r.group_exact is not null and r.group_exact = lower(g.group_name)
            ),
            arg_min(r.tier, r.rule_order) filter (
                where r.pattern is not null and regexp_matches(g.group_name, r.pattern)
            )
        ) as mapped_tier
    from (select distinct group_name from pairs where group_name is not null) as g
    cross join rules as r
    group by g.group_name
),
pair_tiers as (
    -- a clear label, else the group's tier, else the lowest tier of an ambiguous label
    select
        p.raw_group,
        p.raw_label,
        coalesce(
            case when regexp_full_match(p.label, $clear) then p.label end,
            gt.mapped_tier,
            case
                when regexp_full_match(p.label, $ambiguous)
                    then 'L' || list_min(regexp_extract_all(p.label, '[1-4]'))
            end
        ) as event_tier
    from pairs as p
    left join group_tiers as gt on gt.group_name = p.group_name
),
statuses as (
    select
        s.raw_status,
        coalesce(m.status_class in ('resolved', 'closed'), false) as is_resolved_event,
        coalesce(m.status_class in ('queue', 'work', 'wait'), false) as is_active_event
    from (select distinct raw_status from events) as s
    left join status_map as m on m.status_key = lower(trim(s.raw_status, $ws))
),
classified as (
    select
        e.ticket_id,
        e.event_at,
        e.seq,
        pt.event_tier,
        st.is_resolved_event,
        st.is_active_event
    from events as e
    inner join pair_tiers as pt
        on pt.raw_group is not distinct from e.raw_group
        and pt.raw_label is not distinct from e.raw_label
    inner join statuses as st on st.raw_status is not distinct from e.raw_status
),
timeline as (
    -- one sort by ticket, time, seq for every window
    select
        ticket_id,
        row_number() over w as idx,
        last_value(event_tier ignore nulls) over (
            w rows between unbounded preceding and current row
        ) as held_tier,
        last_value(event_tier ignore nulls) over (
            w rows between unbounded preceding and 1 preceding
        ) as prev_held_tier,
        lag(is_resolved_event) over w as prev_resolved,
        is_active_event,
        -- the ticket is resolved when its last event is resolved/closed
        last_value(is_resolved_event) over (
            w rows between current row and unbounded following
        ) as ticket_resolved,
        -- in scope up to the first event of the last run of resolved/closed events:
        -- the first event, or an open event at this one or the one before or later
        row_number() over w = 1
            or count(*) filter (where not is_resolved_event) over (
                w rows between 1 preceding and unbounded following
            ) > 0 as in_scope
    from classified
    window w as (partition by ticket_id order by event_at, seq)
),
scoped as (
    select
        ticket_id,
        idx,
        held_tier,
        cast(held_tier[2] as integer) as tier_rank,
        cast(held_tier[2] as integer) > cast(prev_held_tier[2] as integer) as is_rise,
        held_tier <> prev_held_tier as is_change,
        coalesce(prev_resolved, false) and is_active_event as is_reopen
    from timeline
    where ticket_resolved and in_scope
),
per_ticket as (
    select
        ticket_id,
        arg_min(held_tier, idx) filter (where held_tier is not null) as entry_tier,
        coalesce(bool_or(is_rise), false) as escalated,
        bool_or(is_reopen) as reopened
    from scoped
    group by ticket_id
),
tickets as (
    select ticket_id from read_csv($tickets, header = true, all_varchar = true)
),
l1 as (
    -- per row of tickets.csv, as the baseline's join (a ticket it lacks counts once)
    select p.escalated, p.reopened
    from per_ticket as p
    left join tickets as t on t.ticket_id = p.ticket_id
    where p.entry_tier = 'L1'
),
escalations as (
    -- each tier change, with the rank of the next one; the rises are escalations
    select
        is_rise,
        tier_rank,
        lead(tier_rank) over (partition by ticket_id order by idx) as next_rank
    from scoped
    where is_change
)
select
    (select count(*) filter (where not escalated and not reopened) from l1),
    (select count(*) from l1),
    (select count(*) filter (where escalated) from l1),
    (select count(*) filter (where next_rank < tier_rank) from escalations where is_rise),
    (select count(*) from escalations where is_rise)
"""


def _params(tickets_csv: Path, events_csv: Path) -> dict[str, object]:
    """The default status map and tier rules (docs/configuration.md), as lists."""
    from pipelines.config import Config

    config = Config()
    rules = list(config.tier_map)
    return {
        "events": str(events_csv),
        "tickets": str(tickets_csv),
        "ws": WHITESPACE,
        "clear": CLEAR,
        "ambiguous": AMBIGUOUS,
        "status_keys": list(config.status_map),
        "status_classes": list(config.status_map.values()),
        "rule_patterns": [r.pattern or None for r in rules],
        "rule_groups": [r.group.strip().lower() if r.group else None for r in rules],
        "rule_tiers": [r.tier for r in rules],
    }


def compute(tickets_csv: Path, events_csv: Path) -> dict[str, dict[str, float]]:
    con = duckdb.connect()  # in memory
    try:
        row = con.execute(QUERY, _params(tickets_csv, events_csv)).fetchall()[0]
    finally:
        con.close()
    l1_resolved, l1_total, escalated, bounced, escalations = (int(x) for x in row)

    def rate(k: int, n: int) -> dict[str, float]:
        return {"numerator": k, "denominator": n, "value": k / n if n else float("nan")}

    return {
        "l1_resolution_rate": rate(l1_resolved, l1_total),
        "escalation_rate": rate(escalated, l1_total),
        "bounceback_rate": rate(bounced, escalations),
    }


def main(argv: list[str] | None = None) -> int:
    return script_main(compute, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
