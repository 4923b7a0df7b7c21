-- The tier paths of resolved tickets, counted by week and by the dimensions the
-- dashboard filters on: a ticket's path is the sequence of tiers it was held at up
-- to its final resolution, consecutive repeats merged (L1 > L2 > L1), cut after 8
-- steps (a longer path ends in ' > ...'). Each resolved ticket with a tier counts
-- once. The escalation-flow page and the report sum n_tickets over the filtered rows.
-- test unique: week_start, partner, client, category, priority, group_name, path
-- test not_null: week_start, partner, client, category, priority, group_name, path, n_steps, n_tickets
-- test expression: n_steps between 1 and 8 and n_tickets > 0
-- test expression: n_steps = least(len(string_split(path, ' > ')), 8)
-- test expression: (path like '% > ...') = (len(string_split(path, ' > ')) = 9)

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

paths as (
    select
        ticket_id,
        list(held_tier order by event_index) as tiers
    from tier_runs
    where prev_tier is null or held_tier <> prev_tier
    group by ticket_id
),

final as (
    select
        tickets.week_start,
        tickets.partner,
        coalesce(tickets.client, '(none)') as client,
        coalesce(tickets.category, '(none)') as category,
        coalesce(tickets.priority, '(none)') as priority,
        coalesce(tickets.entry_group, '(none)') as group_name,
        array_to_string(paths.tiers[1:8], ' > ')
            || case when len(paths.tiers) > 8 then ' > ...' else '' end as path,
        least(len(paths.tiers), 8) as n_steps,
        count(*) as n_tickets
    from paths
    inner join tickets on tickets.ticket_id = paths.ticket_id
    group by all
)

select * from final
