-- Ping-pong between groups, counted by week and by the dimensions the dashboard
-- filters on: a pair (group_a, group_b) counts the resolved tickets whose sequence of
-- held groups (in scope, consecutive repeats merged) contains group_a -> group_b ->
-- group_a; n_bounces counts each such return (SD > Net > SD > Net > SD is two
-- bounces of (SD, Net) and one of (Net, SD)).
-- test unique: week_start, partner, client, category, priority, group_name, group_a, group_b
-- test not_null: week_start, partner, client, category, priority, group_name, group_a, group_b, n_tickets, n_bounces
-- test expression: group_a <> group_b
-- test expression: n_tickets > 0 and n_bounces >= n_tickets

with events as (
    select * from int_ticket_events
),

tickets as (
    select * from fct_tickets
    where state = 'resolved'
),

group_runs as (
    select
        ticket_id,
        event_index,
        held_group,
        lag(held_group) over (partition by ticket_id order by event_index) as prev_group
    from events
    where is_in_scope and held_group is not null
),

group_sequence as (
    select
        ticket_id,
        held_group,
        lag(held_group) over ticket_order as middle_group,
        lag(held_group, 2) over ticket_order as first_group
    from group_runs
    where prev_group is null or held_group <> prev_group
    window ticket_order as (partition by ticket_id order by event_index)
),

bounces as (
    select
        ticket_id,
        held_group as group_a,
        middle_group as group_b,
        count(*) as n_bounces
    from group_sequence
    where first_group = held_group
    group by all
),

final as (
    select
        tickets.week_start,
        tickets.partner,
        coalesce(tickets.client, '(none)') as client,
        coalesce(tickets.category, '(none)') as category,
        coalesce(tickets.priority, '(none)') as priority,
        coalesce(tickets.entry_group, '(none)') as group_name,
        bounces.group_a,
        bounces.group_b,
        count(*) as n_tickets,
        sum(bounces.n_bounces) as n_bounces
    from bounces
    inner join tickets on tickets.ticket_id = bounces.ticket_id
    group by all
)

select * from final
