-- Each resolved ticket's tier path, with the dimensions the dashboard filters on: the
-- sequence of tiers it was held at up to its final resolution, consecutive repeats
-- merged (L1 > L2 > L1), cut after 8 steps (a longer path ends in ' > ...'). One row
-- per resolved ticket held at a tier. tier_paths counts them; the escalation-flow
-- page lists the tickets behind a path or a move between tiers from here.
-- incremental: by ticket_id
-- test unique: ticket_id
-- test not_null: ticket_id, week_start, partner, client, category, priority, group_name, path, tiers, n_steps
-- test expression: n_steps between 1 and 8
-- test expression: n_steps = least(len(string_split(path, ' > ')), 8)
-- test expression: (path like '% > ...') = (len(string_split(path, ' > ')) = 9)
-- test expression: array_to_string(tiers, ' > ') = path

with events as (
    select * from int_ticket_events
),

tickets as (
    select * from fct_tickets
    where state = 'resolved'
),

tier_runs as (
    select
        ticket_id,
        event_index,
        held_tier,
        lag(held_tier) over (partition by ticket_id order by event_index) as prev_tier
    from events
    where is_in_scope and held_tier is not null
),

runs as (
    select
        ticket_id,
        list(held_tier order by event_index) as tiers
    from tier_runs
    where prev_tier is null or held_tier <> prev_tier
    group by ticket_id
),

final as (
    select
        tickets.ticket_id,
        tickets.week_start,
        tickets.partner,
        coalesce(tickets.client, '(none)') as client,
        coalesce(tickets.category, '(none)') as category,
        coalesce(tickets.priority, '(none)') as priority,
        coalesce(tickets.entry_group, '(none)') as group_name,
        runs.tiers[1:8] || case when len(runs.tiers) > 8 then ['...'] else [] end as tiers,
        array_to_string(runs.tiers[1:8], ' > ')
            || case when len(runs.tiers) > 8 then ' > ...' else '' end as path,
        least(len(runs.tiers), 8) as n_steps
    from runs
    inner join tickets on tickets.ticket_id = runs.ticket_id
)

select * from final
