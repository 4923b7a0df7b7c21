-- Ping-pong between groups, counted by week and by the dimensions the dashboard
-- filters on: a pair (group_a, group_b) counts the resolved tickets whose sequence of
-- held groups (in scope, consecutive repeats merged) contains group_a -> group_b ->
-- group_a; n_bounces counts each such return (SD > Net > SD > Net > SD is two
-- bounces of (SD, Net) and one of (Net, SD)).
-- test unique: week_start, partner, client, category, priority, group_name, group_a, group_b
-- test not_null: week_start, partner, client, category, priority, group_name, group_a, group_b, n_tickets, n_bounces
-- test expression: group_a <> group_b
-- test expression: n_tickets > 0 and n_bounces >= n_tickets

with bounces as (
    select * from int_ticket_bounces
),

tickets as (
    select * from fct_tickets
    where state = 'resolved'
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
